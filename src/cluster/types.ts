/**
 * The data that travels between the control-plane components: ids, job graphs, slots, task deployments, checkpoint
 * handles and the read models that the REST API serves. Everything here is plain structured data, so it crosses a
 * TCP connection through the RPC codec unchanged.
 */

/** Ids are strings (UUIDs unless a user chose a job id). */
export type JobId = string;
export type ResourceId = string;
export type AllocationId = string;
export type ExecutionAttemptId = string;
export type InstanceId = string;
/** A leader session id of a JobMaster: its fencing token. */
export type JobMasterId = string;
/** A leader session id of a ResourceManager: its fencing token. */
export type ResourceManagerId = string;
/** A leader session id of a Dispatcher: its fencing token. */
export type DispatcherId = string;

/** A built-in operator by name, or a module the TaskManager can import (Flink's jar on the classpath). */
export type OperatorRef = string | { readonly module: string; readonly export?: string };

/** One vertex of a job graph: `parallelism` tasks of one operator. */
export interface JobVertex {
  readonly id: string;
  readonly name?: string;
  readonly parallelism: number;
  readonly operator: OperatorRef;
  /** Handed to the operator as it is (JSON). */
  readonly config?: Record<string, unknown>;
  /** Ids of vertices this one reads from (no data plane: order of deployment and the DAG drawing only). */
  readonly inputs?: readonly string[];
}

/** Restart strategies with Flink's option names and defaults. */
export type RestartStrategyConfig =
  | { readonly type: 'none' }
  | { readonly type: 'fixed-delay'; readonly attempts?: number; readonly delay?: number }
  | {
      readonly type: 'exponential-delay';
      readonly initialBackoff?: number;
      readonly maxBackoff?: number;
      readonly backoffMultiplier?: number;
      readonly resetBackoffThreshold?: number;
      readonly jitterFactor?: number;
      readonly attempts?: number;
    };

/** A job graph as submitted (JSON). */
export interface JobGraph {
  readonly jobId?: JobId;
  readonly name: string;
  readonly vertices: readonly JobVertex[];
  readonly checkpointing?: { readonly interval?: number; readonly timeout?: number };
  readonly restartStrategy?: RestartStrategyConfig;
}

/** A job graph after validation: the job id is fixed. */
export interface ValidatedJobGraph extends JobGraph {
  readonly jobId: JobId;
}

export type JobStatus =
  | 'INITIALIZING'
  | 'CREATED'
  | 'RUNNING'
  | 'FAILING'
  | 'CANCELLING'
  | 'RESTARTING'
  | 'FAILED'
  | 'CANCELED'
  | 'FINISHED'
  | 'SUSPENDED';

export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['FAILED', 'CANCELED', 'FINISHED']);

export type ExecutionState =
  | 'CREATED'
  | 'SCHEDULED'
  | 'DEPLOYING'
  | 'INITIALIZING'
  | 'RUNNING'
  | 'FINISHED'
  | 'CANCELING'
  | 'CANCELED'
  | 'FAILED';

export const TERMINAL_EXECUTION_STATES: ReadonlySet<ExecutionState> = new Set(['FINISHED', 'CANCELED', 'FAILED']);

/** An error as it travels: the RPC codec carries Errors, but stores and REST need plain data. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** The slot of a TaskExecutor: `${resourceId}:${index}`. */
export interface SlotId {
  readonly resourceId: ResourceId;
  readonly slotNumber: number;
}

/** One slot in a slot report: free, or allocated to a job. */
export interface SlotStatus {
  readonly slotId: SlotId;
  readonly allocationId?: AllocationId;
  readonly jobId?: JobId;
}

export interface SlotReport {
  readonly slots: readonly SlotStatus[];
}

/** Registration of a TaskExecutor at the ResourceManager. */
export interface TaskExecutorRegistration {
  readonly taskExecutorAddress: string;
  readonly resourceId: ResourceId;
  readonly numberOfSlots: number;
  /** Host name for display. */
  readonly hostname: string;
  /** Where the TaskManager's data port would be; here only for display (no data plane). */
  readonly dataPort?: number;
}

export type RegistrationResponse<S> =
  | { readonly kind: 'success'; readonly value: S }
  | { readonly kind: 'failure'; readonly reason: string }
  | { readonly kind: 'rejection'; readonly reason: string };

export interface TaskExecutorRegistrationSuccess {
  readonly instanceId: InstanceId;
  readonly resourceManagerResourceId: ResourceId;
}

export interface JobMasterRegistrationSuccess {
  readonly resourceManagerResourceId: ResourceId;
}

