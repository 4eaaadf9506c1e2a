/**
 * The TaskExecutor (Flink's `TaskExecutor`): offers its slots to the cluster. It follows the ResourceManager leader
 * and registers there, gets slots allocated by the ResourceManager, offers them to each job's JobMaster leader
 * (its job leader service), runs the tasks deployed into them, and answers heartbeats of both.
 */

import type { HighAvailabilityServices, LeaderRetrievalService } from '../../ha/index.js';
import type { HeartbeatManager, HeartbeatServices } from '../../heartbeat/index.js';
import { type Logger, RpcEndpoint, type RpcService, type ScheduledTask } from '../../index.js';
import {
  CheckpointException,
  ExecutionAttemptNotFoundException,
  SlotAllocationException,
  SlotOccupiedException,
  serializeError,
  TaskSubmissionException,
} from '../errors.js';
import { type JobMasterGateway, ResourceManagerGateway, TaskExecutorGateway } from '../gateways.js';
import { RetryingRegistration, type RetryingRegistrationOptions } from '../registration/RetryingRegistration.js';
import type { OperatorFactory } from '../task/Operator.js';
import type {
  AllocationId,
  ExecutionAttemptId,
  InstanceId,
  JobId,
  JobMasterId,
  JobMasterTaskManagerRegistrationSuccess,
  ResourceId,
  ResourceManagerId,
  SerializedError,
  SlotId,
  SlotOffer,
  SlotReport,
  TaskDeploymentDescriptor,
  TaskExecutionState,
  TaskExecutorHeartbeatPayload,
  TaskExecutorRegistrationSuccess,
  TaskExecutorToJobManagerHeartbeatPayload,
} from '../types.js';
import { TERMINAL_EXECUTION_STATES } from '../types.js';
import { CheckpointAcknowledgementBatcher } from './CheckpointAcknowledgementBatcher.js';
import { type JobEntry, JobLeaderService, type JobManagerConnection } from './JobLeaderService.js';
import { Task } from './Task.js';
import { TaskSlotTable } from './TaskSlotTable.js';
import { acquireTaskErrorGuard } from './taskErrorGuard.js';

/** Options of a TaskExecutor. */
export interface TaskExecutorOptions {
  readonly resourceId: ResourceId;
  readonly numberOfSlots: number;
  readonly haServices: HighAvailabilityServices;
  readonly heartbeat: HeartbeatServices;
  readonly registration: RetryingRegistrationOptions;
  /** Flink's `task.cancellation.timeout` (default 30 000). */
  readonly taskCancellationTimeout?: number;
  /**
   * Flink's `taskmanager.slot.timeout`: a slot allocated to a job but not accepted by its JobMaster (or whose
   * JobMaster is gone) is freed after this long (default 10 000).
   */
  readonly slotTimeout?: number;
  /** Pause between retries of a task state update to the JobMaster (default 100). */
  readonly updateRetryDelay?: number;
  readonly hostname?: string;
  readonly dataPort?: number;
  /** Overrides operator loading (default: built-ins and module imports). */
  readonly loadOperatorFactory?: (ref: TaskDeploymentDescriptor['operator']) => Promise<OperatorFactory>;
  readonly inlineStateThreshold?: number;
  readonly logger?: Logger;
}

interface ResourceManagerConnection {
  readonly resourceManagerId: ResourceManagerId;
  readonly gateway: ResourceManagerGateway;
  readonly instanceId: InstanceId;
  readonly resourceManagerResourceId: ResourceId;
}

/** A simple check of the RPC arguments peers send (they are untrusted input). */
function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) {
    throw new TypeError(`${what} must be a non-empty string.`);
  }
  return value;
}

/** Tasks at most in one batched checkpoint message (far more than the slots of any TaskExecutor). */
const MAX_BATCHED_TASKS = 100_000;

function isTimeout(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'RpcTimeoutException';
}

export class TaskExecutor extends RpcEndpoint implements TaskExecutorGateway {
  static readonly gateways = [TaskExecutorGateway];

