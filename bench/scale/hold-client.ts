/**
 * Client process of the remote pending-asks row (`--expose-gc`): over one connection it sends `count` asks that the
 * server holds unanswered, waits until the server holds them all (its `held()` asks travel behind them on the same
 * connection), measures both heaps after garbage collection, then has them answered and waits for every reply.
 *
 *   node --expose-gc --import tsx bench/scale/hold-client.ts <serverInfo> <count>
 *
 * Prints one JSON line: `{"result": RemotePendingResult}` or `{"error": "…", "held": n}`.
 */

import { RpcSystem } from '../../src/index.js';
import type { ServerInfo } from '../remote/types.js';
import { HoldGateway, sendHolds, usedHeapAfterGc, waitFor } from './hold.js';

export interface RemotePendingResult {
  pendingAsks: number;
  /** From the first ask until the server holds them all. */
  issueMs: number;
  clientBytesPerPendingAsk: number;
  serverBytesPerPendingAsk: number;
  /** From `release()` until every caller saw its answer. */
  releaseMs: number;
}

const BATCH = 10_000;
/** How long the server may take to hold everything before the row reports a stall. */
const STALL_MS = 120_000;

async function main(): Promise<void> {
  const [serverJson, countText] = process.argv.slice(2);
  const count = Number(countText);
  if (!serverJson || !(count > 0)) throw new Error('usage: hold-client.ts <serverInfo> <count>');
  const { address } = JSON.parse(serverJson) as ServerInfo;
  if (address === undefined) throw new Error('the server announced no address');
  const service = await RpcSystem.load()
    .remoteServiceBuilder({ askTimeout: 3_600_000 }, '127.0.0.1', '0')
    .withBindAddress('127.0.0.1')
    .createAndStart();
  let lastHeld = 0;
  try {
    const gateway = await service.connect(address, HoldGateway);
    const serverBefore = await gateway.heap();
    const clientBefore = usedHeapAfterGc();
    const started = performance.now();
    const replies = await sendHolds(gateway, count, BATCH);
    await waitFor(
      async () => {
        if (replies.failed !== undefined) return true;
        lastHeld = await gateway.held();
        return lastHeld === count;
      },
      STALL_MS,
      `the server held ${lastHeld} of ${count} asks`,
      250,
    );
    if (replies.failed !== undefined) throw replies.failed;
    const issueMs = performance.now() - started;
    const clientAfter = usedHeapAfterGc();
    const serverAfter = await gateway.heap();
    const releasing = performance.now();
    await gateway.release();
    await waitFor(
      () => replies.failed !== undefined || replies.done === count,
      STALL_MS,
      `only ${replies.done} of ${count} replies arrived`,
    );
    if (replies.failed !== undefined) throw replies.failed;
    const result: RemotePendingResult = {
      pendingAsks: count,
      issueMs: Math.round(issueMs),
      clientBytesPerPendingAsk: Math.round((clientAfter - clientBefore) / count),
      serverBytesPerPendingAsk: Math.round((serverAfter - serverBefore) / count),
      releaseMs: Math.round(performance.now() - releasing),
    };
    process.stdout.write(`${JSON.stringify({ result })}\n`);
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stdout.write(`${JSON.stringify({ error: message.replace(/\s+/g, ' '), held: lastHeld })}\n`);
  } finally {
    // Pending asks would keep the service busy closing; the harness kills the server right after anyway.
    process.exit(0);
  }
}

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`);
  process.exit(1);
});