export interface TaskManagerRegistrationInfo {
  readonly taskManagerAddress: string;
  readonly resourceId: ResourceId;
  /** A fresh id per TaskExecutor process start: a new session replaces the old registration. */
  readonly sessionId: string;
  readonly hostname: string;
}

export interface JobMasterTaskManagerRegistrationSuccess {
  readonly jobMasterResourceId: ResourceId;
}

/** Slots a job needs (Flink's ResourceRequirements, one profile only). */
export interface ResourceRequirements {
  readonly jobId: JobId;
  readonly jobMasterAddress: string;
  readonly numberOfRequiredSlots: number;
}

/** A slot a TaskExecutor offers to a JobMaster. */
export interface SlotOffer {
  readonly allocationId: AllocationId;
  readonly slotIndex: number;
}

/** Everything a TaskExecutor needs to run one task (Flink's TaskDeploymentDescriptor). */
export interface TaskDeploymentDescriptor {
  readonly jobId: JobId;
  readonly jobName: string;
  readonly vertexId: string;
  readonly vertexName: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly attemptNumber: number;
  readonly executionAttemptId: ExecutionAttemptId;
  readonly allocationId: AllocationId;
  readonly operator: OperatorRef;
  readonly config: Record<string, unknown>;
  /** The state of this subtask in the checkpoint the job restores from, if any. */
  readonly restoreState?: TaskStateHandle;
  /** The id of that checkpoint. */
  readonly restoreCheckpointId?: number;
  /** Where the task writes snapshots too large to travel inline (Flink's `state.checkpoints.dir`), if configured. */
  readonly checkpointStorageDir?: string;
  /**
   * True when the job takes periodic checkpoints: a task whose input ended then waits for a checkpoint covering all
   * its output before it reports FINISHED. False or absent: no checkpoint will come, so the task commits its output
   * itself when its input ended (a local final checkpoint) and finishes.
   */
  readonly checkpointingEnabled?: boolean;
}

/** A task's snapshot as written to checkpoint storage (small states travel inline). */
export interface TaskStateHandle {
  /** A file under the checkpoint directory, or undefined when the state is inline. */
  readonly path?: string;
  readonly inline?: unknown;
  readonly size: number;
  /**
   * Records of the task's output that this snapshot covers, when its operator counts them (see
   * `Operator.numRecordsOut`): a transactional sink commits exactly these once the checkpoint completes.
   */
  readonly records?: number;
}

/** One task's acknowledgement of a checkpoint, in a batch of one TaskExecutor's. */
export interface CheckpointAcknowledgement {
  readonly executionAttemptId: ExecutionAttemptId;
  readonly state: TaskStateHandle;
}

export interface TaskExecutionState {
  readonly jobId: JobId;
  readonly executionAttemptId: ExecutionAttemptId;
  readonly state: ExecutionState;
  readonly error?: SerializedError;
}

/** Heartbeat payload TE → JM: the attempts running in its slots for that job. */
export interface TaskExecutorToJobManagerHeartbeatPayload {
  readonly runningAttempts: readonly ExecutionAttemptId[];
}

/** Heartbeat payload TE → RM. */
export interface TaskExecutorHeartbeatPayload {
  readonly slotReport: SlotReport;
}

/** A completed checkpoint: the state handle of every task, keyed by `${vertexId}/${subtaskIndex}`. */
export interface CompletedCheckpoint {
  readonly jobId: JobId;
  readonly checkpointId: number;
  readonly triggerTimestamp: number;
  readonly completionTimestamp: number;
  readonly taskStates: Readonly<Record<string, TaskStateHandle>>;
}

/** The final result of a job (Flink's JobResult). */
export interface JobResult {
  readonly jobId: JobId;
  readonly jobName: string;
  readonly status: 'FINISHED' | 'CANCELED' | 'FAILED';
  readonly startTime: number;
  readonly endTime: number;
  /** The root cause for FAILED. */
  readonly failureCause?: SerializedError;
}

/** Task counts by execution state (Flink's `tasks` object in /jobs/overview). */
export type TaskCounts = Record<ExecutionState, number>;

export interface JobOverview {
  readonly jid: JobId;
  readonly name: string;
  readonly state: JobStatus;
  readonly 'start-time': number;
  readonly 'end-time': number;
  readonly duration: number;
  readonly 'last-modification': number;
  readonly tasks: TaskCounts & { readonly total: number };
}

export interface ClusterOverview {
  readonly taskmanagers: number;
  readonly 'slots-total': number;
  readonly 'slots-available': number;
  readonly 'jobs-running': number;
  readonly 'jobs-finished': number;
  readonly 'jobs-cancelled': number;
  readonly 'jobs-failed': number;
  readonly 'flink-version': string;
}

