/**
 * The protocols of the control plane (Flink's gateway names, simplified signatures): what the Dispatcher, the
 * ResourceManager, a JobMaster and a TaskExecutor offer each other. Durations are milliseconds.
 */

import { type FencedRpcGateway, gateway, type RpcGateway } from '../index.js';
import type {
  AllocationId,
  CheckpointAcknowledgement,
  CheckpointStats,
  ClusterOverview,
  DispatcherId,
  ExecutionAttemptId,
  JobDetails,
  JobExceptions,
  JobGraph,
  JobId,
  JobMasterId,
  JobMasterRegistrationSuccess,
  JobMasterTaskManagerRegistrationSuccess,
  JobOverview,
  JobResult,
  JobStatus,
  RegistrationResponse,
  ResourceId,
  ResourceManagerId,
  ResourceOverview,
  ResourceRequirements,
  SerializedError,
  SlotId,
  SlotOffer,
  SlotReport,
  TaskDeploymentDescriptor,
  TaskExecutionState,
  TaskExecutorHeartbeatPayload,
  TaskExecutorRegistration,
  TaskExecutorRegistrationSuccess,
  TaskExecutorToJobManagerHeartbeatPayload,
  TaskManagerInfo,
  TaskManagerRegistrationInfo,
  TaskStateHandle,
} from './types.js';

/** The Dispatcher: job submission and the cluster's read models (fenced by the Dispatcher's leader session id). */
export interface DispatcherGateway extends FencedRpcGateway<DispatcherId> {
  /** Validates and persists the graph, starts its JobMaster; resolves with the job id. */
  submitJob(graph: JobGraph, timeoutMs: number): Promise<JobId>;
  listJobs(): Promise<JobOverview[]>;
  requestJobStatus(jobId: JobId): Promise<JobStatus>;
  /** Resolves when the job reaches a globally terminal state (long poll: pass a long timeout). */
  requestJobResult(jobId: JobId, timeoutMs: number): Promise<JobResult>;
  requestJob(jobId: JobId): Promise<JobDetails>;
  requestCheckpointStats(jobId: JobId): Promise<CheckpointStats>;
  requestJobExceptions(jobId: JobId): Promise<JobExceptions>;
  cancelJob(jobId: JobId): Promise<void>;
  requestClusterOverview(): Promise<ClusterOverview>;
  requestTaskManagers(): Promise<TaskManagerInfo[]>;
  requestTaskManager(resourceId: ResourceId): Promise<TaskManagerInfo>;
  /** Triggers a checkpoint now; resolves with its id when it completes. */
  triggerCheckpoint(jobId: JobId, timeoutMs: number): Promise<number>;
}
export const DispatcherGateway = gateway<DispatcherGateway>('DispatcherGateway', {
  submitJob: { timeoutArg: 1 },
  listJobs: 'ask',
  requestJobStatus: 'ask',
  requestJobResult: { timeoutArg: 1 },
  requestJob: 'ask',
  requestCheckpointStats: 'ask',
  requestJobExceptions: 'ask',
  cancelJob: 'ask',
  requestClusterOverview: 'ask',
  requestTaskManagers: 'ask',
  requestTaskManager: 'ask',
  triggerCheckpoint: { timeoutArg: 1 },
});

