/**
 * `TimerScheduledExecutor`, the service's timer-backed `ScheduledExecutor`, and `TaskHandle`, the handle of a
 * scheduled run (also used by endpoints for `scheduleRunAsync`), with the argument checks both share.
 */

import { RpcException, TaskCancelledError } from '../errors.js';
import type { ScheduledExecutor, ScheduledTask } from '../executors.js';
import type { Logger } from '../logger.js';

function checkDelay(name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new RangeError(`${name} must be zero or greater, but it was ${String(value)}.`);
  }
}

function checkTask(task: unknown): void {
  if (typeof task !== 'function') throw new TypeError('task must be a function.');
}

/** A handle whose timer and promise are managed by whoever runs the task. */
export class TaskHandle<T> implements ScheduledTask<T> {
  cancelled = false;
  done = false;
  timer: NodeJS.Timeout | undefined;
  readonly result: Promise<T>;
  private settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };

  constructor(private readonly onCancel: (handle: ScheduledTask<unknown>) => void) {
    this.result = new Promise<T>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.result.catch(() => {});
  }

  cancel(): boolean {
    if (this.done) return false;
    this.cancelled = true;
    this.finish();
    this.settle.reject(new TaskCancelledError());
    this.onCancel(this);
    return true;
  }

  complete(value: T): void {
    if (this.done) return;
    this.finish();
    this.settle.resolve(value);
  }

  abort(error: unknown): void {
    if (this.done) return;
    this.finish();
    this.settle.reject(error);
  }

  private finish(): void {
    this.done = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** The service-wide executor: tasks run on the event loop, outside every endpoint's main thread. */
export class TimerScheduledExecutor implements ScheduledExecutor {
  private readonly live = new Set<ScheduledTask<unknown>>();
  private closed = false;
  private readonly forget = (handle: ScheduledTask<unknown>): void => {
    this.live.delete(handle);
  };

  constructor(private readonly logger: Logger) {}

  execute(task: () => void): void {
    checkTask(task);
    this.schedule(task, 0);
  }

  schedule<T>(task: () => T, delayMs: number): ScheduledTask<Awaited<T>> {
    checkTask(task);
    checkDelay('delay', delayMs);
    const handle = this.track<Awaited<T>>();
    if (handle.done) return handle;
    handle.timer = setTimeout(() => {
      this.live.delete(handle);
      if (handle.done) return;
      try {
        Promise.resolve(task()).then(
          (v) => handle.complete(v as Awaited<T>),
          (e) => handle.abort(e),
        );
      } catch (error) {
        this.logger.warn({ err: error }, 'A task of the RPC service executor failed.');
        handle.abort(error);
      }
    }, delayMs);
    return handle;
  }

  scheduleAtFixedRate(task: () => void, initialDelayMs: number, periodMs: number): ScheduledTask<never> {
    return this.periodic(task, initialDelayMs, periodMs, 'rate');
  }

  scheduleWithFixedDelay(task: () => void, initialDelayMs: number, delayMs: number): ScheduledTask<never> {
    return this.periodic(task, initialDelayMs, delayMs, 'delay');
  }

  /** Cancels every pending task; later submissions are rejected (service shutdown). */
  shutdown(): void {
    this.closed = true;
    for (const handle of [...this.live]) handle.cancel();
  }

  private track<T>(): TaskHandle<T> {
    const handle = new TaskHandle<T>(this.forget);
    if (this.closed) {
      handle.abort(new RpcException('RpcService is stopped: its scheduled executor accepts no more tasks.'));
    } else {
      this.live.add(handle);
    }
    return handle;
  }

  private periodic(task: () => void, initialDelayMs: number, periodMs: number, mode: 'rate' | 'delay') {
    checkTask(task);
    checkDelay('initialDelay', initialDelayMs);
    if (typeof periodMs !== 'number' || !(periodMs > 0)) {
      throw new RangeError(`period must be greater than zero, but it was ${String(periodMs)}.`);
    }
    const handle = this.track<never>();
    if (handle.done) return handle;
    const start = performance.now() + initialDelayMs;
    let runs = 0;
    const runOnce = (): void => {
      if (handle.done) return;
      try {
        task();
      } catch (error) {
        // As in Java's ScheduledExecutorService: a periodic task that throws is not run again.
        this.logger.warn({ err: error }, 'A periodic task of the RPC service executor failed; it will not run again.');
        this.live.delete(handle);
        handle.abort(error);
        return;
      }
      runs++;
      if (handle.done) return;
      // Fixed rate: aim at start + n*period, so slow runs do not make the schedule drift.
      const next = mode === 'rate' ? Math.max(0, start + runs * periodMs - performance.now()) : periodMs;
      handle.timer = setTimeout(runOnce, next);
    };
    handle.timer = setTimeout(runOnce, initialDelayMs);
    return handle;
  }
}

export { checkDelay, checkTask };
