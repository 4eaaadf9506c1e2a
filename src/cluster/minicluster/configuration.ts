/** A MiniCluster's settings from a Flink-style configuration (keys such as `heartbeat.interval`). */

import { type Configuration, ClusterOptions as O } from '../config/index.js';
import {
  checkpointingSettings,
  heartbeatSettings,
  registrationSettings,
  restartStrategySettings,
} from '../config/settings.js';
import type { MiniClusterConfiguration } from './MiniCluster.js';

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
