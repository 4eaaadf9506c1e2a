/** The transport's metrics in the `metrics` registry: connections by state, bytes each way, frames refused by reason. */

import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FrameKind } from '../../src/transport/frames.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import {
  assertNoLeaks,
  cleanup,
  frameBytes,
  preambleBytes,
  RawPeer,
  rejectionOf,
  remoteService,
  until,
} from './support.js';

afterEach(cleanup);
afterAll(assertNoLeaks);

/** The value of a metric with exactly these labels (0 when absent). */
async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const wanted = Object.entries(labels);
  const found = values.find(
    (v) =>
      wanted.every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value) &&
      Object.keys(v.labels).length === wanted.length,
  );
  return found?.value ?? 0;
}

describe('transport metrics', () => {
  it('count connections by direction and state, bytes in and out, and refused frames by reason', async () => {
    const serverMetrics = new Registry();
    const clientMetrics = new Registry();
    const server = await remoteService({ metrics: serverMetrics, connectionMemoryBudget: 1600 });
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const client = await remoteService({ metrics: clientMetrics });
    const gateway = await client.connect(endpoint.getAddress(), ValueGateway);

    const open = { state: 'open' };
    expect(
      await metricValue(clientMetrics, 'flink_rpc_transport_connections', { direction: 'outbound', ...open }),
    ).toBe(1);
    await until(
      async () =>
        (await metricValue(serverMetrics, 'flink_rpc_transport_connections', { direction: 'inbound', ...open })) === 1,
      2000,
      'the inbound connection',
    );
    expect(
      await metricValue(serverMetrics, 'flink_rpc_transport_connections', { direction: 'outbound', ...open }),
    ).toBe(0);

    await expect(gateway.echo('x'.repeat(500))).resolves.toHaveLength(500);
    // Three small asks fit the budget, the fourth is refused.
    const waits = [gateway.wait(0), gateway.wait(0), gateway.wait(0)];
    await expect(rejectionOf(gateway.wait(0))).resolves.toMatchObject({ name: 'RpcException' });
    endpoint.release();
    await Promise.all(waits);

    // What one side sent, the other received: the 500-character argument and result went both ways.
    const clientSent = await metricValue(clientMetrics, 'flink_rpc_transport_sent_bytes_total');
    const clientReceived = await metricValue(clientMetrics, 'flink_rpc_transport_received_bytes_total');
    expect(clientSent).toBeGreaterThan(500);
    expect(clientReceived).toBeGreaterThan(500);
    await until(
      async () => (await metricValue(serverMetrics, 'flink_rpc_transport_received_bytes_total')) === clientSent,
      2000,
      'the server to count what the client sent',
    );
    expect(await metricValue(serverMetrics, 'flink_rpc_transport_sent_bytes_total')).toBe(clientReceived);
    expect(
      await metricValue(serverMetrics, 'flink_rpc_transport_frames_rejected_total', { reason: 'over_budget' }),
    ).toBe(1);

    // A peer that breaks the protocol is counted and dropped.
    const peer = await new RawPeer(server.getPort()).connected();
    peer.write(preambleBytes());
    peer.write(frameBytes(FrameKind.ASK, [1, 7], []));
    await peer.waitClosed();
    expect(
      await metricValue(serverMetrics, 'flink_rpc_transport_frames_rejected_total', { reason: 'protocol_violation' }),
    ).toBe(1);

    // Closed connections leave the gauge.
    await client.closeAsync();
    await until(
      async () =>
        (await metricValue(serverMetrics, 'flink_rpc_transport_connections', { direction: 'inbound', ...open })) === 0,
      2000,
      'the inbound connection to close',
    );
    expect(
      await metricValue(clientMetrics, 'flink_rpc_transport_connections', { direction: 'outbound', ...open }),
    ).toBe(0);
    expect(
      await metricValue(serverMetrics, 'flink_rpc_transport_connections', { direction: 'inbound', state: 'opening' }),
    ).toBe(0);
  });
});
