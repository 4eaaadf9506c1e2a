/**
 * The checkpoint coordinator of one JobMaster (Flink's CheckpointCoordinator without barriers): it triggers a
 * checkpoint on every running task, collects acknowledgements, stores the completed checkpoint in the HA store and
 * confirms it to every task, so that transactional sinks commit. A decline, a lost task or the checkpoint timeout
 * aborts that one checkpoint; the next periodic trigger starts a new one.
 *
 * Everything here runs in the owning JobMaster's main thread: the caller hands in its main-thread executor, and every
 * continuation after an `await` comes back through it.
 */

import type { Logger, MainThreadExecutor, ScheduledTask } from '../../index.js';
import { CheckpointException, serializeError } from '../errors.js';
import type { TaskExecutorGateway } from '../gateways.js';
import type { CheckpointIdCounter, CompletedCheckpointStore } from '../ha/stores.js';
import { discardTaskState } from '../task/checkpointStorage.js';
import type {
  CheckpointStats,
  CheckpointStatsEntry,
  CompletedCheckpoint,
  ExecutionAttemptId,
  JobId,
  SerializedError,
  TaskStateHandle,
} from '../types.js';

/** Flink's `execution.checkpointing.timeout` default: 10 minutes. */
export const DEFAULT_CHECKPOINT_TIMEOUT = 600_000;
/** Checkpoint requests that may wait for the one in progress; more are refused. */
const MAX_QUEUED_TRIGGERS = 64;
/** Flink's `web.checkpoints.history`. */
const HISTORY_SIZE = 10;

/** A running task a checkpoint is triggered on. */
export interface CheckpointTask {
  readonly attemptId: ExecutionAttemptId;
  /** `${vertexId}/${subtaskIndex}`. */
  readonly key: string;
  readonly gateway: TaskExecutorGateway;
}

export interface CheckpointCoordinatorOptions {
  readonly jobId: JobId;
  readonly mainThread: MainThreadExecutor;
  readonly store: CompletedCheckpointStore;
  readonly counter: CheckpointIdCounter;
  /** Milliseconds between periodic triggers; undefined or ≤ 0 disables periodic checkpoints. */
  readonly interval: number | undefined;
  readonly timeout: number;
  readonly logger: Logger;
  /**
   * The tasks to trigger, every one of them RUNNING; a string says why no checkpoint can be taken now (some task is
   * not running, the job is not running, every task finished).
   */
  readonly tasksToTrigger: () => CheckpointTask[] | string;
  /** Keys of subtasks that finished: their final state is carried over from the latest completed checkpoint. */
  readonly finishedTaskKeys: () => ReadonlySet<string>;
  /**
   * Flink's `state.checkpoints.dir`, where tasks write states too large to travel inline: the state files of
   * subsumed and aborted checkpoints are deleted there. Undefined: every state is inline, nothing to delete.
   */
  readonly checkpointStorageDir?: string;
}

interface PendingCheckpoint {
  readonly checkpointId: number;
  readonly triggerTimestamp: number;
  readonly tasks: Map<ExecutionAttemptId, CheckpointTask>;
  readonly acknowledged: Map<string, TaskStateHandle>;
  latestAckTimestamp: number;
  timeoutTimer: ScheduledTask<void> | undefined;
  /** True once all acknowledged and the store write is under way: it can no longer be aborted. */
  completing: boolean;
  readonly waiters: { resolve(id: number): void; reject(error: Error): void }[];
}

export class CheckpointCoordinator {
  private periodicTimer: ScheduledTask<void> | undefined;
  private pending: PendingCheckpoint | undefined;
  /** A trigger waiting for its checkpoint id from the counter. */
  private triggering = false;
  private latestCompleted: CompletedCheckpoint | undefined;
  /** The checkpoints the store retains, by id, as far as this coordinator knows them (their task states in use). */
  private readonly retained = new Map<number, CompletedCheckpoint>();
  /** Checkpoint requests waiting for the one in progress. */
  private readonly queuedTriggers: (() => void)[] = [];
  /** The store write of the checkpoint being completed, if any. */
  private storing: Promise<unknown> = Promise.resolve();
  private shutDown = false;
  private readonly history: CheckpointStatsEntry[] = [];
  private readonly counts = { restored: 0, total: 0, in_progress: 0, completed: 0, failed: 0 };
  private readonly durations = new RunningSummary();
  private readonly sizes = new RunningSummary();
  private latestCompletedEntry: CheckpointStatsEntry | null = null;
  private latestFailedEntry: CheckpointStatsEntry | null = null;
  private latestRestored: { id: number; restore_timestamp: number } | null = null;

