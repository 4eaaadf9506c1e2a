/**
 * A fake Dispatcher for the REST, dashboard and CLI tests: a real fenced RPC endpoint serving DispatcherGateway with
 * canned read models, elected through the HA services like the real one. Submitted jobs run at once; a checkpoint
 * completes every `checkpointIntervalMs` while a job runs.
 */

import {
  DispatcherGateway,
  DuplicateJobSubmissionException,
  FlinkJobNotFoundException,
  JobSubmissionException,
  UnknownComponentException,
} from '../../src/cluster/index.js';
import { emptyTaskCounts } from '../../src/cluster/jobmaster/ExecutionGraph.js';
import type {
  CheckpointStats,
  CheckpointStatsEntry,
  ClusterOverview,
  ExecutionState,
  JobDetails,
  JobExceptions,
  JobGraph,
  JobOverview,
  JobStatus,
  TaskCounts,
  TaskManagerInfo,
} from '../../src/cluster/types.js';
import type { HighAvailabilityServices, LeaderContender, LeaderElection } from '../../src/ha/index.js';
import { FencedRpcEndpoint, type RpcService } from '../../src/index.js';

interface FakeJob {
  graph: JobGraph & { jobId: string };
  state: JobStatus;
  startTime: number;
  endTime: number;
  numRestarts: number;
  subtaskState: ExecutionState;
  exceptions: { exceptionName: string; stacktrace: string; timestamp: number }[];
  checkpointIntervalMs: number;
}

/** The state the fake serves; tests change it directly. */
export class FakeClusterState {
  readonly jobs = new Map<string, FakeJob>();
  taskManagers: TaskManagerInfo[] = [];
  /** Calls seen, for assertions ("the cluster was not disturbed"). */
  readonly calls: string[] = [];

  addTaskManager(id: string, slots: number): void {
    this.taskManagers.push({
      id,
      path: `rpc://127.0.0.1:0/${id}`,
      dataPort: -1,
      // As Flink's REST API: the time of the last heartbeat (epoch ms), despite the name.
      timeSinceLastHeartbeat: Date.now(),
      slotsNumber: slots,
      freeSlots: slots,
      hostname: '127.0.0.1',
      allocatedSlots: Array.from({ length: slots }, (_, slotNumber) => ({ slotNumber })),
    });
  }

  removeTaskManager(id: string): void {
    this.taskManagers = this.taskManagers.filter((tm) => tm.id !== id);
  }

  /** Sets a job's state (and its subtasks' state with it). */
  setJobState(jobId: string, state: JobStatus, subtaskState: ExecutionState = subtaskStateFor(state)): void {
    const job = this.requireJob(jobId);
    job.state = state;
    job.subtaskState = subtaskState;
    if (state === 'RESTARTING') job.numRestarts += 1;
    if (state === 'FINISHED' || state === 'CANCELED' || state === 'FAILED') job.endTime = Date.now();
  }

  failJob(jobId: string, message: string): void {
    const job = this.requireJob(jobId);
    job.exceptions.unshift({
      exceptionName: 'TaskFailureException',
      stacktrace: `TaskFailureException: ${message}`,
      timestamp: Date.now(),
    });
    this.setJobState(jobId, 'FAILED');
  }

  requireJob(jobId: string): FakeJob {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new FlinkJobNotFoundException(jobId);
    return job;
  }
}

function subtaskStateFor(state: JobStatus): ExecutionState {
  switch (state) {
    case 'RUNNING':
      return 'RUNNING';
    case 'FINISHED':
      return 'FINISHED';
    case 'CANCELED':
    case 'CANCELLING':
      return 'CANCELED';
    case 'FAILED':
      return 'FAILED';
    default:
      return 'DEPLOYING';
  }
}

/** What a job's details and its overview both start with: its id, name, state and times. */
function jobSummary(job: FakeJob, now: number) {
  return {
    jid: job.graph.jobId,
    name: job.graph.name,
    state: job.state,
    'start-time': job.startTime,
    'end-time': job.endTime,
    duration: (job.endTime > 0 ? job.endTime : now) - job.startTime,
  };
}

function counts(state: ExecutionState, n: number): TaskCounts {
  const result = emptyTaskCounts();
  result[state] = n;
  return result;
}

