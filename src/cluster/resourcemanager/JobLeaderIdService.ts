/**
 * The ResourceManager's view of each job's JobMaster leader (Flink's JobLeaderIdService): follows the job's leader
 * retrieval so that a JobMaster registering with an outdated JobMasterId can be refused, and a JobMaster that lost its
 * leadership disconnected.
 */

import type { HighAvailabilityServices, LeaderRetrievalService } from '../../ha/index.js';
import type { Logger, MainThreadExecutor, ScheduledTask } from '../../index.js';
import type { JobId, JobMasterId } from '../types.js';

/** Told in the owner's main thread. */
export interface JobLeaderIdActions {
  /** The job's leader changed away from `oldJobMasterId` (a new leader, or none). */
  jobLeaderLostLeadership(jobId: JobId, oldJobMasterId: JobMasterId): void;
  /** The job had no leader for the job timeout: the ResourceManager forgets it. */
  notifyJobTimeout(jobId: JobId): void;
}

interface FollowedJob {
  readonly retrieval: LeaderRetrievalService;
  leaderId: JobMasterId | null;
  /** True once the retrieval told the current state at least once. */
  known: boolean;
  waiters: Set<(leaderId: JobMasterId | null) => void>;
  timeout: ScheduledTask<void> | undefined;
}

export class JobLeaderIdService {
  private readonly jobs = new Map<JobId, FollowedJob>();
  private closed = false;

  constructor(
    private readonly haServices: HighAvailabilityServices,
    private readonly mainThread: MainThreadExecutor,
    private readonly actions: JobLeaderIdActions,
    private readonly jobTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  containsJob(jobId: JobId): boolean {
    return this.jobs.has(jobId);
  }

  /** Starts following the job's leader (idempotent). */
  addJob(jobId: JobId): void {
    if (this.closed || this.jobs.has(jobId)) return;
    const retrieval = this.haServices.getJobManagerLeaderRetriever(jobId);
    const job: FollowedJob = { retrieval, leaderId: null, known: false, waiters: new Set(), timeout: undefined };
    this.jobs.set(jobId, job);
    this.armTimeout(jobId, job);
    retrieval
      .start({
        notifyLeaderAddress: (_address, sessionId) => {
          this.mainThread.execute(() => this.onLeader(jobId, job, sessionId));
        },
        handleError: (error) => this.logger.warn({ err: error, jobId }, 'Job leader retrieval failed.'),
      })
      .catch((error: unknown) => this.logger.warn({ err: error, jobId }, 'Could not follow the job leader.'));
  }

  /** Stops following the job. */
  removeJob(jobId: JobId): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) return;
    this.jobs.delete(jobId);
    job.timeout?.cancel();
    for (const waiter of job.waiters) waiter(null);
    job.retrieval.stop().catch(() => {});
  }

  /**
   * The job's current leader id: at once if known, else as soon as the retrieval tells it; `null` when there is no
   * leader within `timeoutMs`.
   */
  getLeaderId(jobId: JobId, timeoutMs: number): Promise<JobMasterId | null> {
    this.addJob(jobId);
    const job = this.jobs.get(jobId);
    if (job === undefined) return Promise.resolve(null);
    if (job.known && job.leaderId !== null) return Promise.resolve(job.leaderId);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        job.waiters.delete(waiter);
        resolve(job.leaderId);
      }, timeoutMs);
      const waiter = (leaderId: JobMasterId | null) => {
        clearTimeout(timer);
        job.waiters.delete(waiter);
        resolve(leaderId);
      };
      job.waiters.add(waiter);
    });
  }

  close(): void {
    this.closed = true;
    for (const jobId of [...this.jobs.keys()]) this.removeJob(jobId);
  }

  private onLeader(jobId: JobId, job: FollowedJob, sessionId: string | null): void {
    if (this.jobs.get(jobId) !== job) return;
    const old = job.leaderId;
    job.leaderId = sessionId;
    job.known = true;
    if (sessionId !== null) {
      job.timeout?.cancel();
      job.timeout = undefined;
      for (const waiter of [...job.waiters]) waiter(sessionId);
    } else {
      this.armTimeout(jobId, job);
    }
    if (old !== null && old !== sessionId) this.actions.jobLeaderLostLeadership(jobId, old);
  }

  private armTimeout(jobId: JobId, job: FollowedJob): void {
    job.timeout?.cancel();
    job.timeout = this.mainThread.schedule(() => {
      if (this.jobs.get(jobId) !== job || job.leaderId !== null) return;
      this.actions.notifyJobTimeout(jobId);
    }, this.jobTimeoutMs);
  }
}
