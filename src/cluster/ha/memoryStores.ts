/**
 * High-availability stores kept in this process's memory (the embedded backend): what a JobManager in a MiniCluster
 * needs to survive the loss of a JobMaster or Dispatcher leadership inside the same process. Nothing survives the
 * process itself.
 *
 * Values are deep-copied on the way in and out, so a caller that mutates what it stored (or what it recovered) never
 * changes the stored state: the same guarantee a serializing backend gives.
 */

import type { LeaderElection } from '../../ha/index.js';
import type { CompletedCheckpoint, JobId, JobResult, ValidatedJobGraph } from '../types.js';
import type {
  CheckpointIdCounter,
  ClusterHaStores,
  CompletedCheckpointStore,
  JobGraphStore,
  JobResultStore,
} from './stores.js';

interface JobResultEntry {
  result: JobResult;
  clean: boolean;
}

/** The shared state behind every store handed out by one {@link createMemoryClusterHaStores} instance. */
interface MemoryState {
  readonly jobGraphs: Map<JobId, ValidatedJobGraph>;
  readonly jobResults: Map<JobId, JobResultEntry>;
  /** Oldest first, per job. */
  readonly checkpoints: Map<JobId, CompletedCheckpoint[]>;
  /** The next id to hand out, per job. */
  readonly checkpointCounters: Map<JobId, number>;
}

const copy = <T>(value: T): T => structuredClone(value);

class MemoryJobGraphStore implements JobGraphStore {
  constructor(private readonly state: MemoryState) {}

  async putJobGraph(graph: ValidatedJobGraph): Promise<void> {
    this.state.jobGraphs.set(graph.jobId, copy(graph));
  }

  async removeJobGraph(jobId: JobId): Promise<void> {
    this.state.jobGraphs.delete(jobId);
  }

  async getJobIds(): Promise<JobId[]> {
    return [...this.state.jobGraphs.keys()];
  }

  async recoverJobGraph(jobId: JobId): Promise<ValidatedJobGraph | undefined> {
    const graph = this.state.jobGraphs.get(jobId);
    return graph === undefined ? undefined : copy(graph);
  }
}

class MemoryJobResultStore implements JobResultStore {
  constructor(private readonly state: MemoryState) {}

  async createDirtyResult(result: JobResult): Promise<void> {
    if (this.state.jobResults.has(result.jobId)) {
      throw new Error(`Job result store already contains an entry for job ${result.jobId}.`);
    }
    this.state.jobResults.set(result.jobId, { result: copy(result), clean: false });
  }

  async markResultAsClean(jobId: JobId): Promise<void> {
    const entry = this.state.jobResults.get(jobId);
    if (entry === undefined) throw new Error(`Could not mark job ${jobId} as clean: it has no job result entry.`);
    entry.clean = true;
  }

  async hasJobResultEntry(jobId: JobId): Promise<boolean> {
    return this.state.jobResults.has(jobId);
  }

  async getJobResult(jobId: JobId): Promise<JobResult | undefined> {
    const entry = this.state.jobResults.get(jobId);
    return entry === undefined ? undefined : copy(entry.result);
  }

  async getDirtyResults(): Promise<JobResult[]> {
    return [...this.state.jobResults.values()].filter((entry) => !entry.clean).map((entry) => copy(entry.result));
  }
}

class MemoryCompletedCheckpointStore implements CompletedCheckpointStore {
  constructor(
    private readonly state: MemoryState,
    private readonly jobId: JobId,
    private readonly maxRetained: number,
  ) {}

  async addCheckpoint(checkpoint: CompletedCheckpoint): Promise<readonly number[]> {
    const list = this.state.checkpoints.get(this.jobId) ?? [];
    list.push(copy(checkpoint));
    list.sort((a, b) => a.checkpointId - b.checkpointId);
    const subsumed: number[] = [];
    while (list.length > this.maxRetained) subsumed.push((list.shift() as CompletedCheckpoint).checkpointId);
    this.state.checkpoints.set(this.jobId, list);
    return subsumed;
  }

  async getLatestCheckpoint(): Promise<CompletedCheckpoint | undefined> {
    const list = this.state.checkpoints.get(this.jobId);
    const latest = list?.[list.length - 1];
    return latest === undefined ? undefined : copy(latest);
  }

  async getAllCheckpoints(): Promise<CompletedCheckpoint[]> {
    return (this.state.checkpoints.get(this.jobId) ?? []).map(copy);
  }

  async discardAll(): Promise<void> {
    this.state.checkpoints.delete(this.jobId);
  }
}

class MemoryCheckpointIdCounter implements CheckpointIdCounter {
  constructor(
    private readonly state: MemoryState,
    private readonly jobId: JobId,
  ) {}

  async getAndIncrement(): Promise<number> {
    const next = this.state.checkpointCounters.get(this.jobId) ?? 1;
    this.state.checkpointCounters.set(this.jobId, next + 1);
    return next;
  }

  async get(): Promise<number> {
    return this.state.checkpointCounters.get(this.jobId) ?? 1;
  }

  async discard(): Promise<void> {
    this.state.checkpointCounters.delete(this.jobId);
  }
}

/** Checks a retained-checkpoint count: at least one checkpoint must be kept. */
export function checkMaxRetained(maxRetained: number): void {
  if (!Number.isInteger(maxRetained) || maxRetained < 1) {
    throw new RangeError(`The number of retained checkpoints must be a positive integer, got ${maxRetained}.`);
  }
}

/**
 * Stores for the embedded backend: every store handed out by the returned object shares one in-memory state, so a
 * new JobMaster or Dispatcher of the same process recovers what its predecessor wrote. The `guard` elections are not
 * consulted: within one process there is no deposed writer on another machine to fence out.
 */
export function createMemoryClusterHaStores(): ClusterHaStores {
  const state: MemoryState = {
    jobGraphs: new Map(),
    jobResults: new Map(),
    checkpoints: new Map(),
    checkpointCounters: new Map(),
  };
  return {
    jobGraphStore: (_guard: LeaderElection) => new MemoryJobGraphStore(state),
    jobResultStore: (_guard: LeaderElection) => new MemoryJobResultStore(state),
    completedCheckpointStore: (jobId: JobId, maxRetained: number, _guard: LeaderElection) => {
      checkMaxRetained(maxRetained);
      return new MemoryCompletedCheckpointStore(state, jobId, maxRetained);
    },
    checkpointIdCounter: (jobId: JobId, _guard: LeaderElection) => new MemoryCheckpointIdCounter(state, jobId),
    close: async () => {},
  };
}
