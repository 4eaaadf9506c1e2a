/** Remote calls between two services in one process: values, errors, lifecycle, fencing, handshakes. */

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  EndpointNotStartedException,
  FencingTokenException,
  HandshakeException,
  RecipientUnreachableException,
  RpcConnectionException,
  RpcException,
  type RpcService,
  RpcTimeoutException,
} from '../../src/index.js';
import { LeaderEndpoint, LeaderGateway } from '../fixtures/fenced.js';
import { BaseGateway, CustomError, DerivedGateway, UnservedGateway, ValueEndpoint, ValueGateway } from './gateways.js';
import { assertNoLeaks, cleanup, rejectionOf, remoteService, sleep } from './support.js';

afterEach(cleanup);
afterAll(assertNoLeaks);

async function pair(config = {}): Promise<{ server: RpcService; client: RpcService; endpoint: ValueEndpoint }> {
  const server = await remoteService(config);
  const client = await remoteService(config);
  const endpoint = new ValueEndpoint(server);
  endpoint.start();
  return { server, client, endpoint };
}

describe('remote calls between two services', () => {
  it('round-trips every supported value kind', async () => {
    const { client, endpoint } = await pair();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const values: unknown[] = [
      0,
      -0,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 53 - 1,
      -(2 ** 40),
      'text ✓ with ünïcode',
      '',
      true,
      false,
      null,
      undefined,
      [1, 'two', [3], { four: 4 }],
      { nested: { deep: [1, { x: undefined }] }, list: [] },
      new Map<unknown, unknown>([
        ['a', 1],
        [2, 'b'],
        [{ k: 1 }, [1]],
      ]),
      new Set([1, 'two', 3n]),
      new Date('2024-01-02T03:04:05.678Z'),
      123456789012345678901234567890n,
      -5n,
      Buffer.from([1, 2, 3, 255]),
      new Uint8Array([9, 8, 7]),
      new Float64Array([1.5, -2.25]),
      new Int32Array([-1, 2 ** 31 - 1]),
      /re(g)ex/gi,
    ];
    for (const value of values) {
      expect(await gw.echo(value)).toEqual(value);
    }
    expect(Object.is(await gw.echo(-0), -0)).toBe(true);
    expect(await gw.echoAll(1, undefined, 'x')).toEqual([1, undefined, 'x']);
    const buffer = (await gw.echo(Buffer.from('bytes'))) as Buffer;
    expect(Buffer.isBuffer(buffer)).toBe(true);
    expect(buffer.toString()).toBe('bytes');
  });

  it('delivers null and undefined results', async () => {
    const { client, endpoint } = await pair();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    await expect(gw.nullValue()).resolves.toBeNull();
    await expect(gw.nothing()).resolves.toBeUndefined();
  });

  it('rejects with the remote error: same name, message and cause chain, sync and async', async () => {
    const { client, endpoint } = await pair();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const error = await rejectionOf(gw.fail('boom'));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.name).toBe('RangeError');
    expect(error.message).toBe('boom');
    const cause = error.cause as Error;
    expect(cause).toBeInstanceOf(TypeError);
    expect(cause.message).toBe('the root cause');
    expect(cause.cause).toBe('a string cause');

    const later = await rejectionOf(gw.failLater('later'));
    expect(later.name).toBe('Error');
    expect(later.message).toBe('later');
    expect(later).not.toBeInstanceOf(CustomError);
  });

  it('sends an error the codec cannot carry as a plain copy, or at least its name and message', async () => {
    const { client, endpoint } = await pair();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const field = await rejectionOf(gw.failWeird('field'));
    expect(field.name).toBe('TypeError');
    expect(field.message).toBe('weird failure');
    expect((field.cause as Error).message).toBe('inner');
    const getter = await rejectionOf(gw.failWeird('getter'));
    expect(getter).toBeInstanceOf(RpcException);
    await expect(gw.echo('still serving')).resolves.toBe('still serving');
  });

  it('keeps the order of asks and tells from one sender', async () => {
    const { client, endpoint } = await pair();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    for (let i = 0; i < 200; i++) gw.record(`t${i}`);
    const seen = await gw.recorded();
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => `t${i}`));
  });

  it('multiplexes every gateway and call to a service over one connection', async () => {
    const { server, client, endpoint } = await pair();
    const second = new ValueEndpoint(server, 'values-2');
    second.start();
    const leader = new LeaderEndpoint(server, 'token', 'leader');
    leader.start();
    const a = await client.connect(endpoint.getAddress(), ValueGateway);
    const b = await client.connect(second.getAddress(), ValueGateway);
    const c = await client.connect(leader.getAddress(), 'token', LeaderGateway);
    const results = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => a.echo(i)),
      ...Array.from({ length: 50 }, (_, i) => b.echo(-i)),
      c.whoAmI(),
    ]);
    expect(results).toHaveLength(101);
    const stats = (s: RpcService) =>
      (s as unknown as { transport: { stats(): { outbound: number; inbound: number } } }).transport.stats();
    expect(stats(client)).toMatchObject({ outbound: 1, inbound: 0 });
    expect(stats(server)).toMatchObject({ outbound: 0, inbound: 1 });
  });

  it('calls inherited gateway methods and refuses local-only methods remotely', async () => {
    const { client, endpoint } = await pair();
    const derived = await client.connect(endpoint.getAddress(), DerivedGateway);
    await expect(derived.ping()).resolves.toBe('pong');
    await expect(derived.derived()).resolves.toBe('derived');
    await expect(derived.localOnly()).rejects.toThrow(/local-only/);
    const base = await client.connect(endpoint.getAddress(), BaseGateway);
    await expect(base.ping()).resolves.toBe('pong');
  });

  it('answers getAddress/getHostname locally with the endpoint address', async () => {
    const { client, endpoint } = await pair();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    expect(gw.getAddress()).toBe(endpoint.getAddress());
    expect(gw.getHostname()).toBe('127.0.0.1');
    expect(endpoint.getAddress()).toMatch(/^rpc\.tcp:\/\/flink@127\.0\.0\.1:\d+\/values$/);
  });

  it('fails an ask whose argument cannot be serialized at the caller, naming method and argument', async () => {
    const { client, endpoint } = await pair();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const error = await rejectionOf(gw.echoAll(1, { callback: () => 1 }));
    expect(error).toBeInstanceOf(RpcException);
    expect(error.message).toContain('ValueGateway.echoAll');
    expect(error.message).toMatch(/argument 1/);
    expect(error.message).toContain('callback');
    expect(() => gw.record((() => 1) as unknown as string)).toThrow(/ValueGateway\.record/);
    // The connection lives on.
    await expect(gw.echo('still fine')).resolves.toBe('still fine');
  });

  it('fails an ask whose result cannot be serialized with an RpcException', async () => {
    const { client, endpoint } = await pair();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const error = await rejectionOf(gw.unserializable());
    expect(error).toBeInstanceOf(RpcException);
    expect(error.message).toContain('Failed to serialize the result for RPC call : ValueGateway.unserializable.');
    await expect(gw.echo(1)).resolves.toBe(1);
  });

  it('times out a remote ask with RpcTimeoutException naming method and recipient', async () => {
    const { client, endpoint } = await pair({ askTimeout: 100 });
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const error = await rejectionOf(gw.wait(0));
    expect(error).toBeInstanceOf(RpcTimeoutException);
    expect(error.message).toContain('ValueGateway.wait');
    expect(error.message).toContain(endpoint.getAddress());
    endpoint.release();
    // The late answer is dropped; the connection serves the next call.
    await expect(gw.echo('next')).resolves.toBe('next');
  });
});

