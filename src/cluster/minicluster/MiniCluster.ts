/**
 * A whole cluster in one process (Flink's MiniCluster): one RpcService, embedded HA, HA stores in memory, a
 * JobManager (Dispatcher, ResourceManager, JobMasters) and N TaskManagers. The default for demos and tests.
 *
 * ```ts
 * const cluster = new MiniCluster({ taskManagers: 2, slotsPerTaskManager: 2 });
 * await cluster.start();
 * const result = await cluster.executeJobBlocking(jobGraph);
 * await cluster.close();
 * ```
 */

import { EmbeddedHaServices } from '../../ha/index.js';
import { HeartbeatServices } from '../../heartbeat/index.js';
import { type Logger, type RpcService, RpcSystem } from '../../index.js';
import { Configuration } from '../config/index.js';
import type { DispatcherGateway } from '../gateways.js';
import { createMemoryClusterHaStores } from '../ha/memoryStores.js';
import type { ClusterHaStores } from '../ha/stores.js';
import { type JobManagerHandle, startJobManager } from '../jobmanager/startJobManager.js';
import {
  DEFAULT_REGISTRATION_OPTIONS,
  type RetryingRegistrationOptions,
} from '../registration/RetryingRegistration.js';
import { startTaskManager, type TaskManagerHandle } from '../taskexecutor/startTaskManager.js';
import type { JobGraph, JobId, JobResult } from '../types.js';
import { type MiniClusterConfiguration, miniClusterConfigurationOf } from './configuration.js';

export type { MiniClusterConfiguration } from './configuration.js';

export interface MiniClusterOptions {
  /** TaskManagers started with the cluster (default 1). */
  readonly taskManagers?: number;
  /** Slots of every TaskManager (default 1). */
  readonly slotsPerTaskManager?: number;
  /** Typed settings, or a Flink-style configuration (mapped by {@link miniClusterConfigurationOf}). */
  readonly configuration?: MiniClusterConfiguration | Configuration;
  /** Run on a TCP RpcService on loopback (reachable from other processes) instead of an in-process one. */
  readonly remote?: boolean;
  /** Serialize even calls within the service, as if every component were remote (a test aid). */
  readonly forceInvocationSerialization?: boolean;
  readonly logger?: Logger;
}

/** Pause before asking the Dispatcher again after its leadership moved. */
const LEADER_CHANGE_RETRY_DELAY = 50;

/** The Dispatcher asked stopped leading (or stopped): a new leader will answer. */
function isLeaderChange(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return (
    name === 'JobNotFinishedException' ||
    name === 'FencingTokenException' ||
    name === 'RecipientUnreachableException' ||
    name === 'EndpointNotStartedException'
  );
}

/** How long cluster calls wait for the Dispatcher leader. */
const DISPATCHER_LOOKUP_TIMEOUT = 30_000;
/** requestJobResult is a long poll: one ask waits this long, then the next one takes over. */
const JOB_RESULT_TIMEOUT = 3_600_000;

export class MiniCluster {
  private rpcService: RpcService | undefined;
  private haServices: EmbeddedHaServices | undefined;
  private stores: ClusterHaStores | undefined;
  private heartbeat: HeartbeatServices | undefined;
  private jobManager: JobManagerHandle | undefined;
  private readonly taskManagers: (TaskManagerHandle | undefined)[] = [];
  private readonly configuration: MiniClusterConfiguration;
  private readonly registration: RetryingRegistrationOptions;
  private state: 'created' | 'starting' | 'running' | 'closing' | 'closed' = 'created';
  private closing: Promise<void> | undefined;

  constructor(private readonly options: MiniClusterOptions = {}) {
    this.configuration =
      options.configuration instanceof Configuration
        ? miniClusterConfigurationOf(options.configuration)
        : (options.configuration ?? {});
    this.registration = { ...DEFAULT_REGISTRATION_OPTIONS, ...this.configuration.registration };
    const taskManagers = options.taskManagers ?? 1;
    const slots = options.slotsPerTaskManager ?? 1;
    if (!Number.isInteger(taskManagers) || taskManagers < 0) {
      throw new RangeError(`taskManagers must be a non-negative integer, was ${taskManagers}.`);
    }
    if (!Number.isInteger(slots) || slots < 1) {
      throw new RangeError(`slotsPerTaskManager must be a positive integer, was ${slots}.`);
    }
  }

