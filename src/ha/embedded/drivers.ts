/** Election and retrieval drivers over an {@link EmbeddedComponentElection} (one process, in memory). */

import type {
  LeaderElectionDriver,
  LeaderElectionDriverListener,
  LeaderRetrievalDriver,
  LeaderRetrievalDriverListener,
} from '../drivers.js';
import type { LeaderInformation } from '../LeaderInformation.js';
import type { EmbeddedCandidate, EmbeddedComponentElection } from './EmbeddedLeaderRegistry.js';

/** One contender in the in-memory election. */
export class EmbeddedLeaderElectionDriver implements LeaderElectionDriver, EmbeddedCandidate {
  private closed = false;

  constructor(
    private readonly election: EmbeddedComponentElection,
    private readonly listener: LeaderElectionDriverListener,
  ) {
    election.join(this);
  }

  granted(sessionId: string): void {
    if (!this.closed) this.listener.onGrantLeadership(sessionId);
  }

  revoked(): void {
    if (!this.closed) this.listener.onRevokeLeadership();
  }

  informationChanged(info: LeaderInformation | null): void {
    if (!this.closed) this.listener.onLeaderInformationChange(info);
  }

  hasLeadership(): boolean {
    return !this.closed && this.election.isLeader(this);
  }

  async publishLeaderInformation(info: LeaderInformation): Promise<boolean> {
    return !this.closed && this.election.publish(this, info);
  }

  async deleteLeaderInformation(): Promise<void> {
    if (!this.closed) this.election.remove(this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.election.leave(this);
  }
}

/** Watches the in-memory leader information of one component. */
export class EmbeddedLeaderRetrievalDriver implements LeaderRetrievalDriver {
  private readonly unsubscribe: () => void;

  constructor(election: EmbeddedComponentElection, listener: LeaderRetrievalDriverListener) {
    this.unsubscribe = election.watch((info) => listener.onLeaderInformationChange(info));
  }

  async close(): Promise<void> {
    this.unsubscribe();
  }
}
