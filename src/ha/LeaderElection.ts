/** The contender side of leader election: what a component implements and what it is handed. */

/**
 * A component that wants to be leader (Flink's `LeaderContender`). Its callbacks are delivered one at a time, in the
 * order the backend produced them, never concurrently and never re-entrantly: the election queues them, so a
 * contender may call {@link LeaderElection.confirmLeadership} from inside `grantLeadership` (it runs right after the
 * callback returns). Every grant carries a fresh session id; a revoke always follows a grant.
 */
export interface LeaderContender {
  /**
   * This contender is now leader under `sessionId` (a random UUID, fresh for each grant). It should start acting as
   * leader with `sessionId` as its fencing token, then call `confirmLeadership(sessionId, address)` to publish its
   * address. Errors thrown here are passed to {@link handleError}.
   */
  grantLeadership(sessionId: string): void;
  /** The leadership granted last has been lost (to another contender, a lost connection, or `close()`). */
  revokeLeadership(): void;
  /** The election failed in a way the contender should know about (e.g. the backend reported an error). */
  handleError(error: Error): void;
}

/**
 * The leader election of one component (Flink 1.18's `LeaderElection`). Obtained from
 * `HighAvailabilityServices.get…LeaderElection()`; one contender per instance.
 */
export interface LeaderElection {
  /**
   * Registers `contender` and joins the election. Resolves once the contender takes part (it may be granted
   * leadership right away or later). Throws if called twice or after `close()`.
   */
  startLeaderElection(contender: LeaderContender): Promise<void>;
  /**
   * Publishes `address` as the leader's address under `sessionId`, but only while the leadership granted with
   * `sessionId` is still held: a deposed leader can never overwrite its successor's information (backends also
   * guard the write itself). Resolves `true` when published, `false` when refused because `sessionId` is not the
   * current leadership (this is not an error). Unexpected backend failures go to the contender's `handleError` and
   * also resolve `false`.
   */
  confirmLeadership(sessionId: string, address: string): Promise<boolean>;
  /**
   * True while this contender holds the leadership granted with `sessionId` (synchronous: it reflects what this
   * process knows now; a lost connection makes it false at once, before the `revokeLeadership` callback runs).
   */
  hasLeadership(sessionId: string): boolean;
  /**
   * Leaves the election: if leader, revokes the contender (callback), removes the published leader information and
   * gives up the leadership so another contender can take over. Idempotent.
   */
  close(): Promise<void>;
}