  constructor(private readonly options: CheckpointCoordinatorOptions) {}

  get periodicCheckpointingEnabled(): boolean {
    return this.options.interval !== undefined && this.options.interval > 0;
  }

  /**
   * The latest completed checkpoint from the store (after any write under way), remembered as what finished tasks
   * carry over.
   */
  async restoreLatestCheckpoint(): Promise<CompletedCheckpoint | undefined> {
    // A checkpoint whose store write is under way completes before anything restores.
    await this.storing;
    const all = await this.options.store.getAllCheckpoints();
    for (const checkpoint of all) this.retained.set(checkpoint.checkpointId, checkpoint);
    const latest = all[all.length - 1];
    if (latest !== undefined) {
      this.latestCompleted = latest;
      this.counts.restored += 1;
      this.latestRestored = { id: latest.checkpointId, restore_timestamp: Date.now() };
    }
    return latest;
  }

  /** Starts periodic triggering (no-op when disabled or already started). */
  startCheckpointScheduler(): void {
    if (this.shutDown || !this.periodicCheckpointingEnabled || this.periodicTimer !== undefined) return;
    this.scheduleNextTrigger(Date.now() + (this.options.interval as number));
  }

  /** One-shot timers chained at a fixed rate (the main-thread executor has no periodic scheduling). */
  private scheduleNextTrigger(at: number): void {
    const interval = this.options.interval as number;
    this.periodicTimer = this.options.mainThread.schedule(
      () => {
        // Skip the rounds that a slow main thread missed instead of firing them in a burst.
        let next = at + interval;
        const now = Date.now();
        if (next <= now) next = now + interval - ((now - at) % interval);
        this.scheduleNextTrigger(next);
        if (this.pending !== undefined || this.triggering) return;
        this.triggerCheckpoint().catch((error: unknown) => {
          this.options.logger.debug({ err: error }, 'Periodic checkpoint was not completed.');
        });
      },
      Math.max(0, at - Date.now()),
    );
  }

  stopCheckpointScheduler(): void {
    this.periodicTimer?.cancel();
    this.periodicTimer = undefined;
  }

  /**
   * Triggers a checkpoint now. Resolves with its id once completed and stored; rejects with a
   * {@link CheckpointException} when it cannot be triggered or is aborted.
   */
  triggerCheckpoint(): Promise<number> {
    if (this.shutDown) return Promise.reject(new CheckpointException('The checkpoint coordinator is shut down.'));
    if (this.pending !== undefined || this.triggering) {
      // One checkpoint at a time (Flink's default): a request made meanwhile runs once the current one settled.
      if (this.queuedTriggers.length >= MAX_QUEUED_TRIGGERS) {
        return Promise.reject(
          new CheckpointException('Checkpoint triggering failed: too many checkpoint requests are queued.'),
        );
      }
      return new Promise<number>((resolve, reject) => {
        this.queuedTriggers.push(() => this.triggerCheckpoint().then(resolve, reject));
      });
    }
    const tasks = this.options.tasksToTrigger();
    if (typeof tasks === 'string') return Promise.reject(new CheckpointException(tasks));
    this.triggering = true;
    const timestamp = Date.now();
    return new Promise<number>((resolve, reject) => {
      const failed = (error: Error) => {
        this.triggering = false;
        reject(error);
        this.runQueuedTrigger();
      };
      this.options.mainThread
        .thenApply(
          this.options.counter.getAndIncrement(),
          (checkpointId) => {
            this.triggering = false;
            this.startPending(checkpointId, timestamp, { resolve, reject });
          },
          (error: unknown) => failed(new CheckpointException('Could not obtain a checkpoint id.', { cause: error })),
        )
        .catch((error: unknown) => {
          failed(error instanceof Error ? error : new CheckpointException(String(error)));
        });
    });
  }

  /** Starts the oldest queued request, now that no checkpoint is in progress. */
  private runQueuedTrigger(): void {
    if (this.pending !== undefined || this.triggering) return;
    const next = this.queuedTriggers.shift();
    if (next !== undefined) next();
  }