/** The fenced endpoint created for one leadership grant. */
class FakeDispatcher extends FencedRpcEndpoint<string> implements DispatcherGateway {
  static readonly gateways = [DispatcherGateway];

  constructor(
    rpcService: RpcService,
    sessionId: string,
    private readonly cluster: FakeClusterState,
  ) {
    super(rpcService, sessionId);
  }

  async submitJob(graph: JobGraph): Promise<string> {
    this.cluster.calls.push('submitJob');
    if (typeof graph.name !== 'string') throw new JobSubmissionException("The job graph has no 'name'.");
    if (!Array.isArray(graph.vertices) || graph.vertices.length === 0) {
      throw new JobSubmissionException('The job graph has no vertices.');
    }
    const jobId = graph.jobId ?? crypto.randomUUID().replaceAll('-', '');
    if (this.cluster.jobs.has(jobId)) throw new DuplicateJobSubmissionException(jobId);
    this.cluster.jobs.set(jobId, {
      graph: { ...graph, jobId },
      state: 'RUNNING',
      startTime: Date.now(),
      endTime: -1,
      numRestarts: 0,
      subtaskState: 'RUNNING',
      exceptions: [],
      checkpointIntervalMs: graph.checkpointing?.interval ?? 0,
    });
    return jobId;
  }

  async listJobs(): Promise<JobOverview[]> {
    this.cluster.calls.push('listJobs');
    return [...this.cluster.jobs.values()].map((job) => this.overview(job));
  }

  async requestJobStatus(jobId: string): Promise<JobStatus> {
    return this.cluster.requireJob(jobId).state;
  }

  async requestJobResult(): Promise<never> {
    throw new Error('not used by the REST server');
  }

  async requestJob(jobId: string): Promise<JobDetails> {
    this.cluster.calls.push('requestJob');
    const job = this.cluster.requireJob(jobId);
    const now = Date.now();
    const vertices = job.graph.vertices.map((vertex) => ({
      id: vertex.id,
      name: vertex.name ?? vertex.id,
      parallelism: vertex.parallelism,
      status: job.subtaskState,
      'start-time': job.startTime,
      'end-time': job.endTime,
      duration: (job.endTime > 0 ? job.endTime : now) - job.startTime,
      tasks: counts(job.subtaskState, vertex.parallelism),
      subtasks: Array.from({ length: vertex.parallelism }, (_, subtask) => ({
        subtask,
        status: job.subtaskState,
        attempt: job.numRestarts,
        'taskmanager-id': this.cluster.taskManagers[subtask % Math.max(1, this.cluster.taskManagers.length)]?.id,
        'start-time': job.startTime,
        'end-time': job.endTime,
        duration: now - job.startTime,
      })),
    }));
    const total = vertices.reduce((sum, v) => sum + v.parallelism, 0);
    return {
      ...jobSummary(job, now),
      now,
      timestamps: { RUNNING: job.startTime },
      vertices,
      'status-counts': counts(job.subtaskState, total),
      plan: {
        jid: job.graph.jobId,
        name: job.graph.name,
        nodes: job.graph.vertices.map((vertex) => ({
          id: vertex.id,
          description: vertex.name ?? vertex.id,
          parallelism: vertex.parallelism,
          inputs: (vertex.inputs ?? []).map((id) => ({ id })),
        })),
      },
      numRestarts: job.numRestarts,
    };
  }

  async requestCheckpointStats(jobId: string): Promise<CheckpointStats> {
    const job = this.cluster.requireJob(jobId);
    const end = job.endTime > 0 ? job.endTime : Date.now();
    const completed = job.checkpointIntervalMs > 0 ? Math.floor((end - job.startTime) / job.checkpointIntervalMs) : 0;
    const subtasks = job.graph.vertices.reduce((sum, v) => sum + v.parallelism, 0);
    const history: CheckpointStatsEntry[] = [];
    for (let id = completed; id >= Math.max(1, completed - 9); id--) {
      history.push({
        id,
        status: 'COMPLETED',
        trigger_timestamp: job.startTime + id * job.checkpointIntervalMs,
        latest_ack_timestamp: job.startTime + id * job.checkpointIntervalMs + 12,
        end_to_end_duration: 10 + (id % 5),
        num_subtasks: subtasks,
        num_acknowledged_subtasks: subtasks,
        state_size: 64 * subtasks,
      });
    }
    return {
      counts: { restored: 0, total: completed, in_progress: 0, completed, failed: 0 },
      summary: {
        end_to_end_duration: { min: 10, max: 14, avg: 12 },
        state_size: { min: 64 * subtasks, max: 64 * subtasks, avg: 64 * subtasks },
      },
      latest: { completed: history[0] ?? null, failed: null, restored: null },
      history,
    };
  }

