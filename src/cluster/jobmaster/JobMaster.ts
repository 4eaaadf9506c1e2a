/**
 * The JobMaster of one job under one leadership (Flink's JobMaster with its scheduler, declarative slot pool and
 * checkpoint coordinator): it registers at the ResourceManager leader and declares the slots it needs, accepts the
 * slots TaskExecutors offer, deploys one task per subtask, follows their states, heartbeats the TaskExecutors,
 * coordinates checkpoints and restarts the job from the latest completed checkpoint after a failure, as the restart
 * strategy allows.
 *
 * All state is touched in the endpoint's main thread; continuations of remote calls come back through the main-thread
 * executor and are dropped once the endpoint terminated.
 */

import type { HighAvailabilityServices } from '../../ha/index.js';
import type { HeartbeatManager, HeartbeatServices } from '../../heartbeat/index.js';
import { FencedRpcEndpoint, type Logger, type RpcService, type ScheduledTask } from '../../index.js';
import {
  deserializeError,
  ExecutionAttemptNotFoundException,
  NoResourceAvailableException,
  serializeError,
  UnknownComponentException,
} from '../errors.js';
import { JobMasterGateway, TaskExecutorGateway } from '../gateways.js';
import type { CheckpointIdCounter, CompletedCheckpointStore } from '../ha/stores.js';
import {
  DEFAULT_REGISTRATION_OPTIONS,
  type RetryingRegistrationOptions,
} from '../registration/RetryingRegistration.js';
import type { RestartBackoffTimeStrategy } from '../restart/restartStrategies.js';
import type {
  AllocationId,
  CheckpointAcknowledgement,
  CheckpointStats,
  CompletedCheckpoint,
  ExecutionAttemptId,
  JobDetails,
  JobExceptions,
  JobId,
  JobMasterId,
  JobMasterTaskManagerRegistrationSuccess,
  JobResult,
  JobStatus,
  RegistrationResponse,
  ResourceId,
  ResourceManagerId,
  RestartStrategyConfig,
  SerializedError,
  SlotOffer,
  TaskDeploymentDescriptor,
  TaskExecutionState,
  TaskExecutorToJobManagerHeartbeatPayload,
  TaskManagerRegistrationInfo,
  TaskStateHandle,
  ValidatedJobGraph,
} from '../types.js';
import { TERMINAL_EXECUTION_STATES } from '../types.js';
import type { ArchivedJob } from './ArchivedJob.js';
import { CheckpointCoordinator, type CheckpointTask, DEFAULT_CHECKPOINT_TIMEOUT } from './CheckpointCoordinator.js';
import { ExceptionHistory } from './ExceptionHistory.js';
import { type Execution, ExecutionGraph } from './ExecutionGraph.js';
import { ResourceManagerConnection } from './ResourceManagerConnection.js';
import { type PooledSlot, SlotPool } from './SlotPool.js';

/** Settings of a JobMaster (Flink's option names in the comments), milliseconds. */
export interface JobMasterConfiguration {
  /** Timeout of the JobMaster's own RPCs to TaskExecutors and the ResourceManager (`pekko.ask.timeout`). */
  readonly rpcTimeout: number;
  /** `slot.request.timeout`: how long the job waits for all its slots before failing (Flink: 300 000). */
  readonly slotRequestTimeout: number;
  /** `cluster.registration.*` for the registration at the ResourceManager. */
  readonly registration: RetryingRegistrationOptions;
  /** `state.checkpoints.dir`: handed to tasks for snapshots too large to travel inline. */
  readonly checkpointStorageDir?: string;
  /** `state.checkpoints.num-retained` (Flink: 1). */
  readonly maxRetainedCheckpoints: number;
  /**
   * Cluster-wide checkpointing for jobs whose graph sets none (`execution.checkpointing.interval` / `.timeout`);
   * a graph's own settings win, as in Flink.
   */
  readonly defaultCheckpointing?: { readonly interval?: number; readonly timeout?: number };
  /** Cluster-wide restart strategy (`restart-strategy.*`) for jobs whose graph sets none. */
  readonly defaultRestartStrategy?: RestartStrategyConfig;
}

/** The job graph with the cluster-wide defaults filled in where the graph itself sets nothing. */
export function withClusterDefaults(
  graph: ValidatedJobGraph,
  configuration: JobMasterConfiguration,
): ValidatedJobGraph {
  const defaults = configuration.defaultCheckpointing;
  const interval = graph.checkpointing?.interval ?? defaults?.interval;
  const timeout = graph.checkpointing?.timeout ?? defaults?.timeout;
  const restartStrategy = graph.restartStrategy ?? configuration.defaultRestartStrategy;
  return {
    ...graph,
    ...(interval === undefined && timeout === undefined
      ? {}
      : {
          checkpointing: {
            ...(interval === undefined ? {} : { interval }),
            ...(timeout === undefined ? {} : { timeout }),
          },
        }),
    ...(restartStrategy === undefined ? {} : { restartStrategy }),
  };
}

