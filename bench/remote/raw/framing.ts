/**
 * The raw baseline's wire format, as simple as a practical protocol gets: every message is a 4-byte big-endian
 * length followed by one msgpackr value. Requests are `[method, id, argument]` (id 0 for tells), replies `[id, value]`.
 */

import type { Socket } from 'node:net';
import { createCodec } from '../msgpack.js';

export const ECHO = 0;
export const TELL = 1;
export const COUNT = 2;
export const ECHO_BUFFER = 3;

/** One encoder and one decoder per process (options in `../msgpack.ts`). */
export const { packr, unpackr } = createCodec();

/**
 * Queues frames and writes each tick's frames at once: one `socket.write` per message costs a syscall each
 * (measured: ~3× fewer pipelined asks and 4–8× fewer tells per second). Of the coalescing variants, one
 * concatenated buffer flushed in `process.nextTick` measured best: `setImmediate` adds ~10 µs to p50 at 1 in flight
 * (it waits for the next loop turn), and `cork`/`uncork` (a writev of header + body pairs) was slower at 16 and 256
 * in flight (numbers in bench/remote/README.md). Large frames are the exception: copying megabytes into a
 * concatenation costs more than the extra write saves, so they go out as header + body under cork.
 */
export class FrameWriter {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private readonly flush = (): void => this.flushNow();

  constructor(private readonly socket: Socket) {}

  send(message: unknown): void {
    const body = packr.pack(message);
    this.queue.push(body);
    this.queuedBytes += 4 + body.length;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** True while the socket's buffer is above its high-water mark (the caller should wait for `drain`). */
  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  private flushNow(): void {
    const { queue, queuedBytes, socket } = this;
    this.queue = [];
    this.queuedBytes = 0;
    this.scheduled = false;
    if (queuedBytes > LARGE) {
      socket.cork();
      for (const body of queue) {
        const header = Buffer.allocUnsafe(4);
        header.writeUInt32BE(body.length, 0);
        socket.write(header);
        socket.write(body);
      }
      socket.uncork();
      return;
    }
    // Headers are written straight into the one output buffer: no per-message header allocation.
    const out = Buffer.allocUnsafe(queuedBytes);
    let offset = 0;
    for (const body of queue) {
      offset = out.writeUInt32BE(body.length, offset);
      offset += body.copy(out, offset);
    }
    socket.write(out);
  }
}

/** Above this many bytes per tick, frames are not copied into one buffer. */
const LARGE = 256 * 1024;

/**
 * Splits the byte stream into frames. Chunks of a frame that spans reads are collected and joined once, when the
 * frame is complete (joining on every read would copy an 8 MiB frame ~100 times).
 */
export function frameReader(onMessage: (message: any) => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  let partsLength = 0;
  let frameLength = 0; // header + body of the incomplete frame in `parts`; 0 while its header is incomplete
  return (chunk) => {
    if (partsLength > 0) {
      parts.push(chunk);
      partsLength += chunk.length;
      if (frameLength === 0 && partsLength >= 4) {
        const head = Buffer.concat(parts, partsLength);
        parts = [head];
        frameLength = 4 + head.readUInt32BE(0);
      }
      if (frameLength === 0 || partsLength < frameLength) return;
      chunk = Buffer.concat(parts, partsLength);
      parts = [];
      partsLength = 0;
      frameLength = 0;
    }
    let offset = 0;
    while (chunk.length - offset >= 4) {
      const end = offset + 4 + chunk.readUInt32BE(offset);
      if (end > chunk.length) break;
      onMessage(unpackr.unpack(chunk.subarray(offset + 4, end)));
      offset = end;
    }
    if (offset < chunk.length) {
      const rest = chunk.subarray(offset);
      parts = [rest];
      partsLength = rest.length;
      frameLength = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : 0;
    }
  };
}
