/**
 * The messages of a mailbox. One class for every kind keeps the mailbox's hot loop monomorphic; asks add a reply
 * side (`PendingAsk` for callers in this process, the transport's own sink for callers across the network).
 */

import type { MethodInfo } from '../gateway.js';

export const MESSAGE_ASK = 0;
export const MESSAGE_TELL = 1;
export const MESSAGE_RUN = 2;
export const MESSAGE_CALL = 3;
export const MESSAGE_START = 4;
export const MESSAGE_TERMINATE = 5;

/** Where the outcome of an ask or a `callAsync` goes. Calling either method after the first is a no-op. */
export interface ReplySink {
  succeed(value: unknown): void;
  fail(error: unknown): void;
  /**
   * For an ask of a method that declares a `signalArg`: the signal the endpoint's method receives at that position,
   * aborted by whoever owns the sink when the caller cancels (the transport does so on a cancel from the peer). The
   * runtime reads it once, when the method is invoked; without it the method gets a signal that is never aborted.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The W3C trace context (`traceparent`, optional `tracestate`) of the call that sent a message. The runtime sets it
 * on outgoing asks and tells while tracing is on (undefined otherwise); the transport carries it in the call's frame
 * when present and sets it on the inbound message, where the runtime starts the server span under it. Values from
 * the network are checked by the runtime (malformed ones are ignored); the transport only bounds their length.
 */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

/** One message of a mailbox. */
export class Envelope {
  constructor(
    /** One of the MESSAGE_* kinds */
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

  /** The trace context the message travels with (ASK, TELL); undefined when tracing is off. */
  traceContext: TraceCarrier | undefined = undefined;

  /** How the message is named in logs and errors. */
  describe(): string {
    switch (this.kind) {
      case MESSAGE_ASK:
      case MESSAGE_TELL:
        return `${this.kind === MESSAGE_ASK ? 'ask' : 'tell'} ${this.method?.qualifiedName}`;
      case MESSAGE_RUN:
        return 'runAsync';
      case MESSAGE_CALL:
        return 'callAsync';
      case MESSAGE_START:
        return 'START';
      default:
        return 'TERMINATE';
    }
  }
}