export interface SubtaskDetails {
  readonly subtask: number;
  readonly status: ExecutionState;
  readonly attempt: number;
  readonly 'taskmanager-id'?: ResourceId;
  readonly 'start-time': number;
  readonly 'end-time': number;
  readonly duration: number;
}

/** Flink's per-vertex I/O metrics, trimmed to what tasks report. */
export interface VertexMetrics {
  /** Records the vertex's subtasks committed: those covered by the latest completed checkpoint. */
  readonly 'write-records': number;
  /** True when every subtask reported its count (otherwise `write-records` is a lower bound). */
  readonly 'write-records-complete': boolean;
}

export interface VertexDetails {
  readonly id: string;
  readonly name: string;
  readonly parallelism: number;
  readonly status: ExecutionState;
  readonly 'start-time': number;
  readonly 'end-time': number;
  readonly duration: number;
  readonly tasks: TaskCounts;
  readonly subtasks: readonly SubtaskDetails[];
  /** Present once some subtask of the vertex reported a count in a completed checkpoint. */
  readonly metrics?: VertexMetrics;
}

/** `GET /jobs/:id` (Flink's JobDetailsInfo, trimmed). */
export interface JobDetails {
  readonly jid: JobId;
  readonly name: string;
  readonly state: JobStatus;
  readonly 'start-time': number;
  readonly 'end-time': number;
  readonly duration: number;
  readonly now: number;
  readonly timestamps: Partial<Record<JobStatus, number>>;
  readonly vertices: readonly VertexDetails[];
  readonly 'status-counts': TaskCounts;
  readonly plan: {
    readonly jid: JobId;
    readonly name: string;
    readonly nodes: readonly {
      readonly id: string;
      readonly description: string;
      readonly parallelism: number;
      readonly inputs: readonly { readonly id: string }[];
    }[];
  };
  readonly numRestarts: number;
}

export type CheckpointStatus = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface CheckpointStatsEntry {
  readonly id: number;
  readonly status: CheckpointStatus;
  readonly trigger_timestamp: number;
  readonly latest_ack_timestamp: number;
  readonly end_to_end_duration: number;
  readonly num_subtasks: number;
  readonly num_acknowledged_subtasks: number;
  readonly state_size: number;
  readonly failure_message?: string;
}

/** `GET /jobs/:id/checkpoints` (Flink's CheckpointingStatistics, trimmed). */
export interface CheckpointStats {
  readonly counts: {
    readonly restored: number;
    readonly total: number;
    readonly in_progress: number;
    readonly completed: number;
    readonly failed: number;
  };
  readonly summary: {
    readonly end_to_end_duration: { readonly min: number; readonly max: number; readonly avg: number };
    readonly state_size: { readonly min: number; readonly max: number; readonly avg: number };
  };
  readonly latest: {
    readonly completed: CheckpointStatsEntry | null;
    readonly failed: CheckpointStatsEntry | null;
    readonly restored: { readonly id: number; readonly restore_timestamp: number } | null;
  };
  /** Newest first, at most the last 10 (Flink's `web.checkpoints.history`). */
  readonly history: readonly CheckpointStatsEntry[];
}

/** `GET /jobs/:id/exceptions` (Flink's JobExceptionsInfoWithHistory, trimmed). */
export interface JobExceptions {
  readonly 'root-exception'?: string;
  readonly timestamp?: number;
  readonly exceptionHistory: {
    readonly entries: readonly {
      readonly exceptionName: string;
      readonly stacktrace: string;
      readonly timestamp: number;
      readonly taskName?: string;
      readonly taskManagerId?: ResourceId;
    }[];
    readonly truncated: boolean;
  };
}

/** `GET /taskmanagers` entry (Flink's TaskManagerInfo, trimmed). */
export interface TaskManagerInfo {
  readonly id: ResourceId;
  readonly path: string;
  readonly dataPort: number;
  /**
   * Despite its name, the time of the last heartbeat (epoch milliseconds), as in Flink's REST API — the time of the
   * registration until the first heartbeat arrived. Clients compute the age themselves.
   */
  readonly timeSinceLastHeartbeat: number;
  readonly slotsNumber: number;
  readonly freeSlots: number;
  readonly hostname: string;
  /** Slot by slot: the job holding it, if any. */
  readonly allocatedSlots: readonly { readonly slotNumber: number; readonly jobId?: JobId }[];
}

export interface ResourceOverview {
  readonly numberRegisteredTaskManagers: number;
  readonly numberRegisteredSlots: number;
  readonly numberFreeSlots: number;
}
