/**
 * What a JobManager keeps in its high-availability backend so that a successor can take over (Flink's JobGraphStore,
 * CompletedCheckpointStore, CheckpointIDCounter and JobResultStore). Writes are made on behalf of a leader: a backend
 * that can check leadership (ZooKeeper) refuses the write of a deposed one with {@link LeadershipLostError}.
 */

import type { LeaderElection } from '../../ha/index.js';
import type { CompletedCheckpoint, JobId, JobResult, ValidatedJobGraph } from '../types.js';

/** The writer was no longer the leader when it tried to write: nothing was written. */
export class LeadershipLostError extends Error {
  constructor(what: string) {
    super(`Could not ${what}: this JobManager is no longer the leader.`);
    this.name = 'LeadershipLostError';
  }
}

export interface JobGraphStore {
  putJobGraph(graph: ValidatedJobGraph): Promise<void>;
  removeJobGraph(jobId: JobId): Promise<void>;
  getJobIds(): Promise<JobId[]>;
  recoverJobGraph(jobId: JobId): Promise<ValidatedJobGraph | undefined>;
}

export interface CompletedCheckpointStore {
  /**
   * Adds a checkpoint and drops the oldest beyond the retained number. Resolves with the ids of the checkpoints it
   * dropped (subsumed), so that their task states can be discarded.
   */
  addCheckpoint(checkpoint: CompletedCheckpoint): Promise<readonly number[]>;
  getLatestCheckpoint(): Promise<CompletedCheckpoint | undefined>;
  /** Oldest first. */
  getAllCheckpoints(): Promise<CompletedCheckpoint[]>;
  /** Deletes every checkpoint of the job (when the job reached a terminal state). */
  discardAll(): Promise<void>;
}

export interface CheckpointIdCounter {
  /** The next checkpoint id (starting at 1), never handed out twice, also across JobManager failovers. */
  getAndIncrement(): Promise<number>;
  get(): Promise<number>;
  discard(): Promise<void>;
}

export interface JobResultStore {
  /** Records the result of a job that reached a terminal state (before its other data is cleaned up). */
  createDirtyResult(result: JobResult): Promise<void>;
  markResultAsClean(jobId: JobId): Promise<void>;
  hasJobResultEntry(jobId: JobId): Promise<boolean>;
  getJobResult(jobId: JobId): Promise<JobResult | undefined>;
  getDirtyResults(): Promise<JobResult[]>;
}

/**
 * The stores of one cluster in one backend. `guard` is the election the writer won: its writes are checked against
 * that leadership.
 */
export interface ClusterHaStores {
  jobGraphStore(guard: LeaderElection): JobGraphStore;
  jobResultStore(guard: LeaderElection): JobResultStore;
  completedCheckpointStore(jobId: JobId, maxRetained: number, guard: LeaderElection): CompletedCheckpointStore;
  checkpointIdCounter(jobId: JobId, guard: LeaderElection): CheckpointIdCounter;
  close(): Promise<void>;
}
