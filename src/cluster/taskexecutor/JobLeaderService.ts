/**
 * The TaskExecutor's job leader service (Flink's `DefaultJobLeaderService`): for every job the TaskExecutor holds
 * slots for, it follows that job's JobMaster leader through the HA services and registers with it (Flink's retrying
 * registration; answers to outdated attempts are dropped). What a connection means — slot offers, heartbeats, tasks —
 * is the TaskExecutor's business: the service tells it through a {@link JobLeaderListener}. Everything runs on the
 * TaskExecutor's main thread.
 */

import type { HighAvailabilityServices, LeaderRetrievalService } from '../../ha/index.js';
import type { Logger, MainThreadExecutor, RpcService, ScheduledTask } from '../../index.js';
import { JobMasterGateway } from '../gateways.js';
import { RetryingRegistration, type RetryingRegistrationOptions } from '../registration/RetryingRegistration.js';
import type {
  JobId,
  JobMasterId,
  JobMasterTaskManagerRegistrationSuccess,
  ResourceId,
  TaskManagerRegistrationInfo,
} from '../types.js';

/** A registered connection to a job's JobMaster. */
export interface JobManagerConnection {
  readonly jobMasterId: JobMasterId;
  readonly gateway: JobMasterGateway;
  readonly jobMasterResourceId: ResourceId;
}

/** One job this TaskExecutor holds slots for (Flink's JobTable entry with its job leader service part). */
export interface JobEntry {
  readonly jobId: JobId;
  retrieval: LeaderRetrievalService | undefined;
  leader: { address: string; sessionId: string } | null;
  registration:
    | RetryingRegistration<JobMasterGateway, JobMasterId, JobMasterTaskManagerRegistrationSuccess>
    | undefined;
  connection: JobManagerConnection | undefined;
  /** The id of the latest slot offer: answers to older offers are ignored. */
  offerId: number;
  /** Runs when the job has had no leader for a while: only then is its JobMaster connection given up. */
  leaderLostTimer: ScheduledTask<void> | undefined;
}

/** What the TaskExecutor does when a job's leader comes and goes. */
export interface JobLeaderListener {
  /** Registered with the job's leader `jobMasterId`: establish the connection (offer slots, heartbeats). */
  jobManagerConnected(
    job: JobEntry,
    jobMasterId: JobMasterId,
    gateway: JobMasterGateway,
    success: JobMasterTaskManagerRegistrationSuccess,
  ): void;
  /** The job's JobMaster connection must end: its leader changed, or was gone for longer than allowed. */
  disconnectJobManager(job: JobEntry, cause: Error): void;
}

export interface JobLeaderServiceOptions {
  readonly rpcService: RpcService;
  readonly haServices: HighAvailabilityServices;
  readonly registration: RetryingRegistrationOptions;
  readonly mainThread: MainThreadExecutor;
  /** Runs on the main thread (the TaskExecutor's `runAsync`). */
  readonly runAsync: (action: () => void) => void;
  /** Runs on the main thread after `delayMs` (the TaskExecutor's `scheduleRunAsync`). */
  readonly scheduleRunAsync: (action: () => void, delayMs: number) => ScheduledTask<void>;
  /** How long a job may have no leader before its connection is given up (Flink's `taskmanager.slot.timeout`). */
  readonly leaderLostTimeout: number;
  /** What the TaskExecutor registers with (read at each registration). */
  readonly registrationInfo: () => TaskManagerRegistrationInfo;
  /** True once the TaskExecutor shuts down: leader changes are ignored then. */
  readonly isStopping: () => boolean;
  readonly listener: JobLeaderListener;
  readonly logger: Logger;
}

export class JobLeaderService {
  /** The jobs followed, by id. */
  readonly jobs = new Map<JobId, JobEntry>();

  constructor(private readonly options: JobLeaderServiceOptions) {}

