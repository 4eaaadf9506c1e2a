/**
 * What both ends of a connection share: the socket, the frame reader and the batching frame writer, the preamble,
 * pings, liveness and closing. `ClientConnection` (outbound: sends calls) and `ServerConnection` (inbound: serves
 * them) add the rest.
 */

import type { Socket } from 'node:net';
import type { TransportMetrics } from '../rpc/actor/metrics.js';
import type { TransportHost } from '../rpc/actor/Transport.js';
import type { ResolvedRpcConfig } from '../rpc/config.js';
import { describeCause } from '../rpc/errors.js';
import type { Logger } from '../rpc/logger.js';
import {
  checkFrame,
  type FrameCodec,
  FrameKind,
  FrameReader,
  type FrameSink,
  PREAMBLE_SIZE,
  readKind,
  writePing,
  writePong,
  writePreamble,
} from './frames.js';

/** What connections get from their transport. */
export interface ConnectionContext {
  readonly config: ResolvedRpcConfig;
  readonly log: Logger;
  readonly codec: FrameCodec;
  readonly host: TransportHost;
  /** Where connections, bytes and rejected frames are counted; null when the service has no metrics. */
  readonly metrics: TransportMetrics | null;
  readonly systemName: string;
  /** `rpc.tcp://<system>@<host>:<port>/` of this service, for error messages. */
  readonly addressPrefix: string;
  /** The liveness clock: advanced by one every `tickMs` by the transport's single timer. */
  readonly tick: number;
  readonly tickMs: number;
  /** Called once when a connection closes. */
  onClosed(connection: Connection): void;
}

/** The least output a connection may buffer before it stops reading from its peer. */
const BACKLOG_MIN = 16 * 1024 * 1024;

/** The states a connection is counted under in the `connections` metric. */
const OPENING = 'opening';
const OPEN = 'open';

/** How long a gracefully closed socket may take to finish before it is destroyed. */
const CLOSE_GRACE_MS = 250;

export abstract class Connection implements FrameSink {
  closed = false;
  /** Why the connection closed (set once). */
  closeReason: unknown;
  /** Largest frame (after the length prefix) this side may send: the smaller of both sides' limits. */
  sendLimit: number;
  readonly writer: FrameWriter;
  protected readonly reader: FrameReader;
  protected readonly log: Logger;
  /**
   * Tick of the last bytes received (or of the opening). Any bytes count, so that a large frame on a slow link is
   * not mistaken for a dead peer; a peer that stops sending, in the middle of a frame or not, is closed after
   * `idleTimeout`.
   */
  protected lastActive: number;
  private lastPing = Number.NEGATIVE_INFINITY;
  /** True while input is paused because the peer does not read our output. */
  private inputPaused = false;
  /** True once the peer's preamble was accepted. */
  protected established = false;
  /** The FEATURE_* flags the peer announced in its preamble (0 until it arrived). */
  protected peerFeatures = 0;
  /** `inbound` or `outbound`, for metrics: inbound unless the client side overrides it (a getter: this constructor reads it). */
  protected get direction(): 'inbound' | 'outbound' {
    return 'inbound';
  }
  private readonly settled: Promise<void>;
  private markSettled!: () => void;

  constructor(
    protected readonly ctx: ConnectionContext,
    readonly socket: Socket,
    /** `host:port` of the peer, for logs and errors. */
    readonly remote: string,
  ) {
    this.log = ctx.log;
    this.sendLimit = ctx.config.maxFrameSize;
    this.lastActive = ctx.tick;
    this.reader = new FrameReader(ctx.config.maxFrameSize, this);
    // A peer that sends requests but does not read the answers must not make this process buffer without bound:
    // past the high-water mark, reading from it stops until its socket drains (and if it never does, the idle
    // timeout ends the connection, as nothing is read from it any more).
    const highWater = Math.max(2 * ctx.config.maxFrameSize, BACKLOG_MIN);
    this.writer = new FrameWriter(socket, highWater, () => this.onBacklog(), ctx.metrics);
    this.settled = new Promise((resolve) => {
      this.markSettled = resolve;
    });
    socket.setNoDelay(true);
    const metrics = ctx.metrics;
    if (metrics === null) {
      socket.on('data', (chunk: Buffer) => {
        this.lastActive = this.ctx.tick;
        this.reader.push(chunk);
      });
    } else {
      socket.on('data', (chunk: Buffer) => {
        this.lastActive = this.ctx.tick;
        metrics.bytesReceived.inc(chunk.length);
        this.reader.push(chunk);
      });
    }
    socket.on('error', (error) => this.close(error));
    socket.on('close', () => {
      this.close(new Error(`the connection to ${this.remote} was closed`));
      this.markSettled();
    });
    ctx.metrics?.connections.inc({ direction: this.direction, state: OPENING });
    // Each side announces itself at once: no waiting for the other, and a peer of another version still learns ours.
    socket.write(writePreamble(ctx.config.maxFrameSize));
    ctx.metrics?.bytesSent.inc(PREAMBLE_SIZE);
  }

