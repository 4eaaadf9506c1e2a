/**
 * A JobManager process (Flink's StandaloneSessionClusterEntrypoint without the REST server): a remote RpcService on
 * `jobmanager.rpc.address`:`jobmanager.rpc.port`, the HA services and stores of the configured backend, and the
 * Dispatcher and ResourceManager services. Runnable (`tsx src/cluster/process/jobmanagerMain.ts [-Dkey=value …]
 * [--config file]`) and importable (`runJobManager(configuration)`).
 *
 * When ready it prints one line: `JobManager ready at <rpc address of the service> (…)`. SIGINT/SIGTERM stop it
 * cleanly: leadership handed over, endpoints stopped, port closed, exit code 0.
 */

import { pathToFileURL } from 'node:url';
import type { HighAvailabilityServices } from '../../ha/index.js';
import { buildRpcAddress, type Logger, type RpcService } from '../../index.js';
import { type Configuration, IllegalConfigurationException, loadConfiguration } from '../config/Configuration.js';
import { ClusterOptions as O } from '../config/options.js';
import { checkpointingSettings, highAvailabilitySettings, registrationSettings } from '../config/settings.js';
import { createClusterHaStores } from '../ha/createClusterHaStores.js';
import type { ClusterHaStores } from '../ha/stores.js';
import { type JobManagerHandle, startJobManager } from '../jobmanager/startJobManager.js';
import {
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
  /** Hands leadership over, stops the endpoints, the HA services and the RpcService. Idempotent. */
  close(): Promise<void>;
}

/** Starts a JobManager from `configuration` (see {@link loadConfiguration}). */
export async function runJobManager(configuration: Configuration, logger?: Logger): Promise<JobManagerProcessHandle> {
  configuration.validate();
  const ha = highAvailabilitySettings(configuration);
  const host = configuration.get(O.jobManagerRpcAddress);
  const port = configuration.get(O.jobManagerRpcPort);
  if (ha.type === 'standalone' && port === 0) {
    throw new IllegalConfigurationException(
      `${O.jobManagerRpcPort.key} must be a fixed port (not 0) with standalone HA: TaskManagers find the JobManager there.`,
    );
  }
  const rpcService = await startRemoteRpcService(
    configuration,
    host,
    String(port),
    configuration.get(O.jobManagerBindHost),
    logger,
  );
  const processLogger = (logger ?? rpcService.getLogger()).child({ process: 'jobmanager' });
  let haServices: HighAvailabilityServices | undefined;
  let jobManager: JobManagerHandle | undefined;
  try {
    haServices = await createProcessHaServices(configuration, 'jobmanager', processLogger);
    const checkpointing = checkpointingSettings(configuration);
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

/** The command-line entry: configuration from the arguments, the ready line, and signal handling. */
export async function main(argv: readonly string[]): Promise<void> {
  const { configuration } = loadConfiguration(argv);
  const handle = await runJobManager(configuration);
  const logger = handle.rpcService.getLogger();
  for (const key of configuration.unknownKeys()) logger.warn({ key }, 'Configuration key not used by the JobManager.');
  const stopReporting = process.env.FLINK_RPC_REPORT_LEADERSHIP === '1' ? reportLeadershipChanges(handle) : () => {};
  exitOnSignals(
    'JobManager',
    async () => {
      stopReporting();
      await handle.close();
    },
    logger,
  );
  const ha = highAvailabilitySettings(configuration).type;
  process.stdout.write(`JobManager ready at ${handle.address} (high-availability: ${ha}, pid ${process.pid})\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`JobManager failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