export const DEFAULT_JOB_MASTER_CONFIGURATION: JobMasterConfiguration = Object.freeze({
  rpcTimeout: 10_000,
  slotRequestTimeout: 300_000,
  registration: DEFAULT_REGISTRATION_OPTIONS,
  maxRetainedCheckpoints: 1,
});

export interface JobMasterArgs {
  readonly rpcService: RpcService;
  readonly jobMasterId: JobMasterId;
  readonly jobGraph: ValidatedJobGraph;
  readonly haServices: HighAvailabilityServices;
  readonly heartbeat: HeartbeatServices;
  readonly configuration: JobMasterConfiguration;
  readonly checkpointStore: CompletedCheckpointStore;
  readonly checkpointIdCounter: CheckpointIdCounter;
  readonly restartStrategy: RestartBackoffTimeStrategy;
  /** When the job was submitted (kept across JobMasters of the same job). */
  readonly startTime: number;
  /** A cancellation requested before this JobMaster existed. */
  readonly cancelRequested?: boolean;
  /** Called once, in the main thread, when the job reached a globally terminal state. */
  readonly onJobReachedTerminalState: (archive: ArchivedJob) => void;
  readonly logger?: Logger;
}

interface RegisteredTaskManager {
  readonly resourceId: ResourceId;
  readonly sessionId: string;
  readonly address: string;
  readonly gateway: TaskExecutorGateway;
}

export class JobMaster extends FencedRpcEndpoint<JobMasterId> implements JobMasterGateway {
  static readonly gateways = [JobMasterGateway];

  /** This JobMaster's resource id: the sender id of its heartbeats, unique per leadership. */
  readonly resourceId: ResourceId;
  private readonly jobId: JobId;
  private readonly graph: ExecutionGraph;
  private readonly logger: Logger;
  private readonly configuration: JobMasterConfiguration;
  private readonly checkpoints: CheckpointCoordinator;
  private readonly taskManagers = new Map<ResourceId, RegisteredTaskManager>();
  private readonly slotPool = new SlotPool();
  private taskManagerHeartbeats: HeartbeatManager<TaskExecutorToJobManagerHeartbeatPayload, AllocationId[]> | undefined;
  private resourceManager: ResourceManagerConnection | undefined;
  private slotRequestTimer: ScheduledTask<void> | undefined;
  private restartTimer: ScheduledTask<void> | undefined;
  /** What to do once every execution reached a terminal state (a restart, or the job's final state). */
  private whenAllTerminal: (() => void) | undefined;
  /** The checkpoint the current attempts restore from. */
  private restoreCheckpoint: CompletedCheckpoint | undefined;
  private numRestarts = 0;
  private readonly exceptionHistory = new ExceptionHistory();
  private failureCause: SerializedError | undefined;
  private archive: ArchivedJob | undefined;
  private cancelRequested: boolean;
  private stopped = false;

