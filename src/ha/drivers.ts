/**
 * The driver interfaces (Flink's `LeaderElectionDriver` / `LeaderRetrievalDriver`): a backend implements only the
 * election recipe and the storage of leader information; the shared services on top
 * ({@link DefaultLeaderElection}, {@link DefaultLeaderRetrievalService}) handle contenders, session checks,
 * serialization of callbacks and change detection.
 */

import type { LeaderInformation } from './LeaderInformation.js';

/** What an election driver reports. Calls may come from any I/O callback; the service serializes them. */
export interface LeaderElectionDriverListener {
  /** The driver won the election; `sessionId` is fresh for this grant. */
  onGrantLeadership(sessionId: string): void;
  /** The driver lost the leadership it had (never called without a grant before). */
  onRevokeLeadership(): void;
  /**
   * While leader: the stored leader information changed to `info` (e.g. someone deleted it). The service rewrites
   * its confirmed information if they differ. Optional for backends that cannot observe their own store.
   */
  onLeaderInformationChange(info: LeaderInformation | null): void;
  /** The backend failed; forwarded to the contender. */
  onError(error: Error): void;
}

/** The backend side of one component's election, for one contender. */
export interface LeaderElectionDriver {
  /** True while this driver holds the leadership and can still prove it (e.g. its connection is up). */
  hasLeadership(): boolean;
  /**
   * Stores `info` as the component's leader information if, and at the moment, this driver holds the leadership
   * (checked atomically with the write where the backend allows). Resolves `false` when it does not.
   */
  publishLeaderInformation(info: LeaderInformation): Promise<boolean>;
  /** Removes the component's leader information if this driver holds the leadership; best effort. */
  deleteLeaderInformation(): Promise<void>;
  /** Leaves the election (releasing leadership) and frees resources. No listener calls after it resolves. */
  close(): Promise<void>;
}

/** Creates the election driver for one contender; the driver starts competing at once. */
export type LeaderElectionDriverFactory = (listener: LeaderElectionDriverListener) => LeaderElectionDriver;

/** What a retrieval driver reports. */
export interface LeaderRetrievalDriverListener {
  /** The stored leader information is now `info` (`null`: no leader). Repeats are filtered by the service. */
  onLeaderInformationChange(info: LeaderInformation | null): void;
  /** The backend failed; forwarded to the listener. */
  onError(error: Error): void;
}

/** The backend side of watching one component's leader. */
export interface LeaderRetrievalDriver {
  /** Stops watching; no listener calls after it resolves. */
  close(): Promise<void>;
}

/** Creates a retrieval driver; it starts watching at once. */
export type LeaderRetrievalDriverFactory = (listener: LeaderRetrievalDriverListener) => LeaderRetrievalDriver;
