/**
 * The in-memory "cluster" of the embedded backend (Flink's `EmbeddedLeaderService`): per component, a queue of
 * contenders whose head is the leader, the published leader information and its watchers. Several
 * `EmbeddedHaServices` that share one registry behave like several processes of one cluster.
 */

import { randomUUID } from 'node:crypto';
import type { LeaderInformation } from '../LeaderInformation.js';

/** A contender as the registry sees it (implemented by the embedded election driver). */
export interface EmbeddedCandidate {
  granted(sessionId: string): void;
  revoked(): void;
  /** Called when the stored information changes while this candidate leads. */
  informationChanged(info: LeaderInformation | null): void;
}

type Watcher = (info: LeaderInformation | null) => void;

/** The election state of one component. */
export class EmbeddedComponentElection {
  private readonly queue: EmbeddedCandidate[] = [];
  private leader: EmbeddedCandidate | null = null;
  /** The session id the leader was granted with. */
  private leaderSessionId: string | null = null;
  private info: LeaderInformation | null = null;
  /** The candidate whose publication `info` is: when it leaves, its information goes with it. */
  private infoOwner: EmbeddedCandidate | null = null;
  private readonly watchers = new Set<Watcher>();

  /** Appends `candidate` to the queue; it is granted at once if nobody leads. */
  join(candidate: EmbeddedCandidate): void {
    this.queue.push(candidate);
    this.electIfVacant();
  }

  /** Removes `candidate`; if it led, its information disappears (like an ephemeral node) and the next one is granted. */
  leave(candidate: EmbeddedCandidate): void {
    const index = this.queue.indexOf(candidate);
    if (index >= 0) this.queue.splice(index, 1);
    if (this.infoOwner === candidate) this.setInformation(null, null);
    if (this.leader === candidate) {
      this.leader = null;
      this.leaderSessionId = null;
      this.electIfVacant();
    }
  }

  isLeader(candidate: EmbeddedCandidate): boolean {
    return this.leader === candidate;
  }

  /**
   * Stores `info` if `candidate` leads under `info.sessionId`; the check and the write are one step, so a deposed
   * leader (or an earlier leadership of the same candidate) cannot write.
   */
  publish(candidate: EmbeddedCandidate, info: LeaderInformation): boolean {
    if (this.leader !== candidate || this.leaderSessionId !== info.sessionId) return false;
    this.setInformation(info, candidate);
    return true;
  }

  /** Removes the information if `candidate` leads. */
  remove(candidate: EmbeddedCandidate): void {
    if (this.leader === candidate) this.setInformation(null, null);
  }

  /** Test hook: the leader loses its leadership without leaving and queues up again at the back. */
  revokeLeader(): void {
    const leader = this.leader;
    if (leader === null) return;
    this.leader = null;
    this.leaderSessionId = null;
    this.queue.splice(this.queue.indexOf(leader), 1);
    this.queue.push(leader);
    leader.revoked();
    this.electIfVacant();
  }

  /** Watches the information; `watcher` gets the current value at once. Returns the unsubscribe function. */
  watch(watcher: Watcher): () => void {
    this.watchers.add(watcher);
    watcher(this.info);
    return () => this.watchers.delete(watcher);
  }

  getInformation(): LeaderInformation | null {
    return this.info;
  }

  /** Drops the stored information (cleanup of all data). */
  clear(): void {
    this.setInformation(null, null);
  }

  private setInformation(info: LeaderInformation | null, owner: EmbeddedCandidate | null): void {
    this.info = info;
    this.infoOwner = owner;
    for (const watcher of this.watchers) watcher(info);
    this.leader?.informationChanged(info);
  }

  private electIfVacant(): void {
    if (this.leader !== null) return;
    const next = this.queue[0];
    if (next === undefined) return;
    this.leader = next;
    this.leaderSessionId = randomUUID();
    next.granted(this.leaderSessionId);
  }
}

/** All components of one embedded cluster. */
export class EmbeddedLeaderRegistry {
  private readonly components = new Map<string, EmbeddedComponentElection>();

  /** The election of `componentId`, created on first use. */
  component(componentId: string): EmbeddedComponentElection {
    let election = this.components.get(componentId);
    if (election === undefined) {
      election = new EmbeddedComponentElection();
      this.components.set(componentId, election);
    }
    return election;
  }

  /** Test hook: deposes the leader of `componentId` without closing it (see {@link EmbeddedComponentElection.revokeLeader}). */
  revokeLeadership(componentId: string): void {
    this.components.get(componentId)?.revokeLeader();
  }

  /** The leader information currently stored for `componentId`. */
  getLeaderInformation(componentId: string): LeaderInformation | null {
    return this.components.get(componentId)?.getInformation() ?? null;
  }

  /** Removes every stored leader information. */
  clear(): void {
    for (const component of this.components.values()) component.clear();
  }
}
