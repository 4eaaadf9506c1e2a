/**
 * The configuration turned into what the components take: heartbeat, registration, restart strategy, checkpointing
 * and high-availability settings. Each function checks the relations between options (e.g. timeout ≥ interval) and
 * throws {@link IllegalConfigurationException} naming the keys.
 */

import type { RestartStrategyConfig } from '../types.js';
import { type Configuration, IllegalConfigurationException } from './Configuration.js';
import { ClusterOptions as O } from './options.js';

/** Heartbeat settings in ms (Flink's `heartbeat.*`). */
export interface HeartbeatSettings {
  readonly interval: number;
  readonly timeout: number;
  /** -1: disabled. */
  readonly rpcFailureThreshold: number;
}

export function heartbeatSettings(configuration: Configuration): HeartbeatSettings {
  const interval = configuration.get(O.heartbeatInterval);
  const timeout = configuration.get(O.heartbeatTimeout);
  if (timeout < interval) {
    throw new IllegalConfigurationException(
      `The heartbeat timeout (${O.heartbeatTimeout.key} = ${timeout} ms) must be at least the heartbeat interval ` +
        `(${O.heartbeatInterval.key} = ${interval} ms).`,
    );
  }
  return { interval, timeout, rpcFailureThreshold: configuration.get(O.heartbeatRpcFailureThreshold) };
}

/** Registration retry settings in ms (Flink's `cluster.registration.*`; the shape RetryingRegistration takes). */
export interface RegistrationSettings {
  readonly initialRegistrationTimeout: number;
  readonly maxRegistrationTimeout: number;
  readonly errorDelay: number;
  readonly refusedRegistrationDelay: number;
}

export function registrationSettings(configuration: Configuration): RegistrationSettings {
  const initialRegistrationTimeout = configuration.get(O.registrationInitialTimeout);
  const maxRegistrationTimeout = configuration.get(O.registrationMaxTimeout);
  if (maxRegistrationTimeout < initialRegistrationTimeout) {
    throw new IllegalConfigurationException(
      `${O.registrationMaxTimeout.key} (${maxRegistrationTimeout} ms) must be at least ` +
        `${O.registrationInitialTimeout.key} (${initialRegistrationTimeout} ms).`,
    );
  }
  return {
    initialRegistrationTimeout,
    maxRegistrationTimeout,
    errorDelay: configuration.get(O.registrationErrorDelay),
    refusedRegistrationDelay: configuration.get(O.registrationRefusedDelay),
  };
}

/**
 * The cluster-wide restart strategy (`restart-strategy.*`), or `undefined` when `restart-strategy.type` is unset
 * (then a job's strategy defaults by whether it checkpoints). Options of the other types are ignored, as in Flink.
 */
export function restartStrategySettings(configuration: Configuration): RestartStrategyConfig | undefined {
  const type = configuration.get(O.restartStrategyType);
  switch (type) {
    case undefined:
      return undefined;
    case 'none':
    case 'off':
    case 'disable':
      return { type: 'none' };
    case 'fixed-delay':
    case 'fixeddelay':
      return {
        type: 'fixed-delay',
        attempts: configuration.get(O.fixedDelayAttempts),
        delay: configuration.get(O.fixedDelayDelay),
      };
    default: {
      const initialBackoff = configuration.get(O.exponentialInitialBackoff);
      const maxBackoff = configuration.get(O.exponentialMaxBackoff);
      if (initialBackoff > maxBackoff) {
        throw new IllegalConfigurationException(
          `${O.exponentialInitialBackoff.key} (${initialBackoff} ms) cannot be higher than ${O.exponentialMaxBackoff.key} (${maxBackoff} ms).`,
        );
      }
      return {
        type: 'exponential-delay',
        initialBackoff,
        maxBackoff,
        backoffMultiplier: configuration.get(O.exponentialBackoffMultiplier),
        resetBackoffThreshold: configuration.get(O.exponentialResetBackoffThreshold),
        jitterFactor: configuration.get(O.exponentialJitterFactor),
        attempts: configuration.get(O.exponentialAttempts),
      };
    }
  }
}

/** Checkpointing defaults for jobs that set none, and what the JobManager keeps. */
export interface CheckpointingSettings {
  /** Undefined: jobs that set no interval do not checkpoint. */
  readonly interval: number | undefined;
  readonly timeout: number;
  readonly numRetained: number;
  readonly dir: string | undefined;
}

export function checkpointingSettings(configuration: Configuration): CheckpointingSettings {
  return {
    interval: configuration.get(O.checkpointingInterval),
    timeout: configuration.get(O.checkpointingTimeout),
    numRetained: configuration.get(O.checkpointsNumRetained),
    dir: configuration.get(O.checkpointsDir),
  };
}

/** Which high-availability backend a process uses, with what it needs. */
export type HighAvailabilitySettings =
  | { readonly type: 'embedded' }
  /** Fixed addresses: the JobManager's RPC address and port. */
  | { readonly type: 'standalone'; readonly jobManagerAddress: string; readonly jobManagerPort: number }
  | {
      readonly type: 'zookeeper';
      readonly connectString: string;
      readonly rootPath: string;
      readonly clusterId: string;
      readonly sessionTimeout: number;
      readonly connectionTimeout: number;
      readonly storageDir: string;
    };

/**
 * `high-availability.type`: `none`/`standalone` → fixed addresses (`jobmanager.rpc.address`/`port`), `embedded` →
 * in-process (a MiniCluster), `zookeeper` → needs `high-availability.zookeeper.quorum` and
 * `high-availability.storageDir`.
 */
export function highAvailabilitySettings(configuration: Configuration): HighAvailabilitySettings {
  const type = configuration.get(O.haType);
  if (type === 'embedded') return { type: 'embedded' };
  if (type === 'zookeeper') {
    const why = 'high-availability.type is zookeeper';
    const clusterId = configuration.get(O.haClusterId).replace(/^\/+|\/+$/g, '');
    if (!/^[A-Za-z0-9_.-]+$/.test(clusterId)) {
      throw new IllegalConfigurationException(
        `Invalid value for '${O.haClusterId.key}': use letters, digits, '_', '.' and '-' (one leading '/' is allowed).`,
      );
    }
    return {
      type: 'zookeeper',
      connectString: configuration.require(O.haZooKeeperQuorum, why),
      rootPath: configuration.get(O.haZooKeeperRoot),
      clusterId,
      sessionTimeout: configuration.get(O.haZooKeeperSessionTimeout),
      connectionTimeout: configuration.get(O.haZooKeeperConnectionTimeout),
      storageDir: configuration.require(O.haStorageDir, why),
    };
  }
  return {
    type: 'standalone',
    jobManagerAddress: configuration.get(O.jobManagerRpcAddress),
    jobManagerPort: configuration.get(O.jobManagerRpcPort),
  };
}
