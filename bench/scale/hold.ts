/**
 * The endpoint of the scale rows: asks it holds unanswered until told to release them (long-poll style calls, as
 * Flink's `requestJobResult`), and the memory measurement both sides use.
 */

import { gateway, RpcEndpoint, type RpcGateway, type RpcService } from '../../src/index.js';

export interface HoldGateway extends RpcGateway {
  /** Answers `value` once `release()` is called. */
  hold(value: number): Promise<number>;
  /** How many `hold` calls are waiting. */
  held(): Promise<number>;
  /** Answers every waiting `hold`; returns how many there were. */
  release(): Promise<number>;
  /** This process's heap in use after a full garbage collection, in bytes. */
  heap(): Promise<number>;
}

export const HoldGateway = gateway<HoldGateway>('BenchHoldGateway', {
  hold: 'ask',
  held: 'ask',
  release: 'ask',
  heap: 'ask',
});

export class HoldEndpoint extends RpcEndpoint implements HoldGateway {
  static readonly gateways = [HoldGateway];
  /** The callers' values and the resolvers of their replies, in two flat arrays (what a careful user would keep). */
  private values: number[] = [];
  private resolvers: ((value: number) => void)[] = [];

  constructor(rpcService: RpcService, endpointId?: string) {
    super(rpcService, endpointId);
  }

  hold(value: number): Promise<number> {
    this.values.push(value);
    return new Promise<number>((resolve) => this.resolvers.push(resolve));
  }

  async held(): Promise<number> {
    return this.resolvers.length;
  }

  async release(): Promise<number> {
    const { values, resolvers } = this;
    this.values = [];
    this.resolvers = [];
    for (let i = 0; i < resolvers.length; i++) resolvers[i]!(values[i]!);
    return resolvers.length;
  }

  async heap(): Promise<number> {
    return usedHeapAfterGc();
  }
}

/** The answers so far to the asks of {@link sendHolds}, and the first failure among them. */
export interface HoldReplies {
  done: number;
  failed: unknown;
}

/**
 * Sends `count` `hold` asks, `batch` at a time with a turn of the event loop between batches (so sockets and timers
 * keep running while millions go out); the returned tally counts their answers as they arrive.
 */
export async function sendHolds(gateway: HoldGateway, count: number, batch: number): Promise<HoldReplies> {
  const replies: HoldReplies = { done: 0, failed: undefined };
  const onDone = (): void => {
    replies.done++;
  };
  const onFail = (error: unknown): void => {
    replies.failed ??= error;
  };
  for (let i = 0; i < count; i += batch) {
    for (let j = i; j < Math.min(count, i + batch); j++) gateway.hold(j).then(onDone, onFail);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return replies;
}

/** Heap in use after full collections (needs `--expose-gc`; throws without it, so no number is a guess). */
export function usedHeapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run node with --expose-gc to measure memory');
  // Twice: objects with finalizers or weak references may need a second pass.
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Resolves once `condition()` holds, checking every `intervalMs`; rejects after `timeoutMs` with `what`. */
export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`${what} (gave up after ${timeoutMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
