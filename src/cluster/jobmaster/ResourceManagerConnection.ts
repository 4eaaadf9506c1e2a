/**
 * A JobMaster's link to the ResourceManager (Flink's JobMaster ↔ ResourceManager connection): it follows the
 * ResourceManager leader, registers with Flink's retries, declares the slots the job needs, answers the
 * ResourceManager's heartbeats and registers again when the leader changes, disconnects or falls silent.
 *
 * It lives in the JobMaster's main thread: every callback comes back through the JobMaster's main-thread executor.
 */

import type { HighAvailabilityServices, LeaderRetrievalService } from '../../ha/index.js';
import type { HeartbeatManager, HeartbeatServices } from '../../heartbeat/index.js';
import type { Logger, MainThreadExecutor, RpcService } from '../../index.js';
import { serializeError } from '../errors.js';
import { ResourceManagerGateway } from '../gateways.js';
import { RetryingRegistration, type RetryingRegistrationOptions } from '../registration/RetryingRegistration.js';
import type {
  JobId,
  JobMasterId,
  JobMasterRegistrationSuccess,
  JobStatus,
  ResourceId,
  ResourceManagerId,
} from '../types.js';

/** Pause before declaring resources again after the declaration failed. */
const REDECLARE_DELAY_MS = 500;

export interface ResourceManagerConnectionOptions {
  readonly rpcService: RpcService;
  readonly haServices: HighAvailabilityServices;
  readonly heartbeat: HeartbeatServices;
  readonly registration: RetryingRegistrationOptions;
  readonly rpcTimeout: number;
  readonly jobId: JobId;
  readonly jobMasterId: JobMasterId;
  /** The JobMaster's resource id (its heartbeat sender id). */
  readonly resourceId: ResourceId;
  readonly jobMasterAddress: string;
  readonly mainThread: MainThreadExecutor;
  readonly logger: Logger;
  /** How many slots the job needs now. */
  readonly requiredSlots: () => number;
  /** The job's status, reported when the JobMaster disconnects. */
  readonly jobStatus: () => JobStatus;
}

interface EstablishedConnection {
  readonly gateway: ResourceManagerGateway;
  readonly resourceManagerId: ResourceManagerId;
  readonly resourceManagerResourceId: ResourceId;
}

export class ResourceManagerConnection {
  private readonly heartbeats: HeartbeatManager<undefined, undefined>;
  private retrieval: LeaderRetrievalService | undefined;
  private leader: { address: string; sessionId: string } | null = null;
  private registration:
    | RetryingRegistration<ResourceManagerGateway, ResourceManagerId, JobMasterRegistrationSuccess>
    | undefined;
  private established: EstablishedConnection | undefined;
  private closed = false;

  constructor(private readonly options: ResourceManagerConnectionOptions) {
    this.heartbeats = options.heartbeat.createHeartbeatManager(
      options.resourceId,
      {
        notifyHeartbeatTimeout: (resourceId) =>
          this.onLost(resourceId, `The heartbeat of ResourceManager with id ${resourceId} timed out.`),
        notifyTargetUnreachable: (resourceId) =>
          this.onLost(resourceId, `ResourceManager with id ${resourceId} is no longer reachable.`),
        reportPayload: () => {},
        retrievePayload: () => undefined,
      },
      options.mainThread,
      options.logger,
    );
  }

  /** Starts following the ResourceManager leader (and registering at each). */
  start(): void {
    const retrieval = this.options.haServices.getResourceManagerLeaderRetriever();
    this.retrieval = retrieval;
    retrieval
      .start({
        notifyLeaderAddress: (address, sessionId) =>
          this.options.mainThread.execute(() => this.onLeader(address, sessionId)),
        handleError: (error) => this.options.logger.error({ err: error }, 'ResourceManager leader retrieval failed.'),
      })
      .catch((error: unknown) =>
        this.options.logger.error({ err: error }, 'Could not follow the ResourceManager leader.'),
      );
  }

  /** Tells the ResourceManager how many slots the job needs now (if registered). */
  declareRequiredResources(): void {
    const connection = this.established;
    if (connection === undefined || this.closed) return;
    const requirements = {
      jobId: this.options.jobId,
      jobMasterAddress: this.options.jobMasterAddress,
      numberOfRequiredSlots: this.options.requiredSlots(),
    };
    connection.gateway
      .declareRequiredResources(this.options.jobMasterId, requirements, this.options.rpcTimeout)
      .catch((error: unknown) => {
        this.options.logger.debug({ err: error }, 'Declaring the required resources failed; trying again.');
        this.options.mainThread.schedule(() => {
          if (this.established === connection) this.declareRequiredResources();
        }, REDECLARE_DELAY_MS);
      });
  }

