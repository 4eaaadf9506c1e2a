/**
 * Schedules the mailboxes of one service: a ready queue, served round-robin, a bounded batch (`throughput`) per
 * mailbox per turn so that one busy endpoint cannot starve the others, and a yield to the event loop after a
 * bounded amount of work so that sockets and timers are served too.
 */

export interface Schedulable {
  /** True while the mailbox sits in the ready queue. */
  inReadyQueue: boolean;
  /** Handles at most `limit` messages; returns true if messages remain. */
  runBatch(limit: number): boolean;
}

/** Batches per run before yielding to the event loop (I/O, timers). */
const BATCHES_PER_RUN = 64;

export class Dispatcher {
  private ready: Schedulable[] = [];
  private head = 0;
  private scheduled = false;

  constructor(private readonly throughput: number) {}

  schedule(mailbox: Schedulable): void {
    mailbox.inReadyQueue = true;
    this.ready.push(mailbox);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.run);
    }
  }

  private readonly run = (): void => {
    let batches = 0;
    while (this.head < this.ready.length) {
      const mailbox = this.ready[this.head]!;
      this.ready[this.head++] = undefined as unknown as Schedulable;
      if (mailbox.runBatch(this.throughput)) {
        this.ready.push(mailbox);
      } else {
        mailbox.inReadyQueue = false;
      }
      if (++batches >= BATCHES_PER_RUN && this.head < this.ready.length) {
        this.ready = this.ready.slice(this.head);
        this.head = 0;
        setImmediate(this.run);
        return;
      }
    }
    this.ready.length = 0;
    this.head = 0;
    this.scheduled = false;
  };
}
