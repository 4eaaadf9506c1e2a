/**
 * What the transport needs from the value codec: encode a value behind room for a frame header, decode a value from
 * a slice of a frame. One instance per transport (encoders keep a slab; they are not shared between services).
 */

import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';

export interface WireCodec {
  /**
   * Encodes `value` after `reserve` free bytes (the frame header goes there). The result belongs to the caller and
   * is never written again by the codec.
   * @throws an error naming the path of the part that cannot be serialized
   */
  encode(value: unknown, reserve: number): Buffer;
  /**
   * Decodes exactly one value from `buf[start, end)`.
   * @throws when the bytes are not exactly one valid value
   */
  decode(buf: Buffer, start: number, end: number): unknown;
}

/** Creates the codec of one transport. */
export function createWireCodec(): WireCodec {
  const packr = new Packr({ moreTypes: true, useRecords: false, structuredClone: false });
  const unpackr = new Unpackr({ moreTypes: true, useRecords: false, structuredClone: false });
  return {
    encode: (value, reserve) => packr.pack(value, RESERVE_START_SPACE | reserve) as Buffer,
    decode: (buf, start, end) => unpackr.unpack(buf.subarray(start, end)),
  };
}
