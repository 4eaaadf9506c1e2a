/**
 * Ask timeouts without a timer per call, and without a clock read per call.
 *
 * Asks with the same timeout expire in the order they were made, so each distinct timeout value gets a FIFO lane
 * with a single timer armed for its oldest unsettled ask. Settled asks at the head are dropped as they settle, so a
 * lane stays short when replies come back in order; the timer is left armed and re-armed for the new head when it
 * fires, so a steady stream of asks costs about one timer wake-up per timeout period instead of a
 * setTimeout/clearTimeout pair per call.
 *
 * Reading the clock costs about as much as the rest of a local ask's bookkeeping, so new asks are *stamped* in
 * batches: `add` only appends, and `stamp()` gives every ask added since the last stamp the deadline
 * `now + timeout`. Because the stamp is taken after the asks were made, a deadline is never earlier than the ask's
 * true start plus its timeout; it is later by at most the rest of the current tick. The dispatcher stamps with the
 * clock reading it takes for each of its turns (every local ask is followed by one), and asks that travel elsewhere
 * schedule a stamp for the end of the current tick with `stampSoon()`.
 */

import { RingQueue } from './RingQueue.js';

/** What a lane needs of an ask: its deadline, whether it settled, and a way to time it out. */
export interface TimedAsk {
  /** Absolute deadline (performance.now() ms); set by the lane's stamp. */
  deadline: number;
  readonly settled: boolean;
  /** The lane holding the ask; the lane clears it when it lets go of the ask. */
  lane: DeadlineLane | null;
  /** Fails the ask with a timeout after `timeoutMs`. */
  expire(timeoutMs: number): void;
  fail(error: unknown): void;
}

export class DeadlineLane {
  private readonly asks = new RingQueue<TimedAsk>();
  /** How many asks at the tail have no deadline yet. */
  private unstamped = 0;
  private timer: NodeJS.Timeout | undefined;
  /** True while the lane is in its queue's list of lanes to stamp. */
  dirty = false;

  constructor(
    readonly timeoutMs: number,
    private readonly onEmpty: (lane: DeadlineLane) => void,
  ) {}

  add(ask: TimedAsk): void {
    ask.lane = this;
    this.asks.push(ask);
    this.unstamped++;
  }

  /** Gives the asks added since the last stamp their deadline, and arms the timer if it is not. */
  stamp(now: number): void {
    this.dirty = false;
    const asks = this.asks;
    const deadline = now + this.timeoutMs;
    for (let i = asks.length - this.unstamped; i < asks.length; i++) asks.at(i).deadline = deadline;
    this.unstamped = 0;
    if (this.timer === undefined && asks.length > 0) this.arm(asks.at(0).deadline, now);
  }

  /** Drops settled asks from the head; called when an ask of this lane settles. */
  compact(): void {
    // Keep the timer when the lane runs empty: re-arming one per sequential ask would cost more than one spare
    // wake-up per period.
    const asks = this.asks;
    while (asks.length > 0 && asks.at(0).settled) asks.shift();
    if (this.unstamped > asks.length) this.unstamped = asks.length;
  }

  /** Asks the lane holds (settled ones behind an unsettled head included). */
  get size(): number {
    return this.asks.length;
  }

  /** Rejects every unsettled ask with `error` (service shutdown). */
  failAll(error: () => unknown): void {
    this.unstamped = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const ask of this.asks.takeAll()) {
      if (!ask.settled) {
        ask.lane = null;
        ask.fail(error());
      }
    }
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
    const asks = this.asks;
    while (asks.length > this.unstamped) {
      const ask = asks.at(0);
      if (!ask.settled && ask.deadline > now) break;
      asks.shift();
      if (!ask.settled) {
        ask.lane = null;
        ask.expire(this.timeoutMs);
      }
    }
    if (asks.length > this.unstamped) {
      this.arm(asks.at(0).deadline, now);
    } else if (asks.length === 0) {
      this.onEmpty(this);
    }
    // Asks not stamped yet are armed for by the stamp that is already on its way.
  };
}

/** All lanes of one service. */
export class DeadlineQueue {
  private readonly lanes = new Map<number, DeadlineLane>();
  private lastTimeout = Number.NaN;
  private lastLane: DeadlineLane | undefined;
  private readonly dirtyLanes: (DeadlineLane | undefined)[] = [];
  private dirtyCount = 0;
  private stampScheduled = false;
  private readonly removeLane = (lane: DeadlineLane): void => {
    if (lane === this.lastLane) {
      this.lastLane = undefined;
      this.lastTimeout = Number.NaN;
    }
    if (!lane.dirty && this.lanes.get(lane.timeoutMs) === lane) this.lanes.delete(lane.timeoutMs);
  };
  private readonly stampNow = (): void => {
    this.stampScheduled = false;
    this.stamp();
  };

  /**
   * Makes `ask` expire `timeoutMs` after now unless it settles first; Infinity means never. The caller must make
   * sure `stamp()` runs before the end of the tick: the dispatcher does for local deliveries, `stampSoon()` otherwise.
   */
  add(ask: TimedAsk, timeoutMs: number): void {
    if (timeoutMs === Number.POSITIVE_INFINITY) return;
    // Nearly every ask uses the default timeout: skip the map lookup for a repeat.
    let lane = timeoutMs === this.lastTimeout ? this.lastLane : this.lanes.get(timeoutMs);
    if (lane === undefined) {
      lane = new DeadlineLane(timeoutMs, this.removeLane);
      this.lanes.set(timeoutMs, lane);
    }
    this.lastTimeout = timeoutMs;
    this.lastLane = lane;
    lane.add(ask);
    if (!lane.dirty) {
      lane.dirty = true;
      this.dirtyLanes[this.dirtyCount++] = lane;
    }
  }

  /**
   * Stamps the asks added since the last stamp (one clock read for all of them).
   * @param now the current performance.now(), when the caller has just read it
   */
  stamp(now?: number): void {
    const count = this.dirtyCount;
    if (count === 0) return;
    this.dirtyCount = 0;
    const lanes = this.dirtyLanes;
    if (now === undefined) now = performance.now();
    for (let i = 0; i < count; i++) {
      lanes[i]!.stamp(now);
      lanes[i] = undefined;
    }
  }

  /** Schedules a stamp at the end of the current tick (for asks that no dispatcher run follows). */
  stampSoon(): void {
    if (!this.stampScheduled && this.dirtyCount > 0) {
      this.stampScheduled = true;
      queueMicrotask(this.stampNow);
    }
  }

  /** Asks held by the lanes: zero once every ask has settled (a test and diagnostics aid). */
  get size(): number {
    let size = 0;
    for (const lane of this.lanes.values()) size += lane.size;
    return size;
  }

  /** Rejects every pending ask (service shutdown). */
  failAll(error: () => unknown): void {
    for (const lane of [...this.lanes.values()]) lane.failAll(error);
    this.lanes.clear();
    this.dirtyLanes.length = 0;
    this.dirtyCount = 0;
    this.lastLane = undefined;
    this.lastTimeout = Number.NaN;
  }
}
