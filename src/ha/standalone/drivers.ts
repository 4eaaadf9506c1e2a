/**
 * Drivers of the standalone backend (Flink's `StandaloneLeaderElection` / `StandaloneLeaderRetrievalService`): no
 * election at all. Every contender is leader at once under the fixed {@link DEFAULT_LEADER_SESSION_ID}, and retrieval
 * reports the configured address. Only safe with one contender per component.
 */

import type {
  LeaderElectionDriver,
  LeaderElectionDriverListener,
  LeaderRetrievalDriver,
  LeaderRetrievalDriverListener,
} from '../drivers.js';

/** The session id of every standalone leader (Flink's `HighAvailabilityServices.DEFAULT_LEADER_ID`, the zero UUID). */
export const DEFAULT_LEADER_SESSION_ID = '00000000-0000-0000-0000-000000000000';

/** Grants leadership right away and keeps it until closed; publishing stores nothing (addresses are configured). */
export class StandaloneLeaderElectionDriver implements LeaderElectionDriver {
  private closed = false;

  constructor(listener: LeaderElectionDriverListener) {
    listener.onGrantLeadership(DEFAULT_LEADER_SESSION_ID);
  }

  hasLeadership(): boolean {
    return !this.closed;
  }

  async publishLeaderInformation(): Promise<boolean> {
    return !this.closed;
  }

  async deleteLeaderInformation(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Reports one fixed leader. */
export class StandaloneLeaderRetrievalDriver implements LeaderRetrievalDriver {
  constructor(address: string, listener: LeaderRetrievalDriverListener) {
    listener.onLeaderInformationChange({ address, sessionId: DEFAULT_LEADER_SESSION_ID });
  }

  async close(): Promise<void> {}
}
