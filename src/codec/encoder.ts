/**
 * The encoder: writes a JavaScript value as MessagePack (see `wire.ts`) into a reused slab.
 *
 * Why not msgpackr's `Packr`: it writes `-0` as `0`, encodes functions as nil and instances of any class as plain
 * objects without a word, has no depth limit (a cycle ends in a stack overflow, or first fills gigabytes when the cycle
 * carries a large string), and its extensions are process-global, so per-service registrations are impossible. This
 * encoder is as fast (see `bench/codec.ts`), fails with the path of the offending part, and stays standard MessagePack.
 *
 * Buffers: every `encode` returns a view (`subarray`) of a slab that is never written again once handed out — so the
 * result stays valid as long as it is referenced — and consecutive results are adjacent in the slab (no alignment
 * gap), which lets a transport coalesce them without copying (the transport's frame writer does).
 */

import { isNativeError } from 'node:util/types';
import type { PathSegment } from './errors.js';
import { KNOWN_ERROR_PROTOTYPES, type Registration } from './registry.js';
import {
  EXT_BIGINT,
  EXT_CLASS,
  EXT_ERROR,
  EXT_MAP,
  EXT_REGEXP,
  EXT_SET,
  EXT_TYPED,
  EXT_UTF16,
  HOST_LITTLE_ENDIAN,
  TYPED_ARRAY_BUFFER,
  TYPED_ARRAY_CODES,
  TYPED_DATA_VIEW,
} from './wire.js';

/** What the encoder needs from its codec: the class registrations. */
export interface EncoderHost {
  /** The registration of the class whose prototype is exactly `prototype` (own registry, then the global one). */
  classFor(prototype: object): Registration | undefined;
}

/**
 * Internal failure, thrown from the offending leaf and unwound through the containers, each of which adds the
 * segment that leads to it (reversed at the top). try/catch costs nothing measurable in V8 until something throws,
 * so the hot path carries no path bookkeeping.
 */
export class EncodeFailure {
  /** Segments from the leaf up (reversed order). */
  readonly segments: PathSegment[] = [];
  /** The containers those segments step out of, leaf up (to find cycles). */
  readonly containers: unknown[] = [];
  /** What the user can do about it, appended to the message. */
  hint: string | undefined;
  constructor(
    /** What is wrong, e.g. `value of type Function`; undefined for "too deep" (a cycle is looked for then). */
    readonly reason: string | undefined,
    readonly cause?: unknown,
  ) {}
}

/** Adds one step to a failure passing through `container` (or wraps an error thrown by user code: getter, toData). */
function trace(error: unknown, segment: PathSegment, container: unknown): EncodeFailure {
  const failure =
    error instanceof EncodeFailure
      ? error
      : new EncodeFailure(
          `a value that could not be read (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`,
          error,
        );
  failure.segments.push(segment);
  failure.containers.push(container);
  return failure;
}

/** Built-ins that can never be serialized, named in the error. */
const UNSERIALIZABLE_BUILT_INS = new Map<object, string>(
  (
    [
      [WeakMap, 'WeakMap'],
      [WeakSet, 'WeakSet'],
      [WeakRef, 'WeakRef'],
      [Promise, 'Promise'],
      [FinalizationRegistry, 'FinalizationRegistry'],
      [SharedArrayBuffer, 'SharedArrayBuffer'],
      [Number, 'Number (a boxed primitive)'],
      [String, 'String (a boxed primitive)'],
      [Boolean, 'Boolean (a boxed primitive)'],
      [Symbol, 'Symbol (a boxed primitive)'],
      [BigInt, 'BigInt (a boxed primitive)'],
    ] as const
  ).map(([ctor, name]) => [ctor.prototype, name] as const),
);

