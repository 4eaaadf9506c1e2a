/** Runs `fixtures/contender.ts` as a child process and follows what it reports. */

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from './recorders.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/contender.ts', import.meta.url));

/** A message a contender process sends (see the fixture). */
export interface ContenderMessage {
  type: 'ready' | 'granted' | 'confirmed' | 'revoked' | 'closed' | 'error';
  name: string;
  at: number;
  sessionId?: string;
  address?: string;
  ok?: boolean;
  message?: string;
  [key: string]: unknown;
}

const live = new Set<ContenderProcess>();

/** One contender child process. */
export class ContenderProcess {
  readonly messages: ContenderMessage[] = [];
  private readonly child: ChildProcess;
  private stderr = '';
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    options: Record<string, unknown>,
    fixture: string = FIXTURE,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify({ name, ...options })], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    live.add(this);
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4_000);
    });
    this.child.on('message', (message) => this.messages.push(message as ContenderMessage));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        live.delete(this);
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The first message of `type` (after `since`) matching `predicate`. */
  find(type: ContenderMessage['type'], since = 0): ContenderMessage | undefined {
    return this.messages.find((m) => m.type === type && m.at >= since);
  }

  async waitFor(type: ContenderMessage['type'], since = 0, timeoutMs = 15_000): Promise<ContenderMessage> {
    return eventually(
      `${this.name} to report ${type} (stderr: ${this.stderr.slice(-500)})`,
      () => this.find(type, since),
      timeoutMs,
    );
  }

  /** The session id it currently leads with (granted and confirmed, not revoked since), if any. */
  confirmedSession(): string | undefined {
    let session: string | undefined;
    for (const m of this.messages) {
      if (m.type === 'confirmed' && m.ok) session = m.sessionId;
      if (m.type === 'revoked' || m.type === 'closed') session = undefined;
    }
    return session;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Asks for a graceful close. */
  requestClose(): void {
    if (this.child.connected) this.child.send({ type: 'close' });
  }

  errors(): string[] {
    return this.messages.flatMap((m) => (m.type === 'error' ? [String(m.message)] : []));
  }
}

/** SIGKILLs every contender process still running and waits for them to exit. */
export async function killAllContenders(): Promise<void> {
  const running = [...live];
  for (const p of running) p.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
}

process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
