/**
 * Local scale rows, run as a process of their own with `--expose-gc` (so the heap figures start from a clean heap
 * and nothing else of the benchmark sits in it):
 *
 * - many endpoints in one service: time to create and start them, heap per endpoint, asks spread over all of them
 *   (256 in flight, round robin) against the same asks to one endpoint, in interleaved rounds, and time to stop them;
 * - many pending asks: asks held unanswered by one endpoint, heap per pending ask (caller and callee share this
 *   heap), next to the floor of the same pattern with bare promises; then all are answered and must all complete.
 *
 *   node --expose-gc --import tsx bench/scale/local.ts <endpoints> <pendingAsks> <windowMs> <rounds>
 *
 * Prints one JSON line ({@link LocalScaleResult}).
 */

import { RpcSystem } from '../../src/index.js';
import { EchoEndpoint, EchoGateway } from '../local.js';
import { median, roundRatios, roundSpread, type Spread, spread } from '../rounds.js';
import { HoldEndpoint, HoldGateway, sendHolds, usedHeapAfterGc, waitFor } from './hold.js';

export interface LocalScaleResult {
  endpoints: number;
  startMs: number;
  bytesPerEndpoint: number;
  /** Asks/s with 256 in flight spread round robin over all endpoints (median over the rounds). */
  spreadAsksPerSec: number;
  /** The same asks to one endpoint. */
  oneEndpointAsksPerSec: number;
  /** Spread-over-all ÷ one-endpoint, per round. */
  spreadRatio: Spread | undefined;
  stopMs: number;
  pendingAsks: number;
  /** Time to issue the asks until the endpoint holds all of them. */
  pendingIssueMs: number;
  bytesPerPendingAsk: number;
  /** The same pattern (a promise per call, its resolver kept, a `then` on it) without any RPC. */
  floorBytesPerPendingAsk: number;
  /** From `release()` until every caller saw its answer. */
  releaseMs: number;
}

const BATCH = 10_000;

async function manyEndpoints(count: number, windowMs: number, rounds: number) {
  const service = await RpcSystem.load().localServiceBuilder({}).createAndStart();
  try {
    const before = usedHeapAfterGc();
    let started = performance.now();
    const endpoints: EchoEndpoint[] = [];
    for (let i = 0; i < count; i++) {
      const endpoint = new EchoEndpoint(service);
      endpoint.start();
      endpoints.push(endpoint);
    }
    const gateways = endpoints.map((e) => e.getSelfGateway(EchoGateway));
    await Promise.all(gateways.map((g) => g.echo(0))); // every endpoint has run its start
    const startMs = performance.now() - started;
    const bytesPerEndpoint = (usedHeapAfterGc() - before) / count;

    const one = [gateways[0]!];
    const rate = async (targets: readonly (typeof gateways)[number][]): Promise<number> => {
      let next = 0;
      let ops = 0;
      const t0 = performance.now();
      const end = t0 + windowMs;
      const lane = async (): Promise<void> => {
        while (performance.now() < end) {
          for (let i = 0; i < 100; i++) await targets[next++ % targets.length]!.echo(i);
          ops += 100;
        }
      };
      await Promise.all(Array.from({ length: 256 }, lane));
      return ops / ((performance.now() - t0) / 1000);
    };
    await rate(gateways); // warm-up
    await rate(one);
    const all: number[] = [];
    const single: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, as the other tables rotate their systems.
      if (round % 2 === 0) {
        all.push(await rate(gateways));
        single.push(await rate(one));
      } else {
        single.push(await rate(one));
        all.push(await rate(gateways));
      }
    }

    started = performance.now();
    await Promise.all(endpoints.map((e) => e.closeAsync()));
    const stopMs = performance.now() - started;
    return {
      endpoints: count,
      startMs: Math.round(startMs),
      bytesPerEndpoint: Math.round(bytesPerEndpoint),
      spreadAsksPerSec: Math.round(median(all) ?? 0),
      oneEndpointAsksPerSec: Math.round(median(single) ?? 0),
      spreadRatio: roundSpread(spread(roundRatios(all, single))),
      stopMs: Math.round(stopMs),
    };
  } finally {
    await service.closeAsync();
  }
}

/** The floor: per call a promise whose resolver is kept, and a `then` counting completions, without RPC. */
async function floorBytes(count: number): Promise<number> {
  const before = usedHeapAfterGc();
  const values: number[] = [];
  const resolvers: ((value: number) => void)[] = [];
  let done = 0;
  for (let i = 0; i < count; i++) {
    values.push(i);
    new Promise<number>((resolve) => resolvers.push(resolve)).then(() => {
      done++;
    });
  }
  const bytes = (usedHeapAfterGc() - before) / count;
  for (let i = 0; i < count; i++) resolvers[i]!(values[i]!);
  await waitFor(() => done === count, 60_000, 'bare promises did not complete');
  return bytes;
}

async function manyPending(count: number) {
  const floor = await floorBytes(count);
  const service = await RpcSystem.load().localServiceBuilder({ askTimeout: 3_600_000 }).createAndStart();
  try {
    const endpoint = new HoldEndpoint(service);
    endpoint.start();
    const gateway = endpoint.getSelfGateway(HoldGateway);
    await gateway.held();
    const before = usedHeapAfterGc();
    const started = performance.now();
    const replies = await sendHolds(gateway, count, BATCH);
    await waitFor(
      async () => replies.failed !== undefined || (await gateway.held()) === count,
      300_000,
      'asks not all held',
    );
    if (replies.failed !== undefined) throw replies.failed;
    const pendingIssueMs = performance.now() - started;
    const bytesPerPendingAsk = (usedHeapAfterGc() - before) / count;
    const releasing = performance.now();
    await gateway.release();
    await waitFor(
      () => replies.failed !== undefined || replies.done === count,
      300_000,
      `only ${replies.done} of ${count} asks completed`,
    );
    if (replies.failed !== undefined) throw replies.failed;
    const releaseMs = performance.now() - releasing;
    return {
      pendingAsks: count,
      pendingIssueMs: Math.round(pendingIssueMs),
      bytesPerPendingAsk: Math.round(bytesPerPendingAsk),
      floorBytesPerPendingAsk: Math.round(floor),
      releaseMs: Math.round(releaseMs),
    };
  } finally {
    await service.closeAsync();
  }
}

async function main(): Promise<void> {
  const [endpoints, pending, windowMs, rounds] = process.argv.slice(2).map(Number);
  if (!endpoints || !pending || !windowMs || !rounds)
    throw new Error('usage: local.ts <endpoints> <pendingAsks> <windowMs> <rounds>');
  const result: LocalScaleResult = {
    ...(await manyEndpoints(endpoints, windowMs, rounds)),
    ...(await manyPending(pending)),
  };
  process.stdout.write(`${JSON.stringify({ result })}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
  process.exit(1);
});
