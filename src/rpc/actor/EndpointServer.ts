/**
 * The actor behind one endpoint: its mailbox and main-thread turns, and its lifecycle
 * (created → started → terminating → terminated). It is the `RpcServer` the endpoint holds and the `RpcTarget` local
 * proxies deliver to; the transport delivers inbound remote calls to it the same way. Fencing (`fencing.ts`) and the
 * served-gateway lookup (`servedGateways.ts`) are their own units.
 */

import {
  EndpointNotStartedException,
  type RecipientUnreachableException,
  RpcException,
  recipientUnreachable,
} from '../errors.js';
import type { ScheduledTask } from '../executors.js';
import type { GatewayDescriptor, MethodInfo, RpcGateway } from '../gateway.js';
import { kOnStart, kOnStop } from '../internal.js';
import type { Logger } from '../logger.js';
import type { RpcServer } from '../RpcServer.js';
import { FencedRpcEndpoint, type RpcEndpoint } from '../RpcService.js';
import { servesGateway } from '../servedGateways.js';
import type { Dispatcher, Schedulable } from './Dispatcher.js';
import { type FencingCheck, fencingCheckOf } from './fencing.js';
import {
  Envelope,
  MESSAGE_ASK,
  MESSAGE_CALL,
  MESSAGE_RUN,
  MESSAGE_START,
  MESSAGE_TELL,
  MESSAGE_TERMINATE,
  type ReplySink,
} from './messages.js';
import type { HistogramCell } from './metrics.js';
import type { Observability } from './observability.js';
import { PendingAsk } from './PendingAsk.js';
import { PendingReplies } from './PendingReplies.js';
import { createGatewayProxy, type InvocationContext, type RpcTarget } from './proxy.js';
import { RingQueue } from './RingQueue.js';
import { checkDelay, checkTask, TaskHandle } from './TimerScheduledExecutor.js';

const CREATED = 0;
const STARTED = 1;
const TERMINATING = 2;
const TERMINATED = 3;
const STATE_NAMES = ['created', 'started', 'terminating', 'terminated'];

/** What a server needs from its service. */
export interface ServerHost {
  readonly dispatcher: Dispatcher;
  readonly context: InvocationContext;
  readonly logger: Logger;
  readonly hostname: string;
  onServerTerminated(server: EndpointServer): void;
}

/** The server whose mailbox turn is running now: what `validateRunsInMainThread` checks. */
let current: EndpointServer | null = null;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value instanceof Promise ||
    (value !== null &&
      (typeof value === 'object' || typeof value === 'function') &&
      typeof (value as { then?: unknown }).then === 'function')
  );
}

/** `fn.apply(self, args)`, with direct calls for the common small arities (a call is cheaper than an apply). */
function callWith(fn: Function, self: unknown, args: unknown[]): unknown {
  switch (args.length) {
    case 0:
      return fn.call(self);
    case 1:
      return fn.call(self, args[0]);
    case 2:
      return fn.call(self, args[0], args[1]);
    default:
      return fn.apply(self, args);
  }
}

export class EndpointServer implements RpcServer, RpcTarget, Schedulable {
  inReadyQueue = false;
  readonly inProcess = true;
  readonly hostname: string;
  private state = CREATED;
  private running = false;
  private terminationRequested = false;
  private readonly mailbox = new RingQueue<Envelope>();
  private readonly timers = new Set<TaskHandle<void>>();
  private readonly pendingReplies = new PendingReplies();
  private readonly selfGateways = new Map<GatewayDescriptor, RpcGateway>();
  private readonly fenced: boolean;
  private readonly fencing: FencingCheck;
  private readonly termination: Promise<void>;
  private settleTermination!: { resolve: () => void; reject: (e: unknown) => void };
  private readonly log: Logger;
  private readonly observability: Observability | null;
  /** The method last invoked in this turn and its function (see `invoke`). */
  private turnMethod: MethodInfo | null = null;
  private turnFn: unknown = undefined;
  /** When each queued message was enqueued (performance.now()), kept only while metrics are on. */
  private readonly enqueueTimes: RingQueue<number> | null;
  private readonly mailboxLatency: HistogramCell | null;
  private readonly forgetTimer = (handle: ScheduledTask<unknown>): void => {
    this.timers.delete(handle as TaskHandle<void>);
  };