  private startPending(
    checkpointId: number,
    timestamp: number,
    waiter: { resolve(id: number): void; reject(error: Error): void },
  ): void {
    // The tasks may have changed while the id was fetched: take them again, and refuse if they are not all running.
    const tasks = this.options.tasksToTrigger();
    if (this.shutDown || typeof tasks === 'string') {
      waiter.reject(new CheckpointException(typeof tasks === 'string' ? tasks : 'The coordinator is shut down.'));
      this.runQueuedTrigger();
      return;
    }
    const pending: PendingCheckpoint = {
      checkpointId,
      triggerTimestamp: timestamp,
      tasks: new Map(tasks.map((task) => [task.attemptId, task])),
      acknowledged: new Map(),
      latestAckTimestamp: timestamp,
      timeoutTimer: undefined,
      completing: false,
      waiters: [waiter],
    };
    this.pending = pending;
    this.counts.total += 1;
    this.counts.in_progress += 1;
    pending.timeoutTimer = this.options.mainThread.schedule(() => {
      if (this.pending === pending && !pending.completing) {
        this.abortPending(pending, 'Checkpoint expired before completing.');
      }
    }, this.options.timeout);
    // Every task gets its own trigger, as in Flink; those of one TaskExecutor travel in one message.
    for (const group of byTaskExecutor(tasks)) {
      const gateway = (group[0] as CheckpointTask).gateway;
      const ids = group.map((task) => task.attemptId);
      gateway.triggerCheckpoints(ids, checkpointId, timestamp).catch((error: unknown) => {
        this.options.mainThread.execute(() => {
          if (this.pending === pending && !pending.completing) {
            this.abortPending(
              pending,
              `Checkpoint ${checkpointId} could not be triggered on task ${describeTasks(group)}: ${describe(error)}`,
            );
          }
        });
      });
    }
  }

  /** A task acknowledged `checkpointId` with its state. Late or unknown acknowledgements are ignored. */
  receiveAcknowledge(attemptId: ExecutionAttemptId, checkpointId: number, state: TaskStateHandle): void {
    const pending = this.pending;
    if (pending === undefined || pending.checkpointId !== checkpointId || pending.completing) {
      this.options.logger.debug({ checkpointId, attemptId }, 'Ignoring a late or unknown checkpoint acknowledgement.');
      return;
    }
    const task = pending.tasks.get(attemptId);
    if (task === undefined) {
      this.options.logger.warn({ checkpointId, attemptId }, 'Acknowledgement from a task not part of the checkpoint.');
      return;
    }
    if (!isTaskStateHandle(state)) {
      this.abortPending(pending, `Task ${task.key} acknowledged checkpoint ${checkpointId} with a malformed state.`);
      return;
    }
    pending.acknowledged.set(task.key, state);
    pending.latestAckTimestamp = Date.now();
    if (pending.acknowledged.size === pending.tasks.size) this.complete(pending);
  }

  /** A task declined `checkpointId`: that checkpoint is aborted. */
  receiveDecline(attemptId: ExecutionAttemptId, checkpointId: number, reason: SerializedError): void {
    const pending = this.pending;
    if (pending === undefined || pending.checkpointId !== checkpointId || pending.completing) return;
    const task = pending.tasks.get(attemptId);
    if (task === undefined) return;
    const message = typeof reason?.message === 'string' ? reason.message : 'no reason given';
    this.abortPending(pending, `Checkpoint ${checkpointId} was declined by task ${task.key}: ${message}`);
  }

  /**
   * A task reported FINISHED: it finished right after a completed checkpoint that holds its final state, so a
   * pending checkpoint still waiting for it takes that state instead of waiting for an acknowledgement that will
   * never come.
   */
  notifyTaskFinished(attemptId: ExecutionAttemptId): void {
    const pending = this.pending;
    if (pending === undefined || pending.completing) return;
    const task = pending.tasks.get(attemptId);
    if (task === undefined || pending.acknowledged.has(task.key)) return;
    const finalState = this.latestCompleted?.taskStates[task.key];
    if (finalState === undefined) {
      this.abortPending(pending, `Task ${task.key} finished before acknowledging checkpoint ${pending.checkpointId}.`);
      return;
    }
    pending.acknowledged.set(task.key, finalState);
    if (pending.acknowledged.size === pending.tasks.size) this.complete(pending);
  }

  /** Aborts the checkpoint in progress (a task was lost, the job fails, restarts or is cancelled). */
  abortPendingCheckpoints(reason: string): void {
    if (this.pending !== undefined && !this.pending.completing) this.abortPending(this.pending, reason);
  }

  /** Stops triggering and aborts what is pending. */
  shutdown(reason: string): void {
    this.stopCheckpointScheduler();
    this.shutDown = true;
    this.abortPendingCheckpoints(reason);
    // Queued requests fail now: triggering after shutdown rejects.
    for (const queued of this.queuedTriggers.splice(0)) queued();
  }

