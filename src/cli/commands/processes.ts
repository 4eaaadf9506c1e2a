/**
 * The commands that start cluster processes: `jobmanager` (the control plane's JobManager plus the REST server and
 * dashboard), `taskmanager`, and `minicluster` (everything in this process). Each runs until Ctrl-C (the signal),
 * then shuts down cleanly: REST server closed, leadership handed over, endpoints and ports closed.
 */

import {
  type Configuration,
  ConfigurationFileException,
  IllegalConfigurationException,
  loadConfiguration,
} from '../../cluster/config/index.js';
import { ClusterOptions as O } from '../../cluster/config/options.js';
import { checkpointingSettings, heartbeatSettings, registrationSettings } from '../../cluster/config/settings.js';
import { MiniCluster } from '../../cluster/minicluster/MiniCluster.js';
import { runJobManager } from '../../cluster/process/jobmanagerMain.js';
import { runTaskManager, TASK_MANAGER_FLAG_ALIASES } from '../../cluster/process/taskmanagerMain.js';
import { type RestServerHandle, startRestServer } from '../../cluster/rest/index.js';
import { CliError, type CliIo, EXIT_OK, EXIT_USAGE } from '../output.js';

/** Flags of the `jobmanager` command beyond Flink's `-D key=value`, `--<key> value`, `-c FILE`. */
export const JOB_MANAGER_FLAG_ALIASES = { 'rest-port': O.restPort.key, 'rest-address': O.restBindAddress.key } as const;

/** The configuration from the process flags; a bad flag or file is a usage error (exit 2). */
function configurationOf(argv: readonly string[], aliases: Readonly<Record<string, string>>): Configuration {
  try {
    return loadConfiguration(argv, { aliases }).configuration;
  } catch (error) {
    if (error instanceof IllegalConfigurationException || error instanceof ConfigurationFileException) {
      throw new CliError(error.message, EXIT_USAGE);
    }
    throw error;
  }
}

/** Starts the REST server with Flink's `rest.*` and `web.refresh-interval` options. */
async function startRest(
  configuration: Configuration,
  services: Pick<Parameters<typeof startRestServer>[0], 'rpcService' | 'haServices' | 'metricRegistries'>,
  overrides: { port?: number; address?: string } = {},
): Promise<RestServerHandle> {
  const port = overrides.port ?? configuration.get(O.restPort);
  const configured = overrides.address ?? configuration.get(O.restBindAddress);
  const address = configured === undefined || configured === 'localhost' ? '127.0.0.1' : configured;
  try {
    return await startRestServer({
      ...services,
      port,
      address,
      refreshIntervalMs: configuration.get(O.webRefreshInterval),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(
        `The REST port ${address}:${port} is in use: choose another with -D${O.restPort.key}=<port> (0 picks a free one).`,
      );
    }
    throw error;
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** `jobmanager`: Dispatcher, ResourceManager, JobMasters, and the REST server with the dashboard. */
export async function jobmanagerCommand(argv: readonly string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const configuration = configurationOf(argv, JOB_MANAGER_FLAG_ALIASES);
  const handle = await runJobManager(configuration);
  let rest: RestServerHandle;
  try {
    rest = await startRest(configuration, {
      rpcService: handle.rpcService,
      haServices: handle.haServices,
      metricRegistries: [handle.rpcMetrics],
    });
  } catch (error) {
    await handle.close();
    throw error;
  }
  io.stdout.write(`JobManager ready at ${handle.address} (pid ${process.pid})\n`);
  io.stdout.write(`REST API and dashboard at ${rest.url}\n`);
  await untilAborted(signal);
  io.stdout.write('JobManager shutting down\n');
  await rest.close();
  await handle.close();
  return EXIT_OK;
}

/** `taskmanager`: one TaskExecutor that follows the cluster's ResourceManager leader. */
export async function taskmanagerCommand(argv: readonly string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const configuration = configurationOf(argv, TASK_MANAGER_FLAG_ALIASES);
  const handle = await runTaskManager(configuration);
  io.stdout.write(
    `TaskManager ${handle.resourceId} ready at ${handle.address} with ${handle.numberOfSlots} slots (pid ${process.pid})\n`,
  );
  await untilAborted(signal);
  io.stdout.write('TaskManager shutting down\n');
  await handle.close();
  return EXIT_OK;
}

export interface MiniClusterCommandOptions {
  readonly taskmanagers: number;
  readonly slots?: number;
  readonly restPort?: number;
  readonly restAddress?: string;
  readonly config?: string;
  readonly define: Readonly<Record<string, string>>;
}

/** `minicluster`: JobManager and TaskManagers in this process (embedded HA), the REST server and the dashboard. */
export async function miniclusterCommand(
  options: MiniClusterCommandOptions,
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const argv = [
    ...(options.config === undefined ? [] : ['--config', options.config]),
    ...Object.entries(options.define).map(([key, value]) => `-D${key}=${value}`),
  ];
  const configuration = configurationOf(argv, {});
  let heartbeat: ReturnType<typeof heartbeatSettings>;
  let registration: ReturnType<typeof registrationSettings>;
  try {
    heartbeat = heartbeatSettings(configuration);
    registration = registrationSettings(configuration);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT_USAGE);
  }
  const checkpointing = checkpointingSettings(configuration);
  const cluster = new MiniCluster({
    taskManagers: options.taskmanagers,
    slotsPerTaskManager: options.slots ?? configuration.get(O.numberOfTaskSlots),
    configuration: {
      heartbeatInterval: heartbeat.interval,
      heartbeatTimeout: heartbeat.timeout,
      heartbeatRpcFailureThreshold: heartbeat.rpcFailureThreshold,
      registration,
      slotRequestTimeout: configuration.get(O.slotRequestTimeout),
      rpcTimeout: configuration.get(O.askTimeout),
      maxRetainedCheckpoints: checkpointing.numRetained,
      ...(checkpointing.dir === undefined ? {} : { checkpointStorageDir: checkpointing.dir }),
    },
  });
  await cluster.start();
  let rest: RestServerHandle;
  try {
    rest = await startRest(
      configuration,
      { rpcService: cluster.getRpcService(), haServices: cluster.getHaServices() },
      {
        ...(options.restPort === undefined ? {} : { port: options.restPort }),
        ...(options.restAddress === undefined ? {} : { address: options.restAddress }),
      },
    );
  } catch (error) {
    await cluster.close();
    throw error;
  }
  const slots = options.slots ?? configuration.get(O.numberOfTaskSlots);
  io.stdout.write(`MiniCluster ready: ${options.taskmanagers} TaskManagers × ${slots} slots (pid ${process.pid})\n`);
  io.stdout.write(`REST API and dashboard at ${rest.url}\n`);
  io.stdout.write(`Submit a job with: flink-rpc run job.json -m ${rest.url}\n`);
  await untilAborted(signal);
  io.stdout.write('MiniCluster shutting down\n');
  await rest.close();
  await cluster.close();
  return EXIT_OK;
}