  readonly resourceId: ResourceId;
  /** A fresh id per TaskExecutor start: a JobMaster replaces registrations of older sessions. */
  readonly sessionId = crypto.randomUUID();
  private readonly logger: Logger;
  private readonly slotTable: TaskSlotTable;
  /** Follows the JobMaster leader of every job this TaskExecutor holds slots for. */
  private readonly jobLeaders: JobLeaderService;
  private readonly jobs: ReadonlyMap<JobId, JobEntry>;
  private readonly slotTimeouts = new Map<AllocationId, ScheduledTask<void>>();
  /** Per task: state updates are sent one after the other. */
  private readonly updateChains = new Map<ExecutionAttemptId, Promise<void>>();
  /** Accepted idle slots the last JobMaster heartbeat did not list. */
  private readonly missingFromJobMaster = new Set<AllocationId>();
  /** The JobMaster connection each task was deployed by: its state updates and acknowledgements go there. */
  private readonly taskConnections = new Map<ExecutionAttemptId, JobManagerConnection>();
  /** The tasks' checkpoint acknowledgements, sent together per JobMaster and checkpoint. */
  private readonly acknowledgements = new CheckpointAcknowledgementBatcher<JobManagerConnection>(
    (flush) => setImmediate(() => this.runAsync(flush)),
    (connection, jobId) => this.jobs.get(jobId)?.connection === connection,
  );
  private rmRetrieval: LeaderRetrievalService | undefined;
  private rmLeader: { address: string; sessionId: string } | null = null;
  private rmRegistration:
    | RetryingRegistration<ResourceManagerGateway, ResourceManagerId, TaskExecutorRegistrationSuccess>
    | undefined;
  private rmConnection: ResourceManagerConnection | undefined;
  private rmHeartbeats!: HeartbeatManager<void, TaskExecutorHeartbeatPayload>;
  private jmHeartbeats!: HeartbeatManager<AllocationId[], TaskExecutorToJobManagerHeartbeatPayload>;
  private stopping = false;
  private releaseErrorGuard: (() => void) | undefined;
  private readonly cancellationTimeout: number;
  private readonly slotTimeout: number;

  constructor(
    rpcService: RpcService,
    private readonly options: TaskExecutorOptions,
  ) {
    super(rpcService, `taskmanager_${options.resourceId}`);
    if (!Number.isSafeInteger(options.numberOfSlots) || options.numberOfSlots < 0) {
      throw new RangeError(`numberOfSlots must be a non-negative integer, was ${options.numberOfSlots}.`);
    }
    this.resourceId = options.resourceId;
    this.slotTable = new TaskSlotTable(options.resourceId, options.numberOfSlots);
    this.cancellationTimeout = options.taskCancellationTimeout ?? 30_000;
    this.slotTimeout = options.slotTimeout ?? 10_000;
    this.logger = (options.logger ?? rpcService.getLogger()).child({
      component: 'TaskExecutor',
      resourceId: options.resourceId,
    });
    this.jobLeaders = new JobLeaderService({
      rpcService,
      haServices: options.haServices,
      registration: options.registration,
      mainThread: this.getMainThreadExecutor(),
      runAsync: (action) => this.runAsync(action),
      scheduleRunAsync: (action, delayMs) => this.scheduleRunAsync(action, delayMs),
      leaderLostTimeout: this.slotTimeout,
      registrationInfo: () => ({
        taskManagerAddress: this.getAddress(),
        resourceId: this.resourceId,
        sessionId: this.sessionId,
        hostname: this.options.hostname ?? this.getHostname(),
      }),
      isStopping: () => this.stopping,
      listener: {
        jobManagerConnected: (job, jobMasterId, gateway, success) =>
          this.establishJobManagerConnection(job, jobMasterId, gateway, success),
        disconnectJobManager: (job, cause) => this.disconnectJobManagerConnection(job, cause),
      },
      logger: this.logger,
    });
    this.jobs = this.jobLeaders.jobs;
  }

  // ---------------------------------------------------------------------------------------------- lifecycle

  protected override async onStart(): Promise<void> {
    this.releaseErrorGuard = acquireTaskErrorGuard(this.logger);
    const mainThread = this.getMainThreadExecutor();
    this.rmHeartbeats = this.options.heartbeat.createHeartbeatManager<void, TaskExecutorHeartbeatPayload>(
      this.resourceId,
      {
        notifyHeartbeatTimeout: (resourceId) =>
          this.onResourceManagerLost(resourceId, `The heartbeat of ResourceManager with id ${resourceId} timed out.`),
        notifyTargetUnreachable: (resourceId) =>
          this.onResourceManagerLost(resourceId, `ResourceManager with id ${resourceId} is no longer reachable.`),
        reportPayload: () => {},
        retrievePayload: () => ({ slotReport: this.slotTable.createSlotReport() }),
      },
      mainThread,
      this.logger,
    );
    this.jmHeartbeats = this.options.heartbeat.createHeartbeatManager<
      AllocationId[],
      TaskExecutorToJobManagerHeartbeatPayload
    >(
      this.resourceId,
      {
        notifyHeartbeatTimeout: (resourceId) =>
          this.onJobManagerLost(resourceId, `The heartbeat of JobManager with id ${resourceId} timed out.`),
        notifyTargetUnreachable: (resourceId) =>
          this.onJobManagerLost(resourceId, `JobManager with id ${resourceId} is no longer reachable.`),
        reportPayload: (resourceId, allocatedSlots) => this.syncSlotsWithJobMaster(resourceId, allocatedSlots),
        retrievePayload: (resourceId) => ({
          runningAttempts: this.jobsOfJobMaster(resourceId).flatMap((job) =>
            this.slotTable.getTasks(job.jobId).map((task) => task.executionAttemptId),
          ),
        }),
      },
      mainThread,
      this.logger,
    );
    this.rmRetrieval = this.options.haServices.getResourceManagerLeaderRetriever();
    await this.rmRetrieval.start({
      notifyLeaderAddress: (address, sessionId) =>
        this.runAsync(() => this.notifyOfNewResourceManagerLeader(address, sessionId)),
      handleError: (error) => this.logger.warn({ err: error }, 'ResourceManager leader retrieval failed.'),
    });
    this.logger.info({ address: this.getAddress(), slots: this.options.numberOfSlots }, 'TaskExecutor started.');
  }

