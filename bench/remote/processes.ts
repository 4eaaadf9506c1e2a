/**
 * Child processes of the harness: every server and client runs as `node --import tsx <entry>` (not the `tsx` CLI,
 * which would add a wrapper process between us and the one to kill). All children are tracked, so that they are
 * stopped at the end of their system, on errors, on Ctrl-C and when the harness exits; and each child also exits by
 * itself when its stdin (a pipe from us) closes, which covers a harness killed with SIGKILL.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: children run there so that `--import tsx` resolves from its node_modules. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('./', import.meta.url));

const children = new Set<ChildProcess>();
/** Set once the harness is shutting down on a signal: no new child may start after that. */
let shuttingDown = false;

export interface Child {
  process: ChildProcess;
  /** Calls `onLine` for every stdout line. */
  lines(onLine: (line: string) => void): void;
  /** Writes one line to the child's stdin. */
  send(line: string): void;
  /** The last few KB of stderr, for error messages. */
  stderrTail(): string;
  exited: Promise<number | null>;
}

/** Extra node flags for every child, e.g. `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=.tmp/prof"` to profile. */
const EXTRA_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');

export interface ChildOptions {
  /** Node flags of this child, before the global `BENCH_NODE_ARGS` (e.g. `--expose-gc`). */
  nodeArgs?: readonly string[];
  /** Variables added to the harness's environment. */
  env?: Readonly<Record<string, string>>;
  /**
   * With `--cpu-prof` and `--cpu-prof-dir=DIR` among the node flags: the process's profiles go to `DIR/<profileName>/`
   * (e.g. `flink-server/`), one file per thread (tsx's module loader runs in a thread of its own; the main thread's
   * profile is the big one), so that each profile says whose it is.
   */
  profileName?: string;
}

/** Starts `bench/remote/<entry>` (or an absolute path) with `args`. */
export function startChild(entry: string, args: string[] = [], options: ChildOptions = {}): Child {
  if (shuttingDown) throw new Error('the remote bench is shutting down');
  let nodeArgs = [...(options.nodeArgs ?? []), ...EXTRA_NODE_ARGS];
  const profileName = options.profileName;
  if (profileName !== undefined && nodeArgs.includes('--cpu-prof')) {
    nodeArgs = nodeArgs.map((arg) =>
      arg.startsWith('--cpu-prof-dir=') ? `${arg.replace(/\/+$/, '')}/${profileName}` : arg,
    );
  }
  const script = entry.startsWith('/') ? entry : `${HERE}${entry}`;
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  children.add(child);
  child.stdin!.on('error', () => {}); // a child that died: its exit is reported through `exited`
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      children.delete(child);
      resolve(null);
    });
  });
  const reader = createInterface({ input: child.stdout! });
  return {
    process: child,
    lines: (onLine) => reader.on('line', onLine),
    send: (line) => {
      if (child.stdin!.writable) child.stdin!.write(`${line}\n`);
    },
    stderrTail: () => stderr.trim(),
    exited,
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit').catch(() => {});
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Ends a child politely: closes its stdin (clients then close their connections and exit, writing their CPU profile
 * if one was asked for), then SIGTERM and SIGKILL if it is still there after `graceMs`.
 */
export async function endChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit').catch(() => {});
  child.stdin?.end();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') await stopChild(child);
}

/** True once a signal has asked the harness to stop. */
export function isShuttingDown(): boolean {
  return shuttingDown;
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child)));
}

/**
 * While the harness runs: Ctrl-C and SIGTERM stop every child before exiting, and an exit for any other reason
 * SIGKILLs whatever is left (an 'exit' listener cannot wait). Returns the function that removes these handlers.
 */
export function installCleanupHandlers(): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nremote bench: ${signal}, stopping child processes\n`);
    shuttingDown = true;
    void stopAllChildren().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  const onExit = (): void => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
}