  constructor(
    readonly endpoint: RpcEndpoint,
    readonly endpointId: string,
    readonly address: string,
    private readonly host: ServerHost,
  ) {
    this.hostname = host.hostname;
    this.fenced = endpoint instanceof FencedRpcEndpoint;
    this.fencing = fencingCheckOf(endpoint, address);
    this.log = host.logger;
    this.observability = host.context.observability;
    const metrics = this.observability?.metrics ?? null;
    this.enqueueTimes = metrics === null ? null : new RingQueue<number>();
    this.mailboxLatency = metrics === null ? null : metrics.mailboxLatencyOf(endpoint.constructor.name);
    this.termination = new Promise<void>((resolve, reject) => {
      this.settleTermination = { resolve, reject };
    });
    // Nobody may be listening; a failed termination must not become an unhandled rejection.
    this.termination.catch(() => {});
  }

  // ---- RpcServer --------------------------------------------------------------------------------------------

  getAddress(): string {
    return this.address;
  }

  getHostname(): string {
    return this.hostname;
  }

  getEndpointId(): string {
    return this.endpointId;
  }

  start(): void {
    if (this.state !== CREATED || this.terminationRequested) {
      if (this.state >= TERMINATING || this.terminationRequested) {
        this.log.warn({ endpoint: this.endpointId }, 'Ignoring start() of an endpoint that is terminating.');
      }
      return;
    }
    this.state = STARTED;
    this.enqueue(new Envelope(MESSAGE_START, null, null, null, undefined, false, null));
  }

  terminate(): Promise<void> {
    if (!this.terminationRequested && this.state !== TERMINATED) {
      this.terminationRequested = true;
      if (this.state === CREATED) {
        // Never started: nothing to stop, onStop is not called (Flink does the same).
        this.finishTermination(undefined);
      } else {
        this.enqueue(new Envelope(MESSAGE_TERMINATE, null, null, null, undefined, false, null));
      }
    }
    return this.termination;
  }

  getTerminationFuture(): Promise<void> {
    return this.termination;
  }

  /** Replies the endpoint still owes (its methods returned promises that have not settled): a diagnostics aid. */
  get pendingReplyCount(): number {
    return this.pendingReplies.size;
  }

  /** Messages waiting in the mailbox. */
  get mailboxSize(): number {
    return this.mailbox.length;
  }

  isRunning(): boolean {
    return this.running;
  }

  isInMainThread(): boolean {
    return current === this;
  }

  runAsync(task: () => void): void {
    checkTask(task);
    this.deliver(new Envelope(MESSAGE_RUN, null, null, task, undefined, false, null));
  }

  scheduleRunAsync(task: () => void, delayMs: number): ScheduledTask<void> {
    checkTask(task);
    checkDelay('delay', delayMs);
    const handle = new TaskHandle<void>(this.forgetTimer);
    if (this.state === TERMINATED) {
      handle.abort(this.unreachable('scheduleRunAsync'));
      return handle;
    }
    this.timers.add(handle);
    handle.timer = setTimeout(() => {
      handle.timer = undefined;
      this.timers.delete(handle as TaskHandle<void>);
      if (handle.done) return;
      // Re-enqueued when due: it runs after the messages already queued by then (Flink's behaviour).
      this.deliver(
        new Envelope(
          MESSAGE_RUN,
          null,
          null,
          () => {
            if (handle.done) return;
            try {
              task();
              handle.complete();
            } catch (error) {
              handle.abort(error);
              throw error;
            }
          },
          undefined,
          false,
          {
            succeed() {},
            fail: (error) => handle.abort(error),
          },
        ),
      );
    }, delayMs);
    return handle;
  }

