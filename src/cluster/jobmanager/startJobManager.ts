/**
 * One JobManager process (Flink's DispatcherResourceManagerComponent): a Dispatcher service and a ResourceManager
 * service on one RpcService, each taking part in its election. With several JobManagers on the same HA backend one
 * leads each component and the others stand by.
 */

import { type HighAvailabilityServices, LeaderGatewayRetriever } from '../../ha/index.js';
import type { HeartbeatServices } from '../../heartbeat/index.js';
import type { Logger, RpcService } from '../../index.js';
import { DispatcherService } from '../dispatcher/DispatcherService.js';
import { DispatcherGateway } from '../gateways.js';
import type { ClusterHaStores } from '../ha/stores.js';
import { DEFAULT_JOB_MASTER_CONFIGURATION, type JobMasterConfiguration } from '../jobmaster/JobMaster.js';
import type { RetryingRegistrationOptions } from '../registration/RetryingRegistration.js';
import type { ResourceManagerOptions } from '../resourcemanager/ResourceManager.js';
import { ResourceManagerService } from '../resourcemanager/ResourceManagerService.js';
import { builtinOperators } from '../task/builtins.js';
import type { RestartStrategyConfig } from '../types.js';

export interface JobManagerOptions {
  readonly rpcService: RpcService;
  readonly haServices: HighAvailabilityServices;
  readonly stores: ClusterHaStores;
  readonly heartbeat: HeartbeatServices;
  /** `cluster.registration.*` for the JobMasters' registration at the ResourceManager. */
  readonly registration?: RetryingRegistrationOptions;
  /** `slot.request.timeout` (Flink: 300 000 ms). */
  readonly slotRequestTimeout?: number;
  /** Timeout of the JobMasters' RPCs to TaskExecutors and the ResourceManager. */
  readonly rpcTimeout?: number;
  /** `state.checkpoints.dir`. */
  readonly checkpointStorageDir?: string;
  /** `state.checkpoints.num-retained` (Flink: 1). */
  readonly maxRetainedCheckpoints?: number;
  /** Checkpointing for jobs that set none (`execution.checkpointing.interval` / `.timeout`). */
  readonly defaultCheckpointing?: { readonly interval?: number; readonly timeout?: number };
  /** Restart strategy for jobs that set none (`restart-strategy.*`). */
  readonly defaultRestartStrategy?: RestartStrategyConfig;
  /** ResourceManager options beyond the heartbeat services. */
  readonly resourceManager?: Omit<ResourceManagerOptions, 'heartbeat'>;
  /** Operator names accepted at submission (default: the built-ins). */
  readonly knownOperators?: (name: string) => boolean;
  readonly logger?: Logger;
}

export interface JobManagerHandle {
  readonly dispatcherService: DispatcherService;
  readonly resourceManagerService: ResourceManagerService;
  /** A gateway to the current Dispatcher leader (of any JobManager of the cluster); waits for one. */
  getDispatcherGateway(timeoutMs: number): Promise<DispatcherGateway>;
  /** Gives up leadership, stops the endpoints of this JobManager. Idempotent. */
  close(): Promise<void>;
}

/** The JobMaster settings a JobManager hands to each of its JobMasters. */
export function jobMasterConfigurationOf(
  options: Omit<JobManagerOptions, 'rpcService' | 'haServices' | 'stores' | 'heartbeat'>,
): JobMasterConfiguration {
  const defaults = DEFAULT_JOB_MASTER_CONFIGURATION;
  return {
    rpcTimeout: options.rpcTimeout ?? defaults.rpcTimeout,
    slotRequestTimeout: options.slotRequestTimeout ?? defaults.slotRequestTimeout,
    registration: options.registration ?? defaults.registration,
    maxRetainedCheckpoints: options.maxRetainedCheckpoints ?? defaults.maxRetainedCheckpoints,
    ...(options.checkpointStorageDir === undefined ? {} : { checkpointStorageDir: options.checkpointStorageDir }),
    ...(options.defaultCheckpointing === undefined ? {} : { defaultCheckpointing: options.defaultCheckpointing }),
    ...(options.defaultRestartStrategy === undefined ? {} : { defaultRestartStrategy: options.defaultRestartStrategy }),
  };
}

/** Starts the Dispatcher and ResourceManager services of one JobManager process. */
export async function startJobManager(options: JobManagerOptions): Promise<JobManagerHandle> {
  const { rpcService, haServices, stores, heartbeat } = options;
  const logger = (options.logger ?? rpcService.getLogger()).child({ process: 'jobmanager' });
  const resourceManagerService = new ResourceManagerService(rpcService, haServices, {
    ...options.resourceManager,
    heartbeat,
    logger,
  });
  const dispatcherService = new DispatcherService({
    rpcService,
    haServices,
    stores,
    heartbeat,
    jobMasterConfiguration: jobMasterConfigurationOf(options),
    knownOperators: options.knownOperators ?? ((name) => builtinOperators.has(name)),
    logger,
  });
  const dispatcherGateway = new LeaderGatewayRetriever(rpcService, DispatcherGateway, { logger });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await dispatcherGateway.close();
      await dispatcherService.close();
      await resourceManagerService.close();
    })();
    return closing;
  };
  try {
    await resourceManagerService.start();
    await dispatcherService.start();
    await dispatcherGateway.start(haServices.getDispatcherLeaderRetriever());
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return {
    dispatcherService,
    resourceManagerService,
    getDispatcherGateway: (timeoutMs) => dispatcherGateway.getGateway(timeoutMs),
    close,
  };
}