  /**
   * Follows the leader of `jobId` (no-op when followed already). `jobMasterAddress` is where the job's leader is
   * when the backend cannot tell (standalone HA), as in Flink.
   */
  addJob(jobId: JobId, jobMasterAddress?: string): JobEntry {
    const existing = this.jobs.get(jobId);
    if (existing !== undefined) return existing;
    const job: JobEntry = {
      jobId,
      retrieval: undefined,
      leader: null,
      registration: undefined,
      connection: undefined,
      offerId: 0,
      leaderLostTimer: undefined,
    };
    this.jobs.set(jobId, job);
    const retrieval = this.options.haServices.getJobManagerLeaderRetriever(jobId, jobMasterAddress);
    job.retrieval = retrieval;
    const { logger } = this.options;
    retrieval
      .start({
        notifyLeaderAddress: (address, sessionId) =>
          this.options.runAsync(() => this.notifyOfNewJobLeader(job, address, sessionId)),
        handleError: (error) => logger.warn({ err: error, jobId }, 'Job leader retrieval failed.'),
      })
      .catch((error: unknown) => logger.warn({ err: error, jobId }, 'Could not follow the job leader.'));
    return job;
  }

  /** Stops following `job`'s leader (the TaskExecutor has no slots of it any more). */
  removeJob(job: JobEntry): void {
    job.leaderLostTimer?.cancel();
    job.leaderLostTimer = undefined;
    this.jobs.delete(job.jobId);
    job.retrieval?.stop().catch(() => {});
  }

  /** Stops following every job (shutdown); the caller says goodbye to the connections first. */
  async stop(): Promise<void> {
    for (const job of this.jobs.values()) {
      job.registration?.cancel();
      job.leaderLostTimer?.cancel();
      await job.retrieval?.stop().catch(() => {});
    }
    this.jobs.clear();
  }

  /** Registers (again) with the job's current leader, if it has one. */
  connect(job: JobEntry): void {
    const leader = job.leader;
    if (leader === null || this.options.isStopping()) return;
    job.registration?.cancel();
    const registration = new RetryingRegistration<
      JobMasterGateway,
      JobMasterId,
      JobMasterTaskManagerRegistrationSuccess
    >({
      rpcService: this.options.rpcService,
      targetName: `JobManager of job ${job.jobId}`,
      targetAddress: leader.address,
      fencingToken: leader.sessionId,
      gateway: JobMasterGateway,
      options: this.options.registration,
      logger: this.options.logger,
      invoke: (gateway, timeoutMs) =>
        gateway.registerTaskManager(job.jobId, this.options.registrationInfo(), timeoutMs),
    });
    job.registration = registration;
    this.options.mainThread
      .thenApply(
        registration.result,
        ({ gateway, success }) => {
          if (job.registration !== registration || this.jobs.get(job.jobId) !== job) return; // outdated
          job.registration = undefined;
          this.options.listener.jobManagerConnected(job, leader.sessionId, gateway, success);
        },
        (error: unknown) => {
          if (job.registration !== registration) return;
          job.registration = undefined;
          if (!registration.isCanceled()) {
            this.options.logger.warn({ err: error, jobId: job.jobId }, 'The JobMaster rejected the registration.');
          }
        },
      )
      .catch(() => {});
    registration.startRegistration();
  }

  private notifyOfNewJobLeader(job: JobEntry, address: string | null, sessionId: string | null): void {
    if (this.jobs.get(job.jobId) !== job || this.options.isStopping()) return;
    const leader = address !== null && sessionId !== null ? { address, sessionId } : null;
    if (leader?.address === job.leader?.address && leader?.sessionId === job.leader?.sessionId) return;
    this.options.logger.info({ jobId: job.jobId, leader }, 'New JobMaster leader.');
    job.leader = leader;
    const lost = () => new Error(`JobManager responsible for ${job.jobId} lost the leadership.`);
    if (leader === null) {
      // The leader may only be unreachable for the HA backend for a moment (e.g. a ZooKeeper restart) and come back
      // under the same session: keep its connection and tasks for a while.
      job.registration?.cancel();
      job.registration = undefined;
      if (job.connection !== undefined && job.leaderLostTimer === undefined) {
        job.leaderLostTimer = this.options.scheduleRunAsync(() => {
          job.leaderLostTimer = undefined;
          if (this.jobs.get(job.jobId) !== job || job.leader !== null) return;
          this.options.listener.disconnectJobManager(job, lost());
        }, this.options.leaderLostTimeout);
      }
      return;
    }
    job.leaderLostTimer?.cancel();
    job.leaderLostTimer = undefined;
    if (job.connection !== undefined && job.connection.jobMasterId === leader.sessionId) return; // the same leader
    this.options.listener.disconnectJobManager(job, lost());
    this.connect(job);
  }
}