  getLatestCompleted(): CompletedCheckpoint | undefined {
    return this.latestCompleted;
  }

  /** The statistics in the shape of Flink's `GET /jobs/:id/checkpoints`. */
  getStats(): CheckpointStats {
    const history = [...this.history];
    const pending = this.pending;
    if (pending !== undefined) history.unshift(this.entry(pending, 'IN_PROGRESS'));
    return {
      counts: { ...this.counts },
      summary: { end_to_end_duration: this.durations.toJson(), state_size: this.sizes.toJson() },
      latest: {
        completed: this.latestCompletedEntry,
        failed: this.latestFailedEntry,
        restored: this.latestRestored,
      },
      history: history.slice(0, HISTORY_SIZE),
    };
  }

  private complete(pending: PendingCheckpoint): void {
    pending.completing = true;
    pending.timeoutTimer?.cancel();
    const taskStates: Record<string, TaskStateHandle> = {};
    // Subtasks that finished earlier keep the final state they had in the previous completed checkpoint.
    const finished = this.options.finishedTaskKeys();
    for (const [key, handle] of Object.entries(this.latestCompleted?.taskStates ?? {})) {
      if (finished.has(key)) taskStates[key] = handle;
    }
    for (const [key, handle] of pending.acknowledged) taskStates[key] = handle;
    const completed: CompletedCheckpoint = {
      jobId: this.options.jobId,
      checkpointId: pending.checkpointId,
      triggerTimestamp: pending.triggerTimestamp,
      completionTimestamp: Date.now(),
      taskStates,
    };
    const write = this.options.store.addCheckpoint(completed);
    this.storing = write.catch(() => {});
    this.options.mainThread
      .thenApply(
        write,
        (subsumed) => {
          this.onStored(pending, completed);
          this.discardSubsumed(completed, subsumed);
        },
        (error: unknown) => {
          this.options.logger.warn({ err: error, checkpointId: pending.checkpointId }, 'Could not store checkpoint.');
          pending.completing = false;
          this.abortPending(pending, `Could not store checkpoint ${pending.checkpointId}: ${describe(error)}`);
        },
      )
      .catch(() => {
        // The JobMaster terminated meanwhile: nothing left to confirm.
      });
  }

  private onStored(pending: PendingCheckpoint, completed: CompletedCheckpoint): void {
    if (this.pending === pending) this.pending = undefined;
    if (this.latestCompleted === undefined || this.latestCompleted.checkpointId < completed.checkpointId) {
      this.latestCompleted = completed;
    }
    this.counts.in_progress -= 1;
    this.counts.completed += 1;
    const entry = this.entry(pending, 'COMPLETED');
    this.durations.add(entry.end_to_end_duration);
    this.sizes.add(entry.state_size);
    this.latestCompletedEntry = entry;
    this.pushHistory(entry);
    this.options.logger.debug(
      { checkpointId: completed.checkpointId, durationMs: entry.end_to_end_duration },
      'Checkpoint completed.',
    );
    for (const group of byTaskExecutor(pending.tasks.values())) {
      const gateway = (group[0] as CheckpointTask).gateway;
      const ids = group.map((task) => task.attemptId);
      gateway.confirmCheckpoints(ids, completed.checkpointId, completed.triggerTimestamp).catch((error: unknown) => {
        this.options.logger.debug(
          { err: error, tasks: describeTasks(group) },
          'Could not confirm a checkpoint to some tasks.',
        );
      });
    }
    for (const waiter of pending.waiters) waiter.resolve(completed.checkpointId);
    this.runQueuedTrigger();
  }

  /**
   * The store dropped the checkpoints `subsumed` when it added `completed`: deletes their task states — except any
   * a retained checkpoint still holds (a finished subtask carries its final state over from checkpoint to checkpoint).
   */
  private discardSubsumed(completed: CompletedCheckpoint, subsumed: readonly number[] | undefined): void {
    this.retained.set(completed.checkpointId, completed);
    const dropped: CompletedCheckpoint[] = [];
    for (const id of Array.isArray(subsumed) ? subsumed : []) {
      const checkpoint = this.retained.get(id);
      this.retained.delete(id);
      if (checkpoint !== undefined && checkpoint !== this.latestCompleted) dropped.push(checkpoint);
    }
    this.discardStates(dropped.flatMap((checkpoint) => Object.values(checkpoint.taskStates)));
  }

