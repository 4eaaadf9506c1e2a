/** The entry point of service discovery: election and retrieval per component (Flink's `HighAvailabilityServices`). */

import type { LeaderElection } from './LeaderElection.js';
import type { LeaderRetrievalService } from './LeaderRetrieval.js';

/**
 * Election and retrieval for each component of a cluster. Every `get…LeaderElection()` call returns a new
 * {@link LeaderElection} for one contender; every `get…LeaderRetriever()` call a new {@link LeaderRetrievalService}.
 */
export interface HighAvailabilityServices {
  getResourceManagerLeaderElection(): LeaderElection;
  getDispatcherLeaderElection(): LeaderElection;
  /** @param jobId letters, digits, `_`, `.` and `-` only (it becomes a path segment) */
  getJobManagerLeaderElection(jobId: string): LeaderElection;
  getClusterRestEndpointLeaderElection(): LeaderElection;

  getResourceManagerLeaderRetriever(): LeaderRetrievalService;
  getDispatcherLeaderRetriever(): LeaderRetrievalService;
  /**
   * @param jobId as for {@link getJobManagerLeaderElection}
   * @param defaultJobManagerAddress used by the standalone backend when no address is configured for the job
   */
  getJobManagerLeaderRetriever(jobId: string, defaultJobManagerAddress?: string): LeaderRetrievalService;
  getClusterRestEndpointLeaderRetriever(): LeaderRetrievalService;

  /**
   * Closes every election (giving leadership up) and retrieval created by these services, then the backend
   * connection. Leader information of other processes stays. Idempotent.
   */
  close(): Promise<void>;
  /** Like {@link close}, and deletes everything this cluster stored in the backend first. */
  closeAndCleanupAllData(): Promise<void>;
}

/** The component ids used as keys (and ZooKeeper path segments) by the backends. */
export const ComponentIds = {
  resourceManager: 'resource_manager',
  dispatcher: 'dispatcher',
  restServer: 'rest_server',
  jobManager(jobId: string): string {
    return `job-${validateJobId(jobId)}`;
  },
} as const;

/** Throws unless `jobId` is a safe path segment. */
export function validateJobId(jobId: string): string {
  if (typeof jobId !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(jobId) || jobId === '.' || jobId === '..') {
    throw new TypeError(`Invalid job id ${JSON.stringify(jobId)}: use letters, digits, '_', '.' and '-'.`);
  }
  return jobId;
}
