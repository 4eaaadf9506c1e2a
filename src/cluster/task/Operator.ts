/**
 * The task contract user code implements (DESIGN §5.4 made concrete): an operator is opened with its restored state,
 * then stepped by the task runtime until it reports it is done or the task is cancelled. Between two steps the runtime
 * takes snapshots for checkpoints, so an operator never sees a snapshot in the middle of its own work.
 */

/** What a running task knows about itself. */
export interface TaskContext {
  readonly jobId: string;
  readonly jobName: string;
  readonly vertexId: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /** 0 for the first run, then one more per restart of the job. */
  readonly attemptNumber: number;
  /** The vertex's `config` from the job graph. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Aborted when the task is cancelled: long waits inside `step()` must listen to it. */
  readonly signal: AbortSignal;
  /** The checkpoint the task restores from, if any. */
  readonly restoredCheckpointId: number | undefined;
  /**
   * Waits up to `ms` inside `step()`: resolves true once the time passed, false earlier when the runtime has work
   * between two steps (a checkpoint to snapshot, a completion to confirm) — the step should then return at once and
   * wait the rest on its next call, so a checkpoint never waits for an idle operator. Rejects with the abort reason
   * when the task is cancelled. Provided by the task runtime (absent where an operator runs outside of it).
   */
  readonly waitInterruptibly?: (ms: number) => Promise<boolean>;
}

/**
 * One parallel instance of a job vertex. All hooks may be synchronous or return a Promise. The runtime never calls
 * two hooks at once.
 */
export interface Operator<S = unknown> {
  /** Called once before the first step; `restoredState` is what `snapshotState` returned in the restored checkpoint. */
  open(context: TaskContext, restoredState: S | undefined): void | Promise<void>;
  /** One bounded unit of work. Returns `true` when the operator has nothing more to do (end of input). */
  step(): boolean | Promise<boolean>;
  /** The state to keep for checkpoint `checkpointId` (structured-cloneable data). */
  snapshotState(checkpointId: number): S | Promise<S>;
  /** Checkpoint `checkpointId` completed on every task of the job: a transactional sink commits here. */
  notifyCheckpointComplete(checkpointId: number): void | Promise<void>;
  /** Checkpoint `checkpointId` was aborted (declined, timed out, or a task was lost). */
  notifyCheckpointAborted?(checkpointId: number): void | Promise<void>;
  /**
   * Optional: the records this operator has written to its output so far, counting those restored. Called right
   * after `snapshotState`, so the figure is what the snapshot covers: a transactional sink commits exactly these when
   * the checkpoint completes. The JobMaster reports the sum as the vertex's `write-records`.
   */
  numRecordsOut?(): number;
  /** Called once at the end, after success, failure or cancellation. */
  close(): void | Promise<void>;
}

/** Builds an operator for one task; a module named in a job graph exports one of these. */
export type OperatorFactory = (context: TaskContext) => Operator;