/** The ResourceManager: TaskExecutor and JobMaster registrations, the slot manager (fenced by ResourceManagerId). */
export interface ResourceManagerGateway extends FencedRpcGateway<ResourceManagerId> {
  registerJobMaster(
    jobMasterId: JobMasterId,
    jobMasterResourceId: ResourceId,
    jobMasterAddress: string,
    jobId: JobId,
    timeoutMs: number,
  ): Promise<RegistrationResponse<JobMasterRegistrationSuccess>>;
  declareRequiredResources(
    jobMasterId: JobMasterId,
    requirements: ResourceRequirements,
    timeoutMs: number,
  ): Promise<void>;
  registerTaskExecutor(
    registration: TaskExecutorRegistration,
    timeoutMs: number,
  ): Promise<RegistrationResponse<TaskExecutorRegistrationSuccess>>;
  sendSlotReport(resourceId: ResourceId, instanceId: string, report: SlotReport, timeoutMs: number): Promise<void>;
  heartbeatFromTaskManager(resourceId: ResourceId, payload: TaskExecutorHeartbeatPayload): Promise<void>;
  heartbeatFromJobManager(resourceId: ResourceId): Promise<void>;
  disconnectTaskManager(resourceId: ResourceId, cause: SerializedError): Promise<void>;
  disconnectJobManager(jobId: JobId, status: JobStatus, cause: SerializedError): Promise<void>;
  requestResourceOverview(): Promise<ResourceOverview>;
  requestTaskManagerInfo(): Promise<TaskManagerInfo[]>;
}
export const ResourceManagerGateway = gateway<ResourceManagerGateway>('ResourceManagerGateway', {
  registerJobMaster: { timeoutArg: 4 },
  declareRequiredResources: { timeoutArg: 2 },
  registerTaskExecutor: { timeoutArg: 1 },
  sendSlotReport: { timeoutArg: 3 },
  heartbeatFromTaskManager: 'ask',
  heartbeatFromJobManager: 'ask',
  disconnectTaskManager: 'ask',
  disconnectJobManager: 'ask',
  requestResourceOverview: 'ask',
  requestTaskManagerInfo: 'ask',
});

/** Checkpoint acknowledgements from tasks (Flink's CheckpointCoordinatorGateway; fire-and-forget). */
export interface CheckpointCoordinatorGateway extends FencedRpcGateway<JobMasterId> {
  acknowledgeCheckpoint(
    jobId: JobId,
    executionAttemptId: ExecutionAttemptId,
    checkpointId: number,
    state: TaskStateHandle,
  ): void;
  declineCheckpoint(
    jobId: JobId,
    executionAttemptId: ExecutionAttemptId,
    checkpointId: number,
    reason: SerializedError,
  ): void;
  /**
   * Several tasks of one TaskExecutor acknowledge `checkpointId` in one message: each acknowledgement counts as if
   * sent alone through {@link acknowledgeCheckpoint} (batching on the wire only).
   */
  acknowledgeCheckpoints(
    jobId: JobId,
    checkpointId: number,
    acknowledgements: readonly CheckpointAcknowledgement[],
  ): void;
}
export const CheckpointCoordinatorGateway = gateway<CheckpointCoordinatorGateway>('CheckpointCoordinatorGateway', {
  acknowledgeCheckpoint: 'tell',
  declineCheckpoint: 'tell',
  acknowledgeCheckpoints: 'tell',
});

/** A job's JobMaster (fenced by its JobMasterId). */
export interface JobMasterGateway extends CheckpointCoordinatorGateway {
  registerTaskManager(
    jobId: JobId,
    info: TaskManagerRegistrationInfo,
    timeoutMs: number,
  ): Promise<RegistrationResponse<JobMasterTaskManagerRegistrationSuccess>>;
  /** Resolves with the offers accepted. */
  offerSlots(resourceId: ResourceId, offers: SlotOffer[], timeoutMs: number): Promise<SlotOffer[]>;
  updateTaskExecutionState(state: TaskExecutionState): Promise<void>;
  heartbeatFromTaskManager(resourceId: ResourceId, payload: TaskExecutorToJobManagerHeartbeatPayload): Promise<void>;
  heartbeatFromResourceManager(resourceId: ResourceId): Promise<void>;
  disconnectTaskManager(resourceId: ResourceId, cause: SerializedError): Promise<void>;
  disconnectResourceManager(resourceManagerId: ResourceManagerId, cause: SerializedError): Promise<void>;
  requestJobStatus(): Promise<JobStatus>;
  requestJob(): Promise<JobDetails>;
  requestCheckpointStats(): Promise<CheckpointStats>;
  requestJobExceptions(): Promise<JobExceptions>;
  /** Resolves with the checkpoint id once completed. */
  triggerCheckpoint(timeoutMs: number): Promise<number>;
  cancel(): Promise<void>;
}
export const JobMasterGateway = gateway<JobMasterGateway, CheckpointCoordinatorGateway>(
  'JobMasterGateway',
  {
    registerTaskManager: { timeoutArg: 2 },
    offerSlots: { timeoutArg: 2 },
    updateTaskExecutionState: 'ask',
    heartbeatFromTaskManager: 'ask',
    heartbeatFromResourceManager: 'ask',
    disconnectTaskManager: 'ask',
    disconnectResourceManager: 'ask',
    requestJobStatus: 'ask',
    requestJob: 'ask',
    requestCheckpointStats: 'ask',
    requestJobExceptions: 'ask',
    triggerCheckpoint: { timeoutArg: 0 },
    cancel: 'ask',
  },
  { extends: [CheckpointCoordinatorGateway] },
);

