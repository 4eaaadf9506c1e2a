/**
 * A JobManager process (Flink's StandaloneSessionClusterEntrypoint): a remote RpcService on
 * `jobmanager.rpc.address`:`jobmanager.rpc.port`, the HA services and stores of the configured backend, the
 * Dispatcher and ResourceManager services, and — when `rest.port` is set — the REST server with the dashboard.
 * Runnable (`tsx src/cluster/process/jobmanagerMain.ts [-Dkey=value …] [--config file]`) and importable
 * (`runJobManager(configuration)`, without the REST server).
 *
 * When ready it prints `REST API and dashboard at <url>` (if started), then one line:
 * `JobManager ready at <rpc address of the service> (…)`. SIGINT/SIGTERM stop it
 * cleanly: leadership handed over, endpoints stopped, port closed, exit code 0.
 */

import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import type { HighAvailabilityServices } from '../../ha/index.js';
import { buildRpcAddress, type Logger, type RpcService } from '../../index.js';
import { type Configuration, IllegalConfigurationException, loadConfiguration } from '../config/Configuration.js';
import { ClusterOptions as O } from '../config/options.js';
import {
  type CheckpointingSettings,
  checkpointingSettings,
  highAvailabilitySettings,
  registrationSettings,
  restartStrategySettings,
} from '../config/settings.js';
import { createClusterHaStores } from '../ha/createClusterHaStores.js';
import type { ClusterHaStores } from '../ha/stores.js';
import { type JobManagerHandle, startJobManager } from '../jobmanager/startJobManager.js';
import { type RestServerHandle, startRestServer } from '../rest/RestServer.js';
import {
  checkProcessConfiguration,
  closeAll,
  createHeartbeatServices,
  createProcessHaServices,
  exitOnSignals,
  RPC_SERVICE_NAME,
  STANDALONE_ENDPOINT_IDS,
  startRemoteRpcService,
} from './processServices.js';

/** A running JobManager process (or one embedded in another program). */
export interface JobManagerProcessHandle {
  readonly rpcService: RpcService;
  readonly haServices: HighAvailabilityServices;
  readonly stores: ClusterHaStores;
  readonly jobManager: JobManagerHandle;
  /** `rpc.tcp://flink@host:port/` — the prefix of every endpoint address of this JobManager. */
  readonly address: string;
  readonly configuration: Configuration;
  /** The RPC layer's metrics of this process (calls, mailboxes, connections): served at the REST server's `/metrics`. */
  readonly rpcMetrics: Registry;
  /** Hands leadership over, stops the endpoints, the HA services and the RpcService. Idempotent. */
  close(): Promise<void>;
}

/** Starts a JobManager from `configuration` (see {@link loadConfiguration}). */
export async function runJobManager(configuration: Configuration, logger?: Logger): Promise<JobManagerProcessHandle> {
  checkProcessConfiguration(configuration);
  const ha = highAvailabilitySettings(configuration);
  const host = configuration.get(O.jobManagerRpcAddress);
  const port = configuration.get(O.jobManagerRpcPort);
  if (ha.type === 'standalone' && port === 0) {
    throw new IllegalConfigurationException(
      `${O.jobManagerRpcPort.key} must be a fixed port (not 0) with standalone HA: TaskManagers find the JobManager there.`,
    );
  }
  const rpcMetrics = new Registry();
  const rpcService = await startRemoteRpcService(
    configuration,
    host,
    String(port),
    configuration.get(O.jobManagerBindHost),
    logger,
    rpcMetrics,
  );
  const processLogger = (logger ?? rpcService.getLogger()).child({ process: 'jobmanager' });
  let haServices: HighAvailabilityServices | undefined;
  let jobManager: JobManagerHandle | undefined;
  try {
    haServices = await createProcessHaServices(configuration, 'jobmanager', processLogger);
    const checkpointing = checkpointingSettings(configuration);
    const restartStrategy = restartStrategySettings(configuration);
    const stores = createClusterHaStores(haServices, {
      ...(ha.type === 'zookeeper' ? { storageDir: ha.storageDir } : {}),
      logger: processLogger,
    });
    jobManager = await startJobManager({
      rpcService,
      haServices,
      stores,
      heartbeat: createHeartbeatServices(configuration),
      registration: registrationSettings(configuration),
      slotRequestTimeout: configuration.get(O.slotRequestTimeout),
      rpcTimeout: configuration.get(O.askTimeout),
      maxRetainedCheckpoints: checkpointing.numRetained,
      ...defaultCheckpointingOf(configuration, checkpointing),
      ...(restartStrategy === undefined ? {} : { defaultRestartStrategy: restartStrategy }),
      ...(checkpointing.dir === undefined ? {} : { checkpointStorageDir: checkpointing.dir }),
      logger: processLogger,
    });
    const address = rpcServiceAddress(rpcService);
    if (ha.type === 'standalone') await checkStandaloneEndpoints(jobManager, address);
    let closing: Promise<void> | undefined;
    const services = haServices;
    const started = jobManager;
    return {
      rpcService,
      haServices: services,
      stores,
      jobManager: started,
      address,
      configuration,
      rpcMetrics,
      close: () => {
        closing ??= closeAll([
          () => started.close(),
          () => stores.close(),
          () => services.close(),
          () => rpcService.closeAsync(),
        ]);
        return closing;
      },
    };
  } catch (error) {
    await closeAll([() => jobManager?.close(), () => haServices?.close(), () => rpcService.closeAsync()]).catch(
      () => {},
    );
    throw error;
  }
}

