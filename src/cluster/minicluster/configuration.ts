/** A MiniCluster's settings from a Flink-style configuration (keys such as `heartbeat.interval`). */

import { type Configuration, ClusterOptions as O } from '../config/index.js';
import {
  checkpointingSettings,
  heartbeatSettings,
  registrationSettings,
  restartStrategySettings,
} from '../config/settings.js';
import type { RetryingRegistrationOptions } from '../registration/RetryingRegistration.js';
import type { RestartStrategyConfig } from '../types.js';

/** The settings of a MiniCluster, milliseconds (Flink's option names in the comments). */
export interface MiniClusterConfiguration {
  /** `heartbeat.interval` (Flink: 10 000). */
  readonly heartbeatInterval?: number;
  /** `heartbeat.timeout` (Flink: 50 000). */
  readonly heartbeatTimeout?: number;
  /** `heartbeat.rpc-failure-threshold` (Flink: 2). */
  readonly heartbeatRpcFailureThreshold?: number;
  /** `slot.request.timeout` (Flink: 300 000). */
  readonly slotRequestTimeout?: number;
  /** `cluster.registration.*` (Flink: 100, 30 000, 10 000, 30 000). */
  readonly registration?: Partial<RetryingRegistrationOptions>;
  /** `pekko.ask.timeout`: the RpcService's default ask timeout and the components' RPC timeout (Flink: 10 000). */
  readonly rpcTimeout?: number;
  /** `state.checkpoints.dir`. */
  readonly checkpointStorageDir?: string;
  /** `state.checkpoints.num-retained` (Flink: 1). */
  readonly maxRetainedCheckpoints?: number;
  /** `task.cancellation.timeout`: how long a TaskExecutor waits for a cancelled task (Flink: 180 000). */
  readonly taskCancellationTimeout?: number;
  /** `execution.checkpointing.interval` / `.timeout` for jobs that set none. */
  readonly defaultCheckpointing?: { readonly interval?: number; readonly timeout?: number };
  /** `restart-strategy.*` for jobs that set none. */
  readonly defaultRestartStrategy?: RestartStrategyConfig;
}

/**
 * Maps Flink's keys onto {@link MiniClusterConfiguration}: `heartbeat.*`, `cluster.registration.*`,
 * `slot.request.timeout`, `pekko.ask.timeout`, `task.cancellation.timeout`, `execution.checkpointing.*`,
 * `state.checkpoints.*` and `restart-strategy.*`. Throws `IllegalConfigurationException` naming a bad key.
 */
export function miniClusterConfigurationOf(configuration: Configuration): MiniClusterConfiguration {
  const heartbeat = heartbeatSettings(configuration);
  const checkpointing = checkpointingSettings(configuration);
  const restartStrategy = restartStrategySettings(configuration);
  return {
    heartbeatInterval: heartbeat.interval,
    heartbeatTimeout: heartbeat.timeout,
    heartbeatRpcFailureThreshold: heartbeat.rpcFailureThreshold,
    registration: registrationSettings(configuration),
    slotRequestTimeout: configuration.get(O.slotRequestTimeout),
    rpcTimeout: configuration.get(O.askTimeout),
    taskCancellationTimeout: configuration.get(O.taskCancellationTimeout),
    maxRetainedCheckpoints: checkpointing.numRetained,
    ...(checkpointing.dir === undefined ? {} : { checkpointStorageDir: checkpointing.dir }),
    defaultCheckpointing: {
      ...(checkpointing.interval === undefined ? {} : { interval: checkpointing.interval }),
      timeout: checkpointing.timeout,
    },
    ...(restartStrategy === undefined ? {} : { defaultRestartStrategy: restartStrategy }),
  };
}
