/**
 * A throwaway ZooKeeper server for tests: Debian's `zookeeper` jars run directly with `java … ZooKeeperServerMain`
 * on a free loopback port and a `mktemp` data dir, stopped by PID.
 * If java or the jars are missing, `startZooKeeper` throws and says how to install them: never a silent skip.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/cluster/process/childProcesses.js';

const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar';
const INSTALL_HINT =
  'Install it with `bash scripts/install-zookeeper.sh` (as root), or `apt-get install -y zookeeper` ' +
  '(which also brings a Java runtime).';

/** Options of {@link startZooKeeper}. */
export interface ZooKeeperServerOptions {
  /** Server tick in ms: sessions expire in tick-sized buckets. Default 100. */
  tickTime?: number;
  /** Smallest session timeout the server grants. Default 2 × tickTime. */
  minSessionTimeout?: number;
  /** How long to wait for the server to serve. Default 20 000 ms. */
  startTimeoutMs?: number;
}

/** A running test server. */
export interface ZooKeeperTestServer {
  /** `127.0.0.1:<port>`. */
  readonly connectString: string;
  readonly port: number;
  readonly dataDir: string;
  /** PID of the running JVM (changes after `restart`). */
  pid(): number;
  /** Stops the JVM (SIGTERM, SIGKILL after 10 s) but keeps the data dir, so `start` restores the sessions. */
  pause(): Promise<void>;
  /** Starts it again on the same port and data dir (after `pause`). */
  resume(): Promise<void>;
  /** `pause()`, wait `downMs`, then `resume()`: a ZooKeeper restart. */
  restart(downMs?: number): Promise<void>;
  /** Stops it and removes its temporary directory. Idempotent. */
  stop(): Promise<void>;
}

/** Throws an Error that says how to install ZooKeeper if java or the jars are missing. */
export function assertZooKeeperInstalled(): void {
  if (!existsSync(ZOOKEEPER_JAR)) {
    throw new Error(`ZooKeeper is not installed: ${ZOOKEEPER_JAR} is missing. ${INSTALL_HINT}`);
  }
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (java.error || java.status !== 0) {
    throw new Error(`Java is not available (\`java -version\` failed), and ZooKeeper needs it. ${INSTALL_HINT}`);
  }
}

/** Starts a standalone ZooKeeper on a free loopback port; resolves once it serves requests. */
export async function startZooKeeper(options: ZooKeeperServerOptions = {}): Promise<ZooKeeperTestServer> {
  assertZooKeeperInstalled();
  const tickTime = options.tickTime ?? 100;
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'flink-rpc-zk-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  let lastError: unknown;
  // A free port can be taken between probing and binding: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    writeConfig(dir, dataDir, port, tickTime, options.minSessionTimeout ?? 2 * tickTime);
    let child: ChildProcess | undefined;
    try {
      child = launch(dir);
      await waitUntilServing(port, child, startTimeoutMs, dir);
      return new RunningServer(dir, dataDir, port, child, startTimeoutMs);
    } catch (error) {
      lastError = error;
      if (child) await terminate(child);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

class RunningServer implements ZooKeeperTestServer {
  readonly connectString: string;
  private child: ChildProcess | null;
  private stopped = false;

  constructor(
    private readonly dir: string,
    readonly dataDir: string,
    readonly port: number,
    child: ChildProcess,
    private readonly startTimeoutMs: number,
  ) {
    this.connectString = `127.0.0.1:${port}`;
    this.child = child;
    liveServers.add(this);
  }

  pid(): number {
    return this.child?.pid ?? -1;
  }

  async pause(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child) await terminate(child);
  }

  async resume(): Promise<void> {
    if (this.stopped) throw new Error('The ZooKeeper test server was stopped.');
    if (this.child) return;
    const child = launch(this.dir);
    this.child = child;
    try {
      await waitUntilServing(this.port, child, this.startTimeoutMs, this.dir);
    } catch (error) {
      await this.pause();
      throw error;
    }
  }

  async restart(downMs = 0): Promise<void> {
    await this.pause();
    if (downMs > 0) await sleep(downMs);
    await this.resume();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    liveServers.delete(this);
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort when the test process exits without `stop()`. */
  killNow(): void {
    try {
      if (this.child?.pid) process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const liveServers = new Set<RunningServer>();
process.once('exit', () => {
  for (const server of liveServers) server.killNow();
});

function writeConfig(dir: string, dataDir: string, port: number, tickTime: number, minSessionTimeout: number): void {
  // A Java properties file: no comments after a value on the same line.
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [
      `tickTime=${tickTime}`,
      `minSessionTimeout=${minSessionTimeout}`,
      'maxSessionTimeout=60000',
      `dataDir=${dataDir}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'maxClientCnxns=0',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr,mntr',
      '',
    ].join('\n'),
  );
}

function launch(dir: string): ChildProcess {
  // Output goes to a file, not a pipe: no stream handles stay open in the test process.
  const log = openSync(join(dir, 'zk.out'), 'a');
  try {
    return spawn(
      'java',
      [
        '-Xmx256m',
        '-XX:+UseSerialGC',
        `-Dzookeeper.log.dir=${dir}`,
        '-cp',
        existsSync(SLF4J_SIMPLE_JAR) ? `${ZOOKEEPER_JAR}:${SLF4J_SIMPLE_JAR}` : ZOOKEEPER_JAR,
        'org.apache.zookeeper.server.ZooKeeperServerMain',
        join(dir, 'zoo.cfg'),
      ],
      { stdio: ['ignore', log, log] },
    );
  } finally {
    closeSync(log);
  }
}

async function waitUntilServing(port: number, child: ChildProcess, timeoutMs: number, dir: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`ZooKeeper exited during startup (${child.exitCode ?? child.signalCode}):\n${tail(dir)}`);
    }
    if (await probe(port)) return;
    await sleep(50);
  }
  throw new Error(`ZooKeeper did not serve on 127.0.0.1:${port} within ${timeoutMs} ms:\n${tail(dir)}`);
}

/**
 * Asks `srvr` and waits for `Mode:` (`ruok` answers before the server serves). Every probe has its own timeout: a
 * four-letter word sent during startup sometimes gets no answer at all.
 */
function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), 1_000);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('srvr'));
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('end', () => finish(/^Mode: /m.test(answer)));
    socket.on('error', () => finish(false));
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function tail(dir: string): string {
  try {
    return readFileSync(join(dir, 'zk.out'), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no output)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
