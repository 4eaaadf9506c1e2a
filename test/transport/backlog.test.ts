/**
 * Long-pending asks over one connection (long-poll calls an endpoint answers later, as Flink's `requestJobResult`):
 * a backlog of any size within the memory budget never stops the connection from serving pings, handshakes and
 * other calls, and past the budget new asks are refused at once while the connection lives on.
 */

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RpcException } from '../../src/index.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import { assertNoLeaks, cleanup, rejectionOf, remoteService, sleep, spawnPeer, until } from './support.js';

afterEach(cleanup);
afterAll(assertNoLeaks);

/** Short liveness settings: a connection that stopped serving pings is declared dead within a second. */
const LIVENESS = { pingInterval: 100, idleTimeout: 1000 };

describe('a backlog of pending asks', () => {
  it('100 000 asks pending at one endpoint: pings, a new connect and another call still go through, then all complete', async () => {
    const server = await remoteService(LIVENESS);
    const waiter = new ValueEndpoint(server);
    waiter.start();
    const other = new ValueEndpoint(server, 'other');
    other.start();
    const client = await remoteService({ ...LIVENESS, askTimeout: 120_000 });
    const gateway = await client.connect(waiter.getAddress(), ValueGateway);

    const count = 100_000;
    const pending: Promise<string>[] = [];
    for (let i = 0; i < count; i++) pending.push(gateway.wait(0));
    let failures = 0;
    for (const p of pending) p.catch(() => failures++);
    await until(() => waiter.waitingCount === count, 60_000, 'the endpoint to hold every ask');

    // Longer than the idle timeout: the connection must be kept alive by pings answered meanwhile.
    await sleep(LIVENESS.idleTimeout * 1.5);
    const second = await client.connect(other.getAddress(), ValueGateway);
    await expect(second.echo('through the backlog')).resolves.toBe('through the backlog');
    await expect(gateway.echo('same endpoint')).resolves.toBe('same endpoint');
    expect(failures).toBe(0);

    waiter.release();
    const results = await Promise.all(pending);
    expect(results.length).toBe(count);
    expect(results.every((r) => r === 'done')).toBe(true);
    await expect(gateway.echo('after')).resolves.toBe('after');
  }, 120_000);

  it('past the memory budget new asks are refused at once, naming the limit and the setting; the connection lives on', async () => {
    // Room for about 100 small asks.
    const budget = 100 * 520;
    const server = await remoteService({ ...LIVENESS, connectionMemoryBudget: budget });
    const waiter = new ValueEndpoint(server);
    waiter.start();
    const other = new ValueEndpoint(server, 'other');
    other.start();
    const client = await remoteService({ ...LIVENESS, askTimeout: 60_000 });
    const gateway = await client.connect(waiter.getAddress(), ValueGateway);

    const settled: { ok: boolean; value: unknown }[] = [];
    const flood = Array.from({ length: 1000 }, () =>
      gateway.wait(0).then(
        (value) => settled.push({ ok: true, value }),
        (error: unknown) => settled.push({ ok: false, value: error }),
      ),
    );
    // The refusals come back at once, while the accepted asks still wait.
    await until(() => settled.length >= 1000 - waiter.waitingCount && waiter.waitingCount > 0, 10_000, 'refusals');
    const accepted = waiter.waitingCount;
    expect(accepted).toBeGreaterThanOrEqual(90);
    expect(accepted).toBeLessThanOrEqual(100);
    const refused = settled.filter((s) => !s.ok).map((s) => s.value as Error);
    expect(refused.length).toBe(1000 - accepted);
    for (const error of refused) expect(error).toBeInstanceOf(RpcException);
    expect(refused[0]!.message).toMatch(
      new RegExp(
        `Refused the ask ValueGateway.wait .*memory budget of ${budget} bytes per connection .*connectionMemoryBudget`,
      ),
    );

    // Over budget, the connection still serves pings (it outlives the idle timeout), handshakes and tells.
    await sleep(LIVENESS.idleTimeout * 1.5);
    const second = await client.connect(other.getAddress(), ValueGateway);
    second.record('heard');
    await until(() => other.tags.includes('heard'), 5000, 'the tell');
    // Asks are refused while the budget is used up …
    const refusal = await rejectionOf(second.echo('too much'));
    expect(refusal.message).toMatch(/connectionMemoryBudget/);

    // … and accepted again once the pending ones are answered.
    waiter.release();
    await Promise.all(flood);
    expect(settled.filter((s) => s.ok).length).toBe(accepted);
    await expect(second.echo('again')).resolves.toBe('again');
    await expect(gateway.wait(1)).resolves.toBe('done');
  }, 60_000);
});

// About 30 s and 0.7 GB of heap on each side on a 2-core machine: run with FLINK_RPC_SCALE_TESTS=1.
describe.runIf(process.env.FLINK_RPC_SCALE_TESTS === '1')('a million pending asks', () => {
  it('1 000 000 asks pending over one connection to a peer process, then all complete', async () => {
    // Pings travel in order behind the asks, so the idle timeout must cover the time the peer takes to read them.
    const liveness = { pingInterval: 1000, idleTimeout: 10_000 };
    const peer = await spawnPeer('0', liveness);
    const client = await remoteService({ ...liveness, askTimeout: 600_000 });
    const gateway = await client.connect(peer.info.values, ValueGateway);
    const count = 1_000_000;
    let done = 0;
    let failed: unknown;
    const batch = 10_000;
    for (let sent = 0; sent < count; sent += batch) {
      for (let i = 0; i < batch; i++) {
        gateway.wait(0).then(
          () => done++,
          (error: unknown) => {
            failed ??= error;
          },
        );
      }
      // Let the batch leave before the next one is made.
      await sleep(0);
    }
    // The peer holds them all once a call made after them comes back (calls are delivered in order).
    await expect(gateway.echo('behind a million')).resolves.toBe('behind a million');
    await sleep(LIVENESS.idleTimeout * 1.5);
    expect(failed).toBeUndefined();
    await expect(gateway.releaseAll()).resolves.toBe(count);
    await until(() => done === count || failed !== undefined, 120_000, 'every answer');
    expect(failed).toBeUndefined();
    expect(done).toBe(count);
  }, 300_000);
});
