/**
 * Trace context across processes: with an OpenTelemetry SDK installed on both sides, a call made inside a span
 * yields one trace — the caller's span, the client span of the call and, in the peer process, the server span of
 * its handling, each the parent of the next.
 */

import { SpanKind, trace } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  FEATURE_TRACE_CONTEXT,
  FEATURES,
  FLAG_TRACED,
  FrameKind,
  HEADER_SIZE,
  LENGTH_SIZE,
} from '../../src/transport/frames.js';
import { installTracing, type SpanRecord } from './fixtures/tracing.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import {
  assertNoLeaks,
  cleanup,
  codec,
  frameBytes,
  preambleBytes,
  RawPeer,
  type ReceivedFrame,
  rawProtocolServer,
  remoteService,
  sleep,
  spawnFixture,
} from './support.js';

afterEach(cleanup);
afterAll(assertNoLeaks);

const finishedSpans = installTracing();

describe('tracing across two processes', () => {
  it('one trace spans the caller, its client span and the server span in the peer process', async () => {
    const peer = spawnFixture('traced-peer.ts');
    const { address } = JSON.parse(await peer.nextLine()) as { address: string };
    const client = await remoteService();
    const gateway = await client.connect(address, ValueGateway);

    const tracer = trace.getTracer('spec');
    const rootIds = await tracer.startActiveSpan('job', async (root) => {
      await expect(gateway.echo('traced')).resolves.toBe('traced');
      gateway.record('traced tell');
      await expect(gateway.recorded()).resolves.toEqual(['traced tell']);
      root.end();
      return root.spanContext();
    });
    // A call outside any span starts a trace of its own.
    await expect(gateway.echo('untraced')).resolves.toBe('untraced');

    const local = finishedSpans();
    const clientEcho = local.filter((s) => s.name === 'ValueGateway/echo');
    expect(clientEcho).toHaveLength(2);
    const [inTrace, outside] = clientEcho as [SpanRecord, SpanRecord];
    expect(inTrace.kind).toBe(SpanKind.CLIENT);
    expect(inTrace.traceId).toBe(rootIds.traceId);
    expect(inTrace.parentSpanId).toBe(rootIds.spanId);
    expect(outside.traceId).not.toBe(rootIds.traceId);
    const clientTell = local.find((s) => s.name === 'ValueGateway/record');
    expect(clientTell?.traceId).toBe(rootIds.traceId);

    peer.send('spans');
    const remote = JSON.parse(await peer.nextLine()) as SpanRecord[];
    const serverEcho = remote.filter((s) => s.kind === SpanKind.SERVER && s.attributes['rpc.method'] === 'echo');
    expect(serverEcho).toHaveLength(2);
    const served = serverEcho.find((s) => s.traceId === rootIds.traceId);
    expect(served).toBeDefined();
    expect(served!.parentSpanId).toBe(inTrace.spanId);
    expect(served!.attributes['rpc.service']).toBe('ValueGateway');
    expect(serverEcho.find((s) => s.traceId === outside.traceId)?.parentSpanId).toBe(outside.spanId);
    const servedTell = remote.find((s) => s.kind === SpanKind.SERVER && s.attributes['rpc.method'] === 'record');
    expect(servedTell?.traceId).toBe(rootIds.traceId);
    expect(servedTell?.parentSpanId).toBe(clientTell?.spanId);
  });
});

/** An ASK frame with the TRACED flag: the context's bytes as given (possibly broken), then the payload. */
function tracedAsk(requestId: number, route: number, context: Buffer, args: unknown[]): Buffer {
  const payload = Buffer.from(codec.encode(args, 0));
  const header = HEADER_SIZE[FrameKind.ASK]!;
  const out = Buffer.alloc(header + context.length + payload.length);
  out.writeUInt32BE(out.length - LENGTH_SIZE, 0);
  out[4] = FrameKind.ASK;
  out.writeUInt32BE(requestId, 5);
  out.writeUInt32BE(route, 9);
  out[13] = FLAG_TRACED;
  context.copy(out, header);
  payload.copy(out, header + context.length);
  return out;
}

function contextBytes(traceparent: string, tracestate = ''): Buffer {
  const out = Buffer.alloc(3 + traceparent.length + tracestate.length);
  out[0] = traceparent.length;
  out.write(traceparent, 1, 'latin1');
  out.writeUInt16BE(tracestate.length, 1 + traceparent.length);
  out.write(tracestate, 3 + traceparent.length, 'latin1');
  return out;
}

describe('trace context on the wire', () => {
  it('sits between the fields and the payload of a traced ASK; an unusable one is ignored, one past the frame closes', async () => {
    const server = await remoteService();
    new ValueEndpoint(server).start();
    const peer = await new RawPeer(server.getPort()).connected();
    peer.write(preambleBytes());
    await peer.readPreamble();
    peer.write(frameBytes(FrameKind.DECLARE, [0], ['flink', 'values', 'ValueGateway', 'echo']));

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    peer.write(tracedAsk(1, 0, contextBytes(`00-${traceId}-${parent}-01`, 'vendor=abc'), ['traced']));
    expect(await peer.readFrame()).toMatchObject({ kind: FrameKind.REPLY, id: 1, value: 'traced' });
    await sleep(20);
    const served = finishedSpans().find((s) => s.kind === SpanKind.SERVER && s.traceId === traceId);
    expect(served?.parentSpanId).toBe(parent);

    // Not printable, or not a traceparent at all: the call is served without a parent.
    peer.write(tracedAsk(2, 0, contextBytes('\u0001\u00ff'), ['odd']));
    expect(await peer.readFrame()).toMatchObject({ kind: FrameKind.REPLY, id: 2, value: 'odd' });
    peer.write(tracedAsk(3, 0, contextBytes('not a traceparent'), ['odd']));
    expect(await peer.readFrame()).toMatchObject({ kind: FrameKind.REPLY, id: 3, value: 'odd' });

    // A tracestate length that runs past the frame breaks the protocol.
    const broken = contextBytes(`00-${traceId}-${parent}-01`);
    broken.writeUInt16BE(60_000, broken.length - 2);
    peer.write(tracedAsk(4, 0, broken, ['x']));
    await peer.waitClosed();
  });
});

describe("trace context and the server's features", () => {
  it('goes only to a server that announced TRACE_CONTEXT; an older server gets plain calls that work as before', async () => {
    const flagsOfAsks = async (features: number): Promise<number[]> => {
      const received: ReceivedFrame[] = [];
      const port = await rawProtocolServer(features, received, (frame) =>
        frame.kind === FrameKind.ASK ? frameBytes(FrameKind.REPLY, [frame.body.readUInt32BE(1)], 'ok') : undefined,
      );
      const client = await remoteService();
      const gateway = await client.connect(`rpc.tcp://flink@127.0.0.1:${port}/values`, ValueGateway);
      await trace.getTracer('spec').startActiveSpan('job', async (root) => {
        await expect(gateway.echo('x')).resolves.toBe('ok');
        root.end();
      });
      return received.filter((f) => f.kind === FrameKind.ASK).map((f) => f.body[9]!);
    };
    expect(await flagsOfAsks(0)).toEqual([0]);
    expect(await flagsOfAsks(FEATURES & ~FEATURE_TRACE_CONTEXT)).toEqual([0]);
    expect(await flagsOfAsks(FEATURES)).toEqual([FLAG_TRACED]);
  });
});