  protected override async onStop(): Promise<void> {
    this.stopping = true;
    const cause = serializeError(new Error(`TaskExecutor ${this.resourceId} is shutting down.`));
    const farewells: Promise<unknown>[] = [];
    await this.rmRetrieval?.stop().catch(() => {});
    this.rmRegistration?.cancel();
    if (this.rmConnection !== undefined)
      farewells.push(this.rmConnection.gateway.disconnectTaskManager(this.resourceId, cause));
    this.rmConnection = undefined;
    const tasks = this.slotTable.getTasks();
    for (const task of tasks) task.cancelExecution();
    for (const job of this.jobs.values()) {
      if (job.connection !== undefined) {
        farewells.push(job.connection.gateway.disconnectTaskManager(this.resourceId, cause));
      }
    }
    await this.jobLeaders.stop();
    for (const timer of this.slotTimeouts.values()) timer.cancel();
    this.slotTimeouts.clear();
    this.rmHeartbeats?.stop();
    this.jmHeartbeats?.stop();
    // Best effort: tell the leaders at once (faster failover than their heartbeat timeouts), but never hang here.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...farewells, ...tasks.map((task) => task.terminationFuture)]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, Math.min(1_000, this.cancellationTimeout));
      }),
    ]);
    clearTimeout(timer);
    this.releaseErrorGuard?.();
  }

  // ---------------------------------------------------------------------------------------------- ResourceManager

  private notifyOfNewResourceManagerLeader(address: string | null, sessionId: string | null): void {
    if (this.stopping) return;
    const leader = address !== null && sessionId !== null ? { address, sessionId } : null;
    if (leader?.address === this.rmLeader?.address && leader?.sessionId === this.rmLeader?.sessionId) return;
    this.logger.info({ leader }, 'New ResourceManager leader.');
    this.rmLeader = leader;
    this.closeResourceManagerConnection(new Error('The ResourceManager leader changed.'), false);
    if (leader !== null) this.connectToResourceManager();
  }

  private connectToResourceManager(): void {
    const leader = this.rmLeader;
    if (leader === null || this.stopping) return;
    this.rmRegistration?.cancel();
    const registration = new RetryingRegistration<
      ResourceManagerGateway,
      ResourceManagerId,
      TaskExecutorRegistrationSuccess
    >({
      rpcService: this.getRpcService(),
      targetName: 'ResourceManager',
      targetAddress: leader.address,
      fencingToken: leader.sessionId,
      gateway: ResourceManagerGateway,
      options: this.options.registration,
      logger: this.logger,
      invoke: (gateway, timeoutMs) =>
        gateway.registerTaskExecutor(
          {
            taskExecutorAddress: this.getAddress(),
            resourceId: this.resourceId,
            numberOfSlots: this.options.numberOfSlots,
            hostname: this.options.hostname ?? this.getHostname(),
            ...(this.options.dataPort === undefined ? {} : { dataPort: this.options.dataPort }),
          },
          timeoutMs,
        ),
    });
    this.rmRegistration = registration;
    this.getMainThreadExecutor()
      .thenApply(
        registration.result,
        ({ gateway, success }) => {
          if (this.rmRegistration !== registration || this.stopping) return; // an outdated attempt
          this.rmRegistration = undefined;
          this.establishResourceManagerConnection(leader.sessionId, gateway, success);
        },
        (error: unknown) => {
          if (this.rmRegistration !== registration) return;
          this.rmRegistration = undefined;
          if (!registration.isCanceled()) {
            this.logger.error({ err: error }, 'The ResourceManager rejected the registration of this TaskExecutor.');
          }
        },
      )
      .catch(() => {});
    registration.startRegistration();
  }

  private establishResourceManagerConnection(
    resourceManagerId: ResourceManagerId,
    gateway: ResourceManagerGateway,
    success: TaskExecutorRegistrationSuccess,
  ): void {
    const connection: ResourceManagerConnection = {
      resourceManagerId,
      gateway,
      instanceId: success.instanceId,
      resourceManagerResourceId: success.resourceManagerResourceId,
    };
    this.rmConnection = connection;
    this.logger.info(
      { resourceManagerId, instanceId: success.instanceId },
      'Successful registration at the ResourceManager.',
    );
    this.rmHeartbeats.monitorTarget(success.resourceManagerResourceId, {
      receiveHeartbeat: (origin, payload) => gateway.heartbeatFromTaskManager(origin, payload),
      requestHeartbeat: async () => {},
    });
    this.getMainThreadExecutor()
      .thenApply(
        gateway.sendSlotReport(
          this.resourceId,
          success.instanceId,
          this.slotTable.createSlotReport(),
          this.getRpcService().getAskTimeout(),
        ),
        () => {},
        (error: unknown) => {
          if (this.rmConnection !== connection) return;
          this.logger.warn({ err: error }, 'Failed to send the initial slot report; registering again.');
          this.reconnectToResourceManager(new Error('Failed to send initial slot report to ResourceManager.'));
        },
      )
      .catch(() => {});
  }

  private closeResourceManagerConnection(cause: Error, notify: boolean): void {
    this.rmRegistration?.cancel();
    this.rmRegistration = undefined;
    const connection = this.rmConnection;
    if (connection === undefined) return;
    this.rmConnection = undefined;
    this.rmHeartbeats.unmonitorTarget(connection.resourceManagerResourceId);
    this.logger.info({ reason: cause.message }, 'Closed the ResourceManager connection.');
    if (notify) {
      connection.gateway.disconnectTaskManager(this.resourceId, serializeError(cause)).catch(() => {});
    }
  }

  private reconnectToResourceManager(cause: Error): void {
    this.closeResourceManagerConnection(cause, false);
    this.connectToResourceManager();
  }

  private onResourceManagerLost(resourceId: ResourceId, reason: string): void {
    if (this.rmConnection?.resourceManagerResourceId !== resourceId) return;
    this.logger.info(reason);
    this.reconnectToResourceManager(new Error(reason));
  }

  async heartbeatFromResourceManager(resourceId: ResourceId): Promise<void> {
    await this.rmHeartbeats.requestHeartbeat(requireString(resourceId, 'resourceId'), undefined);
  }

  async disconnectResourceManager(cause: SerializedError): Promise<void> {
    if (this.stopping) return;
    this.logger.info({ reason: cause?.message }, 'The ResourceManager disconnected this TaskExecutor.');
    this.reconnectToResourceManager(new Error(cause?.message ?? 'Disconnected by the ResourceManager.'));
  }

  // ---------------------------------------------------------------------------------------------- slots

  async requestSlot(
    slotId: SlotId,
    jobId: JobId,
    allocationId: AllocationId,
    jobMasterAddress: string,
    resourceManagerId: ResourceManagerId,
    _timeoutMs: number,
  ): Promise<void> {
    requireString(jobId, 'jobId');
    requireString(allocationId, 'allocationId');
    requireString(resourceManagerId, 'resourceManagerId');
    if (!/^[A-Za-z0-9_.-]+$/.test(jobId) || jobId === '.' || jobId === '..') {
      throw new SlotAllocationException(`Invalid job id ${JSON.stringify(jobId)}.`);
    }
    if (this.stopping) throw new SlotAllocationException(`TaskManager ${this.resourceId} is shutting down.`);
    if (this.rmConnection === undefined || this.rmConnection.resourceManagerId !== resourceManagerId) {
      throw new SlotAllocationException(`TaskManager is not connected to the resource manager ${resourceManagerId}.`);
    }
    const index = slotId?.slotNumber;
    if (slotId?.resourceId !== this.resourceId || !this.slotTable.isValidIndex(index)) {
      throw new SlotAllocationException(
        `The slot ${slotId?.resourceId}:${String(index)} does not exist on TaskManager ${this.resourceId}.`,
      );
    }
    const slot = this.slotTable.getSlot(index);
    if (slot !== undefined && slot.state !== 'free') {
      if (slot.allocationId === allocationId && slot.jobId === jobId) return; // the same request again
      throw new SlotOccupiedException(
        `The slot ${this.resourceId}:${index} has already been allocated for a different job.`,
        slot.allocationId as string,
        slot.jobId as string,
      );
    }
    if (!this.slotTable.allocateSlot(index, jobId, allocationId)) {
      throw new SlotAllocationException(
        `Could not allocate slot ${this.resourceId}:${index} for allocation ${allocationId}: the allocation id is in use.`,
      );
    }
    this.logger.debug({ jobId, allocationId, slot: index, jobMasterAddress }, 'Allocated slot.');
    this.startSlotTimeout(allocationId);
    const job = this.jobLeaders.addJob(jobId, jobMasterAddress);
    if (job.connection !== undefined) this.offerSlotsToJobManager(job);
  }

  async freeSlot(allocationId: AllocationId, cause: SerializedError, _timeoutMs: number): Promise<void> {
    requireString(allocationId, 'allocationId');
    this.freeSlotInternal(allocationId, new Error(cause?.message ?? 'The slot was freed.'));
  }

  private freeSlotInternal(allocationId: AllocationId, cause: Error): void {
    this.slotTimeouts.get(allocationId)?.cancel();
    this.slotTimeouts.delete(allocationId);
    const freed = this.slotTable.freeSlot(allocationId);
    if (freed === undefined) {
      this.logger.debug({ allocationId }, 'Could not free the slot: unknown allocation.');
      return;
    }
    const jobId = freed.slot.jobId;
    for (const task of freed.tasks) {
      // The task is no longer in the table: its final state still reaches the JobMaster through its own chain.
      task.cancelExecution();
    }
    this.logger.debug({ allocationId, reason: cause.message }, 'Freed slot.');
    this.reportSlotsToResourceManager();
    // The job held this slot; drop the job once it has none left.
    for (const job of [...this.jobs.values()]) {
      if (job.jobId !== jobId && jobId !== undefined) continue;
      if (!this.slotTable.hasSlotsOfJob(job.jobId))
        this.closeJob(job, new Error('The TaskExecutor has no more slots of the job.'));
    }
  }

  private startSlotTimeout(allocationId: AllocationId): void {
    this.slotTimeouts.get(allocationId)?.cancel();
    this.slotTimeouts.set(
      allocationId,
      this.scheduleRunAsync(() => {
        this.slotTimeouts.delete(allocationId);
        const slot = this.slotTable.getSlotByAllocation(allocationId);
        if (slot === undefined || slot.state === 'active') return;
        this.freeSlotInternal(allocationId, new Error(`The slot ${allocationId} has timed out.`));
      }, this.slotTimeout),
    );
  }

  private reportSlotsToResourceManager(): void {
    const connection = this.rmConnection;
    if (connection === undefined) return;
    connection.gateway
      .sendSlotReport(
        this.resourceId,
        connection.instanceId,
        this.slotTable.createSlotReport(),
        this.getRpcService().getAskTimeout(),
      )
      .catch((error: unknown) => this.logger.debug({ err: error }, 'Could not send a slot report.'));
  }

  // ---------------------------------------------------------------------------------------------- job leaders

  private establishJobManagerConnection(
    job: JobEntry,
    jobMasterId: JobMasterId,
    gateway: JobMasterGateway,
    success: JobMasterTaskManagerRegistrationSuccess,
  ): void {
    job.connection = { jobMasterId, gateway, jobMasterResourceId: success.jobMasterResourceId };
    this.logger.info({ jobId: job.jobId, jobMasterId }, 'Established the JobManager connection.');
    this.jmHeartbeats.monitorTarget(success.jobMasterResourceId, {
      receiveHeartbeat: (origin, payload) => gateway.heartbeatFromTaskManager(origin, payload),
      requestHeartbeat: async () => {},
    });
    this.offerSlotsToJobManager(job);
  }

  /** Offers every slot of the job that its JobMaster has not accepted yet. */
  private offerSlotsToJobManager(job: JobEntry): void {
    const connection = job.connection;
    if (connection === undefined) return;
    const offers: SlotOffer[] = this.slotTable
      .getSlotsOfJob(job.jobId)
      .filter((slot) => slot.state === 'allocated')
      .map((slot) => ({ allocationId: slot.allocationId as string, slotIndex: slot.index }));
    if (offers.length === 0) return;
    job.offerId += 1;
    const offerId = job.offerId;
    this.logger.debug({ jobId: job.jobId, offers: offers.length, offerId }, 'Offering slots to the JobMaster.');
    let answer: Promise<SlotOffer[]>;
    try {
      answer = connection.gateway.offerSlots(this.resourceId, offers, this.getRpcService().getAskTimeout());
    } catch (error) {
      answer = Promise.reject(error);
    }
    this.getMainThreadExecutor()
      .thenApply(
        answer,
        (accepted) => {
          if (job.connection !== connection || job.offerId !== offerId) return; // an outdated offer
          const acceptedIds = new Set(Array.isArray(accepted) ? accepted.map((offer) => offer?.allocationId) : []);
          for (const offer of offers) {
            if (acceptedIds.has(offer.allocationId)) {
              if (this.slotTable.markSlotActive(job.jobId, offer.allocationId)) {
                this.slotTimeouts.get(offer.allocationId)?.cancel();
                this.slotTimeouts.delete(offer.allocationId);
              }
            } else {
              this.freeSlotInternal(offer.allocationId, new Error('The slot was rejected by the JobManager.'));
            }
          }
        },
        (error: unknown) => {
          if (job.connection !== connection || job.offerId !== offerId) return;
          if (isTimeout(error)) {
            this.logger.info({ jobId: job.jobId }, 'Slot offer timed out; offering again.');
            this.offerSlotsToJobManager(job);
            return;
          }
          this.logger.info({ err: error, jobId: job.jobId }, 'Slot offer failed; freeing the offered slots.');
          for (const offer of offers) {
            this.freeSlotInternal(offer.allocationId, error instanceof Error ? error : new Error(String(error)));
          }
        },
      )
      .catch(() => {});
  }

  /**
   * Ends the connection to the job's JobMaster: its tasks fail (their JobMaster is gone) and its slots go back to
   * allocated, to be offered to the next leader — or freed by their slot timeout if none accepts them.
   */
  private disconnectJobManagerConnection(job: JobEntry, cause: Error): void {
    job.registration?.cancel();
    job.registration = undefined;
    const connection = job.connection;
    if (connection === undefined) return;
    job.connection = undefined;
    job.offerId += 1;
    if (this.jobsOfJobMaster(connection.jobMasterResourceId).length === 0) {
      this.jmHeartbeats.unmonitorTarget(connection.jobMasterResourceId);
    }
    for (const task of this.slotTable.getTasks(job.jobId)) task.cancelExecution();
    for (const slot of this.slotTable.getSlotsOfJob(job.jobId)) {
      this.slotTable.markSlotInactive(slot.allocationId as string);
      this.startSlotTimeout(slot.allocationId as string);
    }
    this.logger.info({ jobId: job.jobId, reason: cause.message }, 'Disconnected from the JobManager.');
  }

  /** The job has no slots here any more: stop following its leader. */
  private closeJob(job: JobEntry, cause: Error): void {
    const connection = job.connection;
    this.disconnectJobManagerConnection(job, cause);
    this.jobLeaders.removeJob(job);
    if (connection !== undefined) {
      connection.gateway.disconnectTaskManager(this.resourceId, serializeError(cause)).catch(() => {});
    }
  }

  private jobsOfJobMaster(jobMasterResourceId: ResourceId): JobEntry[] {
    return [...this.jobs.values()].filter((job) => job.connection?.jobMasterResourceId === jobMasterResourceId);
  }

  private onJobManagerLost(jobMasterResourceId: ResourceId, reason: string): void {
    const jobs = this.jobsOfJobMaster(jobMasterResourceId);
    this.jmHeartbeats.unmonitorTarget(jobMasterResourceId);
    for (const job of jobs) {
      this.logger.info({ jobId: job.jobId }, reason);
      this.disconnectJobManagerConnection(job, new Error(reason));
      // The leader may still be the same process (a transient problem): register with it again.
      this.jobLeaders.connect(job);
    }
  }

  /**
   * The JobMaster's heartbeat lists the slots it holds here. An accepted slot it no longer lists and that runs no
   * task was released by the JobMaster (its freeSlot may have been lost): free it.
   */
  private syncSlotsWithJobMaster(jobMasterResourceId: ResourceId, allocatedSlots: AllocationId[]): void {
    if (!Array.isArray(allocatedSlots)) return;
    const held = new Set(allocatedSlots);
    const missing = new Set<AllocationId>();
    for (const job of this.jobsOfJobMaster(jobMasterResourceId)) {
      for (const slot of this.slotTable.getSlotsOfJob(job.jobId)) {
        const allocationId = slot.allocationId as string;
        if (slot.state !== 'active' || slot.tasks.size > 0 || held.has(allocationId)) continue;
        // A heartbeat request and the answer to a slot offer may overtake each other (they travel on different
        // connections): a slot is freed only when two heartbeats in a row leave it out.
        if (this.missingFromJobMaster.has(allocationId)) {
          this.freeSlotInternal(allocationId, new Error('The JobManager no longer holds the slot.'));
        } else {
          missing.add(allocationId);
        }
      }
    }
    for (const allocationId of this.missingFromJobMaster) {
      if (!this.slotTable.getSlotByAllocation(allocationId)) this.missingFromJobMaster.delete(allocationId);
    }
    for (const job of this.jobsOfJobMaster(jobMasterResourceId)) {
      for (const slot of this.slotTable.getSlotsOfJob(job.jobId))
        this.missingFromJobMaster.delete(slot.allocationId as string);
    }
    for (const allocationId of missing) this.missingFromJobMaster.add(allocationId);
  }

  async heartbeatFromJobManager(resourceId: ResourceId, allocatedSlots: AllocationId[]): Promise<void> {
    await this.jmHeartbeats.requestHeartbeat(
      requireString(resourceId, 'resourceId'),
      Array.isArray(allocatedSlots) ? allocatedSlots.filter((id) => typeof id === 'string') : [],
    );
  }

  async disconnectJobManager(jobId: JobId, cause: SerializedError): Promise<void> {
    const job = this.jobs.get(jobId);
    if (job === undefined) return;
    this.disconnectJobManagerConnection(job, new Error(cause?.message ?? 'Disconnected by the JobManager.'));
    this.jobLeaders.connect(job);
  }

  // ---------------------------------------------------------------------------------------------- tasks

  async submitTask(tdd: TaskDeploymentDescriptor, jobMasterId: JobMasterId, _timeoutMs: number): Promise<void> {
    if (tdd === null || typeof tdd !== 'object')
      throw new TaskSubmissionException('A task deployment must be an object.');
    const jobId = requireString(tdd.jobId, 'jobId');
    requireString(tdd.executionAttemptId, 'executionAttemptId');
    requireString(tdd.allocationId, 'allocationId');
    requireString(tdd.vertexId, 'vertexId');
    const { parallelism, subtaskIndex, attemptNumber } = tdd;
    if (
      !Number.isSafeInteger(parallelism) ||
      parallelism < 1 ||
      !Number.isSafeInteger(subtaskIndex) ||
      subtaskIndex < 0 ||
      subtaskIndex >= parallelism ||
      !Number.isSafeInteger(attemptNumber) ||
      attemptNumber < 0
    ) {
      throw new TaskSubmissionException(
        `Invalid task deployment: subtask ${subtaskIndex} of parallelism ${parallelism}, attempt ${attemptNumber}.`,
      );
    }
    if (tdd.config !== undefined && (tdd.config === null || typeof tdd.config !== 'object')) {
      throw new TaskSubmissionException('Invalid task deployment: config must be an object.');
    }
    if (this.stopping) throw new TaskSubmissionException(`TaskManager ${this.resourceId} is shutting down.`);
    const connection = this.jobs.get(jobId)?.connection;
    if (connection === undefined) {
      throw new TaskSubmissionException(
        `Could not submit task because there is no JobManager associated for the job ${jobId}.`,
      );
    }
    if (connection.jobMasterId !== jobMasterId) {
      throw new TaskSubmissionException(
        `Rejecting the task submission because the job manager leader id ${jobMasterId} does not match the ` +
          `expected job manager leader id ${connection.jobMasterId}.`,
      );
    }
    if (!this.slotTable.markSlotActive(jobId, tdd.allocationId)) {
      throw new TaskSubmissionException(
        `No task slot allocated for job ID ${jobId} and allocation ID ${tdd.allocationId}.`,
      );
    }
    this.slotTimeouts.get(tdd.allocationId)?.cancel();
    this.slotTimeouts.delete(tdd.allocationId);
    if (this.slotTable.getTask(tdd.executionAttemptId) !== undefined) {
      throw new TaskSubmissionException(
        `Could not submit task because there is already a task with the execution attempt id ${tdd.executionAttemptId}.`,
      );
    }
    const task = new Task(tdd, {
      actions: {
        updateTaskExecutionState: (state) => this.runAsync(() => this.updateTaskExecutionState(task, state)),
        acknowledgeCheckpoint: (t, checkpointId, handle) =>
          this.runAsync(() => {
            if (this.jobs.get(t.jobId)?.connection !== connection) return;
            this.acknowledgements.add(connection, t.jobId, checkpointId, {
              executionAttemptId: t.executionAttemptId,
              state: handle,
            });
          }),
        declineCheckpoint: (t, checkpointId, reason) =>
          this.runAsync(() => {
            if (this.jobs.get(t.jobId)?.connection !== connection) return;
            connection.gateway.declineCheckpoint(t.jobId, t.executionAttemptId, checkpointId, reason);
          }),
      },
      cancellationTimeout: this.cancellationTimeout,
      logger: this.logger,
      ...(this.options.loadOperatorFactory === undefined ? {} : { loadFactory: this.options.loadOperatorFactory }),
      ...(this.options.inlineStateThreshold === undefined
        ? {}
        : { inlineStateThreshold: this.options.inlineStateThreshold }),
    });
    if (!this.slotTable.addTask(task)) {
      throw new TaskSubmissionException(
        `No task slot allocated for job ID ${jobId} and allocation ID ${tdd.allocationId}.`,
      );
    }
    this.taskConnections.set(task.executionAttemptId, connection);
    this.logger.info(
      { jobId, vertex: tdd.vertexId, subtask: tdd.subtaskIndex, attempt: tdd.attemptNumber },
      'Received task.',
    );
    task.startTaskThread();
  }

  /** Sends a task's state change to its JobMaster, in order, retrying until delivered or the JobMaster is gone. */
  private updateTaskExecutionState(task: Task, state: TaskExecutionState): void {
    // Acknowledgements the task sent before this update reach the JobMaster before it.
    this.acknowledgements.flush();
    const connection = this.taskConnections.get(task.executionAttemptId) ?? this.jobs.get(task.jobId)?.connection;
    if (TERMINAL_EXECUTION_STATES.has(state.state)) {
      this.slotTable.removeTask(task.executionAttemptId);
      this.taskConnections.delete(task.executionAttemptId);
    }
    // After a disconnect the JobMaster that deployed the task still gets one try (it may be alive and leading).
    if (connection === undefined) return;
    const previous = this.updateChains.get(task.executionAttemptId) ?? Promise.resolve();
    const next = previous.then(() => this.sendUpdate(connection, task, state));
    this.updateChains.set(task.executionAttemptId, next);
    next.finally(() => {
      if (this.updateChains.get(task.executionAttemptId) === next) this.updateChains.delete(task.executionAttemptId);
    });
  }

  private async sendUpdate(connection: JobManagerConnection, task: Task, state: TaskExecutionState): Promise<void> {
    const retryDelay = this.options.updateRetryDelay ?? 100;
    for (;;) {
      try {
        await connection.gateway.updateTaskExecutionState(state);
        return;
      } catch (error) {
        const name = (error as Error | undefined)?.name;
        // The JobMaster does not know the attempt (it moved on): nothing to retry.
        if (name === 'ExecutionAttemptNotFoundException' || name === 'FencingTokenException') return;
        const stillConnected = await this.callAsync(
          () => !this.stopping && this.jobs.get(task.jobId)?.connection === connection,
          1_000,
        ).catch(() => false);
        if (!stillConnected) return;
        this.logger.debug({ err: error, state: state.state }, 'Task state update failed; retrying.');
        await new Promise((resolve) => setTimeout(resolve, retryDelay));
      }
    }
  }

  async cancelTask(executionAttemptId: ExecutionAttemptId, _timeoutMs: number): Promise<void> {
    const task = this.slotTable.getTask(requireString(executionAttemptId, 'executionAttemptId'));
    if (task === undefined) {
      throw new ExecutionAttemptNotFoundException(`Cannot find task to stop for execution ${executionAttemptId}.`);
    }
    task.cancelExecution();
  }

  async triggerCheckpoint(
    executionAttemptId: ExecutionAttemptId,
    checkpointId: number,
    timestamp: number,
  ): Promise<void> {
    return this.triggerCheckpoints([executionAttemptId], checkpointId, timestamp);
  }

  async triggerCheckpoints(
    executionAttemptIds: readonly ExecutionAttemptId[],
    checkpointId: number,
    _timestamp: number,
  ): Promise<void> {
    const tasks = this.checkpointTasks(executionAttemptIds, checkpointId);
    this.requireKnown(executionAttemptIds, tasks, 'a checkpoint request');
    for (const task of tasks) task?.triggerCheckpoint(checkpointId);
  }

  async confirmCheckpoint(
    executionAttemptId: ExecutionAttemptId,
    checkpointId: number,
    timestamp: number,
  ): Promise<void> {
    return this.confirmCheckpoints([executionAttemptId], checkpointId, timestamp);
  }

  async confirmCheckpoints(
    executionAttemptIds: readonly ExecutionAttemptId[],
    checkpointId: number,
    _timestamp: number,
  ): Promise<void> {
    const tasks = this.checkpointTasks(executionAttemptIds, checkpointId);
    // The known tasks commit even when one of the batch is gone: their checkpoint did complete.
    for (const task of tasks) task?.notifyCheckpointComplete(checkpointId);
    this.requireKnown(executionAttemptIds, tasks, 'a checkpoint confirmation');
  }

  async abortCheckpoint(
    executionAttemptId: ExecutionAttemptId,
    checkpointId: number,
    _timestamp: number,
  ): Promise<void> {
    const tasks = this.checkpointTasks([executionAttemptId], checkpointId);
    this.requireKnown([executionAttemptId], tasks, 'an aborted checkpoint');
    tasks[0]?.notifyCheckpointAborted(checkpointId);
  }

  /**
   * The tasks of `executionAttemptIds` (untrusted: an array of strings), undefined where unknown, after checking
   * that `checkpointId` is an integer.
   */
  private checkpointTasks(executionAttemptIds: unknown, checkpointId: unknown): (Task | undefined)[] {
    if (!Array.isArray(executionAttemptIds) || executionAttemptIds.length > MAX_BATCHED_TASKS) {
      throw new CheckpointException(`The execution attempt ids must be an array of at most ${MAX_BATCHED_TASKS}.`);
    }
    const tasks = executionAttemptIds.map((id) => this.slotTable.getTask(requireString(id, 'executionAttemptId')));
    if (!Number.isSafeInteger(checkpointId)) throw new CheckpointException('The checkpoint id must be an integer.');
    return tasks;
  }

  /** Throws, naming them, if some of `executionAttemptIds` have no task here. */
  private requireKnown(
    executionAttemptIds: readonly ExecutionAttemptId[],
    tasks: readonly (Task | undefined)[],
    what: string,
  ): void {
    const unknown = executionAttemptIds.filter((_id, index) => tasks[index] === undefined);
    if (unknown.length > 0) {
      throw new CheckpointException(`TaskManager received ${what} for unknown task ${unknown.join(', ')}.`);
    }
  }

  // ---------------------------------------------------------------------------------------------- introspection

  /** The current slot report (main thread). */
  getSlotReport(): SlotReport {
    return this.slotTable.createSlotReport();
  }

  /** Whether the TaskExecutor is registered at a ResourceManager, and at which (main thread). */
  getResourceManagerConnection(): { resourceManagerId: ResourceManagerId; instanceId: InstanceId } | undefined {
    const connection = this.rmConnection;
    return connection === undefined
      ? undefined
      : { resourceManagerId: connection.resourceManagerId, instanceId: connection.instanceId };
  }

  /** The running tasks (main thread). */
  getTasks(): Task[] {
    return this.slotTable.getTasks();
  }

  /** Jobs with a JobMaster connection and their JobMasterIds (main thread). */
  getJobManagerConnections(): { jobId: JobId; jobMasterId: JobMasterId }[] {
    return [...this.jobs.values()].flatMap((job) =>
      job.connection === undefined ? [] : [{ jobId: job.jobId, jobMasterId: job.connection.jobMasterId }],
    );
  }

  /** The number of free slots (main thread). */
  getNumberOfFreeSlots(): number {
    return this.slotTable.freeSlots();
  }
}
