/** Frame size limits: oversized requests fail at the caller unsent, oversized responses fail that call only. */

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RpcException, RpcSystem } from '../../src/index.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import { assertNoLeaks, cleanup, rejectionOf, remoteService, transportStats } from './support.js';

afterEach(cleanup);
afterAll(assertNoLeaks);

const LIMIT = 64 * 1024;

describe('frame sizes', () => {
  it('fails an oversized request at the caller without sending it; the connection lives on', async () => {
    const server = await remoteService({ maxFrameSize: LIMIT });
    const client = await remoteService({ maxFrameSize: LIMIT });
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const error = await rejectionOf(gw.echo(Buffer.alloc(LIMIT)));
    expect(error).toBeInstanceOf(RpcException);
    expect(error.message).toMatch(
      /The rpc invocation size \d+ of method ValueGateway\.echo exceeds the maximum framesize 65536/,
    );
    expect(() => gw.record('x'.repeat(LIMIT))).toThrow(/exceeds the maximum framesize/);
    await expect(gw.recorded()).resolves.toEqual([]);
    await expect(gw.echo(Buffer.alloc(LIMIT - 100))).resolves.toHaveLength(LIMIT - 100);
    expect(transportStats(server).inbound).toBe(1);
  });

  it('fails an oversized response with RpcException "exceeds the maximum"; the connection lives on', async () => {
    const server = await remoteService({ maxFrameSize: LIMIT });
    const client = await remoteService({ maxFrameSize: LIMIT });
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const pendingOk = gw.echo('queued before');
    const error = await rejectionOf(gw.bytes(LIMIT));
    expect(error).toBeInstanceOf(RpcException);
    expect(error.message).toMatch(
      /^The method ValueGateway\.bytes's result size \d+ exceeds the maximum size 65536 \.$/,
    );
    await expect(pendingOk).resolves.toBe('queued before');
    await expect(gw.bytes(1000)).resolves.toHaveLength(1000);
    expect(transportStats(client).outbound).toBe(1);
    expect(transportStats(server).inbound).toBe(1);
  });

  it('honours the smaller limit of the two sides in both directions', async () => {
    const server = await remoteService({ maxFrameSize: LIMIT });
    const client = await remoteService({ maxFrameSize: 10 * LIMIT });
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    await expect(gw.echo(Buffer.alloc(2 * LIMIT))).rejects.toThrow(/exceeds the maximum framesize 65536/);

    const small = await remoteService({ maxFrameSize: LIMIT });
    const big = await remoteService({ maxFrameSize: 10 * LIMIT });
    const bigEndpoint = new ValueEndpoint(big);
    bigEndpoint.start();
    const toBig = await small.connect(bigEndpoint.getAddress(), ValueGateway);
    await expect(toBig.bytes(2 * LIMIT)).rejects.toThrow(/exceeds the maximum size 65536 \./);
    await expect(toBig.echo('alive')).resolves.toBe('alive');
  });

  it('fails calls queued while reconnecting that exceed the limit the peer announces', async () => {
    const server = await remoteService({ maxFrameSize: LIMIT });
    const client = await remoteService();
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    await expect(gw.echo('first')).resolves.toBe('first');
    // Break the connection under the gateway: the next calls are queued until a new one is up.
    const transport = (client as unknown as { transport: { clients: Map<string, { socket: { destroy(): void } }> } })
      .transport;
    for (const connection of transport.clients.values()) connection.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const big = gw.echo(Buffer.alloc(2 * LIMIT));
    const small = gw.echo('small');
    await expect(big).rejects.toThrow(/exceeds the maximum framesize 65536/);
    await expect(small).resolves.toBe('small');
    expect(transportStats(server).inbound).toBe(1);
  });

  it('echoes 8 MiB with the default limit, and local calls have no limit', async () => {
    const server = await remoteService();
    const client = await remoteService();
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const data = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    const back = (await gw.echo(data)) as Buffer;
    expect(back.equals(data)).toBe(true);

    const local = await RpcSystem.load().localServiceBuilder({ maxFrameSize: 1024 }).createAndStart();
    try {
      const localEndpoint = new ValueEndpoint(local);
      localEndpoint.start();
      const self = localEndpoint.getSelfGateway(ValueGateway);
      await expect(self.bytes(100_000)).resolves.toHaveLength(100_000);
    } finally {
      await local.closeAsync();
    }
  });
});
