/**
 * Splits a connection's byte stream into its preamble and frames. The length of every frame is checked against the
 * limit before a single byte of its body is buffered; a frame that arrives whole in one chunk is handed on as a view
 * of that chunk (no copy), and a frame spread over several chunks is assembled once into a buffer of its exact size.
 */

import { LENGTH_SIZE, MAGIC, PREAMBLE_SIZE } from './protocol.js';

/** What the reader reports to its connection. */
export interface FrameSink {
  /** The peer's preamble arrived (magic already checked). Return false to stop reading. */
  onPreamble(version: number, peerMaxFrameSize: number): boolean;
  /** One frame: `buf[start]` is its kind, `end` is exclusive. The view is only valid during the call. */
  onFrame(buf: Buffer, start: number, end: number): void;
  /** The stream broke the protocol; the reader stops. */
  onViolation(reason: string): void;
}

export class FrameReader {
  /** Set when the sink closed the connection or the stream broke the protocol: further bytes are ignored. */
  stopped = false;
  /** Frames completed so far (the connection uses it to tell progress from stalling). */
  frames = 0;
  private preambleDone = false;
  private readonly head = Buffer.alloc(PREAMBLE_SIZE);
  private headFill = 0;
  private frame: Buffer | null = null;
  private frameFill = 0;

  constructor(
    private readonly maxFrameSize: number,
    private readonly sink: FrameSink,
  ) {}

  /** True while a frame (or the preamble) has begun but is not complete. */
  get midFrame(): boolean {
    return this.frame !== null || this.headFill > 0;
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    let off = 0;
    const len = chunk.length;
    if (!this.preambleDone) {
      off = this.readPreamble(chunk);
      if (off < 0 || this.stopped) return;
    }
    while (off < len) {
      if (this.frame !== null) {
        // Continue a frame that spans chunks.
        const frame = this.frame;
        const n = Math.min(len - off, frame.length - this.frameFill);
        chunk.copy(frame, this.frameFill, off, off + n);
        this.frameFill += n;
        off += n;
        if (this.frameFill < frame.length) return;
        this.frame = null;
        this.frames++;
        this.sink.onFrame(frame, 0, frame.length);
        if (this.stopped) return;
        continue;
      }
      let size: number;
      if (this.headFill > 0) {
        // Finish a length prefix split across chunks.
        const n = Math.min(len - off, LENGTH_SIZE - this.headFill);
        chunk.copy(this.head, this.headFill, off, off + n);
        this.headFill += n;
        off += n;
        if (this.headFill < LENGTH_SIZE) return;
        this.headFill = 0;
        size = this.head.readUInt32BE(0);
      } else if (len - off >= LENGTH_SIZE) {
        size = chunk.readUInt32BE(off);
        off += LENGTH_SIZE;
      } else {
        chunk.copy(this.head, 0, off, len);
        this.headFill = len - off;
        return;
      }
      if (size === 0 || size > this.maxFrameSize) {
        this.stop(
          size === 0
            ? 'a frame of length 0'
            : `a frame header announcing ${size} bytes, more than the maximum frame size ${this.maxFrameSize}`,
        );
        return;
      }
      if (len - off >= size) {
        this.frames++;
        this.sink.onFrame(chunk, off, off + size);
        if (this.stopped) return;
        off += size;
      } else {
        const frame = Buffer.allocUnsafe(size);
        chunk.copy(frame, 0, off, len);
        this.frame = frame;
        this.frameFill = len - off;
        return;
      }
    }
  }

  /** Consumes preamble bytes; returns the offset after them, or -1 when more are needed or the reader stopped. */
  private readPreamble(chunk: Buffer): number {
    const n = Math.min(chunk.length, PREAMBLE_SIZE - this.headFill);
    chunk.copy(this.head, this.headFill, 0, n);
    this.headFill += n;
    // Check the magic as soon as its bytes are in: a peer speaking another protocol (HTTP, TLS) is dropped at once.
    const magicBytes = Math.min(this.headFill, 4);
    for (let i = 0; i < magicBytes; i++) {
      if (this.head[i] !== (MAGIC >>> (24 - 8 * i)) % 256) {
        this.stop('a bad preamble (not the flink-rpc magic)');
        return -1;
      }
    }
    if (this.headFill < PREAMBLE_SIZE) return -1;
    this.headFill = 0;
    this.preambleDone = true;
    if (!this.sink.onPreamble(this.head.readUInt16BE(4), this.head.readUInt32BE(8))) {
      this.stopped = true;
      return -1;
    }
    return n;
  }

  private stop(reason: string): void {
    this.stopped = true;
    this.frame = null;
    this.sink.onViolation(reason);
  }
}
