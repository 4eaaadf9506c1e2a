/** Test doubles for the heartbeat tests: a fake main-thread executor on (fake) timers, a recording listener. */

import type { HeartbeatListener, HeartbeatTarget } from '../../src/heartbeat/index.js';
import type { MainThreadExecutor, ScheduledTask } from '../../src/rpc/executors.js';
import type { Logger } from '../../src/rpc/logger.js';

/**
 * A main-thread executor of a pretend endpoint, driven by `setTimeout` (so by vitest's fake timers). "Main thread"
 * is the synchronous run of one of its tasks, and `terminate()` makes every pending and future task a no-op —
 * the two guarantees the real `RpcEndpoint#getMainThreadExecutor()` gives.
 */
export class FakeMainThreadExecutor implements MainThreadExecutor {
  private depth = 0;
  private terminated = false;

  constructor(readonly name = 'endpoint') {}

  /** Runs `fn` as if it were a message of this endpoint (e.g. an incoming RPC). */
  runInMainThread<T>(fn: () => T): T {
    if (this.terminated) throw new Error(`${this.name} has terminated`);
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  isInMainThread(): boolean {
    return this.depth > 0;
  }

  /** Like the endpoint terminating: nothing of this executor runs any more. */
  terminate(): void {
    this.terminated = true;
  }

  execute(task: () => void): void {
    setTimeout(() => {
      if (!this.terminated) this.runInMainThread(task);
    }, 0);
  }

  schedule<T>(task: () => T, delayMs: number): ScheduledTask<Awaited<T>> {
    let cancelled = false;
    let done = false;
    let settle!: { resolve: (v: Awaited<T>) => void; reject: (e: unknown) => void };
    const result = new Promise<Awaited<T>>((resolve, reject) => (settle = { resolve, reject }));
    result.catch(() => {});
    const timer = setTimeout(() => {
      done = true;
      if (this.terminated) return settle.reject(new Error('terminated'));
      try {
        settle.resolve(this.runInMainThread(task) as Awaited<T>);
      } catch (error) {
        settle.reject(error);
      }
    }, delayMs);
    return {
      cancel: () => {
        if (done || cancelled) return false;
        cancelled = done = true;
        clearTimeout(timer);
        settle.reject(new Error('cancelled'));
        return true;
      },
      get cancelled() {
        return cancelled;
      },
      get done() {
        return done;
      },
      result,
    };
  }

  scheduleAtFixedRate(): ScheduledTask<never> {
    throw new Error('not supported by the main-thread executor');
  }

  scheduleWithFixedDelay(): ScheduledTask<never> {
    throw new Error('not supported by the main-thread executor');
  }

  assertRunningInMainThread(): void {
    if (!this.isInMainThread()) throw new Error(`not in the main thread of ${this.name}`);
  }

  thenApply<T, R>(
    promise: PromiseLike<T>,
    onFulfilled: (value: T) => R,
    onRejected?: (error: unknown) => R,
  ): Promise<Awaited<R>> {
    return Promise.resolve(promise).then(
      (v) => new Promise((resolve) => this.execute(() => resolve(onFulfilled(v) as Awaited<R>))),
      (e) =>
        new Promise((resolve, reject) =>
          this.execute(() => {
            if (onRejected) resolve(onRejected(e) as Awaited<R>);
            else reject(e);
          }),
        ),
    );
  }
}

/** A logger that keeps what was logged at warn/error level. */
export function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const logger = {
    errors,
    debug() {},
    info() {},
    warn(_obj: unknown, msg?: string) {
      errors.push(String(msg));
    },
    error(_obj: unknown, msg?: string) {
      errors.push(String(msg));
    },
    child: () => logger,
  };
  return logger;
}

export type ListenerEvent =
  | { kind: 'timeout' | 'unreachable'; id: string; at: number }
  | { kind: 'payload'; id: string; payload: unknown; at: number };

/**
 * A listener that records every callback with `Date.now()`, and records a violation whenever a callback does not
 * run in `executor`'s main thread.
 */
export class RecordingListener<I, O> implements HeartbeatListener<I, O> {
  readonly events: ListenerEvent[] = [];
  readonly violations: string[] = [];
  readonly retrieved: string[] = [];

  constructor(
    private readonly executor: FakeMainThreadExecutor,
    private readonly payloadFor: (id: string) => O = () => undefined as O,
  ) {}

  notifyHeartbeatTimeout(resourceId: string): void {
    this.check('notifyHeartbeatTimeout');
    this.events.push({ kind: 'timeout', id: resourceId, at: Date.now() });
  }

  notifyTargetUnreachable(resourceId: string): void {
    this.check('notifyTargetUnreachable');
    this.events.push({ kind: 'unreachable', id: resourceId, at: Date.now() });
  }

  reportPayload(resourceId: string, payload: I): void {
    this.check('reportPayload');
    this.events.push({ kind: 'payload', id: resourceId, payload, at: Date.now() });
  }

  retrievePayload(resourceId: string): O {
    this.check('retrievePayload');
    this.retrieved.push(resourceId);
    return this.payloadFor(resourceId);
  }

  of(kind: ListenerEvent['kind']): ListenerEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }

  payloads(): unknown[] {
    return this.events.flatMap((e) => (e.kind === 'payload' ? [e.payload] : []));
  }

  private check(callback: string): void {
    if (!this.executor.isInMainThread()) this.violations.push(callback);
  }
}

/**
 * A target that forwards to another manager as an RPC would: asynchronously, inside the receiving endpoint's main
 * thread. `cut()` makes it stop answering (calls hang, like a frozen peer); `fail(n)` makes the next `n` calls
 * reject (like a dead connection).
 */
export class LinkTarget<I> implements HeartbeatTarget<I> {
  calls = 0;
  private mode: 'up' | 'silent' = 'up';
  private failuresLeft = 0;

  constructor(
    private readonly remote: HeartbeatTarget<I>,
    private readonly remoteExecutor: FakeMainThreadExecutor,
  ) {}

  cut(): void {
    this.mode = 'silent';
  }

  fail(times: number): void {
    this.failuresLeft = times;
  }

  receiveHeartbeat(origin: string, payload: I): Promise<void> {
    return this.call(() => this.remote.receiveHeartbeat(origin, payload));
  }

  requestHeartbeat(origin: string, payload: I): Promise<void> {
    return this.call(() => this.remote.requestHeartbeat(origin, payload));
  }

  private call(invoke: () => Promise<void>): Promise<void> {
    this.calls++;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(new Error('connection refused'));
    }
    if (this.mode === 'silent') return new Promise<void>(() => {});
    return new Promise<void>((resolve, reject) => {
      this.remoteExecutor.execute(() => {
        invoke().then(resolve, reject);
      });
    });
  }
}

/** A target whose every call is answered by `answer` (default: resolve), recording the calls. */
export function scriptedTarget<I>(answer: (call: number) => Promise<void> = () => Promise.resolve()) {
  const calls: { method: string; origin: string; payload: I; at: number }[] = [];
  const target: HeartbeatTarget<I> = {
    receiveHeartbeat: (origin, payload) => {
      calls.push({ method: 'receiveHeartbeat', origin, payload, at: Date.now() });
      return answer(calls.length);
    },
    requestHeartbeat: (origin, payload) => {
      calls.push({ method: 'requestHeartbeat', origin, payload, at: Date.now() });
      return answer(calls.length);
    },
  };
  return { target, calls };
}
