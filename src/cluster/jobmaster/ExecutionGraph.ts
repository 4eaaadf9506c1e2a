/**
 * The runtime view of one job (Flink's ExecutionGraph, trimmed to what a control plane without a data plane needs):
 * every vertex's subtasks with their current execution attempt, Flink's execution-state and job-status transitions,
 * and the read models the REST API serves.
 */

import type {
  AllocationId,
  CompletedCheckpoint,
  ExecutionAttemptId,
  ExecutionState,
  JobDetails,
  JobOverview,
  JobStatus,
  JobVertex,
  ResourceId,
  SerializedError,
  SubtaskDetails,
  TaskCounts,
  ValidatedJobGraph,
  VertexDetails,
  VertexMetrics,
} from '../types.js';
import { TERMINAL_EXECUTION_STATES, TERMINAL_JOB_STATUSES } from '../types.js';

/** Where an execution runs: a slot the job holds on a TaskExecutor. */
export interface AssignedSlot {
  readonly allocationId: AllocationId;
  readonly resourceId: ResourceId;
  readonly slotIndex: number;
}

/** The current attempt of one subtask. */
export interface Execution {
  readonly vertex: JobVertex;
  readonly subtaskIndex: number;
  /** `${vertexId}/${subtaskIndex}`: the key of this subtask's state in a checkpoint. */
  readonly key: string;
  attemptNumber: number;
  attemptId: ExecutionAttemptId;
  state: ExecutionState;
  slot: AssignedSlot | undefined;
  timestamps: Partial<Record<ExecutionState, number>>;
  failure: SerializedError | undefined;
}

/** Flink's allowed execution-state transitions (terminal states never change; CANCELED/FAILED reachable from all). */
const NEXT_STATES: Readonly<Record<ExecutionState, readonly ExecutionState[]>> = {
  CREATED: ['SCHEDULED', 'DEPLOYING', 'CANCELING', 'CANCELED', 'FAILED'],
  SCHEDULED: ['DEPLOYING', 'CANCELING', 'CANCELED', 'FAILED'],
  DEPLOYING: ['INITIALIZING', 'RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED'],
  INITIALIZING: ['RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED'],
  RUNNING: ['FINISHED', 'CANCELING', 'CANCELED', 'FAILED'],
  CANCELING: ['CANCELED', 'FAILED', 'FINISHED'],
  FINISHED: [],
  CANCELED: [],
  FAILED: [],
};

/** Flink's allowed job-status transitions. */
const NEXT_JOB_STATUSES: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  INITIALIZING: ['CREATED', 'RUNNING', 'CANCELLING', 'CANCELED', 'FAILED', 'SUSPENDED'],
  CREATED: ['RUNNING', 'CANCELLING', 'CANCELED', 'FAILING', 'FAILED', 'SUSPENDED'],
  RUNNING: ['FINISHED', 'FAILING', 'CANCELLING', 'RESTARTING', 'SUSPENDED'],
  RESTARTING: ['RUNNING', 'CANCELLING', 'CANCELED', 'FAILING', 'FAILED', 'SUSPENDED'],
  FAILING: ['FAILED', 'CANCELLING', 'RESTARTING', 'SUSPENDED'],
  CANCELLING: ['CANCELED', 'SUSPENDED'],
  FINISHED: [],
  CANCELED: [],
  FAILED: [],
  SUSPENDED: [],
};

export function emptyTaskCounts(): TaskCounts {
  return {
    CREATED: 0,
    SCHEDULED: 0,
    DEPLOYING: 0,
    INITIALIZING: 0,
    RUNNING: 0,
    FINISHED: 0,
    CANCELING: 0,
    CANCELED: 0,
    FAILED: 0,
  };
}

/** Flink's aggregation of subtask states into one vertex state. */
function vertexState(counts: TaskCounts, parallelism: number): ExecutionState {
  if (counts.FAILED > 0) return 'FAILED';
  if (counts.CANCELING > 0) return 'CANCELING';
  if (counts.CANCELED > 0) return 'CANCELED';
  if (counts.RUNNING > 0) return 'RUNNING';
  if (counts.INITIALIZING > 0) return 'INITIALIZING';
  if (counts.DEPLOYING > 0) return 'DEPLOYING';
  if (counts.SCHEDULED > 0) return 'SCHEDULED';
  if (counts.FINISHED === parallelism) return 'FINISHED';
  return 'CREATED';
}

