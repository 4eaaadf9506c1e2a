/** `flink-rpc` child processes (the demo's JobManager and TaskManagers), followed through their output. */

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The package's launcher: the same command a person types. */
const LAUNCHER = fileURLToPath(new URL('../../bin/flink-rpc.js', import.meta.url));
/** Children run the same build as this process: the sources when it runs from them (tsx), else the compiled CLI. */
const FROM_SOURCE = import.meta.url.includes('/src/cli/');

export class CliChild {
  readonly child: ChildProcess;
  private text = '';
  private readonly waiters = new Set<() => void>();
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    args: readonly string[],
  ) {
    this.child = spawn(process.execPath, [LAUNCHER, ...args], {
      env: {
        ...process.env,
        FLINK_RPC_LOG_LEVEL: process.env.FLINK_RPC_LOG_LEVEL ?? 'error',
        ...(FROM_SOURCE ? { FLINK_RPC_CLI_FROM_SOURCE: '1' } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (data: Buffer): void => {
      this.text += data.toString();
      for (const waiter of [...this.waiters]) waiter();
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.once('exit', () => {
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.text;
  }

  /** The first match of `pattern` in the output; rejects if the process exits first or `timeoutMs` passes. */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.text}`));
      }, timeoutMs);
      const check = (): void => {
        const match = pattern.exec(this.text);
        if (match === null && this.running) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        if (match !== null) resolve(match);
        else reject(new Error(`${this.name} exited before it was ready:\n${this.text}`));
      };
      this.waiters.add(check);
      check();
    });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** SIGTERM (a clean shutdown), SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
