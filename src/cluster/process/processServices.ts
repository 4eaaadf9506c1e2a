/**
 * What the JobManager and TaskManager processes share: the remote RpcService, the high-availability services for a
 * multi-process cluster, heartbeat services, and a clean shutdown on SIGINT/SIGTERM.
 */

import type { Registry } from 'prom-client';
import {
  DEFAULT_LEADER_SESSION_ID,
  type HighAvailabilityServices,
  StandaloneHaServices,
  ZooKeeperHaServices,
} from '../../ha/index.js';
import { HeartbeatServices } from '../../heartbeat/index.js';
import { buildRpcAddress, type Logger, type RpcService, RpcSystem } from '../../index.js';
import { type Configuration, IllegalConfigurationException } from '../config/Configuration.js';
import { ClusterOptions as O } from '../config/options.js';
import { heartbeatSettings, highAvailabilitySettings, registrationSettings } from '../config/settings.js';

/** The RpcService's name in addresses (`rpc.tcp://flink@host:port/…`), as Flink's actor system. */
export const RPC_SERVICE_NAME = 'flink';

/**
 * Endpoint ids of the JobManager's leaders under standalone HA, where the leader session id is always the zero UUID:
 * TaskManagers reach them at these fixed addresses (Flink's `resourcemanager_0` / `dispatcher_0`).
 */
export const STANDALONE_ENDPOINT_IDS = {
  resourceManager: `resourcemanager_${DEFAULT_LEADER_SESSION_ID}`,
  dispatcher: `dispatcher-${DEFAULT_LEADER_SESSION_ID}`,
} as const;

/**
 * Starts a remote RpcService on `host` and `portRange`, bound to `bindHost` (default: `host`, never all interfaces).
 * `metrics` receives the RPC layer's metrics (calls, mailboxes, connections), for the process's `/metrics`.
 */
export async function startRemoteRpcService(
  configuration: Configuration,
  host: string,
  portRange: string,
  bindHost: string | undefined,
  logger?: Logger,
  metrics?: Registry,
): Promise<RpcService> {
  return RpcSystem.load()
    .remoteServiceBuilder(
      {
        askTimeout: configuration.get(O.askTimeout),
        componentName: RPC_SERVICE_NAME,
        ...(logger === undefined ? {} : { logger }),
        ...(metrics === undefined ? {} : { metrics }),
      },
      host,
      portRange,
    )
    .withBindAddress(bindHost ?? host)
    .createAndStart();
}

/** Where a TaskManager or client finds the JobManager's leaders under standalone HA. */
export function standaloneAddresses(configuration: Configuration): {
  resourceManagerAddress: string;
  dispatcherAddress: string;
  clusterRestEndpointAddress: string;
} {
  const host = configuration.get(O.jobManagerRpcAddress);
  const port = configuration.get(O.jobManagerRpcPort);
  if (port === 0) {
    throw new IllegalConfigurationException(
      `${O.jobManagerRpcPort.key} must be a fixed port (not 0) with high-availability.type none/standalone: ` +
        'TaskManagers and clients find the JobManager there.',
    );
  }
  return {
    resourceManagerAddress: buildRpcAddress(
      'rpc.tcp',
      RPC_SERVICE_NAME,
      host,
      port,
      STANDALONE_ENDPOINT_IDS.resourceManager,
    ),
    dispatcherAddress: buildRpcAddress('rpc.tcp', RPC_SERVICE_NAME, host, port, STANDALONE_ENDPOINT_IDS.dispatcher),
    clusterRestEndpointAddress: `http://${configuration.get(O.restAddress) ?? host}:${configuration.get(O.restPort)}`,
  };
}

/**
 * Checks, before anything is started, that the configuration suits a process of a multi-process cluster: known
 * options parse, heartbeat and registration settings are consistent, and the HA backend spans processes.
 */
export function checkProcessConfiguration(configuration: Configuration): void {
  configuration.validate();
  heartbeatSettings(configuration);
  registrationSettings(configuration);
  if (highAvailabilitySettings(configuration).type === 'embedded') throw embeddedRefused();
}

function embeddedRefused(): IllegalConfigurationException {
  return new IllegalConfigurationException(
    `${O.haType.key}: embedded keeps leaders in one process's memory, so it only works inside a MiniCluster; ` +
      'use none (standalone, fixed JobManager address) or zookeeper for separate processes.',
  );
}

/**
 * The HA services of one process of a multi-process cluster: standalone (fixed JobManager address) or ZooKeeper.
 * `embedded` is refused: it lives in one process, so only a MiniCluster can use it.
 *
 * @param role `jobmanager` answers job-leader lookups itself (its ResourceManager only needs the leader id, which is
 *   fixed under standalone HA); a TaskManager gets the JobMaster address with each slot request.
 */
export async function createProcessHaServices(
  configuration: Configuration,
  role: 'jobmanager' | 'taskmanager' | 'client',
  logger?: Logger,
): Promise<HighAvailabilityServices> {
  const settings = highAvailabilitySettings(configuration);
  switch (settings.type) {
    case 'embedded':
      throw embeddedRefused();
    case 'standalone':
      return new StandaloneHaServices(
        {
          ...standaloneAddresses(configuration),
          // Flink's standalone job leader retrieval reports an unknown address under the fixed leader id.
          ...(role === 'jobmanager' ? { jobManagerAddress: () => 'UNKNOWN' } : {}),
        },
        logger,
      );
    case 'zookeeper':
      return ZooKeeperHaServices.create(
        {
          connectString: settings.connectString,
          rootPath: settings.rootPath,
          clusterId: settings.clusterId,
          sessionTimeout: settings.sessionTimeout,
          connectionTimeout: settings.connectionTimeout,
        },
        logger,
      );
  }
}

/** Heartbeat services from `heartbeat.*`. */
export function createHeartbeatServices(configuration: Configuration): HeartbeatServices {
  const { interval, timeout, rpcFailureThreshold } = heartbeatSettings(configuration);
  return new HeartbeatServices(interval, timeout, rpcFailureThreshold);
}

/**
 * Runs `shutdown` on the first SIGINT or SIGTERM and exits with 0 when it completes (1 if it fails); a second signal
 * exits at once with 1. Returns a function that removes the handlers (for embedding the process in another program).
 */
export function exitOnSignals(name: string, shutdown: () => Promise<void>, logger: Logger): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, `${name}: second signal, exiting without a clean shutdown.`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${name} shutting down (${signal})\n`);
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, `${name}: shutdown failed.`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Closes resources in order, continuing past failures; rejects with the first failure at the end. */
export async function closeAll(steps: readonly (() => Promise<unknown> | unknown)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}