  /** Starts the RpcService, the HA services, the JobManager and the TaskManagers. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error('A MiniCluster can be started once.');
    this.state = 'starting';
    const configuration = this.configuration;
    try {
      const rpcSystem = RpcSystem.load();
      const rpcConfig = {
        ...(configuration.rpcTimeout === undefined ? {} : { askTimeout: configuration.rpcTimeout }),
        ...(this.options.forceInvocationSerialization ? { forceInvocationSerialization: true } : {}),
        ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
      };
      this.rpcService = this.options.remote
        ? await rpcSystem.remoteServiceBuilder(rpcConfig, '127.0.0.1', '0').createAndStart()
        : await rpcSystem.localServiceBuilder(rpcConfig).createAndStart();
      this.haServices = new EmbeddedHaServices(
        this.options.logger === undefined ? {} : { logger: this.options.logger },
      );
      this.stores = createMemoryClusterHaStores();
      this.heartbeat = new HeartbeatServices(
        configuration.heartbeatInterval,
        configuration.heartbeatTimeout,
        configuration.heartbeatRpcFailureThreshold,
      );
      this.jobManager = await startJobManager({
        rpcService: this.rpcService,
        haServices: this.haServices,
        stores: this.stores,
        heartbeat: this.heartbeat,
        registration: this.registration,
        ...(configuration.slotRequestTimeout === undefined
          ? {}
          : { slotRequestTimeout: configuration.slotRequestTimeout }),
        ...(configuration.rpcTimeout === undefined ? {} : { rpcTimeout: configuration.rpcTimeout }),
        ...(configuration.checkpointStorageDir === undefined
          ? {}
          : { checkpointStorageDir: configuration.checkpointStorageDir }),
        ...(configuration.maxRetainedCheckpoints === undefined
          ? {}
          : { maxRetainedCheckpoints: configuration.maxRetainedCheckpoints }),
        ...(configuration.defaultCheckpointing === undefined
          ? {}
          : { defaultCheckpointing: configuration.defaultCheckpointing }),
        ...(configuration.defaultRestartStrategy === undefined
          ? {}
          : { defaultRestartStrategy: configuration.defaultRestartStrategy }),
        ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
      });
      this.state = 'running';
      for (let i = 0; i < (this.options.taskManagers ?? 1); i++) await this.startTaskManager();
    } catch (error) {
      await this.close().catch(() => {});
      throw error;
    }
  }

  /** Starts one more TaskManager; resolves with its index (for {@link terminateTaskManager}). */
  async startTaskManager(): Promise<number> {
    if (this.state !== 'running' || this.rpcService === undefined || this.haServices === undefined) {
      throw new Error('The MiniCluster is not running.');
    }
    const handle = await startTaskManager({
      rpcService: this.rpcService,
      haServices: this.haServices,
      numberOfSlots: this.options.slotsPerTaskManager ?? 1,
      heartbeat: this.heartbeat as HeartbeatServices,
      registration: this.registration,
      ...(this.configuration.taskCancellationTimeout === undefined
        ? {}
        : { taskCancellationTimeout: this.configuration.taskCancellationTimeout }),
      ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
    });
    this.taskManagers.push(handle);
    return this.taskManagers.length - 1;
  }

  /** Stops the TaskManager with this index (its slots and tasks are lost to the cluster). */
  async terminateTaskManager(index: number): Promise<void> {
    const handle = this.taskManagers[index];
    if (handle === undefined) throw new RangeError(`No running TaskManager with index ${index}.`);
    this.taskManagers[index] = undefined;
    await handle.close();
  }

  /** The running TaskManagers (terminated ones are left out). */
  getTaskManagers(): TaskManagerHandle[] {
    return this.taskManagers.filter((handle): handle is TaskManagerHandle => handle !== undefined);
  }

  /** The JobManager (Dispatcher and ResourceManager services). */
  getJobManager(): JobManagerHandle {
    if (this.jobManager === undefined) throw new Error('The MiniCluster is not running.');
    return this.jobManager;
  }

  getRpcService(): RpcService {
    if (this.rpcService === undefined) throw new Error('The MiniCluster is not running.');
    return this.rpcService;
  }

  getHaServices(): EmbeddedHaServices {
    if (this.haServices === undefined) throw new Error('The MiniCluster is not running.');
    return this.haServices;
  }

  getHaStores(): ClusterHaStores {
    if (this.stores === undefined) throw new Error('The MiniCluster is not running.');
    return this.stores;
  }

  getDispatcherGateway(): Promise<DispatcherGateway> {
    return this.getJobManager().getDispatcherGateway(DISPATCHER_LOOKUP_TIMEOUT);
  }

  async submitJob(graph: JobGraph): Promise<JobId> {
    const dispatcher = await this.getDispatcherGateway();
    return dispatcher.submitJob(graph, this.configuration.rpcTimeout ?? 10_000);
  }

  /**
   * Waits until the job reached a globally terminal state, asking the Dispatcher leader again when leadership moves
   * while waiting.
   */
  async requestJobResult(jobId: JobId): Promise<JobResult> {
    for (;;) {
      const dispatcher = await this.getDispatcherGateway();
      try {
        return await dispatcher.requestJobResult(jobId, JOB_RESULT_TIMEOUT);
      } catch (error) {
        if (this.state !== 'running') throw error;
        if ((error as Error | undefined)?.name === 'RpcTimeoutException') continue;
        if (!isLeaderChange(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, LEADER_CHANGE_RETRY_DELAY));
      }
    }
  }

  /** Submits the job and waits for its result (Flink's `executeJobBlocking`). */
  async executeJobBlocking(graph: JobGraph): Promise<JobResult> {
    return this.requestJobResult(await this.submitJob(graph));
  }

  /** Stops TaskManagers, JobManager, HA services and the RpcService. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    const errors: unknown[] = [];
    const attempt = async (step: () => Promise<void> | undefined): Promise<void> => {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    };
    await attempt(() => this.jobManager?.close());
    await Promise.all(this.getTaskManagers().map((handle) => attempt(() => handle.close())));
    this.taskManagers.length = 0;
    await attempt(() => this.haServices?.closeAndCleanupAllData());
    await attempt(() => this.stores?.close());
    await attempt(() => this.rpcService?.closeAsync());
    this.state = 'closed';
    if (errors.length > 0) throw new AggregateError(errors, 'The MiniCluster did not shut down cleanly.');
  }
}
