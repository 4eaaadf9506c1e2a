#!/usr/bin/env bash
# Installs what the ZooKeeper HA tests need: Debian's `zookeeper` package (jars in /usr/share/java) and a JRE.
# Idempotent: does nothing when both are present. The tests start their own throwaway server
# (test/support/zookeeper.ts); nothing here starts a daemon (the package's postinst does not either).
set -euo pipefail

ZK_JAR=/usr/share/java/zookeeper.jar
packages=()
[ -f "$ZK_JAR" ] || packages+=(zookeeper)
command -v java >/dev/null 2>&1 || packages+=(default-jre-headless)

if [ ${#packages[@]} -eq 0 ]; then
  echo "install-zookeeper: $ZK_JAR and java already present"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-zookeeper: need root (or sudo) to install: ${packages[*]}" >&2; exit 1; }
  SUDO=sudo
fi

echo "install-zookeeper: installing ${packages[*]}"
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}"

[ -f "$ZK_JAR" ] || { echo "install-zookeeper: $ZK_JAR still missing after install" >&2; exit 1; }
command -v java >/dev/null 2>&1 || { echo "install-zookeeper: java still missing after install" >&2; exit 1; }
echo "install-zookeeper: done ($(java -version 2>&1 | head -n 1))"
