/**
 * Ask timeouts without a timer per call. Asks with the same timeout expire in the order they were made, so each
 * distinct timeout value gets a FIFO lane with a single timer armed for its oldest unsettled ask. Settled asks at
 * the head are dropped as they settle, so a lane stays short when replies come back in order; the timer is left
 * armed and simply re-armed for the new head when it fires, so a steady stream of asks costs about one timer
 * wake-up per timeout period instead of a setTimeout/clearTimeout pair per call.
 */

import type { PendingAsk } from './PendingAsk.js';

export class DeadlineLane {
  private items: (PendingAsk | undefined)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onEmpty: (lane: DeadlineLane) => void,
  ) {}

  add(ask: PendingAsk, now: number): void {
    ask.deadline = now + this.timeoutMs;
    ask.timeoutMs = this.timeoutMs;
    ask.lane = this;
    this.items.push(ask);
    if (this.timer === undefined) this.arm(ask.deadline, now);
  }

  /** Drops settled asks from the head; called when an ask of this lane settles. */
  compact(): void {
    const items = this.items;
    while (this.head < items.length && items[this.head]!.settled) items[this.head++] = undefined;
    if (this.head === items.length) {
      // Keep the timer: re-arming one per sequential ask would cost more than one spare wake-up per period.
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
  }

  /** Rejects every unsettled ask with `error` (service shutdown). */
  failAll(error: () => unknown): void {
    const items = this.items;
    for (let i = this.head; i < items.length; i++) {
      const ask = items[i]!;
      if (!ask.settled) {
        ask.lane = null;
        ask.fail(error());
      }
    }
    this.items = [];
    this.head = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(deadline: number, now: number): void {
    // +1: timers may fire a fraction of a millisecond early; never expire an ask before its deadline.
    this.timer = setTimeout(this.fire, Math.max(0, Math.ceil(deadline - now)) + 1);
    // A timeout alone must not keep the process alive: whatever the ask waits for (a socket, a timer) does that.
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    const items = this.items;
    while (this.head < items.length) {
      const ask = items[this.head]!;
      if (!ask.settled && ask.deadline > now) break;
      items[this.head++] = undefined;
      if (!ask.settled) {
        ask.lane = null;
        ask.expire();
      }
    }
    if (this.head < items.length) {
      this.arm(items[this.head]!.deadline, now);
    } else {
      this.items = [];
      this.head = 0;
      this.onEmpty(this);
    }
  };
}

/** All lanes of one service. */
export class DeadlineQueue {
  private readonly lanes = new Map<number, DeadlineLane>();
  private lastTimeout = Number.NaN;
  private lastLane: DeadlineLane | undefined;
  private readonly removeLane = (lane: DeadlineLane): void => {
    if (lane === this.lastLane) {
      this.lastLane = undefined;
      this.lastTimeout = Number.NaN;
    }
    for (const [timeout, l] of this.lanes) {
      if (l === lane) {
        this.lanes.delete(timeout);
        return;
      }
    }
  };

  /** Makes `ask` expire after `timeoutMs` unless it settles first; Infinity means never. */
  add(ask: PendingAsk, timeoutMs: number): void {
    if (timeoutMs === Number.POSITIVE_INFINITY) return;
    // Nearly every ask uses the default timeout: skip the map lookup for a repeat.
    let lane = timeoutMs === this.lastTimeout ? this.lastLane : this.lanes.get(timeoutMs);
    if (lane === undefined) {
      lane = new DeadlineLane(timeoutMs, this.removeLane);
      this.lanes.set(timeoutMs, lane);
    }
    this.lastTimeout = timeoutMs;
    this.lastLane = lane;
    lane.add(ask, performance.now());
  }

  /** Rejects every pending ask (service shutdown). */
  failAll(error: () => unknown): void {
    for (const lane of [...this.lanes.values()]) lane.failAll(error);
    this.lanes.clear();
    this.lastLane = undefined;
    this.lastTimeout = Number.NaN;
  }
}
