#!/usr/bin/env bash
# Installs what the dashboard's browser tests need: Debian's `chromium` (driven by playwright-core through its
# executable path, so no browser is ever downloaded by npm). Idempotent: does nothing when /usr/bin/chromium exists.
# Nothing here starts a browser; the tests launch their own headless one.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "install-chromium: $CHROMIUM already present"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-chromium: need root (or sudo) to install: chromium" >&2; exit 1; }
  SUDO=sudo
fi

echo "install-chromium: installing chromium"
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core

[ -x "$CHROMIUM" ] || { echo "install-chromium: $CHROMIUM still missing after install" >&2; exit 1; }
echo "install-chromium: done ($("$CHROMIUM" --version 2>/dev/null || echo chromium))"
