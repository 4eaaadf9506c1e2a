/**
 * The requests of a connection that await an answer, by request id. A power-of-two ring indexed by `id & mask`,
 * kept at most half full: adding, finding and removing are an array access each, with no hashing and no allocation
 * (a `Map` cost about 55 ns more per request, measured). Ids count up (u32, wrapping, never 0) and skip ids whose
 * slot is still taken by an older request, so a request that stays pending for long never blocks the ring; an
 * answer is matched by comparing the stored request's id, so a late answer for a slot reused since is dropped.
 */

/** What the table holds: anything with a request id it may set. */
export interface Request {
  requestId: number;
}

const INITIAL_SLOTS = 1024;

export class RequestTable<T extends Request> {
  private slots: (T | undefined)[] = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  private nextId = 1;
  /** Requests in the table. */
  size = 0;

  /** Adds `request`, gives it a fresh id (also set as its `requestId`) and returns the id. */
  add(request: T): number {
    if (this.size * 2 >= this.slots.length) this.grow();
    const slots = this.slots;
    const mask = this.mask;
    let id = this.nextId;
    while (id === 0 || slots[id & mask] !== undefined) id = (id + 1) >>> 0;
    this.nextId = (id + 1) >>> 0;
    request.requestId = id;
    slots[id & mask] = request;
    this.size++;
    return id;
  }

  /** Removes and returns the request with this id, if it is still there. */
  take(id: number): T | undefined {
    const slot = id & this.mask;
    const request = this.slots[slot];
    if (request === undefined || request.requestId !== id) return undefined;
    this.slots[slot] = undefined;
    this.size--;
    return request;
  }

  /** Removes and returns every request. */
  drain(): T[] {
    const out: T[] = [];
    for (const request of this.slots) if (request !== undefined) out.push(request);
    this.slots.fill(undefined);
    this.size = 0;
    return out;
  }

  private grow(): void {
    const old = this.slots;
    const slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    const mask = slots.length - 1;
    // Distinct slots modulo n stay distinct modulo 2n: no collisions while moving.
    for (const request of old) if (request !== undefined) slots[request.requestId & mask] = request;
    this.slots = slots;
    this.mask = mask;
  }
}
