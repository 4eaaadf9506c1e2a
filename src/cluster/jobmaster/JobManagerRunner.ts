/**
 * The leader contender of one job (Flink's JobMasterServiceLeadershipRunner): it takes part in the job's leader
 * election and runs a fresh JobMaster per grant, fenced by the leader session id (the JobMasterId). When leadership
 * is revoked, that JobMaster stops and the job is left to the next leader; when the job reaches a globally terminal
 * state, the runner's result settles.
 */

import type { HighAvailabilityServices, LeaderContender, LeaderElection } from '../../ha/index.js';
import type { HeartbeatServices } from '../../heartbeat/index.js';
import type { Logger, RpcService } from '../../index.js';
import { JobNotFinishedException } from '../errors.js';
import { JobMasterGateway } from '../gateways.js';
import type { ClusterHaStores } from '../ha/stores.js';
import { createRestartStrategy } from '../restart/restartStrategies.js';
import type { JobId, ValidatedJobGraph } from '../types.js';
import type { ArchivedJob } from './ArchivedJob.js';
import { JobMaster, type JobMasterConfiguration, withClusterDefaults } from './JobMaster.js';

export interface JobManagerRunnerArgs {
  readonly rpcService: RpcService;
  readonly haServices: HighAvailabilityServices;
  readonly stores: ClusterHaStores;
  readonly heartbeat: HeartbeatServices;
  readonly configuration: JobMasterConfiguration;
  readonly jobGraph: ValidatedJobGraph;
  /** When the job was submitted (or recovered). */
  readonly startTime: number;
  readonly logger: Logger;
}

export class JobManagerRunner implements LeaderContender {
  readonly jobId: JobId;
  /**
   * Settles once the job reached a globally terminal state; rejects with {@link JobNotFinishedException} if the
   * runner is closed before (the job is left to the next leader).
   */
  readonly result: Promise<ArchivedJob>;
  private resolveResult!: (archive: ArchivedJob) => void;
  private rejectResult!: (error: Error) => void;
  private readonly election: LeaderElection;
  private readonly logger: Logger;
  private jobMaster: JobMaster | undefined;
  private readonly stopping = new Set<Promise<void>>();
  private cancelRequested = false;
  private finished = false;
  private closed = false;

  constructor(private readonly args: JobManagerRunnerArgs) {
    this.jobId = args.jobGraph.jobId;
    this.logger = args.logger.child({ component: 'JobManagerRunner', jobId: this.jobId });
    this.result = new Promise((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // Whoever waits for the result handles the rejection; nobody waiting is fine too.
    this.result.catch(() => {});
    this.election = args.haServices.getJobManagerLeaderElection(this.jobId);
  }

  get jobName(): string {
    return this.args.jobGraph.name;
  }

  get jobGraph(): ValidatedJobGraph {
    return this.args.jobGraph;
  }

  get startTime(): number {
    return this.args.startTime;
  }

  /** Joins the job's leader election. */
  start(): Promise<void> {
    return this.election.startLeaderElection(this);
  }

  /** The gateway of this process's JobMaster for the job, while it leads. */
  getJobMasterGateway(): JobMasterGateway | undefined {
    const jobMaster = this.jobMaster;
    return jobMaster === undefined ? undefined : jobMaster.getSelfGateway(JobMasterGateway);
  }

  /** Cancels the job: at once if a JobMaster leads here, else as soon as one does. */
  async cancel(): Promise<void> {
    this.cancelRequested = true;
    await this.getJobMasterGateway()?.cancel();
  }

  grantLeadership(sessionId: string): void {
    if (this.closed || this.finished) return;
    const { stores, configuration } = this.args;
    const jobGraph = withClusterDefaults(this.args.jobGraph, configuration);
    const checkpointingEnabled = (jobGraph.checkpointing?.interval ?? 0) > 0;
    const jobMaster = new JobMaster({
      rpcService: this.args.rpcService,
      jobMasterId: sessionId,
      jobGraph,
      haServices: this.args.haServices,
      heartbeat: this.args.heartbeat,
      configuration,
      checkpointStore: stores.completedCheckpointStore(this.jobId, configuration.maxRetainedCheckpoints, this.election),
      checkpointIdCounter: stores.checkpointIdCounter(this.jobId, this.election),
      restartStrategy: createRestartStrategy(jobGraph.restartStrategy, checkpointingEnabled),
      startTime: this.args.startTime,
      cancelRequested: this.cancelRequested,
      onJobReachedTerminalState: (archive) => {
        if (this.finished) return;
        this.finished = true;
        this.resolveResult(archive);
      },
      logger: this.logger,
    });
    this.jobMaster = jobMaster;
    jobMaster.start();
    this.logger.info({ jobMasterId: sessionId }, 'JobMaster granted leadership.');
    void this.election.confirmLeadership(sessionId, jobMaster.getAddress());
  }

  revokeLeadership(): void {
    const jobMaster = this.jobMaster;
    this.jobMaster = undefined;
    if (jobMaster !== undefined) {
      this.logger.info(
        { jobMasterId: jobMaster.getFencingToken() },
        this.closed ? 'Stopping the JobMaster.' : 'JobMaster lost leadership.',
      );
      this.stopJobMaster(jobMaster);
    }
  }

  handleError(error: Error): void {
    this.logger.error({ err: error }, 'Leader election of the job failed.');
  }

  private stopJobMaster(jobMaster: JobMaster): void {
    const stopping: Promise<void> = jobMaster.closeAsync().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'The JobMaster did not stop cleanly.');
    });
    this.stopping.add(stopping);
    void stopping.finally(() => this.stopping.delete(stopping));
  }

  /** Leaves the election (its JobMaster stops) and waits for every JobMaster of this runner to stop. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.election.close().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Could not leave the job leader election.');
    });
    const jobMaster = this.jobMaster;
    this.jobMaster = undefined;
    if (jobMaster !== undefined) this.stopJobMaster(jobMaster);
    await Promise.all([...this.stopping]);
    if (!this.finished) this.rejectResult(new JobNotFinishedException(this.jobId));
  }
}