  async requestJobExceptions(jobId: string): Promise<JobExceptions> {
    const job = this.cluster.requireJob(jobId);
    const root = job.exceptions[0];
    return {
      ...(root === undefined ? {} : { 'root-exception': root.stacktrace, timestamp: root.timestamp }),
      exceptionHistory: { entries: job.exceptions, truncated: false },
    };
  }

  async cancelJob(jobId: string): Promise<void> {
    this.cluster.calls.push('cancelJob');
    const job = this.cluster.requireJob(jobId);
    if (job.state === 'RUNNING' || job.state === 'RESTARTING' || job.state === 'CREATED') {
      this.cluster.setJobState(jobId, 'CANCELED');
    }
  }

  async requestClusterOverview(): Promise<ClusterOverview> {
    this.cluster.calls.push('requestClusterOverview');
    const jobs = [...this.cluster.jobs.values()];
    const slotsTotal = this.cluster.taskManagers.reduce((sum, tm) => sum + tm.slotsNumber, 0);
    const used = jobs
      .filter((job) => job.state === 'RUNNING')
      .reduce((sum, job) => sum + Math.max(...job.graph.vertices.map((v) => v.parallelism)), 0);
    return {
      taskmanagers: this.cluster.taskManagers.length,
      'slots-total': slotsTotal,
      'slots-available': Math.max(0, slotsTotal - used),
      'jobs-running': jobs.filter((job) => job.state === 'RUNNING').length,
      'jobs-finished': jobs.filter((job) => job.state === 'FINISHED').length,
      'jobs-cancelled': jobs.filter((job) => job.state === 'CANCELED').length,
      'jobs-failed': jobs.filter((job) => job.state === 'FAILED').length,
      'flink-version': 'flink-rpc test',
    };
  }

  async requestTaskManagers(): Promise<TaskManagerInfo[]> {
    // The task managers heartbeat every second.
    const lastHeartbeat = Math.floor(Date.now() / 1_000) * 1_000;
    return this.cluster.taskManagers.map((tm) => ({ ...tm, timeSinceLastHeartbeat: lastHeartbeat }));
  }

  async requestTaskManager(resourceId: string): Promise<TaskManagerInfo> {
    const tm = this.cluster.taskManagers.find((candidate) => candidate.id === resourceId);
    if (tm === undefined) throw new UnknownComponentException(`TaskManager ${resourceId} is not registered.`);
    return tm;
  }

  async triggerCheckpoint(): Promise<number> {
    return 1;
  }

  private overview(job: FakeJob): JobOverview {
    const total = job.graph.vertices.reduce((sum, v) => sum + v.parallelism, 0);
    const now = Date.now();
    return {
      ...jobSummary(job, now),
      'last-modification': job.endTime > 0 ? job.endTime : now,
      tasks: { ...counts(job.subtaskState, total), total },
    };
  }
}

/** Takes part in the Dispatcher election and serves a {@link FakeDispatcher} while it leads. */
export class FakeDispatcherContender implements LeaderContender {
  readonly cluster = new FakeClusterState();
  private endpoint: FakeDispatcher | undefined;
  private election: LeaderElection | undefined;

  constructor(private readonly rpcService: RpcService) {}

  async start(haServices: HighAvailabilityServices): Promise<void> {
    this.election = haServices.getDispatcherLeaderElection();
    await this.election.startLeaderElection(this);
  }

  grantLeadership(sessionId: string): void {
    this.endpoint = new FakeDispatcher(this.rpcService, sessionId, this.cluster);
    this.endpoint.start();
    void this.election?.confirmLeadership(sessionId, this.endpoint.getAddress());
  }

  revokeLeadership(): void {
    void this.endpoint?.closeAsync();
    this.endpoint = undefined;
  }

  handleError(): void {}

  async close(): Promise<void> {
    await this.election?.close();
    await this.endpoint?.closeAsync();
  }
}
