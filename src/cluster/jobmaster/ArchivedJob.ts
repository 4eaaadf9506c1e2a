/** What is left of a job once it reached a globally terminal state: its result and its final read models. */

import type { CheckpointStats, JobDetails, JobExceptions, JobOverview, JobResult } from '../types.js';

/** Flink's ArchivedExecutionGraph, as the Dispatcher serves it for finished jobs. */
export interface ArchivedJob {
  readonly result: JobResult;
  readonly overview: JobOverview;
  readonly details: JobDetails;
  readonly checkpointStats: CheckpointStats;
  readonly exceptions: JobExceptions;
}

/** Statistics of a job that has no JobMaster (yet): nothing triggered, nothing restored. */
export function emptyCheckpointStats(): CheckpointStats {
  return {
    counts: { restored: 0, total: 0, in_progress: 0, completed: 0, failed: 0 },
    summary: { end_to_end_duration: { min: 0, max: 0, avg: 0 }, state_size: { min: 0, max: 0, avg: 0 } },
    latest: { completed: null, failed: null, restored: null },
    history: [],
  };
}