export class ExecutionGraph {
  readonly executions: Execution[] = [];
  private readonly byAttempt = new Map<ExecutionAttemptId, Execution>();
  private status: JobStatus = 'INITIALIZING';
  private readonly statusTimestamps: Partial<Record<JobStatus, number>>;

  constructor(
    readonly graph: ValidatedJobGraph,
    readonly startTime: number = Date.now(),
  ) {
    this.statusTimestamps = { INITIALIZING: startTime };
    for (const vertex of graph.vertices) {
      for (let subtaskIndex = 0; subtaskIndex < vertex.parallelism; subtaskIndex++) {
        const execution: Execution = {
          vertex,
          subtaskIndex,
          key: `${vertex.id}/${subtaskIndex}`,
          attemptNumber: 0,
          attemptId: crypto.randomUUID(),
          state: 'CREATED',
          slot: undefined,
          timestamps: { CREATED: Date.now() },
          failure: undefined,
        };
        this.executions.push(execution);
        this.byAttempt.set(execution.attemptId, execution);
      }
    }
  }

  get jobId(): string {
    return this.graph.jobId;
  }

  get jobName(): string {
    return this.graph.name;
  }

  getStatus(): JobStatus {
    return this.status;
  }

  isTerminal(): boolean {
    return TERMINAL_JOB_STATUSES.has(this.status) || this.status === 'SUSPENDED';
  }

  /** Moves the job to `next`; returns false (and changes nothing) for a transition Flink does not allow. */
  transitionJob(next: JobStatus): boolean {
    if (this.status === next) return true;
    if (!NEXT_JOB_STATUSES[this.status].includes(next)) return false;
    this.status = next;
    this.statusTimestamps[next] = Date.now();
    return true;
  }

  /** The current attempt with this id; attempts replaced by a restart are no longer found. */
  findAttempt(attemptId: ExecutionAttemptId): Execution | undefined {
    return this.byAttempt.get(attemptId);
  }

  /** Moves an execution to `next`; returns false for a transition Flink does not allow (e.g. out of FINISHED). */
  transition(execution: Execution, next: ExecutionState, failure?: SerializedError): boolean {
    if (execution.state === next) return true;
    if (!NEXT_STATES[execution.state].includes(next)) return false;
    execution.state = next;
    execution.timestamps[next] = Date.now();
    if (failure !== undefined) execution.failure = failure;
    return true;
  }

  /** Replaces every subtask's attempt with a fresh one (a restart of the whole job). */
  resetForRestart(): void {
    this.byAttempt.clear();
    for (const execution of this.executions) {
      execution.attemptNumber += 1;
      execution.attemptId = crypto.randomUUID();
      execution.state = 'CREATED';
      execution.slot = undefined;
      execution.timestamps = { CREATED: Date.now() };
      execution.failure = undefined;
      this.byAttempt.set(execution.attemptId, execution);
    }
  }

  allInState(state: ExecutionState): boolean {
    return this.executions.every((execution) => execution.state === state);
  }

  allTerminal(): boolean {
    return this.executions.every((execution) => TERMINAL_EXECUTION_STATES.has(execution.state));
  }

  taskCounts(executions: readonly Execution[] = this.executions): TaskCounts {
    const counts = emptyTaskCounts();
    for (const execution of executions) counts[execution.state] += 1;
    return counts;
  }

  private endTime(): number {
    if (!this.isTerminal()) return -1;
    return this.statusTimestamps[this.status] ?? Date.now();
  }

  toOverview(now = Date.now()): JobOverview {
    const end = this.endTime();
    const counts = this.taskCounts();
    return {
      jid: this.jobId,
      name: this.jobName,
      state: this.status,
      'start-time': this.startTime,
      'end-time': end,
      duration: (end === -1 ? now : end) - this.startTime,
      'last-modification': Math.max(...Object.values(this.statusTimestamps).map((t) => t ?? 0)),
      tasks: { ...counts, total: this.executions.length },
    };
  }

