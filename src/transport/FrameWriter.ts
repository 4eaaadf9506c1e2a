/**
 * The outgoing side of a connection. Frames arrive whole (the value codec encodes each payload behind room for the
 * frame header, so header and payload already sit in one buffer) and leave once per tick: a burst of calls costs one
 * socket write (one syscall) instead of one per message — measured for issue 3 at 2.5× for pipelined asks and 8–10×
 * for tells over a write per message.
 *
 * At the flush, frames that lie next to each other in memory (the codec writes consecutive results back to back in
 * its slab) are merged into one view without copying. What remains scattered is copied into one batch buffer when
 * small, or handed to the socket as a vectored write (cork/uncork) when large, so big payloads are never copied here.
 */

import type { Socket } from 'node:net';

/** Above this many bytes a scattered batch is written as a vectored write instead of being copied together. */
const COPY_LIMIT = 64 * 1024;

export class FrameWriter {
  /** Bytes handed to the socket since the connection opened. */
  bytesOut = 0;
  private frames: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;
  /** While held, frames accumulate and nothing is written (a client waiting for the peer's preamble). */
  private held = false;
  private closed = false;
  /** Reused while the socket takes every write whole (the kernel has the bytes, nobody references the buffer). */
  private spare: Buffer | null = null;
  private readonly flushTask = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /**
   * @param onBacklog called after a write that left more than `highWater` bytes buffered in the socket: the peer is
   *   not reading (fast enough); the connection stops reading from it until the socket drains
   */
  constructor(
    private readonly socket: Socket,
    private readonly highWater = Number.POSITIVE_INFINITY,
    private readonly onBacklog: () => void = () => {},
  ) {}

  /** Stops writing until {@link release}. */
  hold(): void {
    this.held = true;
  }

  /** Writes what was held, at the next tick. */
  release(): void {
    this.held = false;
    if (this.frames.length > 0 && !this.scheduled) this.schedule();
  }

  /** Keeps only the queued frames for which `keep` returns true (used once, when a held connection opens). */
  filter(keep: (frame: Buffer) => boolean): void {
    const kept = this.frames.filter(keep);
    this.frames = kept;
    this.bytes = kept.reduce((sum, frame) => sum + frame.length, 0);
  }

  /** Drops everything queued and refuses further frames. */
  close(): void {
    this.closed = true;
    this.frames = [];
    this.bytes = 0;
  }

  /** Bytes queued and not yet handed to the socket. */
  pending(): number {
    return this.bytes;
  }

  /** Queues one complete frame (length prefix included); the writer owns it from now on. */
  push(frame: Buffer): void {
    if (this.closed) return;
    this.frames.push(frame);
    this.bytes += frame.length;
    if (!this.scheduled && !this.held) this.schedule();
  }

  /** Writes the queued frames now. */
  flush(): void {
    if (this.held || this.closed || this.frames.length === 0) return;
    const socket = this.socket;
    if (socket.destroyed) {
      this.close();
      return;
    }
    const frames = mergeAdjacent(this.frames);
    const bytes = this.bytes;
    this.frames = [];
    this.bytes = 0;
    this.bytesOut += bytes;
    if (frames.length === 1) {
      socket.write(frames[0]!);
    } else if (bytes <= COPY_LIMIT) {
      let out = this.spare;
      this.spare = null;
      if (out === null || out.length < bytes) out = Buffer.allocUnsafe(Math.max(bytes, 4096));
      let offset = 0;
      for (const frame of frames) {
        out.set(frame, offset);
        offset += frame.length;
      }
      socket.write(out.subarray(0, bytes));
      // Nothing buffered in the stream: the kernel took the bytes and the buffer can be reused next time.
      if (socket.writableLength === 0) this.spare = out;
    } else {
      socket.cork();
      for (const frame of frames) socket.write(frame);
      socket.uncork();
    }
    if (socket.writableLength > this.highWater) this.onBacklog();
  }

  private schedule(): void {
    this.scheduled = true;
    process.nextTick(this.flushTask);
  }
}

/** Joins frames that are adjacent views of one memory block into single views (in place; returns the list). */
function mergeAdjacent(frames: Buffer[]): Buffer[] {
  if (frames.length < 2) return frames;
  let out = 0;
  let run = frames[0]!;
  let runLength = run.length;
  for (let i = 1; i < frames.length; i++) {
    const next = frames[i]!;
    if (next.buffer === run.buffer && run.byteOffset + runLength === next.byteOffset) {
      runLength += next.length;
    } else {
      frames[out++] = runLength === run.length ? run : Buffer.from(run.buffer, run.byteOffset, runLength);
      run = next;
      runLength = next.length;
    }
  }
  frames[out++] = runLength === run.length ? run : Buffer.from(run.buffer, run.byteOffset, runLength);
  frames.length = out;
  return frames;
}
