/**
 * The ResourceManager (Flink's `ResourceManager` with a standalone resource pool): TaskExecutors and JobMasters
 * register here, jobs declare the slots they need, the slot manager assigns them, and heartbeats watch both sides.
 * One instance per leadership grant, fenced by the leader session id.
 */

import type { HighAvailabilityServices } from '../../ha/index.js';
import type { HeartbeatManager, HeartbeatServices } from '../../heartbeat/index.js';
import { FencedRpcEndpoint, type Logger, type RpcService } from '../../index.js';
import { serializeError, UnknownComponentException } from '../errors.js';
import { JobMasterGateway, ResourceManagerGateway, TaskExecutorGateway } from '../gateways.js';
import {
  type InstanceId,
  type JobId,
  type JobMasterId,
  type JobMasterRegistrationSuccess,
  type JobStatus,
  type RegistrationResponse,
  type ResourceId,
  type ResourceManagerId,
  type ResourceOverview,
  type ResourceRequirements,
  type SerializedError,
  type SlotReport,
  type TaskExecutorHeartbeatPayload,
  type TaskExecutorRegistration,
  type TaskExecutorRegistrationSuccess,
  type TaskManagerInfo,
  TERMINAL_JOB_STATUSES,
} from '../types.js';
import { JobLeaderIdService } from './JobLeaderIdService.js';
import { SlotManager } from './SlotManager.js';
import { validateRequirements, validateSlotReport, validateTaskExecutorRegistration } from './validation.js';

/** Options of a ResourceManager (and of the ResourceManagerService that creates them). */
export interface ResourceManagerOptions {
  /** This JobManager process's resource id (default: a random UUID). */
  readonly resourceId?: ResourceId;
  readonly heartbeat: HeartbeatServices;
  /** Timeout of one `requestSlot` call to a TaskExecutor (default: the service's ask timeout). */
  readonly slotRequestTimeout?: number;
  /** Pause before the slot manager retries after a failed slot request (default 100 ms). */
  readonly slotRequestRetryDelay?: number;
  /** Delay of the slot manager's matching pass after a change (Flink's `slotmanager.requirement-check.delay`: 50). */
  readonly requirementCheckDelay?: number;
  /** How long a job may have no JobMaster leader before the ResourceManager forgets it (Flink: 5 min). */
  readonly jobTimeout?: number;
  readonly logger?: Logger;
}

interface TaskExecutorEntry {
  readonly registration: TaskExecutorRegistration;
  readonly instanceId: InstanceId;
  readonly gateway: TaskExecutorGateway;
  readonly registeredAt: number;
}

interface JobManagerEntry {
  readonly jobId: JobId;
  readonly jobMasterId: JobMasterId;
  readonly resourceId: ResourceId;
  readonly address: string;
  readonly gateway: JobMasterGateway;
}

