/** Test doubles that record what the HA services deliver, with ways to wait for it. */

import type { LeaderContender, LeaderElection, LeaderRetrievalListener } from '../../../src/ha/index.js';

/** Polls `check` until it returns a value other than `undefined`/`false`, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | false | PromiseLike<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type ContenderEvent =
  | { type: 'grant'; sessionId: string }
  | { type: 'revoke' }
  | { type: 'error'; error: Error };

/** A contender that records its callbacks and can confirm with a fixed address. */
export class RecordingContender implements LeaderContender {
  readonly events: ContenderEvent[] = [];
  /** Set while a callback runs: detects overlapping or re-entrant delivery. */
  private inCallback = false;
  overlaps = 0;

  constructor(
    readonly name: string,
    readonly election: LeaderElection,
    /** Confirm right away inside `grantLeadership` with this address. */
    private readonly autoConfirmAddress?: string,
  ) {}

  /** The address confirmed automatically (throws if none). */
  autoAddress(): string {
    if (this.autoConfirmAddress === undefined) throw new Error(`${this.name} has no auto-confirm address.`);
    return this.autoConfirmAddress;
  }

  start(): Promise<void> {
    return this.election.startLeaderElection(this);
  }

  grantLeadership(sessionId: string): void {
    this.enter();
    this.events.push({ type: 'grant', sessionId });
    if (this.autoConfirmAddress !== undefined) void this.election.confirmLeadership(sessionId, this.autoConfirmAddress);
    this.inCallback = false;
  }

  revokeLeadership(): void {
    this.enter();
    this.events.push({ type: 'revoke' });
    this.inCallback = false;
  }

  handleError(error: Error): void {
    this.events.push({ type: 'error', error });
  }

  /** The session id of the current grant, if the last event is a grant. */
  get sessionId(): string | undefined {
    const last = this.events.filter((e) => e.type !== 'error').at(-1);
    return last?.type === 'grant' ? last.sessionId : undefined;
  }

  grants(): string[] {
    return this.events.flatMap((e) => (e.type === 'grant' ? [e.sessionId] : []));
  }

  errors(): Error[] {
    return this.events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
  }

  /** Waits for a grant other than those in `except`; returns its session id. */
  waitForGrant(except: readonly string[] = [], timeoutMs?: number): Promise<string> {
    return eventually(
      `${this.name} to be granted`,
      () => {
        const id = this.sessionId;
        return id !== undefined && !except.includes(id) ? id : undefined;
      },
      timeoutMs,
    );
  }

  waitForRevoke(timeoutMs?: number): Promise<void> {
    return eventually(`${this.name} to be revoked`, () => this.events.at(-1)?.type === 'revoke', timeoutMs).then(
      () => {},
    );
  }

  private enter(): void {
    if (this.inCallback) this.overlaps += 1;
    this.inCallback = true;
  }
}

export interface Notification {
  address: string | null;
  sessionId: string | null;
}

/** A retrieval listener that records notifications. */
export class RecordingListener implements LeaderRetrievalListener {
  readonly notifications: Notification[] = [];
  /** `Date.now()` of each notification. */
  readonly times: number[] = [];
  readonly errors: Error[] = [];

  notifyLeaderAddress(address: string | null, sessionId: string | null): void {
    this.notifications.push({ address, sessionId });
    this.times.push(Date.now());
  }

  /** When the notification of (`address`, `sessionId`) arrived, if it did. */
  timeOf(address: string | null, sessionId: string | null): number | undefined {
    const index = this.notifications.findLastIndex((n) => n.address === address && n.sessionId === sessionId);
    return index < 0 ? undefined : this.times[index];
  }

  handleError(error: Error): void {
    this.errors.push(error);
  }

  get last(): Notification | undefined {
    return this.notifications.at(-1);
  }

  /** Waits until the latest notification matches. */
  waitForLeader(address: string | null, sessionId: string | null, timeoutMs?: number): Promise<void> {
    return eventually(
      `notification (${address}, ${sessionId}); last: ${JSON.stringify(this.last)}`,
      () => this.last !== undefined && this.last.address === address && this.last.sessionId === sessionId,
      timeoutMs,
    ).then(() => {});
  }
}