  /** A heartbeat request of the ResourceManager (answered if it is the one registered). */
  heartbeatFromResourceManager(resourceId: ResourceId): Promise<void> {
    return this.heartbeats.requestHeartbeat(resourceId, undefined);
  }

  /** The ResourceManager closed the connection: register again if it is the current one. */
  disconnectResourceManager(resourceManagerId: ResourceManagerId, reason: string): void {
    if (this.established?.resourceManagerId !== resourceManagerId) return;
    this.reconnect(reason);
  }

  /** Stops registering and heartbeats, tells the ResourceManager (best effort) and stops following the leader. */
  async close(status: JobStatus, reason: string): Promise<void> {
    this.closed = true;
    this.registration?.cancel();
    this.registration = undefined;
    this.heartbeats.stop();
    const connection = this.established;
    this.established = undefined;
    connection?.gateway
      .disconnectJobManager(this.options.jobId, status, serializeError(new Error(reason)))
      .catch(() => {});
    await this.retrieval?.stop();
  }

  private onLeader(address: string | null, sessionId: string | null): void {
    if (this.closed) return;
    this.leader = address !== null && sessionId !== null ? { address, sessionId } : null;
    this.options.logger.info({ address, sessionId }, 'New ResourceManager leader.');
    this.reconnect('The ResourceManager leader changed.');
  }

  private onLost(resourceId: ResourceId, reason: string): void {
    if (this.established?.resourceManagerResourceId !== resourceId) return;
    this.options.logger.info({ reason }, 'Lost the ResourceManager: registering again.');
    this.reconnect(reason);
  }

  /** Drops the current connection or attempt and registers at the current leader, if any. */
  private reconnect(reason: string): void {
    this.registration?.cancel();
    this.registration = undefined;
    const connection = this.established;
    if (connection !== undefined) {
      this.established = undefined;
      this.heartbeats.unmonitorTarget(connection.resourceManagerResourceId);
      connection.gateway
        .disconnectJobManager(this.options.jobId, this.options.jobStatus(), serializeError(new Error(reason)))
        .catch(() => {});
    }
    const leader = this.leader;
    if (leader === null || this.closed) return;
    const { jobId, jobMasterId, resourceId, jobMasterAddress } = this.options;
    const registration = new RetryingRegistration<
      ResourceManagerGateway,
      ResourceManagerId,
      JobMasterRegistrationSuccess
    >({
      rpcService: this.options.rpcService,
      targetName: 'ResourceManager',
      targetAddress: leader.address,
      fencingToken: leader.sessionId,
      gateway: ResourceManagerGateway,
      options: this.options.registration,
      logger: this.options.logger,
      invoke: (gateway, timeoutMs) =>
        gateway.registerJobMaster(jobMasterId, resourceId, jobMasterAddress, jobId, timeoutMs),
    });
    this.registration = registration;
    registration.startRegistration();
    this.options.mainThread
      .thenApply(
        registration.result,
        ({ gateway, success }) => {
          // A success of an attempt that is no longer the current one is dropped.
          if (this.registration !== registration || this.closed) return;
          this.registration = undefined;
          this.establish(gateway, leader.sessionId, success);
        },
        (error: unknown) => {
          if (this.registration !== registration) return;
          this.registration = undefined;
          this.options.logger.error({ err: error }, 'Registration at the ResourceManager failed for good.');
        },
      )
      .catch(() => {});
  }

  private establish(
    gateway: ResourceManagerGateway,
    resourceManagerId: ResourceManagerId,
    success: JobMasterRegistrationSuccess,
  ): void {
    const resourceManagerResourceId = success.resourceManagerResourceId;
    this.established = { gateway, resourceManagerId, resourceManagerResourceId };
    this.options.logger.info({ resourceManagerId }, 'Registered at the ResourceManager.');
    this.heartbeats.monitorTarget(resourceManagerResourceId, {
      receiveHeartbeat: (origin) => gateway.heartbeatFromJobManager(origin),
      requestHeartbeat: (origin) => gateway.heartbeatFromJobManager(origin),
    });
    this.declareRequiredResources();
  }
}
