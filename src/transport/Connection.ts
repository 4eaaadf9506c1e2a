/**
 * What both ends of a connection share: the socket, the frame reader and writer, the preamble, pings, liveness and
 * closing. `ClientConnection` (outbound: sends calls) and `ServerConnection` (inbound: serves them) add the rest.
 */

import type { Socket } from 'node:net';
import type { TransportHost } from '../rpc/actor/Transport.js';
import type { ResolvedRpcConfig } from '../rpc/config.js';
import { describeCause } from '../rpc/errors.js';
import type { Logger } from '../rpc/logger.js';
import { FrameReader, type FrameSink } from './FrameReader.js';
import { FrameWriter } from './FrameWriter.js';
import { HEADER_SIZE, KIND_NAMES, LENGTH_SIZE, PING, PONG, preamble } from './protocol.js';
import type { WireCodec } from './wireCodec.js';

/** What connections get from their transport. */
export interface ConnectionContext {
  readonly config: ResolvedRpcConfig;
  readonly log: Logger;
  readonly codec: WireCodec;
  readonly host: TransportHost;
  readonly systemName: string;
  /** `rpc.tcp://<system>@<host>:<port>/` of this service, for error messages. */
  readonly addressPrefix: string;
  /** The liveness clock: advanced by one every `tickMs` by the transport's single timer. */
  readonly tick: number;
  readonly tickMs: number;
  /** Called once when a connection closes. */
  onClosed(connection: Connection): void;
}

const PING_FRAME = Buffer.from([0, 0, 0, 1, PING]);
const PONG_FRAME = Buffer.from([0, 0, 0, 1, PONG]);

/** Input paused because the peer does not read our output. */
const PAUSED_BACKLOG = 1;
/** Input paused because the peer has too many asks awaiting an answer here (see `ServerConnection`). */
export const PAUSED_INFLIGHT = 2;

/** The least output a connection may buffer before it stops reading from its peer. */
const BACKLOG_MIN = 16 * 1024 * 1024;

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
  /** Why input is paused (PAUSED_* bits); 0 while reading. */
  private pauses = 0;
  /** True once the peer's preamble was accepted. */
  protected established = false;
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
    this.writer = new FrameWriter(socket, highWater, () => this.onBacklog());
    this.settled = new Promise((resolve) => {
      this.markSettled = resolve;
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.lastActive = this.ctx.tick;
      this.reader.push(chunk);
    });
    socket.on('error', (error) => this.close(error));
    socket.on('close', () => {
      this.close(new Error(`the connection to ${this.remote} was closed`));
      this.markSettled();
    });
    // Each side announces itself at once: no waiting for the other, and a peer of another version still learns ours.
    socket.write(preamble(ctx.config.maxFrameSize));
  }

  private onBacklog(): void {
    if ((this.pauses & PAUSED_BACKLOG) !== 0 || this.closed) return;
    this.log.debug(
      { remote: this.remote, buffered: this.socket.writableLength },
      'The peer reads slowly: pausing input.',
    );
    this.pauseInput(PAUSED_BACKLOG);
    this.socket.once('drain', () => this.resumeInput(PAUSED_BACKLOG));
  }

  /** Stops reading from the peer for `reason` (a bit); reading goes on once every reason is lifted. */
  protected pauseInput(reason: number): void {
    if (this.pauses === 0) this.socket.pause();
    this.pauses |= reason;
  }

  /** Lifts one reason to stop reading. */
  protected resumeInput(reason: number): void {
    if ((this.pauses & reason) === 0) return;
    this.pauses &= ~reason;
    if (this.pauses === 0 && !this.closed) this.socket.resume();
  }

  /** Resolves when the socket is fully closed. */
  whenSettled(): Promise<void> {
    return this.settled;
  }

  // ---- FrameSink ------------------------------------------------------------------------------------------------

  abstract onPreamble(version: number, peerMaxFrameSize: number): boolean;

  onFrame(buf: Buffer, start: number, end: number): void {
    const kind = buf[start]!;
    const header = HEADER_SIZE[kind];
    if (header === undefined || kind === 0 || end - start < header - LENGTH_SIZE) {
      this.violation(
        header === undefined || kind === 0
          ? `a frame of unknown kind ${kind}`
          : `a truncated ${KIND_NAMES[kind]} frame`,
      );
      return;
    }
    if (kind === PING) {
      if (end - start !== 1) this.violation('a PING frame with a payload');
      else this.writer.push(PONG_FRAME);
    } else if (kind === PONG) {
      if (end - start !== 1) this.violation('a PONG frame with a payload');
    } else {
      this.handleFrame(kind, buf, start, end);
    }
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
    if ((this.pauses & PAUSED_INFLIGHT) !== 0) {
      // Silence is our doing while we do not read (our endpoints are behind): not a sign of a dead peer.
      this.lastActive = tick;
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
      this.writer.push(PING_FRAME);
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
    try {
      this.onClose(reason);
    } finally {
      this.ctx.onClosed(this);
    }
  }

  /** Fails what is pending on the connection. */
  protected abstract onClose(reason: unknown): void;
}
