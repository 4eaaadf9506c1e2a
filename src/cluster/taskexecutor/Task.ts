/**
 * The runtime of one deployed task (Flink's `Task` with its `StreamTask` mailbox loop, reduced to the control plane):
 * loads the operator, opens it with the restored state, steps it while handling checkpoint requests between two steps,
 * and reports every state change. A throwing or hanging operator ends its own task, never the process.
 */

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from '../../index.js';
import { serializeError, TaskFailureException } from '../errors.js';
import { loadTaskState, storeTaskState } from '../task/checkpointStorage.js';
import { describeOperatorRef, loadOperatorFactory } from '../task/loadOperator.js';
import type { Operator, OperatorFactory, TaskContext } from '../task/Operator.js';
import type {
  ExecutionState,
  SerializedError,
  TaskDeploymentDescriptor,
  TaskExecutionState,
  TaskStateHandle,
} from '../types.js';
import { leaveTaskScope, runInTaskScope, runOutsideTaskScope } from './taskErrorGuard.js';

/** The id of the local final checkpoint a task takes when its job does not checkpoint and its input ended. */
export const FINAL_LOCAL_CHECKPOINT_ID = Number.MAX_SAFE_INTEGER;

/** What a task tells its TaskExecutor. */
export interface TaskActions {
  /** A state change, to forward to the JobMaster. */
  updateTaskExecutionState(state: TaskExecutionState): void;
  acknowledgeCheckpoint(task: Task, checkpointId: number, state: TaskStateHandle): void;
  declineCheckpoint(task: Task, checkpointId: number, reason: SerializedError): void;
}

export interface TaskOptions {
  readonly actions: TaskActions;
  /** After a cancel, how long the operator may take to stop before the task is given up (Flink: 30 s). */
  readonly cancellationTimeout: number;
  readonly logger: Logger;
  /** Resolves operator references (default: built-ins and module imports). */
  readonly loadFactory?: (ref: TaskDeploymentDescriptor['operator']) => Promise<OperatorFactory>;
  /** Snapshots up to this many bytes travel inline. */
  readonly inlineStateThreshold?: number;
}

type TaskEvent =
  | { readonly kind: 'trigger'; readonly checkpointId: number }
  | { readonly kind: 'complete'; readonly checkpointId: number }
  | { readonly kind: 'abort'; readonly checkpointId: number };

/** Raised inside a task when it is cancelled (the abort reason of its signal). */
export class TaskCancelledException extends Error {
  constructor(message = 'The task was cancelled.') {
    super(message);
    this.name = 'TaskCancelledException';
  }
}

/** The operator's `numRecordsOut()`, when it counts and answers with a count. */
function countRecordsOut(operator: Operator): number | undefined {
  if (typeof operator.numRecordsOut !== 'function') return undefined;
  const records = operator.numRecordsOut();
  return Number.isSafeInteger(records) && records >= 0 ? records : undefined;
}

function describeError(error: unknown): Error {
  if (error instanceof Error) return error;
  return new Error(typeof error === 'string' ? error : `Non-error thrown: ${String(error)}`);
}

export class Task {
  readonly tdd: TaskDeploymentDescriptor;
  readonly executionAttemptId: string;
  readonly jobId: string;
  readonly allocationId: string;
  /** Settles with the final state once the task ended (or was given up). Never rejects. */
  readonly terminationFuture: Promise<ExecutionState>;

  private state: ExecutionState = 'CREATED';
  private failureCause: Error | undefined;
  private readonly abort = new AbortController();
  private readonly events: TaskEvent[] = [];
  private wake: (() => void) | undefined;
  /** Ends the operator's interruptible wait in progress, if any. */
  private interruptWait: (() => void) | undefined;
  private resolveTermination!: (state: ExecutionState) => void;
  private terminated = false;
  private cancelTimer: ReturnType<typeof setTimeout> | undefined;
  private operator: Operator | undefined;
  /** After the end of input: the first checkpoint taken since, whose completion lets the task finish. */
  private finalCheckpointId: number | undefined;
  private readonly logger: Logger;

