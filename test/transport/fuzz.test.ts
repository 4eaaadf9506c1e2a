/**
 * Property-based hardening: random bytes and mutated valid frame sequences thrown at a live service. Whatever they
 * contain, the service must not crash, must not hang on them, and must still answer a legitimate client afterwards.
 */

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RpcService } from '../../src/index.js';
import { FrameKind } from '../../src/transport/frames.js';

const { ASK, CANCEL, DECLARE, HANDSHAKE, PING, TELL } = FrameKind;

import { LeaderEndpoint } from '../fixtures/fenced.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import { assertNoLeaks, cleanup, codec, frameBytes, preambleBytes, RawPeer, remoteService } from './support.js';

/** A trace context as a TRACED call carries it before its payload. */
function traced(payload: unknown): Buffer {
  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const context = Buffer.alloc(3 + parent.length);
  context[0] = parent.length;
  context.write(parent, 1, 'latin1');
  return Buffer.concat([context, Buffer.from(codec.encode(payload, 0))]);
}

let service: RpcService;
let endpoint: ValueEndpoint;

beforeAll(async () => {
  service = await remoteService({
    maxFrameSize: 64 * 1024,
    handshakeTimeout: 200,
    idleTimeout: 300,
    pingInterval: 100,
  });
  endpoint = new ValueEndpoint(service);
  endpoint.start();
  new LeaderEndpoint(service, 'epoch', 'leader').start();
});
afterAll(async () => {
  await cleanup();
  await assertNoLeaks();
});

/** A valid session: preamble, handshake, routes, asks and tells (some fenced, some traced), a cancel, a ping. */
function validSession(): Buffer[] {
  return [
    preambleBytes(),
    frameBytes(HANDSHAKE, [1], ['flink', 'values', 'ValueGateway']),
    frameBytes(DECLARE, [0], ['flink', 'values', 'ValueGateway', 'echo']),
    frameBytes(DECLARE, [1], ['flink', 'leader', 'LeaderGateway', 'whoAmI']),
    frameBytes(DECLARE, [2], ['flink', 'values', 'ValueGateway', 'record']),
    frameBytes(ASK, [2, 0], [{ a: [1, 2, 3], b: 'x', c: new Map([[1, 2]]) }]),
    frameBytes(ASK, [3, 1], ['epoch', []], { flags: 1 }),
    frameBytes(TELL, [2], ['tag']),
    frameBytes(ASK, [4, 0], [new Date(0)]),
    frameBytes(ASK, [5, 0], undefined, { raw: traced(['traced']), flags: 2 }),
    frameBytes(TELL, [2], undefined, { raw: traced(['traced tag']), flags: 2 }),
    frameBytes(DECLARE, [3], ['flink', 'values', 'ValueGateway', 'cancellable']),
    frameBytes(ASK, [6, 3], [0]),
    frameBytes(CANCEL, [6]),
    Buffer.from([0, 0, 0, 1, PING]),
  ];
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('length' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 0xffff_ffff }) }),
);

function mutate(input: Buffer, mutations: fc.Arbitrary<never>[] | ReadonlyArray<unknown>): Buffer {
  let bytes = Buffer.from(input);
  for (const m of mutations as { kind: string; at: number; value?: number; bytes?: Uint8Array; count?: number }[]) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    switch (m.kind) {
      case 'flip':
        if (bytes.length > 0) bytes[at] = m.value!;
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes!), bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count!)]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'length':
        if (bytes.length >= at + 4) bytes.writeUInt32BE(m.value!, at);
        break;
    }
  }
  return bytes;
}

/** Sends `chunks` on a fresh socket, reads whatever comes back for a moment, then hangs up. */
async function throwAt(chunks: Buffer[]): Promise<void> {
  const peer = await new RawPeer(service.getPort()).connected();
  for (const chunk of chunks) peer.write(chunk);
  await Promise.race([peer.closedPromise, new Promise((resolve) => setTimeout(resolve, 15))]);
  peer.destroy();
}

async function legitimateClientIsServed(): Promise<void> {
  const client = await remoteService();
  const gw = await client.connect(endpoint.getAddress(), ValueGateway);
  await expect(gw.echo({ still: 'serving' })).resolves.toEqual({ still: 'serving' });
  await client.closeAsync();
}

describe('fuzzing a live service', () => {
  it('survives random bytes, with and without a valid preamble', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 512 }), async (withPreamble, bytes) => {
        await throwAt(withPreamble ? [preambleBytes(), Buffer.from(bytes)] : [Buffer.from(bytes)]);
      }),
      { numRuns: 80 },
    );
    await legitimateClientIsServed();
  });

  it('survives mutated valid sessions, split into arbitrary chunks', async () => {
    const session = Buffer.concat(validSession());
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (mutations, cuts) => {
          const bytes = mutate(session, mutations);
          const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort(
            (a, b) => a - b,
          );
          const chunks: Buffer[] = [];
          let last = 0;
          for (const p of points) {
            chunks.push(bytes.subarray(last, p));
            last = p;
          }
          chunks.push(bytes.subarray(last));
          await throwAt(chunks.filter((c) => c.length > 0));
        },
      ),
      { numRuns: 150 },
    );
    await legitimateClientIsServed();
    expect(endpoint.stopped).toBe(false);
  });

  it('serves the unmutated session correctly (the mutation base is valid)', async () => {
    const peer = await new RawPeer(service.getPort()).connected();
    for (const chunk of validSession()) peer.write(chunk);
    await peer.readPreamble();
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await peer.readFrame());
    // Answers come as the endpoints finish (the PONG at once); each request is answered once, the cancelled one never.
    expect(answers.map((a) => a.id).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(answers.find((a) => a.id === 3)?.value).toBe('leader epoch');
    expect(answers.find((a) => a.id === 1)?.value).toBe(0);
    expect(answers.find((a) => a.id === 5)?.value).toBe('traced');
    // Only pings follow (the service pings a quiet peer every 100 ms).
    const later: number[] = [];
    await Promise.race([
      (async () => {
        for (;;) later.push((await peer.readFrame(1000)).kind);
      })().catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 250)),
    ]);
    expect(later.every((kind) => kind === PING)).toBe(true);
    expect(peer.closed).toBe(false);
    peer.destroy();
  });
});
