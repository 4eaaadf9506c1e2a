/**
 * What the transport needs from the value codec (`codec.ts`): encode a value behind room for a frame header, decode
 * a value from a slice of a frame. One instance per transport: encoders keep a slab and are not shared.
 */

import { ValueCodec } from '../codec/ValueCodec.js';

export interface WireCodec {
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

/** Creates the codec of one transport. */
export function createWireCodec(): WireCodec {
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