  constructor(private readonly args: JobMasterArgs) {
    const instanceId = crypto.randomUUID();
    super(args.rpcService, args.jobMasterId, `jobmaster-${args.jobGraph.jobId}-${instanceId}`);
    this.jobId = args.jobGraph.jobId;
    // Unique per JobMaster instance, even where every leadership has the same session id (standalone HA).
    this.resourceId = `jobmanager-${this.jobId}-${instanceId}`;
    this.configuration = args.configuration;
    this.cancelRequested = args.cancelRequested ?? false;
    this.logger = (args.logger ?? args.rpcService.getLogger()).child({
      component: 'JobMaster',
      jobId: this.jobId,
      jobMasterId: args.jobMasterId,
    });
    this.graph = new ExecutionGraph(args.jobGraph, args.startTime);
    const checkpointing = args.jobGraph.checkpointing;
    this.checkpoints = new CheckpointCoordinator({
      jobId: this.jobId,
      mainThread: this.getMainThreadExecutor(),
      store: args.checkpointStore,
      counter: args.checkpointIdCounter,
      interval: checkpointing?.interval,
      timeout: checkpointing?.timeout ?? DEFAULT_CHECKPOINT_TIMEOUT,
      logger: this.logger,
      tasksToTrigger: () => this.tasksToTrigger(),
      finishedTaskKeys: () =>
        new Set(this.graph.executions.filter((e) => e.state === 'FINISHED').map((execution) => execution.key)),
      ...(args.configuration.checkpointStorageDir === undefined
        ? {}
        : { checkpointStorageDir: args.configuration.checkpointStorageDir }),
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Lifecycle

  protected override onStart(): void {
    const mainThread = this.getMainThreadExecutor();
    this.taskManagerHeartbeats = this.args.heartbeat.createHeartbeatManagerSender(
      this.resourceId,
      {
        notifyHeartbeatTimeout: (resourceId) =>
          this.disconnectTaskManagerInternal(
            resourceId,
            new Error(`Heartbeat of TaskManager with id ${resourceId} timed out.`),
            true,
          ),
        notifyTargetUnreachable: (resourceId) =>
          this.disconnectTaskManagerInternal(
            resourceId,
            new Error(`TaskManager with id ${resourceId} is no longer reachable.`),
            true,
          ),
        reportPayload: (resourceId, payload) => this.reconcileDeployments(resourceId, payload),
        retrievePayload: (resourceId) => this.slotPool.allocationsOn(resourceId),
      },
      mainThread,
      this.logger,
    );
    this.resourceManager = new ResourceManagerConnection({
      rpcService: this.getRpcService(),
      haServices: this.args.haServices,
      heartbeat: this.args.heartbeat,
      registration: this.configuration.registration,
      rpcTimeout: this.configuration.rpcTimeout,
      jobId: this.jobId,
      jobMasterId: this.getFencingToken(),
      resourceId: this.resourceId,
      jobMasterAddress: this.getAddress(),
      mainThread,
      logger: this.logger,
      requiredSlots: () => this.requiredSlots(),
      jobStatus: () => this.graph.getStatus(),
    });
    this.resourceManager.start();

    mainThread
      .thenApply(
        this.checkpoints.restoreLatestCheckpoint(),
        (latest) => this.startScheduling(latest),
        (error: unknown) => this.failJobDirectly(error),
      )
      .catch(() => {
        // Terminated before the store answered: nothing to schedule.
      });
  }

  protected override async onStop(): Promise<void> {
    this.stopped = true;
    this.checkpoints.shutdown('The JobMaster is stopping.');
    this.slotRequestTimer?.cancel();
    this.restartTimer?.cancel();
    this.taskManagerHeartbeats?.stop();
    const terminal = this.archive !== undefined;
    const cause = serializeError(
      new Error(
        terminal ? `Stopping JobMaster for job ${this.jobId}.` : `JobMaster for job ${this.jobId} lost leadership.`,
      ),
    );
    // Best effort, never awaited: a peer that is gone must not hold up the stop.
    for (const taskManager of this.taskManagers.values()) {
      if (!terminal) {
        for (const execution of this.graph.executions) {
          if (
            execution.slot?.resourceId === taskManager.resourceId &&
            !TERMINAL_EXECUTION_STATES.has(execution.state)
          ) {
            taskManager.gateway.cancelTask(execution.attemptId, this.configuration.rpcTimeout).catch(() => {});
          }
        }
      }
      taskManager.gateway.disconnectJobManager(this.jobId, cause).catch(() => {});
    }
    this.taskManagers.clear();
    await this.resourceManager?.close(terminal ? this.graph.getStatus() : 'SUSPENDED', cause.message);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Read models

  /** The job's final state once it reached one. */
  getArchivedJob(): ArchivedJob | undefined {
    return this.archive;
  }

  async requestJobStatus(): Promise<JobStatus> {
    return this.graph.getStatus();
  }

  async requestJob(): Promise<JobDetails> {
    return this.graph.toDetails(this.numRestarts, this.checkpoints.getLatestCompleted());
  }

  async requestCheckpointStats(): Promise<CheckpointStats> {
    return this.checkpoints.getStats();
  }

  async requestJobExceptions(): Promise<JobExceptions> {
    return this.jobExceptions();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Scheduling, deployment and failover

  private startScheduling(latest: CompletedCheckpoint | undefined): void {
    if (this.stopped || this.graph.isTerminal()) return;
    this.graph.transitionJob('CREATED');
    this.graph.transitionJob('RUNNING');
    this.logger.info({ restoreCheckpoint: latest?.checkpointId }, 'Job is running: requesting slots.');
    this.schedule(latest);
    if (this.cancelRequested) this.cancelJob();
  }

  private schedule(latest: CompletedCheckpoint | undefined): void {
    this.restoreCheckpoint = latest;
    for (const execution of this.graph.executions) this.graph.transition(execution, 'SCHEDULED');
    this.declareRequiredResources();
    this.slotRequestTimer?.cancel();
    this.slotRequestTimer = this.scheduleRunAsync(() => {
      this.slotRequestTimer = undefined;
      if (this.graph.getStatus() !== 'RUNNING') return;
      if (this.graph.executions.some((execution) => execution.state === 'SCHEDULED')) {
        this.handleGlobalFailure(new NoResourceAvailableException('Could not acquire the minimum required resources.'));
      }
    }, this.configuration.slotRequestTimeout);
    this.checkpoints.startCheckpointScheduler();
    this.tryDeploy();
  }

  private requiredSlots(): number {
    if (this.graph.isTerminal() || this.archive !== undefined) return 0;
    return this.graph.executions.length;
  }

  /** Deploys every waiting execution once the job holds a free slot for each of them. */
  private tryDeploy(): void {
    if (this.stopped || this.graph.getStatus() !== 'RUNNING') return;
    const waiting = this.graph.executions.filter((execution) => execution.state === 'SCHEDULED');
    if (waiting.length === 0) return;
    const free = this.slotPool.freeSlots((resourceId) => this.taskManagers.has(resourceId));
    if (free.length < waiting.length) return;
    this.slotRequestTimer?.cancel();
    this.slotRequestTimer = undefined;
    waiting.forEach((execution, i) => {
      const slot = free[i] as PooledSlot;
      slot.assignedTo = execution.attemptId;
      execution.slot = { allocationId: slot.allocationId, resourceId: slot.resourceId, slotIndex: slot.slotIndex };
      this.deploy(execution);
    });
  }

  private deploy(execution: Execution): void {
    const slot = execution.slot;
    const taskManager = slot === undefined ? undefined : this.taskManagers.get(slot.resourceId);
    if (slot === undefined || taskManager === undefined) {
      this.failExecution(execution, new Error(`The slot of task ${taskName(execution)} is gone.`));
      return;
    }
    this.graph.transition(execution, 'DEPLOYING');
    const restore = this.restoreCheckpoint;
    const restoreState: TaskStateHandle | undefined = restore?.taskStates[execution.key];
    const checkpointingEnabled = this.checkpoints.periodicCheckpointingEnabled;
    const tdd: TaskDeploymentDescriptor = {
      jobId: this.jobId,
      jobName: this.graph.jobName,
      vertexId: execution.vertex.id,
      vertexName: execution.vertex.name ?? execution.vertex.id,
      subtaskIndex: execution.subtaskIndex,
      parallelism: execution.vertex.parallelism,
      attemptNumber: execution.attemptNumber,
      executionAttemptId: execution.attemptId,
      allocationId: slot.allocationId,
      operator: execution.vertex.operator,
      config: { ...(execution.vertex.config ?? {}) },
      ...(restoreState === undefined || restore === undefined
        ? {}
        : { restoreState, restoreCheckpointId: restore.checkpointId }),
      ...(this.configuration.checkpointStorageDir === undefined
        ? {}
        : { checkpointStorageDir: this.configuration.checkpointStorageDir }),
      checkpointingEnabled,
    };
    const attemptId = execution.attemptId;
    this.logger.debug({ task: taskName(execution), attemptId, taskManager: slot.resourceId }, 'Deploying task.');
    taskManager.gateway
      .submitTask(tdd, this.getFencingToken(), this.configuration.rpcTimeout)
      .catch((error: unknown) => {
        this.runAsync(() => {
          if (execution.attemptId !== attemptId || TERMINAL_EXECUTION_STATES.has(execution.state)) return;
          if (execution.state === 'CANCELING') {
            this.markTerminal(execution, 'CANCELED');
            return;
          }
          this.failExecution(execution, error);
        });
      });
  }

  private failExecution(execution: Execution, error: unknown): void {
    const serialized = serializeError(error);
    if (!this.graph.transition(execution, 'FAILED', serialized)) return;
    this.onExecutionTerminal(execution);
    this.handleGlobalFailure(error, execution);
  }

  private markTerminal(execution: Execution, state: 'CANCELED' | 'FAILED' | 'FINISHED', error?: unknown): void {
    if (!this.graph.transition(execution, state, error === undefined ? undefined : serializeError(error))) return;
    this.onExecutionTerminal(execution);
  }

  private onExecutionTerminal(execution: Execution): void {
    const allocationId = execution.slot?.allocationId;
    if (allocationId !== undefined) this.slotPool.release(allocationId, execution.attemptId);
    if (execution.state === 'FINISHED') this.checkpoints.notifyTaskFinished(execution.attemptId);
    this.checkAllTerminal();
  }

  private checkAllTerminal(): void {
    if (this.whenAllTerminal !== undefined && this.graph.allTerminal()) {
      const next = this.whenAllTerminal;
      this.whenAllTerminal = undefined;
      next();
    }
  }

  /**
   * A failure of the whole job (a task failed, a TaskExecutor was lost, slots did not come): record it, ask the
   * restart strategy, then cancel every task and either restart from the latest checkpoint or fail the job.
   * Failures while the job already fails, restarts or is cancelled are only recorded.
   */
  private handleGlobalFailure(error: unknown, execution?: Execution): void {
    const cause = error instanceof Error ? error : deserializeError(serializeError(error));
    this.recordException(cause, execution);
    const status = this.graph.getStatus();
    if (status !== 'RUNNING' && status !== 'CREATED') return;
    this.logger.info({ err: cause, task: execution === undefined ? undefined : taskName(execution) }, 'Job failure.');
    this.checkpoints.stopCheckpointScheduler();
    this.checkpoints.abortPendingCheckpoints(`The job is failing over: ${cause.message}`);
    this.slotRequestTimer?.cancel();
    this.slotRequestTimer = undefined;
    this.args.restartStrategy.notifyFailure(cause, Date.now());
    if (this.args.restartStrategy.canRestart()) {
      const restartAt = Date.now() + Math.max(0, this.args.restartStrategy.getBackoffTime());
      this.graph.transitionJob('RESTARTING');
      this.cancelAllExecutions(() => {
        this.restartTimer = this.scheduleRunAsync(() => this.restart(), Math.max(0, restartAt - Date.now()));
      });
    } else {
      this.failureCause = serializeError(cause);
      this.graph.transitionJob('FAILING');
      this.cancelAllExecutions(() => this.jobReachedTerminalState('FAILED'));
    }
  }

  private restart(): void {
    this.restartTimer = undefined;
    if (this.stopped || this.graph.getStatus() !== 'RESTARTING') return;
    this.numRestarts += 1;
    this.graph.resetForRestart();
    this.slotPool.releaseAll();
    this.getMainThreadExecutor()
      .thenApply(
        this.checkpoints.restoreLatestCheckpoint(),
        (latest) => {
          if (this.stopped || this.graph.getStatus() !== 'RESTARTING') return;
          this.logger.info({ restoreCheckpoint: latest?.checkpointId, restart: this.numRestarts }, 'Restarting job.');
          this.graph.transitionJob('RUNNING');
          this.schedule(latest);
        },
        (error: unknown) => this.failJobDirectly(error),
      )
      .catch(() => {});
  }

  /** Cancels every execution that is not terminal; `then` runs once all are. */
  private cancelAllExecutions(then: () => void): void {
    this.whenAllTerminal = then;
    for (const execution of this.graph.executions) {
      if (TERMINAL_EXECUTION_STATES.has(execution.state) || execution.state === 'CANCELING') continue;
      const taskManager = execution.slot === undefined ? undefined : this.taskManagers.get(execution.slot.resourceId);
      if (execution.state === 'CREATED' || execution.state === 'SCHEDULED' || taskManager === undefined) {
        this.markTerminal(execution, 'CANCELED');
        continue;
      }
      this.graph.transition(execution, 'CANCELING');
      const attemptId = execution.attemptId;
      taskManager.gateway.cancelTask(attemptId, this.configuration.rpcTimeout).catch((error: unknown) => {
        this.runAsync(() => {
          if (execution.attemptId !== attemptId || execution.state !== 'CANCELING') return;
          this.logger.debug({ err: error, task: taskName(execution) }, 'Cancelling a task failed: considered gone.');
          this.markTerminal(execution, 'CANCELED');
        });
      });
    }
    this.checkAllTerminal();
  }

  /** Cancels the job (client request): every task is cancelled, every slot freed, the job ends CANCELED. */
  private cancelJob(): void {
    const status = this.graph.getStatus();
    if (this.graph.isTerminal() || status === 'CANCELLING') return;
    if (status === 'INITIALIZING') {
      this.cancelRequested = true;
      return;
    }
    this.logger.info('Cancelling job.');
    this.checkpoints.shutdown('The job is cancelled.');
    this.slotRequestTimer?.cancel();
    this.restartTimer?.cancel();
    this.graph.transitionJob('CANCELLING');
    this.cancelAllExecutions(() => this.jobReachedTerminalState('CANCELED'));
  }

  /** A failure outside of the tasks (e.g. the HA store could not be read): the job fails without restart. */
  private failJobDirectly(error: unknown): void {
    if (this.stopped || this.graph.isTerminal()) return;
    this.logger.error({ err: error }, 'Job failed: could not recover its checkpoints.');
    this.failureCause = serializeError(error);
    this.recordException(error instanceof Error ? error : new Error(String(error)));
    if (!this.graph.transitionJob('FAILING')) this.graph.transitionJob('FAILED');
    this.cancelAllExecutions(() => this.jobReachedTerminalState('FAILED'));
  }

  private jobReachedTerminalState(status: 'FINISHED' | 'CANCELED' | 'FAILED'): void {
    if (this.archive !== undefined) return;
    this.graph.transitionJob(status);
    this.checkpoints.shutdown(`The job reached state ${status}.`);
    this.slotRequestTimer?.cancel();
    this.restartTimer?.cancel();
    const cause = serializeError(new Error(`Job ${this.jobId} reached the terminal state ${status}.`));
    for (const slot of this.slotPool.drain()) {
      this.taskManagers
        .get(slot.resourceId)
        ?.gateway.freeSlot(slot.allocationId, cause, this.configuration.rpcTimeout)
        .catch((error: unknown) => this.logger.debug({ err: error }, 'Could not free a slot.'));
    }
    const result: JobResult = {
      jobId: this.jobId,
      jobName: this.graph.jobName,
      status,
      startTime: this.graph.startTime,
      endTime: Date.now(),
      ...(status === 'FAILED' && this.failureCause !== undefined ? { failureCause: this.failureCause } : {}),
    };
    this.archive = {
      result,
      overview: this.graph.toOverview(),
      details: this.graph.toDetails(this.numRestarts, this.checkpoints.getLatestCompleted()),
      checkpointStats: this.checkpoints.getStats(),
      exceptions: this.jobExceptions(),
    };
    this.declareRequiredResources();
    this.logger.info({ status, numRestarts: this.numRestarts }, 'Job reached a terminal state.');
    try {
      this.args.onJobReachedTerminalState(this.archive);
    } catch (error) {
      this.logger.error({ err: error }, 'The terminal-state listener threw.');
    }
  }

  private recordException(error: unknown, execution?: Execution): void {
    this.exceptionHistory.record(
      error,
      execution === undefined
        ? undefined
        : {
            taskName: taskName(execution),
            ...(execution.slot === undefined ? {} : { taskManagerId: execution.slot.resourceId }),
          },
    );
  }

  private jobExceptions(): JobExceptions {
    return this.exceptionHistory.toJobExceptions();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Task execution states

  async updateTaskExecutionState(state: TaskExecutionState): Promise<void> {
    if (typeof state !== 'object' || state === null || typeof state.executionAttemptId !== 'string') {
      throw new TypeError('updateTaskExecutionState needs a task execution state with an execution attempt id.');
    }
    if (state.jobId !== this.jobId) {
      throw new ExecutionAttemptNotFoundException(
        `The execution attempt ${state.executionAttemptId} was not found: this JobMaster runs job ${this.jobId}.`,
      );
    }
    const execution = this.graph.findAttempt(state.executionAttemptId);
    if (execution === undefined) {
      throw new ExecutionAttemptNotFoundException(`The execution attempt ${state.executionAttemptId} was not found.`);
    }
    switch (state.state) {
      case 'CREATED':
      case 'SCHEDULED':
      case 'DEPLOYING':
      case 'INITIALIZING':
      case 'RUNNING':
        // Intermediate states only move forward; a late one (e.g. RUNNING after CANCELING) changes nothing.
        this.graph.transition(execution, state.state);
        return;
      case 'CANCELING':
        // Only a cancellation this JobMaster asked for shows as CANCELING; otherwise the CANCELED that follows
        // is a failure of the task.
        if (!this.cancellationExpected()) return;
        this.graph.transition(execution, 'CANCELING');
        return;
      case 'FINISHED':
        this.markTerminal(execution, 'FINISHED');
        if (this.graph.getStatus() === 'RUNNING' && this.graph.allInState('FINISHED')) {
          this.jobReachedTerminalState('FINISHED');
        }
        return;
      case 'CANCELED': {
        if (this.cancellationExpected()) {
          this.markTerminal(execution, 'CANCELED');
          return;
        }
        const cause = new Error(`Task ${taskName(execution)} was cancelled by its TaskExecutor.`);
        this.failExecution(execution, cause);
        return;
      }
      case 'FAILED': {
        const error =
          typeof state.error?.message === 'string' && typeof state.error.name === 'string'
            ? deserializeError(state.error)
            : new Error('The task failed.');
        if (execution.state === 'CANCELING') {
          this.markTerminal(execution, 'CANCELED');
          return;
        }
        this.failExecution(execution, error);
        return;
      }
      default:
        throw new TypeError(`Unexpected execution state ${String(state.state)}.`);
    }
  }

  /** True while the JobMaster itself cancels tasks (failover, cancellation, failing): not while the job runs. */
  private cancellationExpected(): boolean {
    const status = this.graph.getStatus();
    return status !== 'RUNNING' && status !== 'CREATED';
  }

  // ---------------------------------------------------------------------------------------------------------------
  // TaskExecutors: registration, slot offers, heartbeats

  registerTaskManager(
    jobId: JobId,
    info: TaskManagerRegistrationInfo,
    _timeoutMs: number,
  ): Promise<RegistrationResponse<JobMasterTaskManagerRegistrationSuccess>> {
    const success: RegistrationResponse<JobMasterTaskManagerRegistrationSuccess> = {
      kind: 'success',
      value: { jobMasterResourceId: this.resourceId },
    };
    if (jobId !== this.jobId) {
      return Promise.resolve({
        kind: 'rejection',
        reason: `The JobManager is not responsible for job ${String(jobId)}. Maybe the TaskManager used outdated connection information.`,
      });
    }
    if (
      typeof info !== 'object' ||
      info === null ||
      typeof info.resourceId !== 'string' ||
      typeof info.taskManagerAddress !== 'string' ||
      typeof info.sessionId !== 'string'
    ) {
      return Promise.resolve({ kind: 'rejection', reason: 'Malformed TaskManager registration.' });
    }
    const existing = this.taskManagers.get(info.resourceId);
    if (existing !== undefined && existing.sessionId === info.sessionId) return Promise.resolve(success);
    return this.getMainThreadExecutor().thenApply(
      this.getRpcService().connect(info.taskManagerAddress, TaskExecutorGateway),
      (gateway): RegistrationResponse<JobMasterTaskManagerRegistrationSuccess> => {
        const current = this.taskManagers.get(info.resourceId);
        if (current !== undefined && current.sessionId === info.sessionId) return success;
        if (current !== undefined) {
          this.disconnectTaskManagerInternal(
            info.resourceId,
            new Error(`TaskManager ${info.resourceId} registered again with a new session.`),
            false,
          );
        }
        this.taskManagers.set(info.resourceId, {
          resourceId: info.resourceId,
          sessionId: info.sessionId,
          address: info.taskManagerAddress,
          gateway,
        });
        this.taskManagerHeartbeats?.monitorTarget(info.resourceId, {
          receiveHeartbeat: async () => {},
          requestHeartbeat: (origin, allocations) => gateway.heartbeatFromJobManager(origin, allocations),
        });
        this.logger.info({ taskManager: info.resourceId }, 'TaskManager registered.');
        return success;
      },
      (error: unknown): RegistrationResponse<JobMasterTaskManagerRegistrationSuccess> => ({
        kind: 'failure',
        reason: `Could not connect to TaskManager at ${info.taskManagerAddress}: ${serializeError(error).message}`,
      }),
    );
  }

  async offerSlots(resourceId: ResourceId, offers: SlotOffer[], _timeoutMs: number): Promise<SlotOffer[]> {
    if (!this.taskManagers.has(resourceId)) {
      throw new UnknownComponentException(`Unknown TaskManager ${String(resourceId)}.`);
    }
    if (!Array.isArray(offers)) throw new TypeError('offerSlots needs an array of slot offers.');
    const status = this.graph.getStatus();
    if (this.graph.isTerminal() || status === 'CANCELLING' || status === 'FAILING' || this.archive !== undefined) {
      return [];
    }
    const accepted = this.slotPool.offer(resourceId, offers, this.requiredSlots());
    if (accepted.length > 0) this.runAsync(() => this.tryDeploy());
    return accepted;
  }

  heartbeatFromTaskManager(resourceId: ResourceId, payload: TaskExecutorToJobManagerHeartbeatPayload): Promise<void> {
    return this.taskManagerHeartbeats?.receiveHeartbeat(resourceId, payload) ?? Promise.resolve();
  }

  async disconnectTaskManager(resourceId: ResourceId, cause: SerializedError): Promise<void> {
    const error = deserializeError(
      typeof cause === 'object' && cause !== null && typeof cause.message === 'string'
        ? cause
        : { name: 'Error', message: 'The TaskManager disconnected.' },
    );
    this.disconnectTaskManagerInternal(resourceId, error, false);
  }

  /**
   * Attempts a TaskExecutor runs for this job that the JobMaster no longer knows (left over from before a restart)
   * are cancelled there (Flink's execution deployment reconciliation, the "unknown" half).
   */
  private reconcileDeployments(resourceId: ResourceId, payload: TaskExecutorToJobManagerHeartbeatPayload): void {
    const taskManager = this.taskManagers.get(resourceId);
    if (taskManager === undefined || !Array.isArray(payload?.runningAttempts)) return;
    for (const attemptId of payload.runningAttempts) {
      if (typeof attemptId !== 'string' || this.graph.findAttempt(attemptId) !== undefined) continue;
      this.logger.info({ attemptId, taskManager: resourceId }, 'Cancelling an attempt unknown to this JobMaster.');
      taskManager.gateway.cancelTask(attemptId, this.configuration.rpcTimeout).catch(() => {});
    }
  }

  /** A TaskExecutor is gone (heartbeat, disconnect, replaced): its slots go, its tasks fail, the job fails over. */
  private disconnectTaskManagerInternal(resourceId: ResourceId, cause: Error, notifyTaskManager: boolean): void {
    const taskManager = this.taskManagers.get(resourceId);
    if (taskManager === undefined) return;
    this.logger.info({ taskManager: resourceId, reason: cause.message }, 'Disconnecting TaskManager.');
    this.taskManagers.delete(resourceId);
    this.taskManagerHeartbeats?.unmonitorTarget(resourceId);
    this.slotPool.removeTaskManager(resourceId);
    const affected = this.graph.executions.filter(
      (execution) => execution.slot?.resourceId === resourceId && !TERMINAL_EXECUTION_STATES.has(execution.state),
    );
    let firstFailed: Execution | undefined;
    for (const execution of affected) {
      if (execution.state === 'CANCELING') {
        this.graph.transition(execution, 'CANCELED');
      } else {
        this.graph.transition(execution, 'FAILED', serializeError(cause));
        firstFailed ??= execution;
      }
    }
    if (notifyTaskManager) {
      taskManager.gateway.disconnectJobManager(this.jobId, serializeError(cause)).catch(() => {});
    }
    if (firstFailed !== undefined) this.handleGlobalFailure(cause, firstFailed);
    this.checkAllTerminal();
    this.declareRequiredResources();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // ResourceManager

  private declareRequiredResources(): void {
    if (!this.stopped) this.resourceManager?.declareRequiredResources();
  }

  heartbeatFromResourceManager(resourceId: ResourceId): Promise<void> {
    return this.resourceManager?.heartbeatFromResourceManager(resourceId) ?? Promise.resolve();
  }

  async disconnectResourceManager(resourceManagerId: ResourceManagerId, cause: SerializedError): Promise<void> {
    this.resourceManager?.disconnectResourceManager(
      resourceManagerId,
      typeof cause?.message === 'string' ? cause.message : 'The ResourceManager disconnected.',
    );
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Checkpoints

  acknowledgeCheckpoint(
    jobId: JobId,
    executionAttemptId: ExecutionAttemptId,
    checkpointId: number,
    state: TaskStateHandle,
  ): void {
    if (jobId !== this.jobId || typeof checkpointId !== 'number') return;
    this.checkpoints.receiveAcknowledge(executionAttemptId, checkpointId, state);
  }

  acknowledgeCheckpoints(
    jobId: JobId,
    checkpointId: number,
    acknowledgements: readonly CheckpointAcknowledgement[],
  ): void {
    if (jobId !== this.jobId || typeof checkpointId !== 'number' || !Array.isArray(acknowledgements)) return;
    for (const ack of acknowledgements) {
      if (typeof ack !== 'object' || ack === null || typeof ack.executionAttemptId !== 'string') continue;
      this.checkpoints.receiveAcknowledge(ack.executionAttemptId, checkpointId, ack.state);
    }
  }

  declineCheckpoint(
    jobId: JobId,
    executionAttemptId: ExecutionAttemptId,
    checkpointId: number,
    reason: SerializedError,
  ): void {
    if (jobId !== this.jobId || typeof checkpointId !== 'number') return;
    this.checkpoints.receiveDecline(executionAttemptId, checkpointId, reason);
  }

  triggerCheckpoint(_timeoutMs: number): Promise<number> {
    return this.checkpoints.triggerCheckpoint();
  }

  async cancel(): Promise<void> {
    this.cancelJob();
  }

  private tasksToTrigger(): CheckpointTask[] | string {
    if (this.graph.getStatus() !== 'RUNNING') return 'Checkpoint triggering failed: the job is not running.';
    const tasks: CheckpointTask[] = [];
    for (const execution of this.graph.executions) {
      if (execution.state === 'FINISHED') continue;
      const taskManager = execution.slot === undefined ? undefined : this.taskManagers.get(execution.slot.resourceId);
      if (execution.state !== 'RUNNING' || taskManager === undefined) {
        return `Checkpoint triggering task ${taskName(execution)} of job ${this.jobId} is not being executed at the moment.`;
      }
      tasks.push({ attemptId: execution.attemptId, key: execution.key, gateway: taskManager.gateway });
    }
    if (tasks.length === 0) return 'Checkpoint triggering failed: every task has finished.';
    return tasks;
  }
}

function taskName(execution: Execution): string {
  const vertex = execution.vertex;
  return `${vertex.name ?? vertex.id} (${execution.subtaskIndex + 1}/${vertex.parallelism})`;
}
