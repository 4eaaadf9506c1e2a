/**
 * The wire format, in one place: the preamble, the frame kinds and their fields, a write and a read function per
 * frame kind, the value codec as frames use it, and the reader that splits a byte stream into frames.
 * docs/PROTOCOL.md is the normative description; nothing outside this module knows a byte offset.
 *
 * A connection starts with a 12-byte preamble from each side, then carries frames:
 * `u32 length | u8 kind | fixed fields of the kind | payload (value codec)`, where `length` counts every byte after
 * itself and must not exceed the maximum frame size the receiver announced in its preamble. Integers are big-endian.
 *
 * Writing a frame is two steps, so that a frame is sized before it takes a request id: `encodeFrame` encodes the
 * payload behind room for the kind's header, and the kind's `write…` function fills the header in. Reading is the
 * reverse: `FrameReader` hands each frame on as `buf[start, end)` with the kind at `start`, `checkFrame` validates
 * it, and the kind's `read…` function copies its fields into a reusable {@link FrameFields}.
 */

import { ValueCodec } from '../codec/ValueCodec.js';

/** `FRPC`: the first four bytes of every connection, in both directions. */
export const MAGIC = 0x46525043;
/** The protocol version this implementation speaks; a peer with another version is refused. */
export const PROTOCOL_VERSION = 1;
/**
 * Preamble flag: this side understands CANCEL frames. Optional features are announced in the preamble's flags (which
 * receivers of the first release ignore), and a side uses one only when the other announced it: peers with and
 * without a feature keep talking.
 */
export const FEATURE_CANCEL = 1;
/** Preamble flag: this side reads W3C trace context in ASK and TELL frames (see FLAG_TRACED). */
export const FEATURE_TRACE_CONTEXT = 2;
/** The features this implementation announces. */
export const FEATURES = FEATURE_CANCEL | FEATURE_TRACE_CONTEXT;
/** magic u32, version u16, flags u16 (zero), max frame size u32. */
export const PREAMBLE_SIZE = 12;
/** Size of the length prefix of a frame. */
export const LENGTH_SIZE = 4;

/**
 * The kinds of frame. Client → server: HANDSHAKE, DECLARE, ASK, TELL, CANCEL. Server → client: REPLY, ERROR.
 * Both: PING, PONG.
 */
export const FrameKind = {
  /** `u32 requestId`; payload `[systemName, endpointId, gatewayName]`; answered by REPLY with a handshake status. */
  HANDSHAKE: 1,
  /** `u32 routeId`; payload `[systemName, endpointId, gatewayName, methodName]`; no answer. */
  DECLARE: 2,
  /** `u32 requestId, u32 routeId, u8 flags`; payload: the arguments (see FLAG_FENCED); answered by REPLY or ERROR. */
  ASK: 3,
  /** `u32 routeId, u8 flags`; payload as ASK; never answered. */
  TELL: 4,
  /** `u32 requestId`; payload: the result. */
  REPLY: 5,
  /** `u32 requestId`; payload: the error. */
  ERROR: 6,
  /** No fields, no payload; answered by PONG. */
  PING: 7,
  /** No fields, no payload. */
  PONG: 8,
  /** `u32 requestId`, no payload: the caller gave up on this ask (only to a server that announced FEATURE_CANCEL). */
  CANCEL: 9,
} as const;

/** Bytes of a frame before its payload (length prefix included), by kind. */
export const HEADER_SIZE: readonly number[] = [0, 9, 9, 14, 10, 9, 9, 5, 5, 9];

/** Frame kind names for logs. */
export const FRAME_NAMES: readonly string[] = [
  'UNKNOWN',
  'HANDSHAKE',
  'DECLARE',
  'ASK',
  'TELL',
  'REPLY',
  'ERROR',
  'PING',
  'PONG',
  'CANCEL',
];

/** ASK/TELL flag: the payload is `[fencingToken, args]` instead of `args`. */
export const FLAG_FENCED = 1;
/**
 * ASK/TELL flag: W3C trace context precedes the payload: `u8 n, n bytes traceparent, u16 m, m bytes tracestate`
 * (ASCII). Sent only to a server that announced FEATURE_TRACE_CONTEXT, and only for calls that carry a context.
 */
export const FLAG_TRACED = 2;

