/**
 * The replies an endpoint still owes (its method returned a promise that has not settled), so that termination can
 * fail them at once. Local asks are linked intrusively (no hashing on the hot path); other sinks go in a Set.
 */

import type { ReplySink } from './messages.js';
import { PendingAsk } from './PendingAsk.js';

export class PendingReplies {
  private head: PendingAsk | null = null;
  private readonly others = new Set<ReplySink>();
  /** Replies tracked. */
  size = 0;

  track(reply: ReplySink): void {
    this.size++;
    if (reply instanceof PendingAsk) {
      reply.nextPending = this.head;
      reply.prevPending = null;
      if (this.head !== null) this.head.prevPending = reply;
      this.head = reply;
    } else {
      this.others.add(reply);
    }
  }

  untrack(reply: ReplySink): void {
    if (reply instanceof PendingAsk) {
      // Not (or no longer) in the list: only the head has no predecessor.
      if (reply.prevPending === null && this.head !== reply) return;
      this.size--;
      if (reply.prevPending !== null) reply.prevPending.nextPending = reply.nextPending;
      else this.head = reply.nextPending;
      if (reply.nextPending !== null) reply.nextPending.prevPending = reply.prevPending;
      reply.nextPending = null;
      reply.prevPending = null;
    } else if (this.others.delete(reply)) {
      this.size--;
    }
  }

  failAll(error: () => unknown): void {
    let reply = this.head;
    this.head = null;
    this.size = 0;
    while (reply !== null) {
      const next = reply.nextPending;
      reply.nextPending = null;
      reply.prevPending = null;
      reply.fail(error());
      reply = next;
    }
    const others = [...this.others];
    this.others.clear();
    for (const sink of others) sink.fail(error());
  }
}
