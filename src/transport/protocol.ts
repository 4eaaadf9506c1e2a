/**
 * Constants of the wire protocol (docs/PROTOCOL.md is the normative description). All integers are big-endian.
 *
 * A connection starts with a 12-byte preamble from each side, then carries frames:
 * `u32 length | u8 kind | fixed fields of the kind | payload (value codec)`, where `length` counts every byte after
 * itself and must not exceed the maximum frame size the receiver announced in its preamble.
 */

/** `FRPC`: the first four bytes of every connection, in both directions. */
export const MAGIC = 0x46525043;
/** The protocol version this implementation speaks; a peer with another version is refused. */
export const PROTOCOL_VERSION = 1;
/** magic u32, version u16, flags u16 (zero), max frame size u32. */
export const PREAMBLE_SIZE = 12;

/** Size of the length prefix of a frame. */
export const LENGTH_SIZE = 4;

// Frame kinds. Client → server: HANDSHAKE, DECLARE, ASK, TELL. Server → client: REPLY, ERROR. Both: PING, PONG.
/** `u32 requestId`; payload `[systemName, endpointId, gatewayName]`; answered by REPLY with a handshake status. */
export const HANDSHAKE = 1;
/** `u32 routeId`; payload `[systemName, endpointId, gatewayName, methodName]`; no answer. */
export const DECLARE = 2;
/** `u32 requestId, u32 routeId, u8 flags`; payload: the arguments (see FLAG_FENCED); answered by REPLY or ERROR. */
export const ASK = 3;
/** `u32 routeId, u8 flags`; payload as ASK; never answered. */
export const TELL = 4;
/** `u32 requestId`; payload: the result. */
export const REPLY = 5;
/** `u32 requestId`; payload: the error. */
export const ERROR = 6;
/** No fields, no payload; answered by PONG. */
export const PING = 7;
/** No fields, no payload. */
export const PONG = 8;

/** Bytes of a frame before its payload (length prefix included), by kind. */
export const HEADER_SIZE: readonly number[] = [0, 9, 9, 14, 10, 9, 9, 5, 5];

/** ASK/TELL flag: the payload is `[fencingToken, args]` instead of `args`. */
export const FLAG_FENCED = 1;

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
 * Asks one connection may have awaiting an answer at a server; beyond, the server stops reading from it until half
 * of them are answered (bounds the work and memory one peer can pile up, e.g. with asks that never complete).
 */
export const MAX_PENDING_ASKS = 65_536;

/** Longest endpoint id, system, gateway or method name accepted in HANDSHAKE and DECLARE. */
export const MAX_NAME_LENGTH = 255;

/** The smallest frame limit a peer may announce: it must at least take the largest HANDSHAKE and DECLARE. */
export const MIN_PEER_FRAME_SIZE = 4096;

/** Frame kind names for logs. */
export const KIND_NAMES: readonly string[] = [
  'UNKNOWN',
  'HANDSHAKE',
  'DECLARE',
  'ASK',
  'TELL',
  'REPLY',
  'ERROR',
  'PING',
  'PONG',
];

/** Writes this side's preamble. */
export function preamble(maxFrameSize: number, version = PROTOCOL_VERSION): Buffer {
  const out = Buffer.allocUnsafe(PREAMBLE_SIZE);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt16BE(version, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt32BE(Math.min(maxFrameSize, 0xffff_ffff), 8);
  return out;
}

/** Writes a u32 (big-endian) without the bounds checks of `Buffer#writeUInt32BE` (the caller sized the buffer). */
export function putU32(buf: Buffer, value: number, at: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}
