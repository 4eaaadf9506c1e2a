/** The frame layer on its own: splitting a stream into frames whatever the chunking, and coalescing writes. */

import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameWriter } from '../../src/transport/Connection.js';
import { FrameReader, type FrameSink, PREAMBLE_SIZE, writePreamble as preamble } from '../../src/transport/frames.js';

interface Seen {
  preamble: [number, number] | null;
  frames: Buffer[];
  violations: string[];
}

function reader(max = 1 << 20): { reader: FrameReader; seen: Seen } {
  const seen: Seen = { preamble: null, frames: [], violations: [] };
  const sink: FrameSink = {
    onPreamble: (version, size) => {
      seen.preamble = [version, size];
      return true;
    },
    onFrame: (buf, start, end) => seen.frames.push(Buffer.from(buf.subarray(start, end))),
    onViolation: (reason) => seen.violations.push(reason),
  };
  return { reader: new FrameReader(max, sink), seen };
}

function frame(body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

describe('FrameReader', () => {
  it('reads the same frames however the stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 50 }),
        (bodies, sizes) => {
          const stream = Buffer.concat([preamble(4096), ...bodies.map((b) => frame(Buffer.from(b)))]);
          const { reader: r, seen } = reader();
          let off = 0;
          for (let i = 0; off < stream.length; i++) {
            const n = sizes[i % sizes.length]!;
            r.push(stream.subarray(off, off + n));
            off += n;
          }
          expect(seen.violations).toEqual([]);
          expect(seen.preamble).toEqual([1, 4096]);
          expect(seen.frames.map((f) => [...f])).toEqual(bodies.map((b) => [...b]));
          expect(r.midFrame).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses an oversized header before buffering anything, and a zero length', () => {
    const { reader: r, seen } = reader(100);
    r.push(preamble(100));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(101, 0);
    r.push(header);
    expect(seen.violations).toEqual(['a frame header announcing 101 bytes, more than the maximum frame size 100']);
    expect(r.stopped).toBe(true);
    r.push(frame(Buffer.from([1])));
    expect(seen.frames).toEqual([]);

    const zero = reader(100);
    zero.reader.push(Buffer.concat([preamble(100), Buffer.alloc(4)]));
    expect(zero.seen.violations).toEqual(['a frame of length 0']);
  });

  it('refuses a bad magic at its first wrong byte', () => {
    const { reader: r, seen } = reader();
    r.push(Buffer.from('F'));
    expect(seen.violations).toEqual([]);
    r.push(Buffer.from('X'));
    expect(seen.violations).toEqual(['a bad preamble (not the flink-rpc magic)']);
    expect(PREAMBLE_SIZE).toBe(12);
  });

  it('reports being in the middle of a frame', () => {
    const { reader: r } = reader();
    r.push(preamble(4096));
    expect(r.midFrame).toBe(false);
    r.push(Buffer.from([0, 0]));
    expect(r.midFrame).toBe(true);
    r.push(Buffer.from([0, 2, 7]));
    expect(r.midFrame).toBe(true);
    r.push(Buffer.from([8]));
    expect(r.midFrame).toBe(false);
  });
});

describe('FrameWriter', () => {
  function sink(): { socket: Socket; writes: Buffer[] } {
    const stream = new PassThrough();
    const writes: Buffer[] = [];
    const socket = stream as unknown as Socket;
    const write = stream.write.bind(stream);
    (stream as unknown as { write: (b: Buffer) => boolean }).write = (b: Buffer) => {
      writes.push(Buffer.from(b));
      return write(b);
    };
    stream.resume();
    return { socket, writes };
  }

  it('writes the frames of one tick in one write, in order, merging adjacent views without copying', async () => {
    const { socket, writes } = sink();
    const writer = new FrameWriter(socket);
    const slab = Buffer.from([1, 2, 3, 4, 5, 6]);
    writer.push(slab.subarray(0, 2));
    writer.push(slab.subarray(2, 4));
    writer.push(Buffer.from([9]));
    writer.push(slab.subarray(4, 6));
    expect(writes).toEqual([]);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(writes.map((w) => [...w])).toEqual([[1, 2, 3, 4, 9, 5, 6]]);
    expect(writer.bytesOut).toBe(7);
  });

  it('holds frames until released and drops them when closed', async () => {
    const { socket, writes } = sink();
    const writer = new FrameWriter(socket);
    writer.hold();
    writer.push(Buffer.from([1]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([]);
    writer.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.map((w) => [...w])).toEqual([[1]]);
    writer.close();
    writer.push(Buffer.from([2]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
  });
});
