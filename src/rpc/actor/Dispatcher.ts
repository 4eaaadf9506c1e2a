/**
 * Schedules the mailboxes of one service: a ready queue, served round-robin, a bounded batch (`throughput`) per
 * mailbox per turn so that one busy endpoint cannot starve the others, and a time slice after which the dispatcher
 * yields to the event loop so that sockets and timers are served too.
 *
 * Each turn runs in a microtask of its own, queued two hops behind whatever the previous turn queued: the replies a
 * turn produced (also those of methods that returned a settled promise, which take one hop to reach their caller)
 * and the callers' continuations run before the next turn starts, so a caller waits for about one turn of a busy
 * neighbour, not for its whole backlog.
 */

import { RingQueue } from './RingQueue.js';

export interface Schedulable {
  /** True while the mailbox sits in the ready queue. */
  inReadyQueue: boolean;
  /** Handles at most `limit` messages; returns true if messages remain. */
  runBatch(limit: number): boolean;
}

/**
 * A settled promise: `.then` on it queues V8's own microtask, measured ~25% cheaper per hop here than Node's
 * `queueMicrotask` (which validates its argument and wraps the callback).
 */
const settled = Promise.resolve();

export class Dispatcher {
  private readonly ready = new RingQueue<Schedulable>();
  private scheduled = false;
  /** When the current time slice began (performance.now() ms). */
  private sliceStart = 0;

  /**
   * @param throughput messages per mailbox per turn
   * @param timeSlice milliseconds of back-to-back turns before yielding to the event loop
   * @param onRun called with the clock reading at the start of each slice and after each turn, and with no argument
   *   when the dispatcher goes idle: the service stamps ask deadlines there
   */
  constructor(
    private readonly throughput: number,
    private readonly timeSlice: number,
    private readonly onRun: (now?: number) => void = () => {},
  ) {}

  schedule(mailbox: Schedulable): void {
    mailbox.inReadyQueue = true;
    this.ready.push(mailbox);
    if (!this.scheduled) {
      this.scheduled = true;
      void settled.then(this.startSlice);
    }
  }

  /** Starts a time slice: reads the clock once, for the slice and for the deadlines of the asks made so far. */
  private readonly startSlice = (): void => {
    const now = performance.now();
    this.sliceStart = now;
    this.onRun(now);
    this.turn();
  };

  /**
   * One turn: a batch of the next ready mailbox. A mailbox alone in the ready queue goes on batch after batch within
   * the slice (no neighbour waits for it, and its own callers' continuations then run together).
   */
  private readonly turn = (): void => {
    const ready = this.ready;
    const mailbox = ready.shift();
    if (mailbox === undefined) {
      this.idle();
      return;
    }
    let more = mailbox.runBatch(this.throughput);
    if (!more && ready.isEmpty()) {
      mailbox.inReadyQueue = false;
      this.idle();
      return;
    }
    let now = performance.now();
    while (more && ready.isEmpty() && now - this.sliceStart < this.timeSlice) {
      this.onRun(now);
      more = mailbox.runBatch(this.throughput);
      now = performance.now();
    }
    if (more) {
      ready.push(mailbox);
    } else {
      mailbox.inReadyQueue = false;
      if (ready.isEmpty()) {
        this.idle();
        return;
      }
    }
    this.onRun(now);
    if (now - this.sliceStart >= this.timeSlice) {
      setImmediate(this.startSlice);
    } else {
      void settled.then(this.nextTurn);
    }
  };

  /** The second hop to the next turn (see the top of this file). */
  private readonly nextTurn = (): void => {
    void settled.then(this.turn);
  };

  private idle(): void {
    this.scheduled = false;
    this.onRun();
  }
}