/** W3C trace context of a call, as the `traceparent` and `tracestate` headers would carry it. */
export interface WireTraceContext {
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

/** Bytes the trace context of a call takes in its frame (0 without one). */
export function traceContextSize(trace: WireTraceContext | undefined): number {
  return trace === undefined ? 0 : 3 + trace.traceparent.length + (trace.tracestate?.length ?? 0);
}

/** Whether a context can travel: printable ASCII, a traceparent of at most 255 and a tracestate of at most 8 192 characters. */
export function isWireTraceContext(trace: WireTraceContext | undefined): boolean {
  if (trace === undefined || typeof trace.traceparent !== 'string') return false;
  const state = trace.tracestate ?? '';
  return (
    typeof state === 'string' &&
    trace.traceparent.length <= 255 &&
    state.length <= 8192 &&
    PRINTABLE.test(trace.traceparent) &&
    PRINTABLE.test(state)
  );
}

const PRINTABLE = /^[\x20-\x7e]*$/;

/** Handshake status in the REPLY to a HANDSHAKE. */
export const HANDSHAKE_OK = 0;
/** The service at this host and port has another system name. */
export const HANDSHAKE_UNKNOWN_SYSTEM = 1;
/** No live endpoint with this id. */
export const HANDSHAKE_UNKNOWN_ENDPOINT = 2;
/** The endpoint does not serve the gateway. */
export const HANDSHAKE_GATEWAY_NOT_SERVED = 3;

/** Routes a client may declare on one connection (bounds what a peer can make the server remember). */
export const MAX_ROUTES = 65_536;
/**
 * The memory a pending inbound ask is estimated to hold besides its frame: the ask itself, its argument array, the
 * endpoint's bookkeeping of the reply it owes and the promise reactions waiting for it (measured at about 450 bytes
 * with a method that returns a shared promise). What the method itself keeps while the ask is pending is not counted.
 */
export const PENDING_ASK_OVERHEAD = 512;
/** Longest endpoint id, system, gateway or method name accepted in HANDSHAKE and DECLARE. */
export const MAX_NAME_LENGTH = 255;
/** The smallest frame limit a peer may announce: it must at least take the largest HANDSHAKE and DECLARE. */
export const MIN_PEER_FRAME_SIZE = 4096;

// ---- the value codec of frames -------------------------------------------------------------------------------------

/**
 * The value codec as frames use it: encode a value behind room for a frame header, decode a value from a slice of a
 * frame. One instance per transport: encoders keep a slab and are not shared.
 */
export interface FrameCodec {
  /**
   * Encodes `value` after `reserve` free bytes (the frame header goes there). The result belongs to the caller and
   * is never written again by the codec; consecutive results usually lie back to back in memory.
   * @throws SerializationError naming the path of the part that cannot be serialized
   */
  encode(value: unknown, reserve: number): Buffer;
  /**
   * Decodes exactly one value from `buf[start, end)`.
   * @throws DeserializationError when the bytes are not exactly one valid value
   */
  decode(buf: Buffer, start: number, end: number): unknown;
}

/** Frames at least this large that fill a buffer of their own are decoded without copying their binaries. */
const OWN_FRAME_MIN = 64 * 1024;

/** Creates the frame codec of one transport. */
export function createFrameCodec(): FrameCodec {
  const codec = new ValueCodec();
  // Binaries of a large frame are handed out as views of the frame: the reader assembled it into a buffer of its
  // own that nothing else uses or reuses, so no copy of (say) 8 MiB is needed. Small frames are views of socket
  // chunks, where a view would pin the whole chunk: those binaries are copied.
  const viewing = new ValueCodec({ copyBuffers: false });
  return {
    encode: (value, reserve) => codec.encode(value, reserve),
    decode: (buf, start, end) =>
      start <= 16 && end === buf.length && end >= OWN_FRAME_MIN
        ? viewing.decode(buf, start, end)
        : codec.decode(buf, start, end),
  };
}

// ---- writing -------------------------------------------------------------------------------------------------------

/**
 * Encodes the payload of a frame of `kind` behind room for its header; the kind's `write…` function fills the
 * header in. @throws SerializationError when the value cannot be serialized
 */
export function encodeFrame(codec: FrameCodec, kind: number, payload: unknown, extra = 0): Buffer {
  return codec.encode(payload, HEADER_SIZE[kind]! + extra);
}

/** Bytes of a frame after its length prefix: what is compared with a peer's maximum frame size. */
export function frameSize(frame: Buffer): number {
  return frame.length - LENGTH_SIZE;
}

/** Writes a u32 (big-endian) without the bounds checks of `Buffer#writeUInt32BE` (the caller sized the buffer). */
function putU32(buf: Buffer, value: number, at: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}

/** Fills in the length and kind, and the request or route id that every kind but PING and PONG starts with. */
function writeIdHeader(frame: Buffer, kind: number, id: number): Buffer {
  putU32(frame, frame.length - LENGTH_SIZE, 0);
  frame[4] = kind;
  putU32(frame, id, 5);
  return frame;
}

/** HANDSHAKE header of a frame encoded by `encodeFrame(codec, FrameKind.HANDSHAKE, [system, endpointId, gateway])`. */
export function writeHandshake(frame: Buffer, requestId: number): Buffer {
  return writeIdHeader(frame, FrameKind.HANDSHAKE, requestId);
}

/** DECLARE header of a frame encoded with payload `[system, endpointId, gateway, method]`. */
export function writeDeclare(frame: Buffer, routeId: number): Buffer {
  return writeIdHeader(frame, FrameKind.DECLARE, routeId);
}

/**
 * ASK header of a frame encoded with payload `args`, or `[token, args]` when `fenced`; with `trace`, the frame was
 * encoded with `traceContextSize(trace)` extra bytes reserved, which the context fills.
 */
export function writeAsk(
  frame: Buffer,
  requestId: number,
  routeId: number,
  fenced: boolean,
  trace?: WireTraceContext,
): Buffer {
  writeIdHeader(frame, FrameKind.ASK, requestId);
  putU32(frame, routeId, 9);
  frame[13] = fenced ? FLAG_FENCED : 0;
  if (trace !== undefined) {
    frame[13] |= FLAG_TRACED;
    writeTrace(frame, 14, trace);
  }
  return frame;
}

/** TELL header of a frame encoded as an ASK's. */
export function writeTell(frame: Buffer, routeId: number, fenced: boolean, trace?: WireTraceContext): Buffer {
  writeIdHeader(frame, FrameKind.TELL, routeId);
  frame[9] = fenced ? FLAG_FENCED : 0;
  if (trace !== undefined) {
    frame[9] |= FLAG_TRACED;
    writeTrace(frame, 10, trace);
  }
  return frame;
}

function writeTrace(frame: Buffer, at: number, trace: WireTraceContext): void {
  const parent = trace.traceparent;
  const state = trace.tracestate ?? '';
  frame[at] = parent.length;
  frame.write(parent, at + 1, 'latin1');
  at += 1 + parent.length;
  frame[at] = state.length >>> 8;
  frame[at + 1] = state.length;
  if (state.length > 0) frame.write(state, at + 2, 'latin1');
}

/** A CANCEL frame for `requestId`. */
export function writeCancel(requestId: number): Buffer {
  return writeIdHeader(Buffer.allocUnsafe(HEADER_SIZE[FrameKind.CANCEL]!), FrameKind.CANCEL, requestId);
}

/** REPLY header of a frame encoded with payload: the result (or the handshake status). */
export function writeReply(frame: Buffer, requestId: number): Buffer {
  return writeIdHeader(frame, FrameKind.REPLY, requestId);
}

/** ERROR header of a frame encoded with payload: the error. */
export function writeError(frame: Buffer, requestId: number): Buffer {
  return writeIdHeader(frame, FrameKind.ERROR, requestId);
}

const PING_BYTES = Buffer.from([0, 0, 0, 1, FrameKind.PING]);
const PONG_BYTES = Buffer.from([0, 0, 0, 1, FrameKind.PONG]);

/** A PING frame (shared: frames are never written to after they are queued). */
export function writePing(): Buffer {
  return PING_BYTES;
}

/** A PONG frame (shared, like PING). */
export function writePong(): Buffer {
  return PONG_BYTES;
}

/** This side's preamble. */
export function writePreamble(maxFrameSize: number, version = PROTOCOL_VERSION, features = FEATURES): Buffer {
  const out = Buffer.allocUnsafe(PREAMBLE_SIZE);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt16BE(version, 4);
  out.writeUInt16BE(features, 6);
  out.writeUInt32BE(Math.min(maxFrameSize, 0xffff_ffff), 8);
  return out;
}

// ---- reading -------------------------------------------------------------------------------------------------------

/** The fields of the frame read last; one instance per connection, reused for every frame. */
export class FrameFields {
  requestId = 0;
  routeId = 0;
  fenced = false;
  /** The call's W3C trace context, when it carried a valid one. */
  trace: WireTraceContext | undefined = undefined;
  /** Where the payload starts in the buffer the frame was read from. */
  payloadStart = 0;
}

/** The kind of the frame at `buf[start, end)` (as `FrameReader` hands frames on). */
export function readKind(buf: Buffer, start: number): number {
  return buf[start]!;
}

/**
 * Why the frame at `buf[start, end)` breaks the protocol before its fields are read (unknown kind, fields cut short,
 * a PING or PONG with a payload), or null when its fields may be read.
 */
export function checkFrame(buf: Buffer, start: number, end: number): string | null {
  const kind = buf[start]!;
  const header = HEADER_SIZE[kind];
  if (header === undefined || kind === 0) return `a frame of unknown kind ${kind}`;
  if (end - start < header - LENGTH_SIZE) return `a truncated ${FRAME_NAMES[kind]} frame`;
  if ((kind === FrameKind.PING || kind === FrameKind.PONG) && end - start !== 1) {
    return `a ${FRAME_NAMES[kind]} frame with a payload`;
  }
  if (kind === FrameKind.CANCEL && end - start !== header - LENGTH_SIZE) return 'a CANCEL frame with a payload';
  return null;
}

/** Reads the fields of a HANDSHAKE (its request id). */
export function readHandshake(buf: Buffer, start: number, into: FrameFields): void {
  into.requestId = buf.readUInt32BE(start + 1);
  into.payloadStart = start + 5;
}

/** Reads the fields of a DECLARE (its route id). */
export function readDeclare(buf: Buffer, start: number, into: FrameFields): void {
  into.routeId = buf.readUInt32BE(start + 1);
  into.payloadStart = start + 5;
}

/**
 * Reads the fields of an ASK (`end`: where the frame ends). Also reads an ASK frame this side built, given
 * `start` = {@link LENGTH_SIZE}. Returns false when a trace context runs past the frame (a protocol violation).
 */
export function readAsk(buf: Buffer, start: number, into: FrameFields, end = buf.length): boolean {
  into.requestId = buf.readUInt32BE(start + 1);
  into.routeId = buf.readUInt32BE(start + 5);
  const flags = buf[start + 9]!;
  into.fenced = (flags & FLAG_FENCED) !== 0;
  into.payloadStart = start + 10;
  into.trace = undefined;
  return (flags & FLAG_TRACED) === 0 || readTrace(buf, end, into);
}

/** Reads the fields of a TELL; false when a trace context runs past the frame. */
export function readTell(buf: Buffer, start: number, into: FrameFields, end = buf.length): boolean {
  into.routeId = buf.readUInt32BE(start + 1);
  const flags = buf[start + 5]!;
  into.fenced = (flags & FLAG_FENCED) !== 0;
  into.payloadStart = start + 6;
  into.trace = undefined;
  return (flags & FLAG_TRACED) === 0 || readTrace(buf, end, into);
}

/** Reads the trace context at `into.payloadStart` and moves the payload start behind it. */
function readTrace(buf: Buffer, end: number, into: FrameFields): boolean {
  let at = into.payloadStart;
  if (at + 1 > end) return false;
  const parentLength = buf[at]!;
  const parentStart = at + 1;
  at = parentStart + parentLength;
  if (at + 2 > end) return false;
  const stateLength = (buf[at]! << 8) | buf[at + 1]!;
  const stateStart = at + 2;
  at = stateStart + stateLength;
  if (at > end) return false;
  into.payloadStart = at;
  const trace = {
    traceparent: buf.toString('latin1', parentStart, parentStart + parentLength),
    tracestate: stateLength === 0 ? undefined : buf.toString('latin1', stateStart, stateStart + stateLength),
  };
  // A context that is not printable ASCII is dropped: the call itself is fine.
  into.trace = isWireTraceContext(trace) ? trace : undefined;
  return true;
}

/** Reads the field of a CANCEL (the cancelled request id). */
export function readCancel(buf: Buffer, start: number, into: FrameFields): void {
  into.requestId = buf.readUInt32BE(start + 1);
}

/** Reads the fields of a REPLY or an ERROR (the answered request id). */
export function readAnswer(buf: Buffer, start: number, into: FrameFields): void {
  into.requestId = buf.readUInt32BE(start + 1);
  into.payloadStart = start + 5;
}

/** What the reader reports to its connection. */
export interface FrameSink {
  /** The peer's preamble arrived (magic already checked); `features`: its FEATURE_* flags. Return false to stop reading. */
  onPreamble(version: number, peerMaxFrameSize: number, features: number): boolean;
  /** One frame: `buf[start]` is its kind, `end` is exclusive. The view is only valid during the call. */
  onFrame(buf: Buffer, start: number, end: number): void;
  /** The stream broke the protocol; the reader stops. */
  onViolation(reason: string): void;
}

/**
 * Splits a connection's byte stream into its preamble and frames. The length of every frame is checked against the
 * limit before a single byte of its body is buffered; a frame that arrives whole in one chunk is handed on as a view
 * of that chunk (no copy), and a frame spread over several chunks is assembled once into a buffer of its exact size.
 */
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
    if (!this.sink.onPreamble(this.head.readUInt16BE(4), this.head.readUInt32BE(8), this.head.readUInt16BE(6))) {
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
