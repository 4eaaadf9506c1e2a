/** An ask (or `callAsync`) awaited by a caller in this process: the envelope and the caller's promise in one object. */

import { RpcTimeoutException } from '../errors.js';
import type { MethodInfo } from '../gateway.js';
import type { DeadlineLane } from './DeadlineQueue.js';
import { Envelope, type ReplySink } from './messages.js';

/**
 * What observes a call while it is pending (metrics, a client span); only present when the service measures or
 * traces. Told once how the call ended.
 */
export interface CallProbe {
  succeeded(): void;
  failed(error: unknown): void;
  timedOut(): void;
  cancelled(reason: unknown): void;
}

/** Told when a pending ask settles, so that whoever indexed it (a connection's request table) can forget it. */
export interface AskOwner {
  /** The ask settled elsewhere (its timeout, a service shutdown): forget it; a late answer is dropped. */
  onAskSettled(ask: RemoteAsk): void;
  /**
   * The caller aborted the ask (through the method's `signalArg`); its promise is already rejected. Forget it and
   * tell the peer, so that the endpoint's signal is aborted there too (a cancel frame with `ask.requestId`). Called
   * instead of `onAskSettled`; an owner without it is told `onAskSettled`.
   */
  onAskCancelled?(ask: RemoteAsk): void;
}

/**
 * A pending ask as the transport sees it: the call to send, where its outcome goes, and the request id and owner
 * the connection's request table gives it while the answer travels. For a method with a `signalArg` the argument at
 * that position is always `undefined` here (a signal does not travel; cancellation goes through
 * `AskOwner.onAskCancelled`), and `traceContext` is set when tracing is on.
 */
export interface RemoteAsk extends Envelope, ReplySink {
  readonly recipient: string;
  requestId: number;
  owner: AskOwner | null;
}

const settled = Promise.resolve();
const noop = (): void => {};

export class PendingAsk extends Envelope implements RemoteAsk {
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  settled = false;
  /** Absolute deadline (performance.now() ms); Infinity for none. */
  deadline = Number.POSITIVE_INFINITY;
  /** The lane of the deadline queue that holds this ask, if any. */
  lane: DeadlineLane | null = null;
  /** The caller's stack, captured at the call when `captureAskCallStack` is on. */
  site: { stack?: string } | null = null;
  /** The transport's request table entry, if the ask travels over the network. */
  owner: AskOwner | null = null;
  requestId = 0;
  /** Links of the recipient's list of replies it still owes (see PendingReplies). */
  nextPending: PendingAsk | null = null;
  prevPending: PendingAsk | null = null;
  /** Transforms the result before the caller sees it (force-serialization test aid). */
  mapResult: ((value: unknown) => unknown) | null = null;
  /** The caller's `AbortSignal` and the endpoint's, for asks of methods with a `signalArg`. */
  cancellation: Cancellation | null = null;
  /** Metrics and tracing of this call, when the service has them. */
  probe: CallProbe | null = null;

  constructor(
    kind: number,
    method: MethodInfo | null,
    args: unknown[] | null,
    task: (() => unknown) | null,
    token: unknown,
    fenced: boolean,
    /** The recipient's address, for error messages. */
    public readonly recipient: string,
  ) {
    super(kind, method, args, task, token, fenced, null);
    this.reply = this;
  }

  succeed(value: unknown): void {
    if (this.settled) return;
    if (this.mapResult !== null) {
      try {
        value = this.mapResult(value);
      } catch (error) {
        this.fail(error);
        return;
      }
    }
    this.settled = true;
    this.release(false);
    this.probe?.succeeded();
    this.resolve(value);
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.release(false);
    this.probe?.failed(error);
    this.reject(error);
  }

  /**
   * The signal the endpoint's method receives at its `signalArg` (a local ask of such a method): aborted when the
   * caller aborts. Made on first use: remote asks never need it.
   */
  get signal(): AbortSignal | undefined {
    return this.cancellation?.endpointSignal();
  }

  /** The caller aborted: reject at once with the signal's reason, abort the endpoint's signal, tell the owner. */
  cancel(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.release(true);
    this.cancellation?.abortEndpoint(reason);
    this.probe?.cancelled(reason);
    this.reject(reason);
  }

  /**
   * Called by the deadline queue when `timeoutMs` passed.
   *
   * The caller's stack costs nothing here: the error is created in a promise reaction whose derived promise the
   * caller's promise follows, so V8's async stack traces append the awaiting functions (`at async callerFn`, and
   * their callers) to it. With `captureAskCallStack` the synchronous stack captured at the call is used instead.
   */
  expire(timeoutMs: number): void {
    if (this.settled) return;
    this.lane = null;
    if (this.site?.stack !== undefined) {
      const error = this.timeoutError(timeoutMs);
      // Show the caller's line, as Flink does with pekko.ask.callstack: the timer's own stack says nothing.
      const frames = this.site.stack.slice(this.site.stack.indexOf('\n'));
      error.stack = `${error.name}: ${error.message}${frames}`;
      this.fail(error);
      return;
    }
    this.settled = true;
    this.release(false);
    this.probe?.timedOut();
    // Two hops: the error must be created after the caller's promise has subscribed to the promise it follows,
    // so that V8 can walk from the failing reaction to the caller's `await`.
    this.resolve(
      settled.then(noop).then(() => {
        throw this.timeoutError(timeoutMs);
      }),
    );
  }

  private timeoutError(timeoutMs: number): RpcTimeoutException {
    const what = this.method ? this.method.qualifiedName : 'callAsync';
    return new RpcTimeoutException(
      `Invocation of [${what}] at recipient [${this.recipient}] timed out after ${timeoutMs} ms. ` +
        'This is usually caused by: 1) the message could not be delivered (e.g. the connection failed); ' +
        'details are in the logs. 2) The recipient needs more time for responding, due to problems like slow ' +
        'machines or network jitters. In that case, you can try to increase askTimeout.',
    );
  }

  private release(cancelled: boolean): void {
    if (this.lane !== null) {
      this.lane.compact();
      this.lane = null;
    }
    const owner = this.owner;
    if (owner !== null) {
      this.owner = null;
      if (cancelled && owner.onAskCancelled !== undefined) owner.onAskCancelled(this);
      else owner.onAskSettled(this);
    }
    if (this.cancellation !== null) this.cancellation.detach();
  }
}

/**
 * The cancellation side of an ask: it listens to the caller's signal (as an event listener object, so no closure
 * per call) until the ask settles, and owns the signal the endpoint's method gets, made only when a local endpoint
 * asks for it.
 */
const CANCELLED = AbortSignal.abort();

export class Cancellation {
  private controller: AbortController | null = null;
  private cancelledEarly = false;

  constructor(
    private readonly ask: PendingAsk,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    callerSignal?.addEventListener('abort', this, { once: true });
  }

  /** The caller's signal fired. */
  handleEvent(): void {
    this.ask.cancel(this.callerSignal!.reason);
  }

  endpointSignal(): AbortSignal {
    // Cancelled before the method ran: it will not run, so any aborted signal will do (and costs nothing).
    if (this.cancelledEarly) return CANCELLED;
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  abortEndpoint(reason: unknown): void {
    if (this.controller !== null) this.controller.abort(reason);
    else this.cancelledEarly = true;
  }

  detach(): void {
    this.callerSignal?.removeEventListener('abort', this);
  }
}
