/**
 * Runs tasks one at a time in submission order, each to completion (including its returned promise) before the next
 * starts. The election and retrieval services deliver every callback through one of these, so a contender or
 * listener never sees two callbacks at once, nor one callback inside another.
 */
export class SerialExecutor {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /**
   * Queues `task`; the returned promise settles with its result. A failing task does not stop later ones.
   * Never await the result of a task submitted from inside another task of the same executor: it would wait for itself.
   */
  submit<T>(task: () => T | PromiseLike<T>): Promise<T> {
    this.pending += 1;
    const run = this.tail.then(task);
    this.tail = run.then(
      () => this.pending--,
      () => this.pending--,
    );
    return run;
  }

  /** Number of tasks queued or running. */
  get size(): number {
    return this.pending;
  }

  /** Settles once every task submitted so far has finished. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
