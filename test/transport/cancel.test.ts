/**
 * Remote cancellation: aborting a call's signal rejects the caller at once, forgets the request (a late answer is
 * dropped), sends a CANCEL that aborts the signal the endpoint's method received, and leaves nothing behind; a
 * server that does not announce the feature gets no CANCEL and still works.
 */

import { getEventListeners } from 'node:events';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FEATURES, FrameKind, PREAMBLE_SIZE } from '../../src/transport/frames.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import {
  assertNoLeaks,
  cleanup,
  frameBytes,
  preambleBytes,
  RawPeer,
  type ReceivedFrame,
  rawProtocolServer,
  rejectionOf,
  remoteService,
  sleep,
  transportStats,
  until,
} from './support.js';

afterEach(cleanup);
afterAll(assertNoLeaks);

async function setup() {
  const server = await remoteService();
  const endpoint = new ValueEndpoint(server);
  endpoint.start();
  const client = await remoteService({ askTimeout: 60_000 });
  const gateway = await client.connect(endpoint.getAddress(), ValueGateway);
  return { server, endpoint, client, gateway };
}

describe('remote cancellation', () => {
  it('aborting 100 000 remote calls rejects each at once, aborts every endpoint signal, and leaves no request, pending ask or listener', async () => {
    const { server, endpoint, client, gateway } = await setup();
    const count = 100_000;
    const controllers: AbortController[] = [];
    const calls: Promise<Error>[] = [];
    for (let i = 0; i < count; i++) {
      const controller = new AbortController();
      controllers.push(controller);
      calls.push(rejectionOf(gateway.cancellable(0, controller.signal)));
    }
    await until(() => endpoint.waitingCount === count, 60_000, 'every call to reach the endpoint');
    expect(endpoint.signalListeners).toBe(count);
    expect(transportStats(client).pendingRequests).toBe(count);
    expect(transportStats(server).cancellableAsks).toBe(count);

    const reason = new Error('the user went away');
    for (const controller of controllers) controller.abort(reason);
    // The callers learn it at once, without waiting for the peer.
    expect(transportStats(client).pendingRequests).toBe(0);
    const errors = await Promise.all(calls);
    expect(errors.every((error) => error === reason)).toBe(true);

    // The CANCEL frames abort the endpoint's signals; their reason is an AbortError.
    await until(() => endpoint.aborts === count, 60_000, 'every endpoint signal to abort');
    expect((endpoint.lastAbortReason as Error).name).toBe('AbortError');
    expect(endpoint.signalListeners).toBe(0);
    expect(endpoint.waitingCount).toBe(0);
    await until(() => transportStats(server).inboundAsks === 0, 10_000, 'the server to forget the asks');
    expect(transportStats(server).cancellableAsks).toBe(0);
    for (const controller of controllers) expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
    await expect(gateway.echo('still here')).resolves.toBe('still here');
    expect(transportStats(client).pendingRequests).toBe(0);
  }, 120_000);

  it('a call that completes normally leaves no listener on its signal', async () => {
    const { server, endpoint, client, gateway } = await setup();
    const controller = new AbortController();
    const call = gateway.cancellable(0, controller.signal);
    await until(() => endpoint.waitingCount === 1, 5000, 'the call');
    endpoint.release();
    await expect(call).resolves.toBe('done');
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
    expect(transportStats(client).pendingRequests).toBe(0);
    expect(transportStats(server).cancellableAsks).toBe(0);
    controller.abort();
    expect(endpoint.aborts).toBe(0);
  });

  it('an answer that arrives after the abort is dropped: the caller keeps the abort reason', async () => {
    const { endpoint, client, gateway } = await setup();
    const controller = new AbortController();
    const call = rejectionOf(gateway.cancellable(0, controller.signal));
    await until(() => endpoint.waitingCount === 1, 5000, 'the call');
    // The endpoint answers in the same tick: the REPLY crosses the CANCEL on the wire.
    endpoint.release();
    controller.abort();
    expect(((await call) as Error).name).toBe('AbortError');
    await sleep(50);
    expect(transportStats(client).pendingRequests).toBe(0);
    await expect(gateway.echo('next')).resolves.toBe('next');
  });

  it('an inbound connection that closes aborts the signals of its pending asks', async () => {
    const { endpoint, client, gateway } = await setup();
    const call = rejectionOf(gateway.cancellable(0, new AbortController().signal));
    await until(() => endpoint.waitingCount === 1, 5000, 'the call');
    await client.closeAsync();
    await until(() => endpoint.aborts === 1, 5000, 'the abort');
    expect((endpoint.lastAbortReason as Error).name).toBe('AbortError');
    expect((await call).name).toBe('RecipientUnreachableException');
  });
});

describe('CANCEL on the wire', () => {
  it('a server announces the features it reads; a CANCEL for an unknown request is ignored, one with a payload closes', async () => {
    const server = await remoteService();
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const peer = await new RawPeer(server.getPort()).connected();
    peer.write(preambleBytes());
    const head = await peer.read(PREAMBLE_SIZE);
    expect(head.readUInt16BE(6)).toBe(FEATURES);
    peer.write(frameBytes(FrameKind.CANCEL, [12345]));
    peer.write(frameBytes(FrameKind.DECLARE, [0], ['flink', 'values', 'ValueGateway', 'echo']));
    peer.write(frameBytes(FrameKind.ASK, [1, 0], ['alive']));
    expect(await peer.readFrame()).toMatchObject({ kind: FrameKind.REPLY, id: 1, value: 'alive' });
    const withPayload = Buffer.from([0, 0, 0, 6, FrameKind.CANCEL, 0, 0, 0, 1, 0]);
    peer.write(withPayload);
    await peer.waitClosed();
  });

  it('to a server that does not announce CANCEL (an older peer) no CANCEL is sent; the abort still rejects at once', async () => {
    const frames: ReceivedFrame[] = [];
    const port = await rawProtocolServer(0, frames); // feature flags 0: a peer of the first release
    const received = { includes: (kind: number) => frames.some((f) => f.kind === kind) };
    const client = await remoteService({ askTimeout: 60_000 });
    const gateway = await client.connect(`rpc.tcp://flink@127.0.0.1:${port}/values`, ValueGateway);
    const controller = new AbortController();
    const call = rejectionOf(gateway.cancellable(0, controller.signal));
    await until(() => received.includes(FrameKind.ASK), 5000, 'the ask');
    controller.abort();
    expect((await call).name).toBe('AbortError');
    expect(transportStats(client).pendingRequests).toBe(0);
    await sleep(100);
    expect(received.includes(FrameKind.CANCEL)).toBe(false);
    expect(received.includes(FrameKind.ASK)).toBe(true);
  });
});