function failure(reason: string): RegistrationResponse<never> {
  return { kind: 'failure', reason };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The ResourceManager endpoint of one leadership grant (its fencing token is the leader session id). */
export class ResourceManager extends FencedRpcEndpoint<ResourceManagerId> implements ResourceManagerGateway {
  static readonly gateways = [ResourceManagerGateway];

  readonly resourceId: ResourceId;
  private readonly logger: Logger;
  private readonly taskExecutors = new Map<ResourceId, TaskExecutorEntry>();
  /** The latest connect per TaskExecutor: registrations finishing after a newer one started are outdated. */
  private readonly taskExecutorConnects = new Map<ResourceId, Promise<TaskExecutorGateway>>();
  private readonly jobManagers = new Map<JobId, JobManagerEntry>();
  private readonly slotManager: SlotManager;
  private readonly jobLeaderIds: JobLeaderIdService;
  private taskManagerHeartbeats!: HeartbeatManager<TaskExecutorHeartbeatPayload, void>;
  private jobManagerHeartbeats!: HeartbeatManager<void, void>;

  constructor(
    rpcService: RpcService,
    leaderSessionId: ResourceManagerId,
    private readonly haServices: HighAvailabilityServices,
    private readonly options: ResourceManagerOptions,
  ) {
    super(rpcService, leaderSessionId, `resourcemanager_${leaderSessionId}`);
    this.resourceId = options.resourceId ?? crypto.randomUUID();
    this.logger = (options.logger ?? rpcService.getLogger()).child({
      component: 'ResourceManager',
      leaderSessionId,
    });
    const mainThread = this.getMainThreadExecutor();
    this.slotManager = new SlotManager({
      mainThread,
      resourceManagerId: leaderSessionId,
      logger: this.logger,
      slotRequestTimeout: options.slotRequestTimeout ?? rpcService.getAskTimeout(),
      retryDelay: options.slotRequestRetryDelay ?? 100,
      requirementCheckDelay: options.requirementCheckDelay ?? 50,
    });
    this.jobLeaderIds = new JobLeaderIdService(
      haServices,
      mainThread,
      {
        jobLeaderLostLeadership: (jobId, oldJobMasterId) => {
          const entry = this.jobManagers.get(jobId);
          if (entry !== undefined && entry.jobMasterId === oldJobMasterId) {
            this.closeJobManagerConnection(jobId, false, new Error('Job leader lost leadership.'), true);
          }
        },
        notifyJobTimeout: (jobId) => {
          this.logger.info({ jobId }, 'Job has had no leader for the job timeout; removing it.');
          this.removeJob(jobId, new Error(`Job ${jobId} was removed because of timeout.`));
        },
      },
      options.jobTimeout ?? 300_000,
      this.logger,
    );
  }

  protected override onStart(): void {
    const mainThread = this.getMainThreadExecutor();
    this.taskManagerHeartbeats = this.options.heartbeat.createHeartbeatManagerSender<
      TaskExecutorHeartbeatPayload,
      void
    >(
      this.resourceId,
      {
        notifyHeartbeatTimeout: (resourceId) =>
          this.closeTaskManagerConnection(
            resourceId,
            new Error(`The heartbeat of TaskManager with id ${resourceId} timed out.`),
            true,
          ),
        notifyTargetUnreachable: (resourceId) =>
          this.closeTaskManagerConnection(
            resourceId,
            new Error(`TaskManager with id ${resourceId} is no longer reachable.`),
            true,
          ),
        reportPayload: (resourceId, payload) => this.onTaskManagerHeartbeatPayload(resourceId, payload),
        retrievePayload: () => undefined,
      },
      mainThread,
      this.logger,
    );
    this.jobManagerHeartbeats = this.options.heartbeat.createHeartbeatManagerSender<void, void>(
      this.resourceId,
      {
        notifyHeartbeatTimeout: (key) =>
          this.onJobManagerLost(key, (id) => `The heartbeat of JobManager with id ${id} timed out.`),
        notifyTargetUnreachable: (key) =>
          this.onJobManagerLost(key, (id) => `JobManager with id ${id} is no longer reachable.`),
        reportPayload: () => {},
        retrievePayload: () => undefined,
      },
      mainThread,
      this.logger,
    );
    this.logger.info({ address: this.getAddress() }, 'ResourceManager started.');
  }

  protected override onStop(): void {
    this.taskManagerHeartbeats?.stop();
    this.jobManagerHeartbeats?.stop();
    this.jobLeaderIds.close();
    this.slotManager.close();
    this.taskExecutors.clear();
    this.jobManagers.clear();
  }

  // ---------------------------------------------------------------------------------------------- JobMasters

  async registerJobMaster(
    jobMasterId: JobMasterId,
    jobMasterResourceId: ResourceId,
    jobMasterAddress: string,
    jobId: JobId,
    timeoutMs: number,
  ): Promise<RegistrationResponse<JobMasterRegistrationSuccess>> {
    for (const [what, value] of [
      ['jobMasterId', jobMasterId],
      ['jobMasterResourceId', jobMasterResourceId],
      ['jobMasterAddress', jobMasterAddress],
      ['jobId', jobId],
    ] as const) {
      if (typeof value !== 'string' || value.length === 0) return failure(`Invalid ${what}: a non-empty string.`);
    }
    try {
      this.jobLeaderIds.addJob(jobId);
    } catch (error) {
      return failure(`Could not add the job ${jobId} to the job leader id service: ${errorMessage(error)}`);
    }
    // Until the job's leader is known the answer waits (at most the caller's timeout): a caller that times out
    // retries at once with a longer timeout, whereas a Failure would make it pause for the refused delay.
    const waitMs = Math.min(Math.max(1, Number.isFinite(timeoutMs) ? timeoutMs : 10_000), 60_000);
    const mainThread = this.getMainThreadExecutor();
    const connecting = this.getRpcService().connect(jobMasterAddress, jobMasterId, JobMasterGateway);
    const [leaderId, gateway] = await Promise.all([
      this.jobLeaderIds.getLeaderId(jobId, waitMs),
      connecting.then(
        (g) => g,
        (error: unknown) => error as Error,
      ),
    ]);
    return mainThread.thenApply(Promise.resolve(), () => {
      if (gateway instanceof Error) {
        return failure(`Could not connect to the JobMaster at ${jobMasterAddress}: ${gateway.message}`);
      }
      if (leaderId === null) return failure(`No JobMaster leader of job ${jobId} is known to the ResourceManager.`);
      if (leaderId !== jobMasterId) {
        return failure(
          `The leading JobMaster id ${leaderId} did not match the received JobMaster id ${jobMasterId}. ` +
            'This indicates that a JobMaster leader change has happened.',
        );
      }
      return this.registerJobMasterInternal(jobId, jobMasterId, jobMasterResourceId, jobMasterAddress, gateway);
    });
  }

  private registerJobMasterInternal(
    jobId: JobId,
    jobMasterId: JobMasterId,
    resourceId: ResourceId,
    address: string,
    gateway: JobMasterGateway,
  ): RegistrationResponse<JobMasterRegistrationSuccess> {
    const old = this.jobManagers.get(jobId);
    if (old !== undefined) {
      if (old.jobMasterId === jobMasterId && old.resourceId === resourceId) {
        this.logger.debug({ jobId, address }, 'JobMaster was already registered.');
        return { kind: 'success', value: { resourceManagerResourceId: this.resourceId } };
      }
      this.closeJobManagerConnection(jobId, false, new Error(`New job leader for job ${jobId} found.`), true);
    }
    const entry: JobManagerEntry = { jobId, jobMasterId, resourceId, address, gateway };
    this.jobManagers.set(jobId, entry);
    this.jobManagerHeartbeats.monitorTarget(this.jobHeartbeatKey(jobId, resourceId), {
      receiveHeartbeat: async () => {},
      requestHeartbeat: (origin) => gateway.heartbeatFromResourceManager(origin),
    });
    this.logger.info({ jobId, address, jobMasterId }, 'Registered JobMaster.');
    return { kind: 'success', value: { resourceManagerResourceId: this.resourceId } };
  }

  async declareRequiredResources(
    jobMasterId: JobMasterId,
    requirements: ResourceRequirements,
    _timeoutMs: number,
  ): Promise<void> {
    validateRequirements(requirements);
    const entry = this.jobManagers.get(requirements.jobId);
    if (entry === undefined) {
      throw new UnknownComponentException(`Could not find registered job manager for job ${requirements.jobId}.`);
    }
    if (entry.jobMasterId !== jobMasterId) {
      throw new UnknownComponentException(
        `The job leader's id ${entry.jobMasterId} does not match the received id ${jobMasterId}.`,
      );
    }
    this.slotManager.processResourceRequirements(requirements);
  }

  async heartbeatFromJobManager(resourceId: ResourceId): Promise<void> {
    // Heartbeats are monitored per job (one JobMaster per job may live in one process): every job of the process.
    for (const entry of this.jobManagers.values()) {
      if (entry.resourceId === resourceId) {
        await this.jobManagerHeartbeats.receiveHeartbeat(this.jobHeartbeatKey(entry.jobId, resourceId), undefined);
      }
    }
  }

  async disconnectJobManager(jobId: JobId, status: JobStatus, cause: SerializedError): Promise<void> {
    const error = new Error(cause?.message ?? 'JobMaster disconnected.');
    if (TERMINAL_JOB_STATUSES.has(status)) {
      this.removeJob(jobId, error);
    } else {
      this.closeJobManagerConnection(jobId, false, error, false);
    }
  }

  private jobHeartbeatKey(jobId: JobId, resourceId: ResourceId): string {
    return `${resourceId}/${jobId}`;
  }

  private onJobManagerLost(heartbeatKey: string, reasonFor: (resourceId: ResourceId) => string): void {
    for (const entry of this.jobManagers.values()) {
      if (this.jobHeartbeatKey(entry.jobId, entry.resourceId) === heartbeatKey) {
        const reason = reasonFor(entry.resourceId);
        this.logger.info({ jobId: entry.jobId }, reason);
        this.closeJobManagerConnection(entry.jobId, false, new Error(reason), true);
        return;
      }
    }
    this.jobManagerHeartbeats.unmonitorTarget(heartbeatKey);
  }

  /** Ends a JobMaster's registration; its requirements stay unless `clearRequirements` (a new leader may come). */
  private closeJobManagerConnection(jobId: JobId, clearRequirements: boolean, cause: Error, notify: boolean): void {
    const entry = this.jobManagers.get(jobId);
    if (clearRequirements) this.slotManager.clearResourceRequirements(jobId);
    if (entry === undefined) return;
    this.jobManagers.delete(jobId);
    this.jobManagerHeartbeats.unmonitorTarget(this.jobHeartbeatKey(jobId, entry.resourceId));
    this.logger.info({ jobId, reason: cause.message }, 'Disconnected JobMaster.');
    if (notify) {
      entry.gateway
        .disconnectResourceManager(this.getFencingToken(), serializeError(cause))
        .catch((error: unknown) => this.logger.debug({ err: error }, 'Could not notify the JobMaster.'));
    }
  }

  private removeJob(jobId: JobId, cause: Error): void {
    this.jobLeaderIds.removeJob(jobId);
    this.closeJobManagerConnection(jobId, true, cause, false);
  }

  // ---------------------------------------------------------------------------------------------- TaskExecutors

  async registerTaskExecutor(
    registration: TaskExecutorRegistration,
    _timeoutMs: number,
  ): Promise<RegistrationResponse<TaskExecutorRegistrationSuccess>> {
    try {
      validateTaskExecutorRegistration(registration);
    } catch (error) {
      return { kind: 'rejection', reason: errorMessage(error) };
    }
    const { resourceId, taskExecutorAddress } = registration;
    const connecting = this.getRpcService().connect(taskExecutorAddress, TaskExecutorGateway);
    connecting.catch(() => {});
    this.taskExecutorConnects.set(resourceId, connecting);
    return this.getMainThreadExecutor().thenApply(
      connecting,
      (gateway) => {
        if (this.taskExecutorConnects.get(resourceId) !== connecting) {
          this.logger.debug({ resourceId }, 'Ignoring outdated TaskExecutorGateway connection.');
          return failure('Decline outdated task executor registration.');
        }
        this.taskExecutorConnects.delete(resourceId);
        return this.registerTaskExecutorInternal(registration, gateway);
      },
      (error: unknown) => {
        if (this.taskExecutorConnects.get(resourceId) === connecting) this.taskExecutorConnects.delete(resourceId);
        return failure(`Could not connect to the TaskExecutor at ${taskExecutorAddress}: ${errorMessage(error)}`);
      },
    );
  }

  private registerTaskExecutorInternal(
    registration: TaskExecutorRegistration,
    gateway: TaskExecutorGateway,
  ): RegistrationResponse<TaskExecutorRegistrationSuccess> {
    const { resourceId } = registration;
    if (this.taskExecutors.has(resourceId)) {
      this.logger.info({ resourceId }, 'Replacing old registration of TaskExecutor.');
      this.closeTaskManagerConnection(
        resourceId,
        new Error(`TaskExecutor ${resourceId} has re-connected to the ResourceManager.`),
        false,
      );
    }
    const instanceId = crypto.randomUUID();
    this.taskExecutors.set(resourceId, { registration, instanceId, gateway, registeredAt: Date.now() });
    this.taskManagerHeartbeats.monitorTarget(resourceId, {
      receiveHeartbeat: async () => {},
      requestHeartbeat: (origin) => gateway.heartbeatFromResourceManager(origin),
    });
    this.logger.info({ resourceId, address: registration.taskExecutorAddress, instanceId }, 'Registered TaskExecutor.');
    return { kind: 'success', value: { instanceId, resourceManagerResourceId: this.resourceId } };
  }

  async sendSlotReport(
    resourceId: ResourceId,
    instanceId: string,
    report: SlotReport,
    _timeoutMs: number,
  ): Promise<void> {
    validateSlotReport(report, resourceId);
    const entry = this.taskExecutors.get(resourceId);
    if (entry === undefined || entry.instanceId !== instanceId) {
      throw new UnknownComponentException(`Unknown TaskManager registration id ${instanceId}.`);
    }
    if (!this.slotManager.registerTaskManager(resourceId, instanceId, entry.gateway, report)) {
      this.slotManager.reportSlotStatus(resourceId, instanceId, report);
    }
  }

  async heartbeatFromTaskManager(resourceId: ResourceId, payload: TaskExecutorHeartbeatPayload): Promise<void> {
    await this.taskManagerHeartbeats.receiveHeartbeat(resourceId, payload);
  }

  private onTaskManagerHeartbeatPayload(resourceId: ResourceId, payload: TaskExecutorHeartbeatPayload): void {
    const entry = this.taskExecutors.get(resourceId);
    if (entry === undefined || !this.slotManager.isRegistered(resourceId)) return;
    try {
      validateSlotReport(payload?.slotReport, resourceId);
    } catch (error) {
      this.logger.warn({ err: error, resourceId }, 'Ignoring a malformed heartbeat payload.');
      return;
    }
    this.slotManager.reportSlotStatus(resourceId, entry.instanceId, payload.slotReport);
  }

  async disconnectTaskManager(resourceId: ResourceId, cause: SerializedError): Promise<void> {
    this.closeTaskManagerConnection(resourceId, new Error(cause?.message ?? 'TaskManager disconnected.'), false);
  }

  private closeTaskManagerConnection(resourceId: ResourceId, cause: Error, notify: boolean): void {
    this.taskManagerHeartbeats.unmonitorTarget(resourceId);
    const entry = this.taskExecutors.get(resourceId);
    if (entry === undefined) return;
    this.taskExecutors.delete(resourceId);
    this.slotManager.unregisterTaskManager(resourceId);
    this.logger.info({ resourceId, reason: cause.message }, 'Closed the TaskManager connection.');
    if (notify) {
      entry.gateway
        .disconnectResourceManager(serializeError(cause))
        .catch((error: unknown) => this.logger.debug({ err: error }, 'Could not notify the TaskExecutor.'));
    }
  }

  // ---------------------------------------------------------------------------------------------- read models

  async requestResourceOverview(): Promise<ResourceOverview> {
    const counts = this.slotManager.counts();
    return {
      numberRegisteredTaskManagers: this.taskExecutors.size,
      numberRegisteredSlots: counts.registered,
      numberFreeSlots: counts.free,
    };
  }

  /**
   * One entry per registered TaskExecutor. As in Flink's REST API, `timeSinceLastHeartbeat` holds the time
   * (epoch milliseconds) of the last heartbeat (the registration time before the first one).
   */
  async requestTaskManagerInfo(): Promise<TaskManagerInfo[]> {
    return [...this.taskExecutors.entries()].map(([resourceId, entry]) => {
      const slots = this.slotManager.slotsOf(resourceId);
      const last = this.taskManagerHeartbeats.getLastHeartbeatFrom(resourceId);
      return {
        id: resourceId,
        path: entry.registration.taskExecutorAddress,
        dataPort: entry.registration.dataPort ?? -1,
        timeSinceLastHeartbeat: last > 0 ? last : entry.registeredAt,
        slotsNumber: slots.length > 0 ? slots.length : entry.registration.numberOfSlots,
        freeSlots: slots.filter((slot) => slot.free).length,
        hostname: entry.registration.hostname,
        allocatedSlots: slots.map((slot) => ({
          slotNumber: slot.slotNumber,
          ...(slot.jobId === undefined ? {} : { jobId: slot.jobId }),
        })),
      };
    });
  }

  /** Slots held (allocated or being allocated) for a job: for tests and diagnostics. Main thread only. */
  getNumberOfSlotsOfJob(jobId: JobId): number {
    return this.slotManager.slotsOfJob(jobId);
  }

  /** The registered TaskExecutors' resource ids. Main thread only. */
  getRegisteredTaskExecutors(): ResourceId[] {
    return [...this.taskExecutors.keys()];
  }

  /** The registered jobs with their JobMasterIds. Main thread only. */
  getRegisteredJobMasters(): { jobId: JobId; jobMasterId: JobMasterId }[] {
    return [...this.jobManagers.values()].map(({ jobId, jobMasterId }) => ({ jobId, jobMasterId }));
  }

  /** The HA services this ResourceManager follows job leaders with. */
  getHaServices(): HighAvailabilityServices {
    return this.haServices;
  }
}