  constructor(
    tdd: TaskDeploymentDescriptor,
    private readonly options: TaskOptions,
  ) {
    this.tdd = tdd;
    this.executionAttemptId = tdd.executionAttemptId;
    this.jobId = tdd.jobId;
    this.allocationId = tdd.allocationId;
    this.logger = options.logger.child({
      task: `${tdd.vertexName || tdd.vertexId} (${tdd.subtaskIndex + 1}/${tdd.parallelism})#${tdd.attemptNumber}`,
      executionAttemptId: tdd.executionAttemptId,
    });
    this.terminationFuture = new Promise((resolve) => {
      this.resolveTermination = resolve;
    });
  }

  getExecutionState(): ExecutionState {
    return this.state;
  }

  getFailureCause(): Error | undefined {
    return this.failureCause;
  }

  isTerminated(): boolean {
    return this.terminated;
  }

  /** Starts the task's life in the background. */
  startTaskThread(): void {
    // Built-in operators are ours and leave no stray errors: only user code pays for the error scope.
    const scoped = typeof this.tdd.operator !== 'string';
    const running = scoped ? runInTaskScope(this, () => this.run()) : this.run();
    running
      .catch((error: unknown) => {
        // run() handles its own errors; this is a last line of defence for the process.
        this.logger.error({ err: error }, 'Unexpected error in the task runtime.');
        this.finish('FAILED', describeError(error));
      })
      .finally(() => {
        if (scoped) leaveTaskScope();
      });
  }

  /**
   * Cancels the task: its signal aborts, the step loop stops. If the operator has not stopped within the
   * cancellation timeout, the task is given up as CANCELED (its stuck work is left behind, harmless).
   */
  cancelExecution(): void {
    if (this.terminated || this.abort.signal.aborted) return;
    this.logger.info('Cancelling the task.');
    if (this.state === 'CREATED') {
      this.abort.abort(new TaskCancelledException());
      this.finish('CANCELED');
      return;
    }
    this.transition('CANCELING');
    this.abort.abort(new TaskCancelledException());
    this.notifyLoop();
    this.cancelTimer = setTimeout(() => {
      this.cancelTimer = undefined;
      if (this.terminated) return;
      this.logger.warn(
        { cancellationTimeoutMs: this.options.cancellationTimeout },
        'The task did not react to cancelling within the cancellation timeout; giving it up.',
      );
      this.finish('CANCELED');
    }, this.options.cancellationTimeout);
  }

  /**
   * The operator raised an error outside the step loop's reach (a throwing timer callback, an unhandled rejection):
   * the task fails with it, as if `step()` had thrown.
   */
  failExternally(error: Error): void {
    if (this.terminated) return;
    this.logger.info({ err: error }, 'Uncaught error in operator code; failing the task.');
    if (!this.abort.signal.aborted) this.abort.abort(error);
    const operator = this.operator;
    this.operator = undefined;
    this.finish(
      'FAILED',
      new TaskFailureException(
        `Uncaught error in operator ${describeOperatorRef(this.tdd.operator)}: ${error.message}`,
        {
          cause: error,
        },
      ),
    );
    if (operator !== undefined) {
      Promise.resolve()
        .then(() => operator.close())
        .catch((closeError: unknown) => this.logger.debug({ err: closeError }, 'Closing the operator failed.'));
    }
  }

  /** Takes a snapshot between two steps and acknowledges it (or declines). */
  triggerCheckpoint(checkpointId: number): void {
    if (this.state !== 'RUNNING' || this.abort.signal.aborted) {
      this.options.actions.declineCheckpoint(
        this,
        checkpointId,
        serializeError(
          new TaskFailureException(
            `Checkpoint ${checkpointId} declined: the task is not running (state ${this.state}).`,
          ),
        ),
      );
      return;
    }
    this.enqueue({ kind: 'trigger', checkpointId });
  }

  notifyCheckpointComplete(checkpointId: number): void {
    if (this.state === 'RUNNING') this.enqueue({ kind: 'complete', checkpointId });
  }

  notifyCheckpointAborted(checkpointId: number): void {
    if (this.state === 'RUNNING') this.enqueue({ kind: 'abort', checkpointId });
  }

  private enqueue(event: TaskEvent): void {
    this.events.push(event);
    this.notifyLoop();
  }