/** A TaskExecutor (unfenced: the ResourceManagerId and JobMasterId travel as arguments and are checked). */
export interface TaskExecutorGateway extends RpcGateway {
  requestSlot(
    slotId: SlotId,
    jobId: JobId,
    allocationId: AllocationId,
    jobMasterAddress: string,
    resourceManagerId: ResourceManagerId,
    timeoutMs: number,
  ): Promise<void>;
  submitTask(tdd: TaskDeploymentDescriptor, jobMasterId: JobMasterId, timeoutMs: number): Promise<void>;
  cancelTask(executionAttemptId: ExecutionAttemptId, timeoutMs: number): Promise<void>;
  triggerCheckpoint(executionAttemptId: ExecutionAttemptId, checkpointId: number, timestamp: number): Promise<void>;
  confirmCheckpoint(executionAttemptId: ExecutionAttemptId, checkpointId: number, timestamp: number): Promise<void>;
  abortCheckpoint(executionAttemptId: ExecutionAttemptId, checkpointId: number, timestamp: number): Promise<void>;
  /**
   * {@link triggerCheckpoint} for several tasks of this TaskExecutor in one message (batching on the wire only):
   * refused as a whole, triggering none, if any task is unknown.
   */
  triggerCheckpoints(
    executionAttemptIds: readonly ExecutionAttemptId[],
    checkpointId: number,
    timestamp: number,
  ): Promise<void>;
  /**
   * {@link confirmCheckpoint} for several tasks in one message: every known task is confirmed; rejects afterwards
   * naming the unknown ones, if any.
   */
  confirmCheckpoints(
    executionAttemptIds: readonly ExecutionAttemptId[],
    checkpointId: number,
    timestamp: number,
  ): Promise<void>;
  heartbeatFromJobManager(resourceId: ResourceId, allocatedSlots: AllocationId[]): Promise<void>;
  heartbeatFromResourceManager(resourceId: ResourceId): Promise<void>;
  freeSlot(allocationId: AllocationId, cause: SerializedError, timeoutMs: number): Promise<void>;
  disconnectJobManager(jobId: JobId, cause: SerializedError): Promise<void>;
  disconnectResourceManager(cause: SerializedError): Promise<void>;
}
export const TaskExecutorGateway = gateway<TaskExecutorGateway>('TaskExecutorGateway', {
  requestSlot: { timeoutArg: 5 },
  submitTask: { timeoutArg: 2 },
  cancelTask: { timeoutArg: 1 },
  triggerCheckpoint: 'ask',
  confirmCheckpoint: 'ask',
  abortCheckpoint: 'ask',
  triggerCheckpoints: 'ask',
  confirmCheckpoints: 'ask',
  heartbeatFromJobManager: 'ask',
  heartbeatFromResourceManager: 'ask',
  freeSlot: { timeoutArg: 2 },
  disconnectJobManager: 'ask',
  disconnectResourceManager: 'ask',
});
