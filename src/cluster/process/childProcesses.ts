/**
 * Starts JobManager and TaskManager processes as children of this process (for the demo, tests and benchmarks):
 * each one is `node [--import tsx] <main> <args>`, followed through its ready line and its exit, and stopped by its
 * own PID only. Children still alive when this process exits are killed, so nothing is left behind.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export type ClusterProcessKind = 'jobmanager' | 'taskmanager';

/** How a child ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Options of {@link ClusterProcess}. */
export interface ClusterProcessOptions {
  /** A name for messages (default: the kind). */
  readonly name?: string;
  /** Extra environment (merged over this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /** Called with every complete stdout line (the ready line included). */
  readonly onLine?: (line: string) => void;
  /**
   * Another entry module to run instead of the JobManager/TaskManager main (e.g. a benchmark's TaskManager host); a
   * `.ts` file runs under tsx. It must print a line containing ` ready at ` when ready.
   */
  readonly module?: string;
}

const live = new Set<ClusterProcess>();
let exitHookInstalled = false;

/** The entry module of `kind`: the TypeScript source under tsx, the compiled file in `dist`. */
function mainModule(kind: ClusterProcessKind): { path: string; execArgv: string[] } {
  const ownUrl = import.meta.url;
  const typescript = ownUrl.endsWith('.ts');
  const file = `./${kind}Main.${typescript ? 'ts' : 'js'}`;
  return { path: fileURLToPath(new URL(file, ownUrl)), execArgv: typescript ? ['--import', 'tsx'] : [] };
}

/** One JobManager or TaskManager child process. */
export class ClusterProcess {
  readonly name: string;
  /** Resolves with the ready line; rejects if the process exits (or `readyTimeoutMs` passes) before it. */
  readonly ready: Promise<string>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcess;
  private output = '';
  private exit: ProcessExit | undefined;

  constructor(
    readonly kind: ClusterProcessKind,
    readonly args: readonly string[],
    options: ClusterProcessOptions = {},
    readyTimeoutMs = 30_000,
  ) {
    this.name = options.name ?? kind;
    const main =
      options.module === undefined
        ? mainModule(kind)
        : { path: options.module, execArgv: options.module.endsWith('.ts') ? ['--import', 'tsx'] : [] };
    this.child = spawn(process.execPath, [...main.execArgv, main.path, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    live.add(this);
    installExitHook();
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    let pendingLine = '';
    this.ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name} was not ready within ${readyTimeoutMs} ms:\n${this.recentOutput()}`));
      }, readyTimeoutMs);
      timer.unref();
      this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        this.remember(chunk);
        pendingLine += chunk;
        let newline = pendingLine.indexOf('\n');
        while (newline >= 0) {
          const line = pendingLine.slice(0, newline);
          pendingLine = pendingLine.slice(newline + 1);
          options.onLine?.(line);
          if (/ ready at /.test(line)) {
            clearTimeout(timer);
            resolve(line);
          }
          newline = pendingLine.indexOf('\n');
        }
      });
      this.exited.then((exit) => {
        clearTimeout(timer);
        reject(
          new Error(`${this.name} exited (${exit.code ?? exit.signal}) before it was ready:\n${this.recentOutput()}`),
        );
      });
    });
    // A rejection nobody awaits (a process killed on purpose after it was ready) is not an error.
    this.ready.catch(() => {});
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.remember(chunk));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True until the process has exited. */
  isAlive(): boolean {
    return this.exit === undefined;
  }

  /** How it ended, once it has. */
  exitStatus(): ProcessExit | undefined {
    return this.exit;
  }

  /** Sends `signal` to this process (its own PID, nothing else); a no-op once it has exited. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.isAlive()) this.child.kill(signal);
  }

  /**
   * SIGTERM (a clean shutdown), then SIGKILL if it has not exited within `timeoutMs`. Resolves with how it ended.
   */
  async stop(timeoutMs = 15_000): Promise<ProcessExit> {
    if (!this.isAlive()) return this.exit!;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last few kilobytes of stdout and stderr. */
  recentOutput(): string {
    return this.output;
  }

  private remember(chunk: string): void {
    this.output = (this.output + chunk).slice(-8_000);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** The child processes started here that are still running. */
export function liveClusterProcesses(): ClusterProcess[] {
  return [...live];
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True if something accepts connections on 127.0.0.1:`port`. */
export function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