  private notifyLoop(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    const interrupt = this.interruptWait;
    this.interruptWait = undefined;
    interrupt?.();
  }

  /**
   * The operator's interruptible wait (see `TaskContext.waitInterruptibly`): an event for the loop — a checkpoint
   * to snapshot — ends it early, so a snapshot does not wait for an operator that is only pausing.
   */
  private waitInterruptibly(ms: number): Promise<boolean> {
    const { signal } = this.abort;
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.events.length > 0) return Promise.resolve(false);
    if (!(ms > 0)) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      const settle = (elapsed: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.interruptWait === interrupt) this.interruptWait = undefined;
        resolve(elapsed);
      };
      const interrupt = () => settle(false);
      const onAbort = () => {
        clearTimeout(timer);
        if (this.interruptWait === interrupt) this.interruptWait = undefined;
        reject(signal.reason);
      };
      const timer = setTimeout(() => settle(true), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.interruptWait = interrupt;
    });
  }

  private async run(): Promise<void> {
    const { tdd } = this;
    let opened = false;
    try {
      this.transition('DEPLOYING');
      const factory = await (this.options.loadFactory ?? loadOperatorFactory)(tdd.operator);
      const restored = await loadTaskState(tdd.restoreState, tdd.checkpointStorageDir);
      this.throwIfCancelled();

      this.transition('INITIALIZING');
      const context: TaskContext = Object.freeze({
        jobId: tdd.jobId,
        jobName: tdd.jobName,
        vertexId: tdd.vertexId,
        subtaskIndex: tdd.subtaskIndex,
        parallelism: tdd.parallelism,
        attemptNumber: tdd.attemptNumber,
        config: Object.freeze(structuredClone(tdd.config ?? {})),
        signal: this.abort.signal,
        restoredCheckpointId: tdd.restoreCheckpointId,
        waitInterruptibly: (ms: number) => this.waitInterruptibly(ms),
      });
      let operator: Operator;
      try {
        operator = factory(context);
      } catch (error) {
        throw this.wrapUserError(error, 'creating');
      }
      const hooks = ['open', 'step', 'snapshotState', 'notifyCheckpointComplete', 'close'] as const;
      if (
        operator === null ||
        typeof operator !== 'object' ||
        hooks.some((hook) => typeof (operator as unknown as Record<string, unknown>)[hook] !== 'function')
      ) {
        throw new TaskFailureException(
          `The factory of operator ${describeOperatorRef(tdd.operator)} did not return an operator (an object with open, step, snapshotState, notifyCheckpointComplete and close).`,
        );
      }
      this.operator = operator;
      opened = true;
      await operator.open(context, restored);
      this.throwIfCancelled();

      this.transition('RUNNING');
      await this.loop(operator);
      await this.closeOperator(operator);
      opened = false;
      this.finish('FINISHED');
    } catch (error) {
      if (this.terminated) return;
      const cancelled = this.abort.signal.aborted;
      if (!cancelled) this.logger.info({ err: error }, 'The task failed.');
      if (opened && this.operator !== undefined) {
        await this.closeOperator(this.operator).catch((closeError: unknown) => {
          this.logger.warn({ err: closeError }, 'Closing the operator after a failure failed too.');
        });
      }
      if (cancelled) this.finish('CANCELED');
      else this.finish('FAILED', describeError(error));
    }
  }

  private async loop(operator: Operator): Promise<void> {
    let endOfInput = false;
    for (;;) {
      this.throwIfCancelled();
      while (this.events.length > 0) {
        const event = this.events.shift() as TaskEvent;
        if (await this.handleEvent(operator, event, endOfInput)) return;
        this.throwIfCancelled();
      }
      if (!endOfInput) {
        endOfInput = (await operator.step()) === true;
        this.throwIfCancelled();
        if (endOfInput) {
          this.logger.debug('End of input.');
          if (this.tdd.checkpointingEnabled !== true) {
            // No checkpoint will come: commit through a local final checkpoint.
            await operator.snapshotState(FINAL_LOCAL_CHECKPOINT_ID);
            await operator.notifyCheckpointComplete(FINAL_LOCAL_CHECKPOINT_ID);
            return;
          }
        }
        // Yield to the event loop between steps: RPCs, timers and I/O of the process go on.
        await yieldToEventLoop();
      } else if (this.events.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    }
  }

  /** Returns true when the task may finish (the checkpoint covering all its output completed). */
  private async handleEvent(operator: Operator, event: TaskEvent, endOfInput: boolean): Promise<boolean> {
    switch (event.kind) {
      case 'trigger': {
        const { checkpointId } = event;
        let handle: TaskStateHandle;
        try {
          const state = await operator.snapshotState(checkpointId);
          const records = countRecordsOut(operator);
          const stored = await storeTaskState(
            state,
            {
              storageDir: this.tdd.checkpointStorageDir,
              jobId: this.jobId,
              checkpointId,
              vertexId: this.tdd.vertexId,
              subtaskIndex: this.tdd.subtaskIndex,
              executionAttemptId: this.executionAttemptId,
            },
            this.options.inlineStateThreshold,
          );
          handle = records === undefined ? stored : { ...stored, records };
        } catch (error) {
          this.logger.info({ err: error, checkpointId }, 'Snapshot failed; declining the checkpoint.');
          runOutsideTaskScope(() => this.options.actions.declineCheckpoint(this, checkpointId, serializeError(error)));
          return false;
        }
        if (endOfInput && this.finalCheckpointId === undefined) this.finalCheckpointId = checkpointId;
        runOutsideTaskScope(() => this.options.actions.acknowledgeCheckpoint(this, checkpointId, handle));
        return false;
      }
      case 'complete': {
        // A failing commit is a failure of the task: its output would otherwise be lost.
        await operator.notifyCheckpointComplete(event.checkpointId);
        return this.finalCheckpointId !== undefined && event.checkpointId >= this.finalCheckpointId;
      }
      case 'abort': {
        try {
          await operator.notifyCheckpointAborted?.(event.checkpointId);
        } catch (error) {
          this.logger.warn({ err: error, checkpointId: event.checkpointId }, 'notifyCheckpointAborted failed.');
        }
        if (this.finalCheckpointId === event.checkpointId) this.finalCheckpointId = undefined;
        return false;
      }
    }
  }

  /** Closes the operator; one that does not return within the cancellation timeout is left behind. */
  private async closeOperator(operator: Operator): Promise<void> {
    this.operator = undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(new TaskFailureException(`The operator did not close within ${this.options.cancellationTimeout} ms.`)),
        this.options.cancellationTimeout,
      );
    });
    try {
      await Promise.race([Promise.resolve().then(() => operator.close()), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private throwIfCancelled(): void {
    if (this.abort.signal.aborted) throw this.abort.signal.reason;
  }

  private wrapUserError(error: unknown, what: string): Error {
    const cause = describeError(error);
    return new TaskFailureException(
      `Operator ${describeOperatorRef(this.tdd.operator)} failed while ${what}: ${cause.message}`,
      { cause },
    );
  }

  private transition(state: ExecutionState): void {
    if (this.terminated) return;
    this.state = state;
    runOutsideTaskScope(() =>
      this.options.actions.updateTaskExecutionState({
        jobId: this.jobId,
        executionAttemptId: this.executionAttemptId,
        state,
      }),
    );
  }

  private finish(state: 'FINISHED' | 'CANCELED' | 'FAILED', cause?: Error): void {
    if (this.terminated) return;
    this.terminated = true;
    clearTimeout(this.cancelTimer);
    this.cancelTimer = undefined;
    this.state = state;
    this.failureCause = cause;
    this.wake = undefined;
    this.events.length = 0;
    if (!this.abort.signal.aborted) this.abort.abort(new TaskCancelledException('The task ended.'));
    this.logger.info({ state, err: cause }, 'Task ended.');
    const update: TaskExecutionState = {
      jobId: this.jobId,
      executionAttemptId: this.executionAttemptId,
      state,
      ...(cause === undefined ? {} : { error: serializeError(cause) }),
    };
    runOutsideTaskScope(() => this.options.actions.updateTaskExecutionState(update));
    runOutsideTaskScope(() => this.resolveTermination(state));
  }
}