  private onBacklog(): void {
    if (this.inputPaused || this.closed) return;
    this.log.debug(
      { remote: this.remote, buffered: this.socket.writableLength },
      'The peer reads slowly: pausing input.',
    );
    this.inputPaused = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.inputPaused = false;
      if (!this.closed) this.socket.resume();
    });
  }

  /** The peer's preamble was accepted: calls may flow. */
  protected markEstablished(features: number): void {
    this.established = true;
    this.peerFeatures = features;
    const metrics = this.ctx.metrics;
    if (metrics !== null) {
      metrics.connections.dec({ direction: this.direction, state: OPENING });
      metrics.connections.inc({ direction: this.direction, state: OPEN });
    }
  }

  /** Counts a frame this side refused (`reason`: a short fixed word). */
  protected countRejected(reason: string): void {
    this.ctx.metrics?.framesRejected.inc({ reason });
  }

  /** Resolves when the socket is fully closed. */
  whenSettled(): Promise<void> {
    return this.settled;
  }

  // ---- FrameSink ------------------------------------------------------------------------------------------------

  abstract onPreamble(version: number, peerMaxFrameSize: number, features: number): boolean;

  onFrame(buf: Buffer, start: number, end: number): void {
    const problem = checkFrame(buf, start, end);
    if (problem !== null) {
      this.violation(problem);
      return;
    }
    const kind = readKind(buf, start);
    if (kind === FrameKind.PING) this.writer.push(writePong());
    else if (kind !== FrameKind.PONG) this.handleFrame(kind, buf, start, end);
  }

  onViolation(reason: string): void {
    this.violation(reason);
  }

  /** Handles a frame of a kind other than PING/PONG whose fixed fields are present. */
  protected abstract handleFrame(kind: number, buf: Buffer, start: number, end: number): void;

  /** The peer broke the protocol: log it and drop the connection. */
  protected violation(reason: string): void {
    if (this.closed) return;
    this.reader.stopped = true;
    this.countRejected('protocol_violation');
    this.log.warn(
      { remote: this.remote, reason },
      `Closing the RPC connection with ${this.remote}: the peer sent ${reason}.`,
    );
    this.close(new Error(`protocol violation by ${this.remote}: ${reason}`));
  }

  // ---- liveness -------------------------------------------------------------------------------------------------

  /**
   * Called by the transport's timer: pings a peer that has been quiet for `pingInterval`, closes one that has been
   * quiet for `idleTimeout` (whether it stopped between frames or in the middle of one).
   */
  check(tick: number): void {
    if (this.closed) return;
    const quietMs = (tick - this.lastActive) * this.ctx.tickMs;
    const { idleTimeout, pingInterval } = this.ctx.config;
    if (!this.established) {
      this.checkOpening(quietMs);
      return;
    }
    if (quietMs >= idleTimeout) {
      const what = this.reader.midFrame ? 'stalled in the middle of a frame' : 'sent nothing (not even a pong)';
      this.log.warn(
        { remote: this.remote, idleTimeout },
        `Closing the RPC connection with ${this.remote}: the peer ${what} for ${idleTimeout} ms.`,
      );
      this.close(new Error(`the peer ${this.remote} ${what} for ${idleTimeout} ms`));
      return;
    }
    if (quietMs >= pingInterval && (tick - this.lastPing) * this.ctx.tickMs >= pingInterval) {
      this.lastPing = tick;
      this.writer.push(writePing());
    }
  }

  /** Liveness before the preamble exchange is complete. */
  protected abstract checkOpening(quietMs: number): void;

  // ---- closing ----------------------------------------------------------------------------------------------------

  /**
   * Closes the connection once. `graceful`: what is queued is written and the socket is ended (destroyed after a
   * short grace); otherwise it is destroyed at once.
   */
  close(reason: unknown, graceful = false): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.reader.stopped = true;
    const socket = this.socket;
    if (graceful && !socket.destroyed) {
      this.writer.flush();
      this.writer.close();
      socket.end();
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    } else {
      this.writer.close();
      socket.destroy();
    }
    this.log.debug({ remote: this.remote, reason: describeCause(reason) }, 'RPC connection closed.');
    this.ctx.metrics?.connections.dec({ direction: this.direction, state: this.established ? OPEN : OPENING });
    try {
      this.onClose(reason);
    } finally {
      this.ctx.onClosed(this);
    }
  }

  /** Fails what is pending on the connection. */
  protected abstract onClose(reason: unknown): void;
}

/** Above this many bytes a scattered batch is written as a vectored write instead of being copied together. */
const COPY_LIMIT = 64 * 1024;

/**
 * The outgoing side of a connection. Frames arrive whole (the value codec encodes each payload behind room for the
 * frame header, so header and payload already sit in one buffer) and leave once per tick: a burst of calls costs one
 * socket write (one syscall) instead of one per message (measured at 2.5× for pipelined asks
 * and 8–10× for tells over a write per message).
 *
 * At the flush, frames that lie next to each other in memory (the codec writes consecutive results back to back in
 * its slab) are merged into one view without copying. What remains scattered is copied into one batch buffer when
 * small, or handed to the socket as a vectored write (cork/uncork) when large, so big payloads are never copied here.
 */
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
    private readonly metrics: TransportMetrics | null = null,
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
    if (this.metrics !== null) this.metrics.bytesSent.inc(bytes);
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
