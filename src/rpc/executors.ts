/** Executor contracts shared by the service's scheduled executor and an endpoint's main-thread executor. */

/** A cancellable handle of a scheduled task. */
export interface ScheduledTask<T = void> {
  /**
   * Cancels the task if it has not run yet (for a periodic task: stops further runs; a run in progress finishes).
   * @returns true if this call cancelled it
   */
  cancel(): boolean;
  /** True once cancelled. */
  readonly cancelled: boolean;
  /** True once the task ran (one-shot) or can run no more (cancelled, failed, executor closed). */
  readonly done: boolean;
  /**
   * Settles with the task's result (one-shot), rejects if it threw or was cancelled; periodic tasks never fulfil.
   * Rejections are pre-handled: ignoring this promise never causes an unhandled rejection.
   */
  readonly result: Promise<T>;
}

/** Runs tasks now or later (Flink's `ScheduledExecutor`). All delays are milliseconds. */
export interface ScheduledExecutor {
  /** Runs `task` asynchronously, soon. */
  execute(task: () => void): void;
  /** Runs `task` once, no earlier than `delayMs` from now. */
  schedule<T>(task: () => T, delayMs: number): ScheduledTask<Awaited<T>>;
  /** Runs `task` every `periodMs`, starting after `initialDelayMs`; a task that throws is not run again. */
  scheduleAtFixedRate(task: () => void, initialDelayMs: number, periodMs: number): ScheduledTask<never>;
  /** Runs `task` repeatedly with `delayMs` between the end of one run and the start of the next. */
  scheduleWithFixedDelay(task: () => void, initialDelayMs: number, delayMs: number): ScheduledTask<never>;
}

/**
 * Runs tasks in an endpoint's main thread (its mailbox). Tasks given to it after the endpoint terminated never run.
 */
export interface MainThreadExecutor extends ScheduledExecutor {
  /** Throws unless called from this endpoint's main thread. */
  assertRunningInMainThread(): void;
  /**
   * The way back into the main thread after an `await`: when `promise` settles, runs `onFulfilled` (or `onRejected`)
   * as a message of this endpoint's mailbox, and settles the returned promise with its result. If the endpoint has
   * terminated by then, the callback never runs and the returned promise rejects with
   * `RecipientUnreachableException`.
   *
   * ```ts
   * const slots = await this.getMainThreadExecutor().thenApply(rm.requestSlots(n), (s) => this.assign(s));
   * ```
   */
  thenApply<T, R>(
    promise: PromiseLike<T>,
    onFulfilled: (value: T) => R,
    onRejected?: (error: unknown) => R,
  ): Promise<Awaited<R>>;
}