/**
 * Cluster-wide checkpointing for jobs whose graph sets none: `execution.checkpointing.interval` turns it on (with
 * the timeout); a timeout alone only applies to jobs that checkpoint.
 */
function defaultCheckpointingOf(
  configuration: Configuration,
  checkpointing: CheckpointingSettings,
): { defaultCheckpointing?: { interval?: number; timeout?: number } } {
  if (checkpointing.interval !== undefined) {
    return { defaultCheckpointing: { interval: checkpointing.interval, timeout: checkpointing.timeout } };
  }
  return configuration.has(O.checkpointingTimeout.key)
    ? { defaultCheckpointing: { timeout: checkpointing.timeout } }
    : {};
}

/** `rpc.tcp://flink@host:port/`: the service part of every endpoint address on `rpcService`. */
function rpcServiceAddress(rpcService: RpcService): string {
  return buildRpcAddress('rpc.tcp', RPC_SERVICE_NAME, rpcService.getAddress(), rpcService.getPort(), '');
}

/**
 * Under standalone HA, TaskManagers and clients reach the leaders at fixed endpoint ids: check that the endpoints
 * really are there, so a mismatch fails at startup instead of leaving TaskManagers retrying forever.
 */
async function checkStandaloneEndpoints(jobManager: JobManagerHandle, serviceAddress: string): Promise<void> {
  const resourceManager = jobManager.resourceManagerService.getCurrentLeader();
  const expected = `${serviceAddress}${STANDALONE_ENDPOINT_IDS.resourceManager}`;
  if (resourceManager !== undefined && resourceManager.getAddress() !== expected) {
    throw new Error(
      `The ResourceManager runs at ${resourceManager.getAddress()}, not at ${expected} where standalone TaskManagers look for it.`,
    );
  }
  const dispatcher = await jobManager.getDispatcherGateway(10_000);
  const expectedDispatcher = `${serviceAddress}${STANDALONE_ENDPOINT_IDS.dispatcher}`;
  if (dispatcher.getAddress() !== expectedDispatcher) {
    throw new Error(
      `The Dispatcher runs at ${dispatcher.getAddress()}, not at ${expectedDispatcher} where standalone clients look for it.`,
    );
  }
}

/**
 * Prints a line whenever this process's Dispatcher or ResourceManager leader endpoint appears or goes away
 * (`leadership dispatcher granted <endpoint id> at <epoch ms>` / `… revoked at …`), checked every `intervalMs`: lets
 * a test that runs several JobManagers check that no two of them ever led one component at the same time.
 */
export function reportLeadershipChanges(handle: JobManagerProcessHandle, intervalMs = 5): () => void {
  const components = {
    dispatcher: () => handle.jobManager.dispatcherService.getCurrentLeader(),
    resource_manager: () => handle.jobManager.resourceManagerService.getCurrentLeader(),
  };
  const current = new Map<string, string | undefined>();
  const check = () => {
    for (const [component, leaderOf] of Object.entries(components)) {
      const leader = leaderOf()?.getEndpointId();
      if (leader === current.get(component)) continue;
      const now = Date.now();
      const previous = current.get(component);
      if (previous !== undefined) process.stdout.write(`leadership ${component} revoked ${previous} at ${now}\n`);
      if (leader !== undefined) process.stdout.write(`leadership ${component} granted ${leader} at ${now}\n`);
      current.set(component, leader);
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  check();
  return () => clearInterval(timer);
}

/**
 * The REST server and dashboard, when `rest.port` is configured (0 picks a free port): bound to `rest.bind-address`,
 * loopback by default.
 */
async function startConfiguredRestServer(
  configuration: Configuration,
  handle: JobManagerProcessHandle,
): Promise<RestServerHandle | undefined> {
  if (!configuration.has(O.restPort.key)) return undefined;
  const bindAddress = configuration.get(O.restBindAddress);
  return startRestServer({
    rpcService: handle.rpcService,
    haServices: handle.haServices,
    port: configuration.get(O.restPort),
    address: bindAddress === undefined || bindAddress === 'localhost' ? '127.0.0.1' : bindAddress,
    refreshIntervalMs: configuration.get(O.webRefreshInterval),
    metricRegistries: [handle.rpcMetrics],
  });
}

/**
 * The command-line entry: configuration from the arguments, the REST server if `rest.port` is set, the ready line
 * (after the REST line), and signal handling.
 */
export async function main(argv: readonly string[]): Promise<void> {
  const { configuration } = loadConfiguration(argv);
  const handle = await runJobManager(configuration);
  const logger = handle.rpcService.getLogger();
  for (const key of configuration.unknownKeys()) logger.warn({ key }, 'Configuration key not used by the JobManager.');
  let rest: RestServerHandle | undefined;
  try {
    rest = await startConfiguredRestServer(configuration, handle);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const stopReporting = process.env.FLINK_RPC_REPORT_LEADERSHIP === '1' ? reportLeadershipChanges(handle) : () => {};
  exitOnSignals(
    'JobManager',
    async () => {
      stopReporting();
      await rest?.close();
      await handle.close();
    },
    logger,
  );
  const ha = highAvailabilitySettings(configuration).type;
  if (rest !== undefined) process.stdout.write(`REST API and dashboard at ${rest.url}\n`);
  process.stdout.write(`JobManager ready at ${handle.address} (high-availability: ${ha}, pid ${process.pid})\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`JobManager failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