describe('connect and handshake', () => {
  it('fails for an unknown endpoint with RpcConnectionException naming the address', async () => {
    const { client, endpoint } = await pair();
    const address = endpoint.getAddress().replace(/values$/, 'nobody');
    const error = await rejectionOf(client.connect(address, ValueGateway));
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect(error).not.toBeInstanceOf(HandshakeException);
    expect(error.message).toContain(`Could not connect to rpc endpoint under address ${address}.`);
  });

  it('fails for a gateway the endpoint does not serve with HandshakeException', async () => {
    const { client, endpoint } = await pair();
    const error = await rejectionOf(client.connect(endpoint.getAddress(), UnservedGateway));
    expect(error).toBeInstanceOf(HandshakeException);
    expect(error.message).toContain('does not support the gateway UnservedGateway');
  });

  it('fails for another system name at that host and port', async () => {
    const { client, endpoint } = await pair();
    const address = endpoint.getAddress().replace('flink@', 'other@');
    const error = await rejectionOf(client.connect(address, ValueGateway));
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect(error.message).toContain('is not named other');
  });

  it('connects to a not-started endpoint; its asks fail with EndpointNotStartedException remotely', async () => {
    const { server, client } = await pair();
    const idle = new ValueEndpoint(server, 'idle');
    const gw = await client.connect(idle.getAddress(), ValueGateway);
    gw.record('dropped');
    // Sent after the tell on the same connection: once it failed, the tell was handled (dropped) too.
    const error = await rejectionOf(gw.echo(1));
    expect(error).toBeInstanceOf(EndpointNotStartedException);
    expect(error.message).toContain('has not been started yet');
    idle.start();
    await expect(gw.recorded()).resolves.toEqual([]);
  });

  it('fails asks to a terminated endpoint promptly with RecipientUnreachableException', async () => {
    const { client, endpoint } = await pair({ askTimeout: 10_000 });
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const pending = rejectionOf(gw.wait(0));
    await sleep(20);
    const started = performance.now();
    await endpoint.closeAsync();
    const error = await pending;
    expect(error).toBeInstanceOf(RecipientUnreachableException);
    const later = await rejectionOf(gw.echo(1));
    expect(later).toBeInstanceOf(RecipientUnreachableException);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('refuses a local address on a remote service and a malformed address', async () => {
    const { client } = await pair();
    await expect(client.connect('rpc://flink/values', ValueGateway)).rejects.toBeInstanceOf(RpcConnectionException);
    await expect(client.connect('not an address', ValueGateway)).rejects.toBeInstanceOf(RpcConnectionException);
  });

  it('needs rpc.ssl.tcp addresses for TLS services and rpc.tcp for plain ones', async () => {
    const { client, endpoint } = await pair();
    const address = endpoint.getAddress().replace('rpc.tcp:', 'rpc.ssl.tcp:');
    await expect(client.connect(address, ValueGateway)).rejects.toThrow(/TLS/);
  });
});

describe('fencing over the wire', () => {
  it('executes calls with the right token, refuses wrong and missing tokens, drops wrong tells', async () => {
    const server = await remoteService();
    const client = await remoteService();
    const leader = new LeaderEndpoint(server, 'epoch-2', 'leader');
    leader.start();
    const good = await client.connect(leader.getAddress(), 'epoch-2', LeaderGateway);
    await expect(good.whoAmI()).resolves.toBe('leader epoch-2');
    expect(good.getFencingToken()).toBe('epoch-2');

    const stale = await client.connect(leader.getAddress(), 'epoch-1', LeaderGateway);
    const error = await rejectionOf(stale.whoAmI());
    expect(error).toBeInstanceOf(FencingTokenException);
    expect(error.message).toContain('epoch-1');
    expect(error.message).toContain('epoch-2');

    const unfenced = await client.connect(leader.getAddress(), LeaderGateway);
    await expect(unfenced.whoAmI()).rejects.toBeInstanceOf(FencingTokenException);

    stale.poke('stale');
    unfenced.poke('unfenced');
    good.poke('good');
    await expect(good.pokes()).resolves.toEqual(['good']);
  });

  it('compares structured tokens by value', async () => {
    const server = await remoteService();
    const client = await remoteService();
    const leader = new LeaderEndpoint(server, { epoch: 3, id: 'x' } as unknown as string, 'leader');
    leader.start();
    const gw = await client.connect(leader.getAddress(), { epoch: 3, id: 'x' } as unknown as string, LeaderGateway);
    await expect(gw.whoAmI()).resolves.toContain('leader');
  });
});

describe('force serialization of local calls', () => {
  it('serializes local arguments and results, fails local calls where a remote one would fail', async () => {
    const service = await remoteService({ forceInvocationSerialization: true });
    const endpoint = new ValueEndpoint(service);
    endpoint.start();
    const gw = await service.connect(endpoint.getAddress(), ValueGateway);
    const arg = { list: [1, 2], when: new Date(0) };
    const result = await gw.echo(arg);
    expect(result).toEqual(arg);
    expect(result).not.toBe(arg);
    await expect(gw.echoAll(() => 1)).rejects.toThrow(/ValueGateway\.echoAll/);
    const local = await service.connect(endpoint.getAddress(), DerivedGateway);
    await expect(local.localOnly()).resolves.toBe('local');
  });

  it('applies the frame size limit to forced-serialized requests and responses', async () => {
    const service = await remoteService({ forceInvocationSerialization: true, maxFrameSize: 64 * 1024 });
    const endpoint = new ValueEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(ValueGateway);
    await expect(gw.bytes(100_000)).rejects.toThrow(/exceeds the maximum framesize 65536/);
    await expect(gw.echo(Buffer.alloc(100_000))).rejects.toThrow(/exceeds the maximum framesize 65536/);
    await expect(gw.bytes(1000)).resolves.toHaveLength(1000);
  });
});
