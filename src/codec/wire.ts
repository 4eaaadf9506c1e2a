/**
 * The wire format of the value codec: standard MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md)
 * plus a few extension types for the JavaScript values MessagePack has no family for.
 *
 * Standard families and what they mean here:
 * - nil → `null`; true/false; str (UTF-8) → string; bin → `Buffer`; array → `Array`; map with string keys → plain
 *   object (number keys from foreign encoders are accepted and turned into strings).
 * - Integers that fit 32 bits use the int/uint families; every other number (fractions, ±Infinity, NaN, `-0`,
 *   integers beyond 32 bits) is a float 64, so numbers round-trip bit for bit. int 64 / uint 64 decode as `BigInt`
 *   (the encoder writes a BigInt there whenever it fits 64 bits); float 32 is accepted and decodes as a number.
 * - The timestamp extension (type -1) carries a `Date`: 32, 64 or 96-bit forms of the spec; an invalid Date is the
 *   one-byte form `d4 ff ff` (msgpackr's convention).
 *
 * Extension types (application range). "Container" types carry nested MessagePack in their payload and are always
 * written as ext 32 (`c9 <u32 length> <type>`) so that the length can be patched after the content is written; any
 * decoder can skip them by length.
 */

/** fixext 1 with type 0 and data 0: `undefined` (the convention of msgpackr, notepack and others). */
export const EXT_UNDEFINED = 0x00;
/** Container: one MessagePack map whose keys may have any type → `Map`. */
export const EXT_MAP = 0x01;
/** Container: one MessagePack array → `Set`. */
export const EXT_SET = 0x02;
/** Container: one array, an `Error` with its whole `cause` chain (see the error codec). */
export const EXT_ERROR = 0x03;
/** Container: `[name, data]`, an instance of a class registered under `name` on both sides. */
export const EXT_CLASS = 0x04;
/** Container: `[source, flags]` → `RegExp`. */
export const EXT_REGEXP = 0x05;
/** Raw payload: UTF-16LE code units of a string that is not well-formed Unicode (has lone surrogates). */
export const EXT_UTF16 = 0x06;
/** Raw payload: a BigInt beyond 64 bits as big-endian two's complement bytes (msgpackr's layout and type). */
export const EXT_BIGINT = 0x42;
/** Raw payload: one code byte (see {@link TYPED_ARRAY_CODES}) then the raw bytes, little-endian (msgpackr's 't'). */
export const EXT_TYPED = 0x74;
/** The timestamp extension of the MessagePack spec (type -1). */
export const EXT_TIMESTAMP = 0xff;

/** Code byte of {@link EXT_TYPED} for an `ArrayBuffer`. */
export const TYPED_ARRAY_BUFFER = 16;
/** Code byte of {@link EXT_TYPED} for a `DataView`. */
export const TYPED_DATA_VIEW = 17;

/** Typed array constructors by their {@link EXT_TYPED} code (the index), as msgpackr numbers them. */
export const TYPED_ARRAY_CODES = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

/** A typed array of one of the kinds in {@link TYPED_ARRAY_CODES}. */
export type AnyTypedArray = InstanceType<(typeof TYPED_ARRAY_CODES)[number]>;

/** Default cap of nesting (arrays, maps, objects, extension containers) on both encode and decode. */
export const DEFAULT_MAX_DEPTH = 512;

/** True on little-endian hosts; typed array payloads are little-endian on the wire. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