  /** `committed`: the latest completed checkpoint, whose record counts are the vertices' `write-records`. */
  toDetails(numRestarts: number, committed?: CompletedCheckpoint, now = Date.now()): JobDetails {
    const end = this.endTime();
    const metrics = vertexMetrics(committed);
    const vertices: VertexDetails[] = this.graph.vertices.map((vertex) => {
      const executions = this.executions.filter((execution) => execution.vertex === vertex);
      const counts = this.taskCounts(executions);
      const subtasks: SubtaskDetails[] = executions.map((execution) => subtaskDetails(execution, now));
      const starts = subtasks.map((s) => s['start-time']).filter((t) => t > 0);
      const ends = subtasks.map((s) => s['end-time']);
      const start = starts.length > 0 ? Math.min(...starts) : -1;
      const vertexEnd = ends.every((t) => t > 0) && ends.length > 0 ? Math.max(...ends) : -1;
      return {
        id: vertex.id,
        name: vertex.name ?? vertex.id,
        parallelism: vertex.parallelism,
        status: vertexState(counts, vertex.parallelism),
        'start-time': start,
        'end-time': vertexEnd,
        duration: start === -1 ? -1 : (vertexEnd === -1 ? now : vertexEnd) - start,
        tasks: counts,
        subtasks,
        ...vertexMetricsEntry(metrics.get(vertex.id), vertex.parallelism),
      };
    });
    return {
      jid: this.jobId,
      name: this.jobName,
      state: this.status,
      'start-time': this.startTime,
      'end-time': end,
      duration: (end === -1 ? now : end) - this.startTime,
      now,
      timestamps: { ...this.statusTimestamps },
      vertices,
      'status-counts': this.taskCounts(),
      plan: {
        jid: this.jobId,
        name: this.jobName,
        nodes: this.graph.vertices.map((vertex) => ({
          id: vertex.id,
          description: vertex.name ?? vertex.id,
          parallelism: vertex.parallelism,
          inputs: (vertex.inputs ?? []).map((id) => ({ id })),
        })),
      },
      numRestarts,
    };
  }
}

/** Per vertex: the records its subtasks reported in `checkpoint` and how many subtasks reported. */
function vertexMetrics(
  checkpoint: CompletedCheckpoint | undefined,
): Map<string, { records: number; subtasks: number }> {
  const byVertex = new Map<string, { records: number; subtasks: number }>();
  for (const [key, handle] of Object.entries(checkpoint?.taskStates ?? {})) {
    if (handle.records === undefined) continue;
    // Keys are `${vertexId}/${subtaskIndex}`; a vertex id may itself contain '/'.
    const vertexId = key.slice(0, key.lastIndexOf('/'));
    const entry = byVertex.get(vertexId) ?? { records: 0, subtasks: 0 };
    entry.records += handle.records;
    entry.subtasks += 1;
    byVertex.set(vertexId, entry);
  }
  return byVertex;
}

function vertexMetricsEntry(
  counted: { records: number; subtasks: number } | undefined,
  parallelism: number,
): { metrics?: VertexMetrics } {
  if (counted === undefined) return {};
  return { metrics: { 'write-records': counted.records, 'write-records-complete': counted.subtasks === parallelism } };
}

function subtaskDetails(execution: Execution, now: number): SubtaskDetails {
  const start = execution.timestamps.DEPLOYING ?? -1;
  const terminal = TERMINAL_EXECUTION_STATES.has(execution.state);
  const end = terminal ? (execution.timestamps[execution.state] ?? -1) : -1;
  return {
    subtask: execution.subtaskIndex,
    status: execution.state,
    attempt: execution.attemptNumber,
    ...(execution.slot === undefined ? {} : { 'taskmanager-id': execution.slot.resourceId }),
    'start-time': start,
    'end-time': end,
    duration: start === -1 ? -1 : (end === -1 ? now : end) - start,
  };
}

/** A job that never got a JobMaster yet (Flink's ArchivedExecutionGraph for an initializing job). */
export function initializingJobDetails(graph: ValidatedJobGraph, startTime: number, now = Date.now()): JobDetails {
  return new ExecutionGraph(graph, startTime).toDetails(0, undefined, now);
}