/** Names the kind of an unserializable object for the error message. */
export function describeUnserializableObject(value: object, prototype: object | null): string {
  const builtIn = prototype === null ? undefined : UNSERIALIZABLE_BUILT_INS.get(prototype);
  if (builtIn) return `value of type ${builtIn}`;
  let name: unknown;
  try {
    name = (prototype as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  } catch {
    // a hostile prototype: fall through to the generic text
  }
  if (typeof name !== 'string' || name === '') name = Object.prototype.toString.call(value).slice(8, -1);
  return `an instance of unregistered class ${name as string}`;
}

const ObjectProto = Object.prototype;
const ArrayProto = Array.prototype;
const MapProto = Map.prototype;
const SetProto = Set.prototype;
const DateProto = Date.prototype;
const BufferProto = Buffer.prototype;
const RegExpProto = RegExp.prototype;
const ArrayBufferProto = ArrayBuffer.prototype;
const DataViewProto = DataView.prototype;
const hasOwn = Object.prototype.hasOwnProperty;
const getPrototypeOf = Object.getPrototypeOf;

/** Typed array prototypes → their code in `EXT_TYPED` (Uint8Array included; Buffer is `bin`). */
const TYPED_PROTOS = new Map<object, number>(TYPED_ARRAY_CODES.map((ctor, code) => [ctor.prototype, code]));

/**
 * Own properties of an error that travel in their own slots, not among its fields. `name` is not one of them: when
 * it is an own enumerable property (`name = 'MyError'` as a class field) it travels as a field too, so that it stays
 * enumerable; its slot carries the effective name either way.
 */
const ERROR_SLOTS = new Set(['message', 'stack', 'cause']);
/** Longest cause chain (only reachable with a `cause` getter that makes a new error on every read). */
const MAX_CAUSE_CHAIN = 100_000;
const ERROR_VALUE_SLOTS = ['name', 'message', 'stack'] as const;

/** First slab size: most messages are small; 64 KiB holds hundreds of them. */
const SLAB_SIZE = 64 * 1024;
/**
 * Slabs double each time one is used up, to this size: every new slab is an external allocation that adds GC
 * pressure, and under steady traffic of kilobyte messages 64 KiB slabs turned over so often that it showed (measured:
 * 1 KiB UTF-8 strings encoded 1.5× slower than with a large slab).
 */
const MAX_SLAB_SIZE = 1024 * 1024;
/** A new encode starts on a fresh slab when less than this is left (keeps small messages in one piece). */
const MIN_FREE = 2048;
/** Slabs grown past this for one large message are not reused, so that one big frame does not pin memory. */
const MAX_KEPT = MAX_SLAB_SIZE;
/** The empty buffer an encoder starts with. */
const NO_SLAB = Buffer.alloc(0);
/** Every `write` entry guarantees this much room, so scalars need no bounds check. */
const HEADROOM = 24;
/** Longer strings are measured exactly (`Buffer.byteLength`) instead of reserving 3 bytes per UTF-16 unit. */
const MEASURE_STRING_FROM = 4096;

type Utf8Write = (this: Buffer, s: string, offset: number, length: number) => number;
/** Node's internal, unchecked UTF-8 writer (what `buf.write` calls after validating its arguments). */
const utf8Write: Utf8Write =
  (BufferProto as unknown as { utf8Write?: Utf8Write }).utf8Write ??
  function (this: Buffer, s: string, offset: number, length: number) {
    return this.write(s, offset, length, 'utf8');
  };

/** U+FFFD in UTF-8: what Node's UTF-8 writer puts in place of a lone surrogate. */
const REPLACEMENT_CHARACTER = Buffer.from([0xef, 0xbf, 0xbd]);

type StringWithWellFormed = string & { isWellFormed?: () => boolean };
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** True when `s` has no lone surrogate (V8 answers at once for one-byte strings). */
const isWellFormed: (s: string) => boolean =
  typeof ('' as StringWithWellFormed).isWellFormed === 'function'
    ? (s) => (s as StringWithWellFormed).isWellFormed!()
    : (s) => !LONE_SURROGATE.test(s);

/**
 * Writes values into a slab. One per codec; not re-entrant (the codec uses a spare one when a `toData` or a getter
 * encodes while an encode runs).
 */
export class Encoder {
  private buf: Buffer;
  private view: DataView;
  /** Write position (absolute in `buf`). */
  private pos = 0;
  /** Where the current message starts in `buf`. */
  private start = 0;
  /** `buf.length - HEADROOM`. */
  private safeEnd: number;
  /** Size of the next slab. */
  private slabSize = SLAB_SIZE;
  /** True while an encode runs. */
  busy = false;

  constructor(
    private readonly host: EncoderHost,
    private readonly maxDepth: number,
  ) {
    // The first slab comes with the first encode: a codec that only decodes never allocates one.
    this.buf = NO_SLAB;
    this.view = new DataView(NO_SLAB.buffer, NO_SLAB.byteOffset, 0);
    this.safeEnd = -HEADROOM;
  }

  /**
   * Encodes `value` after `reserve` bytes left free for the caller (e.g. a frame header).
   * @throws EncodeFailure when a part of `value` cannot be serialized
   */
  encode(value: unknown, reserve: number): Buffer {
    if (this.buf.length - this.pos < MIN_FREE + reserve) {
      if (this.buf !== NO_SLAB) this.slabSize = Math.min(MAX_SLAB_SIZE, this.slabSize * 2);
      this.newSlab(this.slabSize);
    }
    this.start = this.pos;
    this.pos += reserve;
    this.busy = true;
    try {
      this.write(value, 0);
    } catch (error) {
      // Nothing of this message was handed out: its bytes are reused by the next encode.
      this.pos = this.start;
      throw error instanceof EncodeFailure ? error : trace(error, { label: '' }, value);
    } finally {
      this.busy = false;
    }
    const out = this.buf.subarray(this.start, this.pos);
    if (this.buf.length > MAX_KEPT) this.newSlab(this.slabSize);
    return out;
  }

  private newSlab(size: number): void {
    this.buf = Buffer.allocUnsafeSlow(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.pos = 0;
    this.start = 0;
    this.safeEnd = size - HEADROOM;
  }

  /** Makes room for `n` more bytes: moves the message so far into a larger buffer. */
  private grow(n: number): void {
    const used = this.pos - this.start;
    const needed = used + n + HEADROOM;
    // Doubling amortizes many small writes; one large write (a big Buffer) gets what it needs plus a slab.
    const size = Math.max(this.slabSize, needed + SLAB_SIZE, Math.min(this.buf.length * 2, needed * 2));
    const old = this.buf;
    const oldStart = this.start;
    this.newSlab(size);
    old.copy(this.buf, 0, oldStart, oldStart + used);
    this.pos = used;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.safeEnd) this.grow(n);
  }

  /** Writes one value; `depth` is the number of enclosing containers. */
  private write(value: unknown, depth: number): void {
    if (this.pos > this.safeEnd) this.grow(HEADROOM);
    switch (typeof value) {
      case 'string':
        this.writeString(value);
        return;
      case 'number':
        this.writeNumber(value);
        return;
      case 'object':
        if (value === null) this.buf[this.pos++] = 0xc0;
        else this.writeObject(value, depth);
        return;
      case 'boolean':
        this.buf[this.pos++] = value ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.buf[this.pos++] = 0xd4;
        this.buf[this.pos++] = 0;
        this.buf[this.pos++] = 0;
        return;
      case 'bigint':
        this.writeBigInt(value);
        return;
      case 'function':
        throw new EncodeFailure('value of type Function');
      default:
        throw new EncodeFailure(`value of type ${typeof value === 'symbol' ? 'Symbol' : typeof value}`);
    }
  }

  private writeNumber(v: number): void {
    const buf = this.buf;
    if (v >>> 0 === v) {
      // 0 … 2^32-1, and -0, which must stay a float to keep its sign
      if (v < 0x80) {
        if (v === 0 && 1 / v < 0) this.writeFloat(v);
        else buf[this.pos++] = v;
      } else if (v < 0x100) {
        buf[this.pos++] = 0xcc;
        buf[this.pos++] = v;
      } else if (v < 0x10000) {
        buf[this.pos++] = 0xcd;
        buf[this.pos++] = v >>> 8;
        buf[this.pos++] = v & 0xff;
      } else {
        buf[this.pos++] = 0xce;
        this.view.setUint32(this.pos, v);
        this.pos += 4;
      }
    } else if ((v | 0) === v) {
      if (v >= -0x20) {
        buf[this.pos++] = v & 0xff;
      } else if (v >= -0x80) {
        buf[this.pos++] = 0xd0;
        buf[this.pos++] = v & 0xff;
      } else if (v >= -0x8000) {
        buf[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, v);
        this.pos += 2;
      } else {
        buf[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, v);
        this.pos += 4;
      }
    } else {
      this.writeFloat(v);
    }
  }

  private writeFloat(v: number): void {
    this.buf[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  private writeString(s: string): void {
    const length = s.length;
    if (length < 64) {
      // Short strings: an inline UTF-8 loop beats the call into C++. The header is sized for one byte per
      // character and moved when the text turns out longer.
      this.ensure(length * 3 + 2);
      const buf = this.buf;
      const start = this.pos;
      const headerSize = length < 32 ? 1 : 2;
      let p = start + headerSize;
      for (let i = 0; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x80) {
          buf[p++] = c;
        } else if (c < 0x800) {
          buf[p++] = (c >> 6) | 0xc0;
          buf[p++] = (c & 0x3f) | 0x80;
        } else if ((c & 0xf800) !== 0xd800) {
          buf[p++] = (c >> 12) | 0xe0;
          buf[p++] = ((c >> 6) & 0x3f) | 0x80;
          buf[p++] = (c & 0x3f) | 0x80;
        } else {
          const c2 = s.charCodeAt(i + 1);
          if (c >= 0xdc00 || (c2 & 0xfc00) !== 0xdc00) {
            // A lone surrogate has no UTF-8 form: send the UTF-16 units instead.
            this.pos = start;
            this.writeUtf16(s);
            return;
          }
          const cp = 0x10000 + ((c & 0x3ff) << 10) + (c2 & 0x3ff);
          i++;
          buf[p++] = (cp >> 18) | 0xf0;
          buf[p++] = ((cp >> 12) & 0x3f) | 0x80;
          buf[p++] = ((cp >> 6) & 0x3f) | 0x80;
          buf[p++] = (cp & 0x3f) | 0x80;
        }
      }
      const bytes = p - start - headerSize;
      if (bytes < 0x20 && headerSize === 1) {
        buf[start] = 0xa0 | bytes;
      } else {
        // < 64 units take at most 189 bytes (3 per unit, 4 per pair): str 8 always fits.
        if (headerSize === 1) buf.copyWithin(start + 2, start + 1, p++);
        buf[start] = 0xd9;
        buf[start + 1] = bytes;
      }
      this.pos = p;
      return;
    }
    let start: number;
    let headerSize: number;
    let bytes: number;
    // `ensure` may move the message into a new buffer: positions are taken after it.
    if (length >= MEASURE_STRING_FROM) {
      bytes = Buffer.byteLength(s, 'utf8');
      this.ensure(bytes + 5);
      start = this.pos;
      this.writeStrHeader(bytes);
      headerSize = this.pos - start;
      utf8Write.call(this.buf, s, this.pos, bytes);
    } else {
      const max = length * 3;
      this.ensure(max + 5);
      start = this.pos;
      headerSize = length < 0x100 ? 2 : 3;
      bytes = utf8Write.call(this.buf, s, start + headerSize, max);
    }
    // Node writes a lone surrogate as U+FFFD (EF BF BD). Pure ASCII output cannot hold one; otherwise a native scan
    // for those bytes decides whether the (costlier) well-formedness check is needed.
    if (bytes !== length) {
      const text = this.buf.subarray(start + headerSize, start + headerSize + bytes);
      if (text.indexOf(REPLACEMENT_CHARACTER) !== -1 && !isWellFormed(s)) {
        this.pos = start;
        this.writeUtf16(s);
        return;
      }
    }
    if (length >= MEASURE_STRING_FROM) {
      this.pos = start + headerSize + bytes;
    } else if (bytes < 0x100) {
      this.buf[start] = 0xd9;
      this.buf[start + 1] = bytes;
      this.pos = start + 2 + bytes;
    } else if (bytes < 0x10000) {
      if (headerSize === 2) this.buf.copyWithin(start + 3, start + 2, start + 2 + bytes);
      this.buf[start] = 0xda;
      this.buf[start + 1] = bytes >>> 8;
      this.buf[start + 2] = bytes & 0xff;
      this.pos = start + 3 + bytes;
    } else {
      this.buf.copyWithin(start + 5, start + headerSize, start + headerSize + bytes);
      this.buf[start] = 0xdb;
      this.view.setUint32(start + 1, bytes);
      this.pos = start + 5 + bytes;
    }
  }

  /** str header for a known byte length (room ensured by the caller). */
  private writeStrHeader(bytes: number): void {
    const buf = this.buf;
    if (bytes < 0x20) {
      buf[this.pos++] = 0xa0 | bytes;
    } else if (bytes < 0x100) {
      buf[this.pos++] = 0xd9;
      buf[this.pos++] = bytes;
    } else if (bytes < 0x10000) {
      buf[this.pos++] = 0xda;
      buf[this.pos++] = bytes >>> 8;
      buf[this.pos++] = bytes & 0xff;
    } else {
      buf[this.pos++] = 0xdb;
      this.view.setUint32(this.pos, bytes);
      this.pos += 4;
    }
  }

  /** A string with lone surrogates: its UTF-16LE code units in an extension. */
  private writeUtf16(s: string): void {
    const bytes = s.length * 2;
    this.writeExtHeader(bytes, EXT_UTF16);
    this.ensure(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf16le');
  }

  /** ext 8/16/32 header for a payload of `length` bytes. */
  private writeExtHeader(length: number, type: number): void {
    this.ensure(6);
    const buf = this.buf;
    if (length < 0x100) {
      buf[this.pos++] = 0xc7;
      buf[this.pos++] = length;
    } else if (length < 0x10000) {
      buf[this.pos++] = 0xc8;
      buf[this.pos++] = length >>> 8;
      buf[this.pos++] = length & 0xff;
    } else {
      buf[this.pos++] = 0xc9;
      this.view.setUint32(this.pos, length);
      this.pos += 4;
    }
    buf[this.pos++] = type;
  }

  /** Opens an ext 32 container; returns the offset of its length field relative to the message start. */
  private beginContainer(type: number, depth: number): number {
    if (depth >= this.maxDepth) throw new EncodeFailure(undefined);
    this.ensure(6);
    this.buf[this.pos] = 0xc9;
    this.buf[this.pos + 5] = type;
    this.pos += 6;
    // Relative: a grow moves the message to offset 0 of a new buffer.
    return this.pos - 5 - this.start;
  }

  private endContainer(lengthAt: number): void {
    const at = this.start + lengthAt;
    this.view.setUint32(at, this.pos - at - 5);
  }

  private writeArrayHeader(length: number): void {
    this.ensure(5);
    const buf = this.buf;
    if (length < 0x10) {
      buf[this.pos++] = 0x90 | length;
    } else if (length < 0x10000) {
      buf[this.pos++] = 0xdc;
      buf[this.pos++] = length >>> 8;
      buf[this.pos++] = length & 0xff;
    } else {
      buf[this.pos++] = 0xdd;
      this.view.setUint32(this.pos, length);
      this.pos += 4;
    }
  }

  private writeMapHeader(size: number): void {
    this.ensure(5);
    const buf = this.buf;
    if (size < 0x10) {
      buf[this.pos++] = 0x80 | size;
    } else if (size < 0x10000) {
      buf[this.pos++] = 0xde;
      buf[this.pos++] = size >>> 8;
      buf[this.pos++] = size & 0xff;
    } else {
      buf[this.pos++] = 0xdf;
      this.view.setUint32(this.pos, size);
      this.pos += 4;
    }
  }

  private writeObject(value: object, depth: number): void {
    if (depth >= this.maxDepth) throw new EncodeFailure(undefined);
    const proto = getPrototypeOf(value);
    if (proto === ObjectProto || proto === null) this.writePlainObject(value as Record<string, unknown>, depth + 1);
    else if (proto === ArrayProto) this.writeArray(value as unknown[], depth + 1);
    else this.writeSpecial(value, proto, depth);
  }

  private writeArray(array: unknown[], depth: number): void {
    const length = array.length;
    this.writeArrayHeader(length);
    for (let i = 0; i < length; i++) {
      try {
        this.write(array[i], depth);
      } catch (error) {
        throw trace(error, i, array);
      }
    }
  }

  /**
   * A plain object as a map. The header is written as fixmap before the keys are counted (one for-in pass, no key
   * array) and widened in the rare case of 16 keys or more.
   */
  private writePlainObject(object: Record<string, unknown>, depth: number): void {
    const headerAt = this.pos - this.start;
    this.pos++;
    let size = 0;
    for (const key in object) {
      // for-in also lists enumerable properties inherited from a (polluted) prototype: own ones only.
      if (!hasOwn.call(object, key)) continue;
      this.writeString(key);
      try {
        this.write(object[key], depth);
      } catch (error) {
        throw trace(error, key, object);
      }
      size++;
    }
    this.patchMapHeader(headerAt, size);
  }

  /** Writes the map header reserved (one byte) at `headerAt`, moving the entries when it needs more bytes. */
  private patchMapHeader(headerAt: number, size: number): void {
    const at = this.start + headerAt;
    if (size < 0x10) {
      this.buf[at] = 0x80 | size;
      return;
    }
    const extra = size < 0x10000 ? 2 : 4;
    this.ensure(extra);
    const from = this.start + headerAt; // `ensure` may have moved the message
    this.buf.copyWithin(from + 1 + extra, from + 1, this.pos);
    this.pos += extra;
    if (extra === 2) {
      this.buf[from] = 0xde;
      this.buf[from + 1] = size >>> 8;
      this.buf[from + 2] = size & 0xff;
    } else {
      this.buf[from] = 0xdf;
      this.view.setUint32(from + 1, size);
    }
  }

  /** Own enumerable string-keyed properties (minus `skip`) as a map: class instances, error fields. */
  private writeFields(object: object, keys: readonly string[], depth: number): void {
    this.writeMapHeader(keys.length);
    const record = object as Record<string, unknown>;
    for (const key of keys) {
      this.writeString(key);
      try {
        this.write(record[key], depth);
      } catch (error) {
        throw trace(error, key, object);
      }
    }
  }

  /** Everything that is neither a plain object nor an array. `depth` counts the containers around `value`. */
  private writeSpecial(value: object, proto: object, depth: number): void {
    if (proto === BufferProto) this.writeBin(value as Buffer);
    else if (proto === MapProto) this.writeMap(value as Map<unknown, unknown>, depth);
    else if (proto === DateProto) this.writeDate(value as Date);
    else if (proto === SetProto) this.writeSet(value as Set<unknown>, depth);
    else if (TYPED_PROTOS.has(proto)) this.writeTyped(value as ArrayBufferView, TYPED_PROTOS.get(proto)!);
    else if (proto === ArrayBufferProto) this.writeTyped(new Uint8Array(value as ArrayBuffer), TYPED_ARRAY_BUFFER);
    else if (proto === DataViewProto) this.writeTyped(value as DataView, TYPED_DATA_VIEW);
    else if (proto === RegExpProto) this.writeRegExp(value as RegExp, depth);
    else {
      const registration = this.host.classFor(proto);
      if (registration?.asError) this.writeError(value as Error, depth);
      else if (registration !== undefined) this.writeClass(value, registration, depth);
      else if (value instanceof Error || isNativeError(value)) this.writeError(value as Error, depth);
      else if (Array.isArray(value) && isForeignIntrinsic(proto, 'Array')) this.writeArray(value, depth + 1);
      else if (isForeignIntrinsic(proto, 'Object')) this.writePlainObject(value as Record<string, unknown>, depth + 1);
      else {
        const failure = new EncodeFailure(describeUnserializableObject(value, proto));
        if (!UNSERIALIZABLE_BUILT_INS.has(proto)) failure.hint = 'register the class with registerClass on both sides';
        throw failure;
      }
    }
  }

  private writeBin(b: Uint8Array): void {
    const length = b.length;
    this.ensure(length + 5);
    const buf = this.buf;
    if (length < 0x100) {
      buf[this.pos++] = 0xc4;
      buf[this.pos++] = length;
    } else if (length < 0x10000) {
      buf[this.pos++] = 0xc5;
      buf[this.pos++] = length >>> 8;
      buf[this.pos++] = length & 0xff;
    } else {
      buf[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, length);
      this.pos += 4;
    }
    buf.set(b, this.pos);
    this.pos += length;
  }

  /** A typed array, DataView or ArrayBuffer (as bytes): code byte, then the bytes of the view only. */
  private writeTyped(view: ArrayBufferView, code: number): void {
    const length = view.byteLength;
    this.writeExtHeader(length + 1, EXT_TYPED);
    this.ensure(length + 1);
    this.buf[this.pos++] = code;
    this.buf.set(new Uint8Array(view.buffer, view.byteOffset, length), this.pos);
    if (!HOST_LITTLE_ENDIAN && code < TYPED_ARRAY_CODES.length) {
      swapBytes(this.buf, this.pos, length, TYPED_ARRAY_CODES[code]!.BYTES_PER_ELEMENT);
    }
    this.pos += length;
  }

  private writeDate(date: Date): void {
    const time = date.getTime();
    const buf = this.buf;
    if (Number.isNaN(time)) {
      // Invalid Date: msgpackr's one-byte timestamp.
      buf[this.pos++] = 0xd4;
      buf[this.pos++] = 0xff;
      buf[this.pos++] = 0xff;
      return;
    }
    const seconds = Math.floor(time / 1000);
    const nanos = (time - seconds * 1000) * 1e6;
    if (nanos === 0 && seconds >= 0 && seconds < 0x100000000) {
      buf[this.pos++] = 0xd6;
      buf[this.pos++] = 0xff;
      this.view.setUint32(this.pos, seconds);
      this.pos += 4;
    } else if (seconds >= 0 && seconds < 0x400000000) {
      buf[this.pos++] = 0xd7;
      buf[this.pos++] = 0xff;
      const high = Math.floor(seconds / 0x100000000);
      this.view.setUint32(this.pos, nanos * 4 + high);
      this.view.setUint32(this.pos + 4, seconds - high * 0x100000000);
      this.pos += 8;
    } else {
      buf[this.pos++] = 0xc7;
      buf[this.pos++] = 12;
      buf[this.pos++] = 0xff;
      this.view.setUint32(this.pos, nanos);
      const high = Math.floor(seconds / 0x100000000);
      this.view.setInt32(this.pos + 4, high);
      this.view.setUint32(this.pos + 8, seconds - high * 0x100000000);
      this.pos += 12;
    }
  }

  private writeBigInt(v: bigint): void {
    if (v >= -0x8000000000000000n && v < 0x8000000000000000n) {
      this.buf[this.pos++] = 0xd3;
      this.view.setBigInt64(this.pos, v);
      this.pos += 8;
    } else if (v > 0n && v < 0x10000000000000000n) {
      this.buf[this.pos++] = 0xcf;
      this.view.setBigUint64(this.pos, v);
      this.pos += 8;
    } else {
      // Two's complement, big-endian, as few bytes as keep the sign bit right.
      const negative = v < 0n;
      let hex = (negative ? ~v : v).toString(16);
      if (hex.length % 2 === 1) hex = `0${hex}`;
      if (hex.charCodeAt(0) >= 0x38 /* '8' */) hex = `00${hex}`;
      const bytes = Buffer.from(hex, 'hex');
      if (negative) for (let i = 0; i < bytes.length; i++) bytes[i] = ~bytes[i]! & 0xff;
      this.writeExtHeader(bytes.length, EXT_BIGINT);
      this.ensure(bytes.length);
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
    }
  }

  private writeMap(map: Map<unknown, unknown>, depth: number): void {
    const lengthAt = this.beginContainer(EXT_MAP, depth);
    if (depth + 1 >= this.maxDepth) throw new EncodeFailure(undefined);
    this.writeMapHeader(map.size);
    let i = 0;
    for (const [key, value] of map) {
      try {
        this.write(key, depth + 2);
      } catch (error) {
        throw trace(error, { label: `.keys()[${i}]` }, map);
      }
      try {
        this.write(value, depth + 2);
      } catch (error) {
        throw trace(error, { label: `.get(${describeKey(key, i)})` }, map);
      }
      i++;
    }
    this.endContainer(lengthAt);
  }

  private writeSet(set: Set<unknown>, depth: number): void {
    const lengthAt = this.beginContainer(EXT_SET, depth);
    if (depth + 1 >= this.maxDepth) throw new EncodeFailure(undefined);
    this.writeArrayHeader(set.size);
    let i = 0;
    for (const value of set) {
      try {
        this.write(value, depth + 2);
      } catch (error) {
        throw trace(error, { label: `.values()[${i}]` }, set);
      }
      i++;
    }
    this.endContainer(lengthAt);
  }

  private writeRegExp(regexp: RegExp, depth: number): void {
    const lengthAt = this.beginContainer(EXT_REGEXP, depth);
    if (depth + 1 >= this.maxDepth) throw new EncodeFailure(undefined);
    this.writeArrayHeader(2);
    this.writeString(regexp.source);
    this.writeString(regexp.flags);
    this.endContainer(lengthAt);
  }

  private writeClass(value: object, registration: Registration, depth: number): void {
    const lengthAt = this.beginContainer(EXT_CLASS, depth);
    if (depth + 1 >= this.maxDepth) throw new EncodeFailure(undefined);
    this.writeArrayHeader(2);
    this.writeString(registration.name);
    if (registration.toData) {
      let data: unknown;
      try {
        data = registration.toData(value);
        this.write(data, depth + 2);
      } catch (error) {
        throw trace(error, { label: `<toData of ${registration.name}>` }, value);
      }
    } else {
      if (depth + 2 >= this.maxDepth) throw new EncodeFailure(undefined);
      this.writeFields(value, Object.keys(value), depth + 3);
    }
    this.endContainer(lengthAt);
  }

  /**
   * An error and its whole `cause` chain in one container: `[part0, part1, …, tail]`, where part i+1 is the cause of
   * part i, and the tail says what the last part's cause is: `[]` none, `[0, value]` a value, `[1, i]` part i again
   * (a cycle). Flattening the chain keeps long chains off the stack and turns cause cycles into back-references.
   * A part is `[classKey, name, message, stack, fields, errors]`: see {@link errorClassKey} and the decoder.
   */
  private writeError(error: Error, depth: number): void {
    const chain: Error[] = [error];
    let tail: 0 | 1 | 2 = 0; // none, value, back-reference
    let tailValue: unknown;
    for (let current: Error = error; ; ) {
      if (!('cause' in current)) break;
      const cause = current.cause;
      if (this.travelsAsError(cause)) {
        // Short chains: a scan; long ones: an index (a chain is flat on the wire, so it may be long).
        const seen = chain.length < 32 ? chain.indexOf(cause) : indexOf(cause, chain);
        if (seen >= 0) {
          tail = 2;
          tailValue = seen;
          break;
        }
        if (chain.length >= MAX_CAUSE_CHAIN) {
          // Only a `cause` getter that makes a new error each time gets here.
          throw new EncodeFailure(`a cause chain longer than ${MAX_CAUSE_CHAIN} errors`);
        }
        chain.push(cause);
        current = cause;
      } else {
        tail = 1;
        tailValue = cause;
        break;
      }
    }
    const lengthAt = this.beginContainer(EXT_ERROR, depth);
    // container, outer array, part array, fields map: values inside sit 4 levels below `depth`
    if (depth + 4 > this.maxDepth) throw new EncodeFailure(undefined);
    this.writeArrayHeader(chain.length + 1);
    for (let i = 0; i < chain.length; i++) {
      try {
        this.writeErrorPart(chain[i]!, depth + 3);
      } catch (e) {
        throw traceCauses(e, i, chain);
      }
    }
    if (tail === 0) {
      this.writeArrayHeader(0);
    } else {
      this.writeArrayHeader(2);
      this.ensure(1);
      this.buf[this.pos++] = tail === 1 ? 0 : 1;
      try {
        this.write(tailValue, depth + 3);
      } catch (e) {
        throw traceCauses(trace(e, 'cause', chain[chain.length - 1]), chain.length - 1, chain);
      }
    }
    this.endContainer(lengthAt);
  }

  /** True when `value` is an error that goes into the error form (not a registered class with `toData`). */
  private travelsAsError(value: unknown): value is Error {
    if (typeof value !== 'object' || value === null) return false;
    if (!(value instanceof Error) && !isNativeError(value)) return false;
    const registration = this.host.classFor(getPrototypeOf(value));
    return registration === undefined || registration.asError;
  }

  private writeErrorPart(error: Error, depth: number): void {
    this.writeArrayHeader(6);
    this.writeString(this.errorClassKey(error));
    for (const slot of ERROR_VALUE_SLOTS) {
      try {
        // `message` only when own: `new Error()` has none, and the rebuilt error must not grow one.
        this.write(slot === 'message' && !hasOwn.call(error, slot) ? undefined : readSlot(error, slot), depth);
      } catch (e) {
        throw trace(e, slot, error);
      }
    }
    const keys = Object.keys(error).filter((key) => !ERROR_SLOTS.has(key));
    this.ensure(1);
    if (keys.length === 0) this.buf[this.pos++] = 0xc0;
    else this.writeFields(error, keys, depth + 1);
    // AggregateError keeps its errors in an own, non-enumerable property.
    const errors = hasOwn.call(error, 'errors') ? (error as { errors?: unknown }).errors : undefined;
    if (Array.isArray(errors) && !Object.prototype.propertyIsEnumerable.call(error, 'errors')) {
      try {
        this.write(errors, depth);
      } catch (e) {
        throw trace(e, 'errors', error);
      }
    } else {
      this.ensure(1);
      this.buf[this.pos++] = 0xc0;
    }
  }

  /**
   * The class an error is rebuilt as: its own class when registered or known (native or RPC error), else the
   * nearest known ancestor — a `class JobFailed extends RpcException` arrives as an `RpcException` named `JobFailed`,
   * a direct `Error` subclass as an `Error` with its name.
   */
  private errorClassKey(error: Error): string {
    for (let proto = getPrototypeOf(error); proto !== null; proto = getPrototypeOf(proto)) {
      const registration = this.host.classFor(proto);
      if (registration?.asError) return registration.name;
      const known = KNOWN_ERROR_PROTOTYPES.get(proto);
      if (known !== undefined) return known;
    }
    return 'Error';
  }
}

const chainIndexes = new WeakMap<readonly Error[], Map<Error, number>>();
/** Position of `error` in a long `chain`, through an index kept next to the chain (chains only grow). */
function indexOf(error: Error, chain: readonly Error[]): number {
  let index = chainIndexes.get(chain);
  if (index === undefined) chainIndexes.set(chain, (index = new Map()));
  for (let i = index.size; i < chain.length; i++) index.set(chain[i]!, i);
  return index.get(error) ?? -1;
}

/**
 * An error's name, message or stack. V8 formats `stack` on first read from the current name and message, and that
 * throws when the name cannot be turned into a string: the stack is only a diagnostic, so it is dropped then rather
 * than failing the error (which is usually on its way to report a failure).
 */
function readSlot(error: Error, slot: 'name' | 'message' | 'stack'): unknown {
  if (slot !== 'stack') return error[slot];
  try {
    return error.stack;
  } catch {
    return undefined;
  }
}

/**
 * True when `proto` is `Object.prototype` or `Array.prototype` of another realm (a `node:vm` context): objects and
 * arrays made there are plain data too. Recognized by shape: the constructor's name, and for `Object` the end of the
 * chain. Only reached for values that are nothing else.
 */
function isForeignIntrinsic(proto: object, name: 'Object' | 'Array'): boolean {
  const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as { name?: unknown } | undefined;
  if (typeof ctor !== 'function' || ctor.name !== name || ctor.prototype !== proto) return false;
  const parent = getPrototypeOf(proto);
  return name === 'Object' ? parent === null : parent !== null && isForeignIntrinsic(parent, 'Object');
}

/** Adds `.cause` steps for part `index` of an error chain. */
function traceCauses(error: unknown, index: number, chain: readonly Error[]): EncodeFailure {
  let failure = error instanceof EncodeFailure ? error : trace(error, { label: '' }, chain[index]);
  for (let i = index - 1; i >= 0; i--) failure = trace(failure, 'cause', chain[i]);
  return failure;
}

/** A Map key as it reads in a path: `.get("id")`, `.get(42)`, else by position. */
function describeKey(key: unknown, index: number): string {
  if (typeof key === 'string') return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
  if (typeof key === 'number' || typeof key === 'boolean' || key === null || key === undefined) return String(key);
  if (typeof key === 'bigint') return `${key}n`;
  return `<key #${index}>`;
}

/** Reverses the bytes of each `size`-byte element in place (big-endian hosts only). */
export function swapBytes(buf: Uint8Array, offset: number, length: number, size: number): void {
  if (size === 1) return;
  for (let i = offset; i + size <= offset + length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = buf[a]!;
      buf[a] = buf[b]!;
      buf[b] = t;
    }
  }
}
