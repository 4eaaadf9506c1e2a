/**
 * Failure detection and recovery: peers killed (SIGKILL) or frozen (SIGSTOP), services closed, nothing listening,
 * silent servers. Pending asks must fail at once — never at their (long) timeout — and gateways must work again
 * once the peer is back at the same address.
 */

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EndpointNotStartedException, RecipientUnreachableException, RpcConnectionException } from '../../src/index.js';
import { LeaderGateway } from '../fixtures/fenced.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import {
  assertNoLeaks,
  captureLogger,
  cleanup,
  freePort,
  type LogEntry,
  livePeers,
  RawPeer,
  rawServer,
  rejectionOf,
  remoteService,
  sleep,
  spawnPeer,
} from './support.js';

afterEach(cleanup);
afterAll(async () => {
  expect(livePeers()).toBe(0);
  await assertNoLeaks();
});

/** Long enough that a test would time out if a failure waited for it. */
const LONG = 60_000;

describe('a peer process dies', () => {
  it('fails every pending ask at once with RecipientUnreachableException and recovers on the same port', async () => {
    const peer = await spawnPeer();
    const client = await remoteService({ askTimeout: LONG });
    const gw = await client.connect(peer.info.values, ValueGateway);
    const leader = await client.connect(peer.info.leader, 'epoch-1', LeaderGateway);
    await expect(gw.echo('before')).resolves.toBe('before');
    await expect(leader.whoAmI()).resolves.toBe('leader epoch-1');

    const pending = [gw.wait(0), gw.wait(0), leader.whoAmI().then(() => gw.wait(0))].map((p) => rejectionOf(p));
    await sleep(50);
    const started = performance.now();
    await peer.kill('SIGKILL');
    const errors = await Promise.all(pending);
    for (const error of errors) {
      expect(error).toBeInstanceOf(RecipientUnreachableException);
      expect(error.message).toContain(peer.info.values);
    }
    expect(performance.now() - started).toBeLessThan(5000);

    // While it is down: asks fail fast (connection refused), tells are dropped without throwing.
    const down = await rejectionOf(gw.echo('down'));
    expect(down).toBeInstanceOf(RecipientUnreachableException);
    expect(() => gw.record('lost')).not.toThrow();

    // A new process on the same port: the very same gateway works again.
    const again = await spawnPeer(String(peer.info.port));
    expect(again.info.values).toBe(peer.info.values);
    await expect(gw.echo('after')).resolves.toBe('after');
    await expect(leader.whoAmI()).resolves.toBe('leader epoch-1');
    await expect(gw.recorded()).resolves.toEqual([]);

    // An endpoint of the peer process that was never started.
    const idle = await client.connect(again.info.idle, ValueGateway);
    await expect(idle.echo(1)).rejects.toBeInstanceOf(EndpointNotStartedException);
  });

  it('fails asks pending on a frozen peer (half-open connection) once pings go unanswered', async () => {
    const peer = await spawnPeer();
    const client = await remoteService({ askTimeout: LONG, pingInterval: 100, idleTimeout: 500 });
    const gw = await client.connect(peer.info.values, ValueGateway);
    await expect(gw.echo(1)).resolves.toBe(1);
    peer.child.kill('SIGSTOP');
    try {
      const started = performance.now();
      const error = await rejectionOf(gw.wait(0));
      expect(error).toBeInstanceOf(RecipientUnreachableException);
      expect(String((error.cause as Error)?.message)).toMatch(/sent nothing/);
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      peer.child.kill('SIGCONT');
    }
  });
});

describe('a service is closed', () => {
  /** A server and a client service with an ask from the client waiting at the server's endpoint. */
  async function askWaitingAcrossServices() {
    const server = await remoteService();
    const client = await remoteService({ askTimeout: LONG });
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const pending = rejectionOf(gw.wait(0));
    await sleep(20);
    return { server, client, endpoint, gw, pending };
  }

  it('fails asks pending on the closed remote service promptly', async () => {
    const { server, gw, pending } = await askWaitingAcrossServices();
    await server.closeAsync();
    expect(await pending).toBeInstanceOf(RecipientUnreachableException);
    expect(await rejectionOf(gw.echo(1))).toBeInstanceOf(RecipientUnreachableException);
    // The port is closed.
    const probe = new RawPeer(server.getPort());
    await probe.waitClosed();
  });

  it('fails the asks of a closing client service and refuses new connects', async () => {
    const { client, endpoint, gw, pending } = await askWaitingAcrossServices();
    await client.closeAsync();
    expect(await pending).toBeInstanceOf(RecipientUnreachableException);
    expect(await rejectionOf(gw.echo(1))).toBeInstanceOf(RecipientUnreachableException);
    await expect(client.connect(endpoint.getAddress(), ValueGateway)).rejects.toThrow(/stopped/);
  });
});

describe('tells to an unreachable peer', () => {
  it('are dropped without an error at the caller, and logged', async () => {
    const logs: LogEntry[] = [];
    const server = await remoteService();
    const client = await remoteService({ logger: captureLogger(logs) });
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    await server.closeAsync();
    await sleep(20);
    expect(() => {
      gw.record('a');
      gw.record('b');
    }).not.toThrow();
    const deadline = Date.now() + 3000;
    while (!logs.some((e) => /dropping 2 unsent tells/.test(String(e.msg))) && Date.now() < deadline) await sleep(10);
    expect(logs.some((e) => e.level === 'warn' && /dropping 2 unsent tells/.test(String(e.msg)))).toBe(true);
  });
});

describe('connecting', () => {
  it('fails fast with RpcConnectionException when nothing listens', async () => {
    const client = await remoteService();
    const port = await freePort();
    const address = `rpc.tcp://flink@127.0.0.1:${port}/values`;
    const error = await rejectionOf(client.connect(address, ValueGateway));
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect(error.message).toContain(address);
  });

  it('fails with RpcConnectionException within the connect timeout when the peer never answers', async () => {
    const port = await rawServer(() => {});
    const client = await remoteService({ connectTimeout: 300 });
    const started = performance.now();
    const error = await rejectionOf(client.connect(`rpc.tcp://flink@127.0.0.1:${port}/values`, ValueGateway));
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect(String((error.cause as Error).message)).toContain('connect timeout of 300 ms');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
  });

  it('shares one dial between concurrent connects', async () => {
    const server = await remoteService();
    const client = await remoteService();
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gateways = await Promise.all(
      Array.from({ length: 10 }, () => client.connect(endpoint.getAddress(), ValueGateway)),
    );
    await Promise.all(gateways.map((g, i) => g.echo(i)));
    const stats = (server as unknown as { transport: { stats(): { inbound: number } } }).transport.stats();
    expect(stats.inbound).toBe(1);
  });
});
