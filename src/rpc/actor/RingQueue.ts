/**
 * `RingQueue`: the first-in first-out queue behind mailboxes, the dispatcher's ready queue and the deadline lanes.
 *
 * A power-of-two ring over one array: `push` and `shift` are an index bump and a mask, allocate nothing in the
 * steady state and never shift elements. Taken slots are cleared at once so that the queue holds no reference to
 * what it handed out; when it runs empty after having grown large it gives the large array back.
 */

const INITIAL_CAPACITY = 16;
/** An empty queue whose array grew beyond this many slots drops it (a burst should not pin its memory). */
const SHRINK_ABOVE = 1 << 16;

export class RingQueue<T> {
  private items: (T | undefined)[] = new Array(INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  private head = 0;
  /** Number of queued items. */
  length = 0;

  isEmpty(): boolean {
    return this.length === 0;
  }

  push(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) & this.mask] = item;
    this.length++;
  }

  /** The oldest item, or undefined when empty. */
  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const items = this.items;
    const head = this.head;
    const item = items[head];
    items[head] = undefined;
    this.head = (head + 1) & this.mask;
    if (--this.length === 0) {
      this.head = 0;
      if (items.length > SHRINK_ABOVE) this.reset();
    }
    return item;
  }

  /** The item `index` places after the oldest (0 is the oldest); the caller keeps `index` below `length`. */
  at(index: number): T {
    return this.items[(this.head + index) & this.mask] as T;
  }

  /** Empties the queue and returns what it held, oldest first. */
  takeAll(): T[] {
    const taken: T[] = new Array(this.length);
    for (let i = 0; i < taken.length; i++) taken[i] = this.at(i);
    this.reset();
    return taken;
  }

  private reset(): void {
    this.items = new Array(INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
    this.head = 0;
    this.length = 0;
  }

  private grow(): void {
    const old = this.items;
    const capacity = old.length * 2;
    const items: (T | undefined)[] = new Array(capacity);
    for (let i = 0; i < this.length; i++) items[i] = old[(this.head + i) & this.mask];
    this.items = items;
    this.mask = capacity - 1;
    this.head = 0;
  }
}
