/**
 * `flink-rpc/cluster`: a small Flink-style control plane on flink-rpc — Dispatcher, ResourceManager, JobMaster and
 * TaskExecutor, the job graph, the task contract and the high-availability stores.
 */

export * from './errors.js';
export * from './gateways.js';
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
  createRestartStrategy,
  RESTART_STRATEGY_DEFAULTS,
  type RestartBackoffTimeStrategy,
  type RestartStrategyEnvironment,
  restartStrategyProblems,
} from './restart/restartStrategies.js';
export type { Operator, OperatorFactory, TaskContext } from './task/Operator.js';
export * from './types.js';
