/**
 * Watches several contenders in one process and records whether two of them ever believed, at the same time, that
 * they held leadership with confirmed leader information. In one process the callbacks are totally ordered, so the
 * check is exact.
 */

import type { LeaderContender, LeaderElection } from '../../../src/ha/index.js';

export interface ObservedEvent {
  name: string;
  type: 'granted' | 'confirmed' | 'refused' | 'revoked' | 'error';
  sessionId?: string;
  at: number;
}

export class LeadershipObserver {
  readonly events: ObservedEvent[] = [];
  /** Contender name → session id it leads with, confirmed. */
  private readonly confirmed = new Map<string, string>();
  /** Moments at which more than one contender held confirmed leadership. */
  readonly violations: string[][] = [];

  /** A contender named `name` that confirms `address` on every grant and reports everything here. */
  contender(name: string, election: LeaderElection, address: string): LeaderContender {
    return {
      grantLeadership: (sessionId) => {
        this.record(name, 'granted', sessionId);
        void election.confirmLeadership(sessionId, address).then((ok) => {
          // A confirmation that arrives after its leadership was revoked is refused by the election.
          if (ok && election.hasLeadership(sessionId)) {
            this.confirmed.set(name, sessionId);
            this.record(name, 'confirmed', sessionId);
            if (this.confirmed.size > 1) this.violations.push([...this.confirmed.keys()]);
          } else {
            this.record(name, 'refused', sessionId);
          }
        });
      },
      revokeLeadership: () => {
        this.confirmed.delete(name);
        this.record(name, 'revoked');
      },
      handleError: () => this.record(name, 'error'),
    };
  }

  /** Names of contenders holding confirmed leadership now. */
  leaders(): string[] {
    return [...this.confirmed.keys()];
  }

  /** The session id `name` leads with, confirmed, if any. */
  sessionOf(name: string): string | undefined {
    return this.confirmed.get(name);
  }

  count(name: string, type: ObservedEvent['type']): number {
    return this.events.filter((e) => e.name === name && e.type === type).length;
  }

  private record(name: string, type: ObservedEvent['type'], sessionId?: string): void {
    this.events.push({ name, type, sessionId, at: Date.now() });
  }
}
