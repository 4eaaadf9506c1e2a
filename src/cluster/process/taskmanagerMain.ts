/**
 * A TaskManager process (Flink's TaskManagerRunner): a remote RpcService on `taskmanager.host` and
 * `taskmanager.rpc.port`, the HA services of the configured backend (to find the ResourceManager and JobMaster
 * leaders) and one TaskExecutor with `taskmanager.numberOfTaskSlots` slots. Runnable
 * (`tsx src/cluster/process/taskmanagerMain.ts [--slots N] [-Dkey=value …] [--config file]`) and importable
 * (`runTaskManager(configuration)`).
 *
 * When ready it prints one line: `TaskManager <resource id> ready at <address> with N slots`. SIGINT/SIGTERM stop it
 * cleanly: tasks cancelled, leaders told, port closed, exit code 0.
 */

import { pathToFileURL } from 'node:url';
import type { HighAvailabilityServices } from '../../ha/index.js';
import type { Logger, RpcService } from '../../index.js';
import { type Configuration, loadConfiguration } from '../config/Configuration.js';
import { ClusterOptions as O } from '../config/options.js';
import { registrationSettings } from '../config/settings.js';
import { startTaskManager, type TaskManagerHandle } from '../taskexecutor/startTaskManager.js';
import {
  closeAll,
  createHeartbeatServices,
  createProcessHaServices,
  exitOnSignals,
  startRemoteRpcService,
} from './processServices.js';

/** Short flags of the TaskManager command line. */
export const TASK_MANAGER_FLAG_ALIASES = {
  slots: O.numberOfTaskSlots.key,
  'resource-id': O.taskManagerResourceId.key,
} as const;

/** A running TaskManager process (or one embedded in another program). */
export interface TaskManagerProcessHandle {
  readonly rpcService: RpcService;
  readonly haServices: HighAvailabilityServices;
  readonly taskManager: TaskManagerHandle;
  readonly resourceId: string;
  /** The TaskExecutor's RPC address. */
  readonly address: string;
  readonly numberOfSlots: number;
  /** Cancels the tasks, stops the TaskExecutor, the HA services and the RpcService. Idempotent. */
  close(): Promise<void>;
}

/** Starts a TaskManager from `configuration`. */
export async function runTaskManager(configuration: Configuration, logger?: Logger): Promise<TaskManagerProcessHandle> {
  configuration.validate();
  const host = configuration.get(O.taskManagerHost);
  const rpcService = await startRemoteRpcService(
    configuration,
    host,
    configuration.get(O.taskManagerRpcPort),
    undefined,
    logger,
  );
  const processLogger = (logger ?? rpcService.getLogger()).child({ process: 'taskmanager' });
  let haServices: HighAvailabilityServices | undefined;
  let taskManager: TaskManagerHandle | undefined;
  try {
    haServices = await createProcessHaServices(configuration, 'taskmanager', processLogger);
    const numberOfSlots = configuration.get(O.numberOfTaskSlots);
    const resourceId = configuration.get(O.taskManagerResourceId);
    taskManager = await startTaskManager({
      rpcService,
      haServices,
      numberOfSlots,
      heartbeat: createHeartbeatServices(configuration),
      registration: registrationSettings(configuration),
      taskCancellationTimeout: configuration.get(O.taskCancellationTimeout),
      hostname: host,
      ...(resourceId === undefined ? {} : { resourceId }),
      logger: processLogger,
    });
    const started = taskManager;
    const services = haServices;
    let closing: Promise<void> | undefined;
    return {
      rpcService,
      haServices: services,
      taskManager: started,
      resourceId: started.resourceId,
      address: started.taskExecutor.getAddress(),
      numberOfSlots,
      close: () => {
        closing ??= closeAll([() => started.close(), () => services.close(), () => rpcService.closeAsync()]);
        return closing;
      },
    };
  } catch (error) {
    await closeAll([() => taskManager?.close(), () => haServices?.close(), () => rpcService.closeAsync()]).catch(
      () => {},
    );
    throw error;
  }
}

/** The command-line entry: configuration from the arguments, the ready line, and signal handling. */
export async function main(argv: readonly string[]): Promise<void> {
  const { configuration } = loadConfiguration(argv, { aliases: TASK_MANAGER_FLAG_ALIASES });
  const handle = await runTaskManager(configuration);
  const logger = handle.rpcService.getLogger();
  for (const key of configuration.unknownKeys()) logger.warn({ key }, 'Configuration key not used by the TaskManager.');
  exitOnSignals('TaskManager', () => handle.close(), logger);
  process.stdout.write(
    `TaskManager ${handle.resourceId} ready at ${handle.address} with ${handle.numberOfSlots} slots (pid ${process.pid})\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`TaskManager failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
