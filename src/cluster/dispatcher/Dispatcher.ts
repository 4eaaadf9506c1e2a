/**
 * The Dispatcher of one leadership grant (Flink's Dispatcher): it accepts job submissions, persists job graphs in the
 * HA store, runs one JobManagerRunner per job, recovers every unfinished job when it starts, records results in the
 * JobResultStore and serves the read models — from the JobMasters while jobs run, from the archive once they ended.
 */

import type { HighAvailabilityServices, LeaderElection, LeaderGatewayRetriever } from '../../ha/index.js';
import type { HeartbeatServices } from '../../heartbeat/index.js';
import { FencedRpcEndpoint, type Logger, type RpcService } from '../../index.js';
import {
  DuplicateJobSubmissionException,
  FlinkJobNotFoundException,
  JobSubmissionException,
  UnknownComponentException,
} from '../errors.js';
import { DispatcherGateway, type JobMasterGateway, type ResourceManagerGateway } from '../gateways.js';
import { validateJobGraph } from '../graph/validateJobGraph.js';
import type { ClusterHaStores, JobGraphStore, JobResultStore } from '../ha/stores.js';
import { type ArchivedJob, emptyCheckpointStats } from '../jobmaster/ArchivedJob.js';
import { initializingJobDetails } from '../jobmaster/ExecutionGraph.js';
import { JobManagerRunner } from '../jobmaster/JobManagerRunner.js';
import type { JobMasterConfiguration } from '../jobmaster/JobMaster.js';
import type {
  CheckpointStats,
  ClusterOverview,
  DispatcherId,
  JobDetails,
  JobExceptions,
  JobGraph,
  JobId,
  JobOverview,
  JobResult,
  JobStatus,
  ResourceId,
  TaskManagerInfo,
  ValidatedJobGraph,
} from '../types.js';

/** Reported as `flink-version` in the cluster overview. */
export const FLINK_RPC_VERSION = 'flink-rpc 0.1.0';

/** What every Dispatcher of one JobManager process shares across its leadership grants. */
export interface DispatcherServices {
  readonly rpcService: RpcService;
  readonly haServices: HighAvailabilityServices;
  readonly stores: ClusterHaStores;
  readonly heartbeat: HeartbeatServices;
  readonly jobMasterConfiguration: JobMasterConfiguration;
  /** Whether an operator name is one the TaskManagers know (built-ins). */
  readonly knownOperators: (name: string) => boolean;
  /** The ResourceManager leader, for the cluster overview and the TaskManager list. */
  readonly resourceManager: LeaderGatewayRetriever<ResourceManagerGateway>;
  /** Jobs that ended while this process led: kept across grants (Flink's ExecutionGraphInfoStore). */
  readonly archive: Map<JobId, ArchivedJob>;
  readonly logger: Logger;
}

/** Finished jobs whose read models are kept in memory. */
const MAX_ARCHIVED_JOBS = 1_000;

/** How long read calls wait for the ResourceManager leader. */
const RESOURCE_MANAGER_LOOKUP_TIMEOUT = 5_000;

export class Dispatcher extends FencedRpcEndpoint<DispatcherId> implements DispatcherGateway {
  static readonly gateways = [DispatcherGateway];