  callAsync<T>(task: () => T, timeoutMs: number): Promise<Awaited<T>> {
    checkTask(task);
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      return Promise.reject(new RangeError(`timeout must be zero or greater, but it was ${String(timeoutMs)}.`));
    }
    const call = new PendingAsk(MESSAGE_CALL, null, null, task, undefined, false, this.address);
    const promise = new Promise<Awaited<T>>((resolve, reject) => {
      call.resolve = resolve as (v: unknown) => void;
      call.reject = reject;
    });
    this.host.context.deadlines.add(call, timeoutMs);
    this.deliver(call);
    return promise;
  }

  getSelfGateway<G extends RpcGateway>(gateway: GatewayDescriptor<G>): G {
    let proxy = this.selfGateways.get(gateway);
    if (proxy === undefined) {
      if (!servesGateway(this.endpoint, gateway)) {
        throw new RpcException(`RpcEndpoint does not implement the RpcGateway interface of type ${gateway.name}.`);
      }
      const token = this.fenced ? (this.endpoint as FencedRpcEndpoint<unknown>).getFencingToken() : undefined;
      proxy = createGatewayProxy(gateway, this, this.host.context, token, this.fenced);
      this.selfGateways.set(gateway, proxy);
    }
    return proxy as G;
  }

  // ---- delivery -------------------------------------------------------------------------------------------------

  /** Accepts an envelope from a proxy, the transport, or the endpoint itself. */
  deliver(envelope: Envelope): void {
    const state = this.state;
    if (state === STARTED || state === TERMINATING) {
      this.enqueue(envelope);
    } else if (state === CREATED) {
      this.discard(envelope, () => this.notStarted(envelope));
    } else {
      this.discard(envelope, () => this.unreachable(envelope.describe()));
    }
  }

  private enqueue(envelope: Envelope): void {
    this.mailbox.push(envelope);
    if (this.enqueueTimes !== null) this.enqueueTimes.push(performance.now());
    if (!this.inReadyQueue) this.host.dispatcher.schedule(this);
  }

  private discard(envelope: Envelope, error: () => unknown): void {
    if (envelope.reply !== null) {
      envelope.reply.fail(error());
    } else {
      this.log.debug(
        { endpoint: this.endpointId, message: envelope.describe(), state: STATE_NAMES[this.state] },
        'Dropping a message without reply: the endpoint is not running.',
      );
    }
  }

  /** One turn of this endpoint's main thread. */
  runBatch(limit: number): boolean {
    const previous = current;
    current = this;
    this.turnMethod = null;
    try {
      const mailbox = this.mailbox;
      for (let n = 0; n < limit; n++) {
        const envelope = mailbox.shift();
        if (envelope === undefined) return false;
        if (this.enqueueTimes !== null) {
          this.mailboxLatency!.observe((performance.now() - this.enqueueTimes.shift()!) / 1000);
        }
        try {
          const kind = envelope.kind;
          // RPCs first, without the lifecycle switch (this loop never runs a terminated endpoint's messages).
          if (kind === MESSAGE_TELL || kind === MESSAGE_ASK) this.invoke(envelope);
          else this.handle(envelope);
        } catch (error) {
          // Only a bug in the runtime lands here (user errors are caught where they happen): isolate it.
          this.fail(error);
        }
        if (this.state === TERMINATED) return false;
      }
      return !mailbox.isEmpty();
    } finally {
      current = previous;
    }
  }

  private handle(envelope: Envelope): void {
    if (this.state === TERMINATED) {
      this.discard(envelope, () => this.unreachable(envelope.describe()));
      return;
    }
    switch (envelope.kind) {
      case MESSAGE_ASK:
      case MESSAGE_TELL:
        this.invoke(envelope);
        return;
      case MESSAGE_RUN:
        try {
          envelope.task!();
        } catch (error) {
          envelope.reply?.fail(error);
          this.log.warn(
            { err: error, endpoint: this.endpointId },
            'Caught exception while executing runnable in main thread.',
          );
        }
        return;
      case MESSAGE_CALL: {
        let result: unknown;
        try {
          result = envelope.task!();
        } catch (error) {
          envelope.reply!.fail(error);
          return;
        }
        this.replyWhenSettled(envelope.reply!, result);
        return;
      }
      case MESSAGE_START:
        this.handleStart();
        return;
      case MESSAGE_TERMINATE:
        this.handleTerminate();
        return;
    }
  }

  private invoke(envelope: Envelope): void {
    const reply = envelope.reply;
    const method = envelope.method!;
    // Neither side fenced (most messages): nothing to check.
    if (envelope.fenced || this.fenced) {
      const refusal = this.fencing(envelope);
      if (refusal !== undefined) {
        if (reply !== null) {
          reply.fail(refusal);
        } else {
          this.log.debug({ endpoint: this.endpointId, err: refusal }, 'Dropping a fire-and-forget message.');
        }
        return;
      }
    }
    // Looked up once per method and turn: a keyed load by name is megamorphic across methods, and costs more than
    // the rest of a tell. A method replaced on a running endpoint takes effect from its next turn.
    let fn: unknown;
    if (method === this.turnMethod) {
      fn = this.turnFn;
    } else {
      fn = (this.endpoint as unknown as Record<string, unknown>)[method.name];
      this.turnMethod = method;
      this.turnFn = fn;
    }
    if (typeof fn !== 'function') {
      const error = new RpcException(
        `Could not find rpc method ${method.qualifiedName} for rpc invocation on ${this.address}.`,
      );
      if (reply !== null) reply.fail(error);
      else this.log.warn({ endpoint: this.endpointId, err: error }, 'Dropping a fire-and-forget message.');
      return;
    }
    if (this.observability !== null) {
      this.callObserved(this.observability, envelope, method, fn);
      return;
    }
    if (reply !== null) {
      if (method.signalArg !== undefined && !this.placeSignal(envelope, method.signalArg, reply)) return;
      let result: unknown;
      try {
        result = callWith(fn, this.endpoint, envelope.args!);
      } catch (error) {
        reply.fail(error);
        return;
      }
      this.replyWhenSettled(reply, result);
      return;
    }
    try {
      const result = callWith(fn, this.endpoint, envelope.args!);
      if (result !== undefined && isThenable(result)) {
        result.then(undefined, (error: unknown) => this.logTellFailure(method, error));
      }
    } catch (error) {
      this.logTellFailure(method, error);
    }
  }

  /**
   * Puts the signal of the caller's side at the method's `signalArg` (whatever a peer sent there is replaced).
   * Returns false, having failed the reply, when the call was cancelled while it waited in the mailbox: the caller
   * is gone and the method is not run.
   */
  private placeSignal(envelope: Envelope, signalArg: number, reply: ReplySink): boolean {
    const signal = reply.signal ?? new AbortController().signal;
    if (signal.aborted) {
      reply.fail(signal.reason);
      return false;
    }
    envelope.args![signalArg] = signal;
    return true;
  }

  /** `invoke` with metrics or tracing: the call runs in its server span, its handling time is recorded. */
  private callObserved(observability: Observability, envelope: Envelope, method: MethodInfo, fn: Function): void {
    const reply = envelope.reply;
    if (reply !== null && method.signalArg !== undefined && !this.placeSignal(envelope, method.signalArg, reply)) {
      return;
    }
    const call = observability.startServer(method, envelope.traceContext, reply);
    const endpoint = this.endpoint;
    const args = envelope.args!;
    if (call.reply !== null) {
      let result: unknown;
      try {
        result = call.run(() => fn.apply(endpoint, args));
      } catch (error) {
        call.reply.fail(error);
        return;
      }
      this.replyWhenSettled(call.reply, result);
      return;
    }
    try {
      const result = call.run(() => fn.apply(endpoint, args));
      if (isThenable(result)) {
        result.then(
          () => call.done(undefined, false),
          (error: unknown) => {
            call.done(error, true);
            this.logTellFailure(method, error);
          },
        );
      } else {
        call.done(undefined, false);
      }
    } catch (error) {
      call.done(error, true);
      this.logTellFailure(method, error);
    }
  }

  /**
   * Sends `result` to `reply`, at once or when the promise settles: the mailbox never waits. While it is pending the
   * reply is tracked, so that termination fails it at once instead of leaving the caller to its timeout.
   */
  private replyWhenSettled(reply: ReplySink, result: unknown): void {
    if (!isThenable(result)) {
      reply.succeed(result);
      return;
    }
    this.pendingReplies.track(reply);
    result.then(
      (value) => {
        this.pendingReplies.untrack(reply);
        reply.succeed(value);
      },
      (error: unknown) => {
        this.pendingReplies.untrack(reply);
        reply.fail(error);
      },
    );
  }

  private logTellFailure(method: MethodInfo, error: unknown): void {
    this.log.warn(
      { err: error, endpoint: this.endpointId, method: method.qualifiedName },
      'A fire-and-forget RPC failed.',
    );
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------------

  private handleStart(): void {
    this.running = true;
    let result: unknown;
    try {
      result = this.endpoint[kOnStart]();
    } catch (error) {
      this.failStart(error);
      return;
    }
    if (isThenable(result)) result.then(undefined, (error: unknown) => this.failStart(error));
  }

  private failStart(error: unknown): void {
    if (this.state === TERMINATED) return;
    this.log.warn({ err: error, endpoint: this.endpointId }, 'Could not start the RPC endpoint.');
    this.finishTermination(new RpcException(`Could not start RpcEndpoint ${this.endpointId}.`, { cause: error }));
  }

  private handleTerminate(): void {
    if (this.state !== STARTED) return;
    this.state = TERMINATING;
    let result: unknown;
    try {
      result = this.endpoint[kOnStop]();
    } catch (error) {
      this.running = false;
      this.finishTermination(
        new RpcException(`Failure while stopping RpcEndpoint ${this.endpointId}.`, { cause: error }),
      );
      return;
    }
    this.running = false;
    if (isThenable(result)) {
      result.then(
        () => this.finishTermination(undefined),
        (error: unknown) => this.finishTermination(error ?? new RpcException('onStop failed.')),
      );
    } else {
      this.finishTermination(undefined);
    }
  }

  /** Supervisor path: an unexpected failure terminates this endpoint only; its neighbours and service go on. */
  private fail(error: unknown): void {
    this.log.error({ err: error, endpoint: this.endpointId }, 'The RPC endpoint failed and is stopped.');
    this.finishTermination(
      new RpcException(`Stopping endpoint ${this.endpointId} because it failed.`, { cause: error }),
    );
  }

  private finishTermination(error: unknown): void {
    if (this.state === TERMINATED) return;
    this.state = TERMINATED;
    this.running = false;
    this.terminationRequested = true;
    this.enqueueTimes?.takeAll();
    for (const envelope of this.mailbox.takeAll()) {
      this.discard(envelope, () => this.unreachable(envelope.describe()));
    }
    for (const handle of [...this.timers]) handle.abort(this.unreachable('scheduleRunAsync'));
    this.timers.clear();
    this.pendingReplies.failAll(() => this.unreachable('a pending reply'));
    this.host.onServerTerminated(this);
    if (error === undefined) this.settleTermination.resolve();
    else this.settleTermination.reject(error);
  }

  private notStarted(envelope: Envelope): EndpointNotStartedException {
    return new EndpointNotStartedException(
      `Discard message ${envelope.describe()}, because the rpc endpoint ${this.address} has not been started yet.`,
    );
  }

  private unreachable(what: string): RecipientUnreachableException {
    return recipientUnreachable(what, this.address);
  }

  toString(): string {
    return `EndpointServer(${this.address}, ${STATE_NAMES[this.state]})`;
  }
}
