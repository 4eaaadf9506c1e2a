/**
 * `flink-rpc/cluster`: a small Flink-style control plane on flink-rpc — Dispatcher, ResourceManager, JobMaster and
 * TaskExecutor, the job graph, the task contract and the high-availability stores.
 */

export * from './config/index.js';
export { Dispatcher, type DispatcherServices, FLINK_RPC_VERSION } from './dispatcher/Dispatcher.js';
export { DispatcherService, type DispatcherServiceOptions } from './dispatcher/DispatcherService.js';
export * from './errors.js';
export * from './gateways.js';
export { generateJobId, MAX_PARALLELISM, MIN_CHECKPOINT_INTERVAL, validateJobGraph } from './graph/validateJobGraph.js';
export { type ClusterHaStoresOptions, createClusterHaStores } from './ha/createClusterHaStores.js';
export { createMemoryClusterHaStores } from './ha/memoryStores.js';
export {
  type CheckpointIdCounter,
  type ClusterHaStores,
  type CompletedCheckpointStore,
  type JobGraphStore,
  type JobResultStore,
  LeadershipLostError,
} from './ha/stores.js';
export { createZooKeeperClusterHaStores, type ZooKeeperClusterHaStoresOptions } from './ha/zookeeperStores.js';
export {
  type JobManagerHandle,
  type JobManagerOptions,
  jobMasterConfigurationOf,
  startJobManager,
} from './jobmanager/startJobManager.js';
export { type ArchivedJob, emptyCheckpointStats } from './jobmaster/ArchivedJob.js';
export {
  CheckpointCoordinator,
  type CheckpointCoordinatorOptions,
  type CheckpointTask,
  DEFAULT_CHECKPOINT_TIMEOUT,
} from './jobmaster/CheckpointCoordinator.js';
export { type AssignedSlot, type Execution, ExecutionGraph } from './jobmaster/ExecutionGraph.js';
export { JobManagerRunner, type JobManagerRunnerArgs } from './jobmaster/JobManagerRunner.js';
export {
  DEFAULT_JOB_MASTER_CONFIGURATION,
  JobMaster,
  type JobMasterArgs,
  type JobMasterConfiguration,
  withClusterDefaults,
} from './jobmaster/JobMaster.js';
export {
  ResourceManagerConnection,
  type ResourceManagerConnectionOptions,
} from './jobmaster/ResourceManagerConnection.js';
export { type PooledSlot, SlotPool } from './jobmaster/SlotPool.js';
export { ClusterMetrics, PROMETHEUS_CONTENT_TYPE } from './metrics/index.js';
export { miniClusterConfigurationOf } from './minicluster/configuration.js';
export { MiniCluster, type MiniClusterConfiguration, type MiniClusterOptions } from './minicluster/MiniCluster.js';
export * from './process/index.js';
export {
  DEFAULT_REGISTRATION_OPTIONS,
  RegistrationCancelledException,
  RegistrationRejectedException,
  RetryingRegistration,
  type RetryingRegistrationArgs,
  type RetryingRegistrationOptions,
} from './registration/RetryingRegistration.js';
export {
  JobLeaderIdService,
  ResourceManager,
  type ResourceManagerOptions,
  ResourceManagerService,
  type SlotCounts,
  SlotManager,
  type SlotManagerOptions,
} from './resourcemanager/index.js';
export {
  RestHandlerException,
  type RestServerHandle,
  type RestServerOptions,
  startRestServer,
  toRestHandlerException,
} from './rest/index.js';
export {
  createRestartStrategy,
  RESTART_STRATEGY_DEFAULTS,
  type RestartBackoffTimeStrategy,
  type RestartStrategyEnvironment,
  restartStrategyProblems,
} from './restart/restartStrategies.js';
export { builtinOperators, fail, generator, noop, recordsOfSubtask, stall } from './task/builtins.js';
export {
  DEFAULT_INLINE_STATE_THRESHOLD,
  discardTaskState,
  loadTaskState,
  type SnapshotLocation,
  storeTaskState,
} from './task/checkpointStorage.js';
export { describeOperatorRef, loadOperatorFactory } from './task/loadOperator.js';
export type { Operator, OperatorFactory, TaskContext } from './task/Operator.js';
export {
  type PendingCommit,
  type SinkState,
  type SinkTarget,
  TransactionalFileSink,
} from './task/TransactionalFileSink.js';
export {
  type ExactlyOnceExpectations,
  type ExactlyOnceReport,
  verifyExactlyOnce,
} from './task/verifyExactlyOnce.js';
export {
  FINAL_LOCAL_CHECKPOINT_ID,
  startTaskManager,
  Task,
  type TaskActions,
  TaskCancelledException,
  TaskExecutor,
  type TaskExecutorOptions,
  type TaskManagerHandle,
  type TaskManagerOptions,
  type TaskOptions,
  type TaskSlot,
  type TaskSlotState,
  TaskSlotTable,
} from './taskexecutor/index.js';
export * from './types.js';