  /** Deletes the state files of `handles` that no retained (or the latest) checkpoint refers to; never waits. */
  private discardStates(handles: readonly TaskStateHandle[]): void {
    const storageDir = this.options.checkpointStorageDir;
    if (storageDir === undefined) return;
    const inUse = new Set<string>();
    for (const checkpoint of [...this.retained.values(), this.latestCompleted]) {
      for (const handle of Object.values(checkpoint?.taskStates ?? {}))
        if (handle.path !== undefined) inUse.add(handle.path);
    }
    for (const handle of handles) {
      if (handle.path === undefined || inUse.has(handle.path)) continue;
      discardTaskState(handle, storageDir).catch((error: unknown) => {
        this.options.logger.warn(
          { err: error, path: handle.path },
          'Could not delete the state of a dropped checkpoint.',
        );
      });
    }
  }

  private abortPending(pending: PendingCheckpoint, reason: string): void {
    if (this.pending !== pending) return;
    this.pending = undefined;
    pending.timeoutTimer?.cancel();
    this.counts.in_progress -= 1;
    this.counts.failed += 1;
    const entry = { ...this.entry(pending, 'FAILED'), failure_message: reason };
    this.latestFailedEntry = entry;
    this.pushHistory(entry);
    this.options.logger.info({ checkpointId: pending.checkpointId, reason }, 'Checkpoint aborted.');
    for (const task of pending.tasks.values()) {
      task.gateway.abortCheckpoint(task.attemptId, pending.checkpointId, pending.triggerTimestamp).catch(() => {
        // The task may be gone already: nothing to abort there.
      });
    }
    // The states acknowledged for an aborted checkpoint belong to no checkpoint (unless carried over from one).
    this.discardStates([...pending.acknowledged.values()]);
    const error = new CheckpointException(reason);
    for (const waiter of pending.waiters) waiter.reject(error);
    if (!this.shutDown) this.runQueuedTrigger();
  }

  private entry(pending: PendingCheckpoint, status: CheckpointStatsEntry['status']): CheckpointStatsEntry {
    let size = 0;
    for (const handle of pending.acknowledged.values()) size += handle.size;
    const end = status === 'IN_PROGRESS' ? Date.now() : pending.latestAckTimestamp;
    return {
      id: pending.checkpointId,
      status,
      trigger_timestamp: pending.triggerTimestamp,
      latest_ack_timestamp: pending.latestAckTimestamp,
      end_to_end_duration: Math.max(0, (status === 'COMPLETED' ? Date.now() : end) - pending.triggerTimestamp),
      num_subtasks: pending.tasks.size,
      num_acknowledged_subtasks: pending.acknowledged.size,
      state_size: size,
    };
  }

  private pushHistory(entry: CheckpointStatsEntry): void {
    this.history.unshift(entry);
    if (this.history.length > HISTORY_SIZE) this.history.length = HISTORY_SIZE;
  }
}

/** Min, max and average of the completed checkpoints, without keeping every value. */
class RunningSummary {
  private count = 0;
  private sum = 0;
  private min = 0;
  private max = 0;

  add(value: number): void {
    this.min = this.count === 0 ? value : Math.min(this.min, value);
    this.max = this.count === 0 ? value : Math.max(this.max, value);
    this.count += 1;
    this.sum += value;
  }

  toJson(): { min: number; max: number; avg: number } {
    return { min: this.min, max: this.max, avg: this.count === 0 ? 0 : Math.round(this.sum / this.count) };
  }
}

function describe(error: unknown): string {
  return serializeError(error).message;
}

/** A state handle from the network: a size, and a path or inline data. */
/** The tasks grouped by the TaskExecutor they run on (one gateway per registered TaskExecutor). */
function byTaskExecutor(tasks: Iterable<CheckpointTask>): CheckpointTask[][] {
  const groups = new Map<TaskExecutorGateway, CheckpointTask[]>();
  for (const task of tasks) {
    const group = groups.get(task.gateway);
    if (group === undefined) groups.set(task.gateway, [task]);
    else group.push(task);
  }
  return [...groups.values()];
}

function describeTasks(tasks: readonly CheckpointTask[]): string {
  return tasks.length === 1 ? (tasks[0] as CheckpointTask).key : `${tasks.map((task) => task.key).join(', ')}`;
}

function isTaskStateHandle(value: unknown): value is TaskStateHandle {
  if (typeof value !== 'object' || value === null) return false;
  const { size, path, records } = value as { size?: unknown; path?: unknown; records?: unknown };
  return (
    typeof size === 'number' &&
    Number.isFinite(size) &&
    size >= 0 &&
    (path === undefined || typeof path === 'string') &&
    (records === undefined || (Number.isSafeInteger(records) && (records as number) >= 0))
  );
}
