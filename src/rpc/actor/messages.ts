/**
 * The messages of a mailbox. One class for every kind keeps the mailbox's hot loop monomorphic; asks add a reply
 * side (`PendingAsk` for callers in this process, the transport's own sink for callers across the network).
 */

import type { MethodInfo } from '../gateway.js';

export const ASK = 0;
export const TELL = 1;
export const RUN = 2;
export const CALL = 3;
export const START = 4;
export const TERMINATE = 5;

/** Where the outcome of an ask or a `callAsync` goes. Calling either method after the first is a no-op. */
export interface ReplySink {
  succeed(value: unknown): void;
  fail(error: unknown): void;
}

/** One message of a mailbox. */
export class Envelope {
  constructor(
    /** ASK, TELL, RUN, CALL, START or TERMINATE */
    public readonly kind: number,
    /** The RPC method (ASK, TELL) */
    public readonly method: MethodInfo | null,
    /** The RPC arguments (ASK, TELL) */
    public args: unknown[] | null,
    /** The code to run (RUN, CALL) */
    public readonly task: (() => unknown) | null,
    /** The fencing token the message carries, if `fenced` */
    public readonly token: unknown,
    /** Whether the message carries a fencing token (a token may legitimately be any value) */
    public readonly fenced: boolean,
    /** Who receives the result (ASK, CALL); null for fire-and-forget messages */
    public reply: ReplySink | null,
  ) {}

  /** How the message is named in logs and errors. */
  describe(): string {
    switch (this.kind) {
      case ASK:
      case TELL:
        return `${this.kind === ASK ? 'ask' : 'tell'} ${this.method?.qualifiedName}`;
      case RUN:
        return 'runAsync';
      case CALL:
        return 'callAsync';
      case START:
        return 'START';
      default:
        return 'TERMINATE';
    }
  }
}