  private readonly runners = new Map<JobId, JobManagerRunner>();
  /** Job ids whose submission is between validation and the start of their runner. */
  private readonly submitting = new Set<JobId>();
  private readonly jobGraphStore: JobGraphStore;
  private readonly jobResultStore: JobResultStore;
  private readonly logger: Logger;
  private recovery: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly services: DispatcherServices,
    dispatcherId: DispatcherId,
    private readonly election: LeaderElection,
  ) {
    super(services.rpcService, dispatcherId, `dispatcher-${dispatcherId}`);
    this.logger = services.logger.child({ component: 'Dispatcher', dispatcherId });
    this.jobGraphStore = services.stores.jobGraphStore(election);
    this.jobResultStore = services.stores.jobResultStore(election);
  }

  protected override onStart(): void {
    this.recovery = this.recoverJobs().catch((error: unknown) => {
      this.logger.error({ err: error }, 'Could not recover the jobs of the previous leader.');
    });
  }

  protected override async onStop(): Promise<void> {
    this.stopped = true;
    const runners = [...this.runners.values()];
    this.runners.clear();
    await Promise.all(runners.map((runner) => runner.close()));
  }

  /** Resolves once the jobs of the previous leader run again (or were found finished). */
  whenRecovered(): Promise<void> {
    return this.recovery;
  }

  /** Recovers every job in the JobGraphStore that has no result yet; finishes the cleanup of those that have one. */
  private async recoverJobs(): Promise<void> {
    for (const dirty of await this.jobResultStore.getDirtyResults()) {
      if (this.stopped) return;
      await this.cleanUpJob(dirty.jobId);
    }
    const jobIds = await this.jobGraphStore.getJobIds();
    for (const jobId of jobIds) {
      if (this.stopped) return;
      if (await this.jobResultStore.hasJobResultEntry(jobId)) {
        await this.cleanUpJob(jobId);
        continue;
      }
      const graph = await this.jobGraphStore.recoverJobGraph(jobId);
      if (graph === undefined || this.stopped || this.runners.has(jobId)) continue;
      this.logger.info({ jobId }, 'Recovering job.');
      this.runJob(graph, Date.now());
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Submission and results

  async submitJob(graph: JobGraph, _timeoutMs: number): Promise<JobId> {
    await this.recovery;
    const validated = validateJobGraph(graph, this.services.knownOperators);
    const jobId = validated.jobId;
    if (this.runners.has(jobId) || this.submitting.has(jobId) || this.services.archive.has(jobId)) {
      throw new DuplicateJobSubmissionException(jobId);
    }
    this.submitting.add(jobId);
    try {
      if (await this.jobResultStore.hasJobResultEntry(jobId)) throw new DuplicateJobSubmissionException(jobId);
      await this.jobGraphStore.putJobGraph(validated);
      if (this.stopped) {
        throw new JobSubmissionException(`The Dispatcher lost leadership while job ${jobId} was submitted.`);
      }
      this.logger.info({ jobId, name: validated.name }, 'Job submitted.');
      this.runJob(validated, Date.now());
      return jobId;
    } finally {
      this.submitting.delete(jobId);
    }
  }

  private runJob(graph: ValidatedJobGraph, startTime: number): void {
    const runner = new JobManagerRunner({
      rpcService: this.getRpcService(),
      haServices: this.services.haServices,
      stores: this.services.stores,
      heartbeat: this.services.heartbeat,
      configuration: this.services.jobMasterConfiguration,
      jobGraph: graph,
      startTime,
      logger: this.logger,
    });
    this.runners.set(graph.jobId, runner);
    runner.start().catch((error: unknown) => {
      this.logger.error({ err: error, jobId: graph.jobId }, 'Could not join the job leader election.');
    });
    runner.result.then(
      (archive) => this.runAsync(() => this.jobReachedTerminalState(runner, archive)),
      () => {},
    );
  }

  /** Archives the job, records its result in the JobResultStore, then cleans up its HA data (Flink's order). */
  private jobReachedTerminalState(runner: JobManagerRunner, archive: ArchivedJob): void {
    if (this.runners.get(runner.jobId) !== runner) return;
    const jobId = runner.jobId;
    this.services.archive.set(jobId, archive);
    // Bounded like Flink's job store (`jobstore.max-capacity`): the oldest archives go first; their results stay in
    // the JobResultStore.
    for (const oldest of this.services.archive.keys()) {
      if (this.services.archive.size <= MAX_ARCHIVED_JOBS) break;
      this.services.archive.delete(oldest);
    }
    this.logger.info({ jobId, status: archive.result.status }, 'Job reached a globally terminal state.');
    void (async () => {
      try {
        await this.jobResultStore.createDirtyResult(archive.result);
      } catch (error) {
        // Without the dirty result a successor would run the job again: keep everything for it.
        this.logger.error({ err: error, jobId }, 'Could not record the job result; leaving the job to recovery.');
        return;
      }
      this.runners.delete(jobId);
      await runner.close();
      await this.cleanUpJob(jobId);
    })().catch((error: unknown) => {
      this.logger.error({ err: error, jobId }, 'Finishing the job failed.');
    });
  }

  private async cleanUpJob(jobId: JobId): Promise<void> {
    const { stores, jobMasterConfiguration } = this.services;
    try {
      await this.jobGraphStore.removeJobGraph(jobId);
      await stores
        .completedCheckpointStore(jobId, jobMasterConfiguration.maxRetainedCheckpoints, this.election)
        .discardAll();
      await stores.checkpointIdCounter(jobId, this.election).discard();
      await this.jobResultStore.markResultAsClean(jobId);
    } catch (error) {
      this.logger.warn({ err: error, jobId }, 'Could not clean up the HA data of a finished job.');
    }
  }

  async requestJobResult(jobId: JobId, _timeoutMs: number): Promise<JobResult> {
    requireKnownJobIdShape(jobId);
    // A job of the previous leader has no runner until recovery started it.
    await this.recovery;
    const archived = this.services.archive.get(jobId);
    if (archived !== undefined) return archived.result;
    const runner = this.runners.get(jobId);
    if (runner !== undefined) return (await runner.result).result;
    const stored = await this.jobResultStore.getJobResult(jobId);
    if (stored !== undefined) return stored;
    throw new FlinkJobNotFoundException(jobId);
  }

  async cancelJob(jobId: JobId): Promise<void> {
    requireKnownJobIdShape(jobId);
    // A job of the previous leader has no runner until recovery started it.
    await this.recovery;
    const runner = this.runners.get(jobId);
    if (runner !== undefined) {
      await runner.cancel();
      return;
    }
    if (this.services.archive.has(jobId) || (await this.jobResultStore.hasJobResultEntry(jobId))) return;
    throw new FlinkJobNotFoundException(jobId);
  }

  async triggerCheckpoint(jobId: JobId, timeoutMs: number): Promise<number> {
    requireKnownJobIdShape(jobId);
    return this.jobMaster(jobId).triggerCheckpoint(timeoutMs);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Read models

  async listJobs(): Promise<JobOverview[]> {
    const running = await Promise.all(
      [...this.runners.values()].map(async (runner) => overviewOf(await this.detailsOf(runner))),
    );
    const archived = [...this.services.archive.values()]
      .filter((archive) => !this.runners.has(archive.result.jobId))
      .map((archive) => archive.overview);
    return [...running, ...archived];
  }

  async requestJobStatus(jobId: JobId): Promise<JobStatus> {
    requireKnownJobIdShape(jobId);
    // A job of the previous leader has no runner until recovery started it.
    await this.recovery;
    const runner = this.runners.get(jobId);
    if (runner !== undefined) {
      const gateway = runner.getJobMasterGateway();
      return gateway === undefined ? 'INITIALIZING' : gateway.requestJobStatus();
    }
    const archived = this.services.archive.get(jobId);
    if (archived !== undefined) return archived.result.status;
    const stored = await this.jobResultStore.getJobResult(jobId);
    if (stored !== undefined) return stored.status;
    throw new FlinkJobNotFoundException(jobId);
  }

  async requestJob(jobId: JobId): Promise<JobDetails> {
    return this.readModel(
      jobId,
      (runner) => this.detailsOf(runner),
      (archived) => archived.details,
    );
  }

  async requestCheckpointStats(jobId: JobId): Promise<CheckpointStats> {
    return this.readModel(
      jobId,
      (runner) => {
        const gateway = runner.getJobMasterGateway();
        return gateway === undefined ? emptyCheckpointStats() : gateway.requestCheckpointStats();
      },
      (archived) => archived.checkpointStats,
    );
  }

  async requestJobExceptions(jobId: JobId): Promise<JobExceptions> {
    return this.readModel(
      jobId,
      (runner) => {
        const gateway = runner.getJobMasterGateway();
        return gateway === undefined
          ? { exceptionHistory: { entries: [], truncated: false } }
          : gateway.requestJobExceptions();
      },
      (archived) => archived.exceptions,
    );
  }

  async requestClusterOverview(): Promise<ClusterOverview> {
    const resourceManager = await this.services.resourceManager.getGateway(RESOURCE_MANAGER_LOOKUP_TIMEOUT);
    const resources = await resourceManager.requestResourceOverview();
    const statuses = await Promise.all(
      [...this.runners.values()].map(async (runner) => {
        const gateway = runner.getJobMasterGateway();
        return gateway === undefined
          ? ('INITIALIZING' as JobStatus)
          : gateway.requestJobStatus().catch(() => 'INITIALIZING' as JobStatus);
      }),
    );
    const ended = [...this.services.archive.values()]
      .filter((archive) => !this.runners.has(archive.result.jobId))
      .map((archive) => archive.result.status as JobStatus);
    const all = [...statuses, ...ended];
    return {
      taskmanagers: resources.numberRegisteredTaskManagers,
      'slots-total': resources.numberRegisteredSlots,
      'slots-available': resources.numberFreeSlots,
      'jobs-running': all.filter((status) => status !== 'FINISHED' && status !== 'CANCELED' && status !== 'FAILED')
        .length,
      'jobs-finished': all.filter((status) => status === 'FINISHED').length,
      'jobs-cancelled': all.filter((status) => status === 'CANCELED').length,
      'jobs-failed': all.filter((status) => status === 'FAILED').length,
      'flink-version': FLINK_RPC_VERSION,
    };
  }

  async requestTaskManagers(): Promise<TaskManagerInfo[]> {
    const resourceManager = await this.services.resourceManager.getGateway(RESOURCE_MANAGER_LOOKUP_TIMEOUT);
    return resourceManager.requestTaskManagerInfo();
  }

  async requestTaskManager(resourceId: ResourceId): Promise<TaskManagerInfo> {
    const found = (await this.requestTaskManagers()).find((info) => info.id === resourceId);
    if (found === undefined) {
      throw new UnknownComponentException(`No TaskExecutor registered under ${String(resourceId)}.`);
    }
    return found;
  }

  /** A read model of a job: from its runner while it runs here, else from the archive, else the job is not found. */
  private async readModel<T>(
    jobId: JobId,
    fromRunner: (runner: JobManagerRunner) => T | Promise<T>,
    fromArchive: (archived: ArchivedJob) => T,
  ): Promise<T> {
    requireKnownJobIdShape(jobId);
    const runner = this.runners.get(jobId);
    if (runner !== undefined) return fromRunner(runner);
    const archived = this.services.archive.get(jobId);
    if (archived !== undefined) return fromArchive(archived);
    throw new FlinkJobNotFoundException(jobId);
  }

  private jobMaster(jobId: JobId): JobMasterGateway {
    const runner = this.runners.get(jobId);
    if (runner === undefined) throw new FlinkJobNotFoundException(jobId);
    const gateway = runner.getJobMasterGateway();
    if (gateway === undefined) {
      throw new UnknownComponentException(`The JobMaster of job ${jobId} is not running (yet) in this JobManager.`);
    }
    return gateway;
  }

  private async detailsOf(runner: JobManagerRunner): Promise<JobDetails> {
    const gateway = runner.getJobMasterGateway();
    if (gateway !== undefined) {
      try {
        return await gateway.requestJob();
      } catch {
        // The JobMaster stopped in between: fall through to the initializing view.
      }
    }
    return initializingJobDetails(runner.jobGraph, runner.startTime);
  }
}

/**
 * Job ids from the network become store keys and paths: anything that is not a plain id names no job (and never
 * reaches a store).
 */
function requireKnownJobIdShape(jobId: unknown): asserts jobId is JobId {
  if (typeof jobId !== 'string' || !/^[A-Za-z0-9_.-]{1,255}$/.test(jobId) || jobId === '.' || jobId === '..') {
    throw new FlinkJobNotFoundException(typeof jobId === 'string' ? jobId.slice(0, 255) : String(jobId));
  }
}

function overviewOf(details: JobDetails): JobOverview {
  const counts = details['status-counts'];
  let total = 0;
  for (const count of Object.values(counts)) total += count;
  const timestamps = Object.values(details.timestamps).filter((t): t is number => typeof t === 'number');
  return {
    jid: details.jid,
    name: details.name,
    state: details.state,
    'start-time': details['start-time'],
    'end-time': details['end-time'],
    duration: details.duration,
    'last-modification': timestamps.length > 0 ? Math.max(...timestamps) : details['start-time'],
    tasks: { ...counts, total },
  };
}
