/** The follower side: learning who leads a component. */

/**
 * Receives the leader of one component (Flink's `LeaderRetrievalListener`). Notifications are delivered one at a time,
 * in order, and only when the leader changes.
 */
export interface LeaderRetrievalListener {
  /**
   * The component's leader is now at `address` with fencing token `sessionId`, or there is no leader
   * (`address` and `sessionId` both `null`). The first notification after `start` tells the current state, whichever
   * it is; later ones come only on a change.
   */
  notifyLeaderAddress(address: string | null, sessionId: string | null): void;
  /** Retrieval failed (e.g. the backend reported an error); notifications may stop. */
  handleError(error: Error): void;
}

/** Watches the leader of one component (Flink's `LeaderRetrievalService`). */
export interface LeaderRetrievalService {
  /** Starts watching; `listener` gets the current leader soon, then every change. Throws if started twice. */
  start(listener: LeaderRetrievalListener): Promise<void>;
  /** Stops watching; no notification is delivered after the returned promise resolves. Idempotent. */
  stop(): Promise<void>;
}
