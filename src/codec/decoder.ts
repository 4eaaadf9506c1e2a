/**
 * The decoder: reads the format of `wire.ts` from bytes that may come from anyone.
 *
 * Hardening, because a frame is untrusted until decoded: every length is checked against the bytes left before
 * anything is allocated (and arrays spend from a per-message budget, so nested headers cannot multiply an
 * allocation); nesting is capped (`maxDepth`) before the stack is; `__proto__` keys become own properties and never
 * change a prototype; only the extension types of `wire.ts` are accepted (none of msgpackr's records, bundled
 * strings or pointers); classes are only rebuilt when registered; trailing bytes are an error. Everything that goes
 * wrong is a {@link DeserializationError}.
 */

import { RPC_ERROR_CLASSES } from '../rpc/errors.js';
import { swapBytes } from './encoder.js';
import { DeserializationError } from './errors.js';
import { NATIVE_ERRORS, type Registration } from './registry.js';
import {
  EXT_BIGINT,
  EXT_CLASS,
  EXT_ERROR,
  EXT_MAP,
  EXT_REGEXP,
  EXT_SET,
  EXT_TIMESTAMP,
  EXT_TYPED,
  EXT_UNDEFINED,
  EXT_UTF16,
  HOST_LITTLE_ENDIAN,
  TYPED_ARRAY_BUFFER,
  TYPED_ARRAY_CODES,
  TYPED_DATA_VIEW,
} from './wire.js';

/** What the decoder needs from its codec: class registrations by wire name. */
export interface DecoderHost {
  /** The registration under `name` (own registry, then the global one). */
  classNamed(name: string): Registration | undefined;
}

type Utf8Slice = (this: Buffer, start: number, end: number) => string;
/** Node's internal, unchecked UTF-8 reader (what `buf.toString('utf8', …)` ends in). */
const utf8Slice: Utf8Slice =
  (Buffer.prototype as unknown as { utf8Slice?: Utf8Slice }).utf8Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString('utf8', start, end);
  };

const fromCharCode = String.fromCharCode;
const KEY_CACHE_MASK = 1023;
const defineProperty = Object.defineProperty;

// Floats are assembled in a scratch buffer: no DataView per message.
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);

function truncated(): DeserializationError {
  return new DeserializationError('Truncated input: a value runs past the end of the bytes.');
}

function tooDeep(maxDepth: number): DeserializationError {
  return new DeserializationError(`Nesting deeper than ${maxDepth} levels.`);
}

/** The native error class an error class derives from (`Reflect.construct` needs one to make a real error). */
function nativeBase(cls: Function): new (...args: any[]) => Error {
  for (let c: unknown = cls; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    for (const native of NATIVE_ERRORS.values()) if (c === native) return native;
  }
  return Error;
}

/**
 * Reads values. One per codec; not re-entrant (the codec uses a spare one when a `fromData` decodes while a decode
 * runs).
 */
export class Decoder {
  private src: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;
  /** Array slots still allowed in this message: their total can never exceed the bytes of a valid message. */
  private budget = 0;
  /** Cache of short ASCII object keys, see {@link readCachedKey}. */
  private readonly keys: (string | undefined)[] = new Array(KEY_CACHE_MASK + 1);
  busy = false;

  constructor(
    private readonly host: DecoderHost,
    private readonly maxDepth: number,
    private readonly copyBuffers: boolean,
  ) {}

  /**
   * Decodes the one value in `input[start, end)`.
   * @throws DeserializationError for anything but exactly one valid value
   */
  decode(input: Uint8Array, start: number, end: number): unknown {
    this.src = input instanceof Buffer ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    this.pos = start;
    this.end = end;
    this.budget = end - start;
    this.busy = true;
    try {
      const value = this.read(0);
      if (this.pos !== end) {
        throw new DeserializationError(`Unexpected ${end - this.pos} bytes after the value.`);
      }
      return value;
    } finally {
      this.busy = false;
      // Do not keep the caller's bytes alive.
      this.src = EMPTY;
    }
  }

  /** Reads one value; `depth` is the number of containers around it. */
  private read(depth: number): unknown {
    if (this.pos >= this.end) throw truncated();
    const src = this.src;
    const token = src[this.pos++]!;
    if (token < 0x80) return token;
    if (token < 0x90) return this.readObject(token & 0x0f, depth);
    if (token < 0xa0) return this.readArray(token & 0x0f, depth);
    if (token < 0xc0) return this.readString(token & 0x1f);
    if (token >= 0xe0) return token - 0x100;
    switch (token) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.readBin(this.readUint(1));
      case 0xc5:
        return this.readBin(this.readUint(2));
      case 0xc6:
        return this.readBin(this.readUint(4));
      case 0xc7:
        return this.readExt(this.readUint(1), depth);
      case 0xc8:
        return this.readExt(this.readUint(2), depth);
      case 0xc9:
        return this.readExt(this.readUint(4), depth);
      case 0xca:
        return this.readFloat32();
      case 0xcb:
        return this.readFloat64();
      case 0xcc:
        return this.readUint(1);
      case 0xcd:
        return this.readUint(2);
      case 0xce:
        return this.readUint(4);
      case 0xcf:
        this.need(8);
        this.pos += 8;
        return src.readBigUInt64BE(this.pos - 8);
      case 0xd0:
        this.need(1);
        return (src[this.pos++]! << 24) >> 24;
      case 0xd1:
        this.need(2);
        this.pos += 2;
        return ((src[this.pos - 2]! << 24) | (src[this.pos - 1]! << 16)) >> 16;
      case 0xd2:
        this.need(4);
        this.pos += 4;
        return (src[this.pos - 4]! << 24) | (src[this.pos - 3]! << 16) | (src[this.pos - 2]! << 8) | src[this.pos - 1]!;
      case 0xd3:
        this.need(8);
        this.pos += 8;
        return src.readBigInt64BE(this.pos - 8);
      case 0xd4:
        return this.readExt(1, depth);
      case 0xd5:
        return this.readExt(2, depth);
      case 0xd6:
        return this.readExt(4, depth);
      case 0xd7:
        return this.readExt(8, depth);
      case 0xd8:
        return this.readExt(16, depth);
      case 0xd9:
        return this.readString(this.readUint(1));
      case 0xda:
        return this.readString(this.readUint(2));
      case 0xdb:
        return this.readString(this.readUint(4));
      case 0xdc:
        return this.readArray(this.readUint(2), depth);
      case 0xdd:
        return this.readArray(this.readUint(4), depth);
      case 0xde:
        return this.readObject(this.readUint(2), depth);
      case 0xdf:
        return this.readObject(this.readUint(4), depth);
      default:
        throw new DeserializationError(`Invalid MessagePack byte 0x${token.toString(16)}.`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw truncated();
  }

  /** Big-endian unsigned integer of 1, 2 or 4 bytes. */
  private readUint(bytes: 1 | 2 | 4): number {
    const p = this.pos;
    if (p + bytes > this.end) throw truncated();
    const src = this.src;
    this.pos = p + bytes;
    if (bytes === 1) return src[p]!;
    if (bytes === 2) return (src[p]! << 8) | src[p + 1]!;
    return src[p]! * 0x1000000 + ((src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!);
  }

  private readFloat64(): number {
    this.need(8);
    const src = this.src;
    const p = this.pos;
    this.pos = p + 8;
    if (HOST_LITTLE_ENDIAN) {
      f64Bytes[0] = src[p + 7]!;
      f64Bytes[1] = src[p + 6]!;
      f64Bytes[2] = src[p + 5]!;
      f64Bytes[3] = src[p + 4]!;
      f64Bytes[4] = src[p + 3]!;
      f64Bytes[5] = src[p + 2]!;
      f64Bytes[6] = src[p + 1]!;
      f64Bytes[7] = src[p]!;
    } else {
      for (let i = 0; i < 8; i++) f64Bytes[i] = src[p + i]!;
    }
    return f64[0]!;
  }

  private readFloat32(): number {
    this.need(4);
    const src = this.src;
    const p = this.pos;
    this.pos = p + 4;
    for (let i = 0; i < 4; i++) f32Bytes[HOST_LITTLE_ENDIAN ? 3 - i : i] = src[p + i]!;
    return f32[0]!;
  }

  /**
   * A UTF-8 string of `length` bytes. Short ASCII strings (keys, small values) are built in JS from their bytes —
   * cheaper than the call into C++ and than a string cache (measured); the rest goes to Node's UTF-8 decoder.
   */
  private readString(length: number): string {
    const start = this.pos;
    const end = start + length;
    if (end > this.end) throw truncated();
    this.pos = end;
    if (length <= 16) {
      const s = shortAscii(this.src, start, length);
      if (s !== undefined) return s;
    }
    return utf8Slice.call(this.src, start, end);
  }

  /**
   * An object key of up to 16 bytes, from a small cache: a fresh string would have to be looked up in V8's string
   * table on every property store, while a cached one is internalized once (measured: ~25% of the decode time of a
   * small object). The slot comes from the length and a few bytes; a hit is confirmed byte by byte.
   */
  private readCachedKey(length: number): string {
    const start = this.pos;
    const end = start + length;
    if (end > this.end) throw truncated();
    const src = this.src;
    const slot =
      length === 0
        ? 0
        : ((length << 7) ^ (src[start]! << 5) ^ (src[end - 1]! << 1) ^ src[start + (length >> 1)]!) & KEY_CACHE_MASK;
    const cached = this.keys[slot];
    if (cached !== undefined && cached.length === length) {
      let i = 0;
      while (i < length && cached.charCodeAt(i) === src[start + i]) i++;
      if (i === length) {
        this.pos = end;
        return cached;
      }
    }
    const key = this.readString(length);
    // Only ASCII keys are cached: a match of char codes against bytes then means equal strings.
    if (key.length === length) this.keys[slot] = key;
    return key;
  }

  private readBin(length: number): Buffer {
    const start = this.pos;
    if (start + length > this.end) throw truncated();
    this.pos = start + length;
    if (!this.copyBuffers) return this.src.subarray(start, start + length);
    const copy = Buffer.allocUnsafe(length);
    copy.set(this.src.subarray(start, start + length));
    return copy;
  }

  private readArray(length: number, depth: number): unknown[] {
    if (depth >= this.maxDepth) throw tooDeep(this.maxDepth);
    // Every element takes at least one byte.
    if (length > this.end - this.pos || (this.budget -= length) < 0) throw truncated();
    const array = new Array(length);
    for (let i = 0; i < length; i++) array[i] = this.read(depth + 1);
    return array;
  }

  private readObject(size: number, depth: number): Record<string, unknown> {
    if (depth >= this.maxDepth) throw tooDeep(this.maxDepth);
    if (size * 2 > this.end - this.pos) throw truncated();
    const object: Record<string, unknown> = {};
    for (let i = 0; i < size; i++) {
      const key = this.readKey(depth + 1);
      const value = this.read(depth + 1);
      if (key === '__proto__') {
        // An assignment would set the prototype: keep it as data.
        defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        object[key] = value;
      }
    }
    return object;
  }

  /** An object key: a string (numbers from foreign encoders become their string form). */
  private readKey(depth: number): string {
    if (this.pos >= this.end) throw truncated();
    const token = this.src[this.pos]!;
    if (token >= 0xa0 && token < 0xb1) {
      this.pos++;
      return this.readCachedKey(token & 0x1f);
    }
    const key = this.read(depth);
    if (typeof key === 'string') return key;
    if (typeof key === 'number') return String(key);
    throw new DeserializationError(`Invalid object key of type ${typeof key}: an object's keys must be strings.`);
  }

  private readExt(length: number, depth: number): unknown {
    this.need(1);
    const type = this.src[this.pos++]!;
    const start = this.pos;
    const stop = start + length;
    if (stop > this.end) throw truncated();
    switch (type) {
      case EXT_UNDEFINED:
        this.pos = stop;
        return undefined;
      case EXT_TIMESTAMP:
        this.pos = stop;
        return this.readTimestamp(start, length);
      case EXT_TYPED:
        this.pos = stop;
        return this.readTyped(start, length);
      case EXT_BIGINT:
        this.pos = stop;
        return this.readBigInt(start, length);
      case EXT_UTF16:
        if (length % 2 !== 0) throw new DeserializationError('Invalid UTF-16 string extension (odd length).');
        this.pos = stop;
        return this.src.toString('utf16le', start, stop);
      case EXT_MAP:
      case EXT_SET:
      case EXT_ERROR:
      case EXT_CLASS:
      case EXT_REGEXP: {
        if (depth >= this.maxDepth) throw tooDeep(this.maxDepth);
        // The content must end exactly where the container says.
        const end = this.end;
        this.end = stop;
        let value: unknown;
        try {
          value = this.readContainer(type, depth + 1);
        } finally {
          this.end = end;
        }
        if (this.pos !== stop) throw new DeserializationError(`Extension ${type} has bytes after its content.`);
        return value;
      }
      default:
        throw new DeserializationError(`Unknown extension type ${type}.`);
    }
  }

  /** The content of a container extension; `depth` counts the container itself. */
  private readContainer(type: number, depth: number): unknown {
    switch (type) {
      case EXT_MAP: {
        const size = this.readCollectionHeader(0x80, 0xde, depth);
        if (size * 2 > this.end - this.pos) throw truncated();
        const map = new Map<unknown, unknown>();
        for (let i = 0; i < size; i++) {
          const key = this.read(depth + 1);
          map.set(key, this.read(depth + 1));
        }
        return map;
      }
      case EXT_SET: {
        const size = this.readCollectionHeader(0x90, 0xdc, depth);
        if (size > this.end - this.pos) throw truncated();
        const set = new Set<unknown>();
        for (let i = 0; i < size; i++) set.add(this.read(depth + 1));
        return set;
      }
      case EXT_REGEXP: {
        const content = this.read(depth);
        if (!Array.isArray(content) || typeof content[0] !== 'string' || typeof content[1] !== 'string') {
          throw new DeserializationError('Invalid RegExp extension.');
        }
        try {
          return new RegExp(content[0], content[1]);
        } catch (error) {
          throw new DeserializationError('Invalid RegExp extension.', { cause: error });
        }
      }
      case EXT_CLASS:
        return this.buildInstance(this.read(depth));
      default:
        return this.buildErrorChain(this.read(depth));
    }
  }

  /** The header of the map (`fix` 0x80, `wide` 0xde) or array (0x90, 0xdc) inside a Map or Set extension. */
  private readCollectionHeader(fix: number, wide: number, depth: number): number {
    if (depth >= this.maxDepth) throw tooDeep(this.maxDepth);
    this.need(1);
    const token = this.src[this.pos++]!;
    if (token >= fix && token < fix + 0x10) return token - fix;
    if (token === wide) return this.readUint(2);
    if (token === wide + 1) return this.readUint(4);
    throw new DeserializationError(`Invalid ${fix === 0x80 ? 'Map' : 'Set'} extension.`);
  }

  private readTimestamp(start: number, length: number): Date {
    const src = this.src;
    switch (length) {
      case 1:
        return new Date(Number.NaN);
      case 4:
        return new Date(u32(src, start) * 1000);
      case 8: {
        // 30 bits of nanoseconds, 34 bits of seconds
        const word = u32(src, start);
        const seconds = (word & 3) * 0x100000000 + u32(src, start + 4);
        return new Date(seconds * 1000 + Math.floor((word >>> 2) / 1e6));
      }
      case 12: {
        const nanos = u32(src, start);
        const high = (src[start + 4]! << 24) | (src[start + 5]! << 16) | (src[start + 6]! << 8) | src[start + 7]!;
        const seconds = high * 0x100000000 + u32(src, start + 8);
        return new Date(seconds * 1000 + Math.floor(nanos / 1e6));
      }
      default:
        throw new DeserializationError(`Invalid timestamp of ${length} bytes.`);
    }
  }

  private readTyped(start: number, length: number): ArrayBufferView | ArrayBuffer {
    if (length < 1) throw new DeserializationError('Invalid typed array extension.');
    const code = this.src[start]!;
    const bytes = length - 1;
    // Always a copy: the result must be aligned and must not alias the frame.
    const buffer = new ArrayBuffer(bytes);
    new Uint8Array(buffer).set(this.src.subarray(start + 1, start + length));
    if (code === TYPED_ARRAY_BUFFER) return buffer;
    if (code === TYPED_DATA_VIEW) return new DataView(buffer);
    const ctor = TYPED_ARRAY_CODES[code];
    if (ctor === undefined) throw new DeserializationError(`Unknown typed array code ${code}.`);
    if (bytes % ctor.BYTES_PER_ELEMENT !== 0) {
      throw new DeserializationError(`Invalid ${ctor.name}: ${bytes} bytes is not a whole number of elements.`);
    }
    if (!HOST_LITTLE_ENDIAN) swapBytes(new Uint8Array(buffer), 0, bytes, ctor.BYTES_PER_ELEMENT);
    return new ctor(buffer);
  }

  private readBigInt(start: number, length: number): bigint {
    if (length < 1) throw new DeserializationError('Invalid BigInt extension.');
    let value = BigInt(`0x${this.src.toString('hex', start, start + length)}`);
    if (this.src[start]! & 0x80) value -= 1n << BigInt(length * 8);
    return value;
  }

  /** `[name, data]` of a registered class. */
  private buildInstance(content: unknown): unknown {
    if (!Array.isArray(content) || content.length !== 2 || typeof content[0] !== 'string') {
      throw new DeserializationError('Invalid class extension.');
    }
    const name = content[0];
    const registration = this.host.classNamed(name);
    if (registration === undefined || registration.asError) {
      throw new DeserializationError(
        `Unknown class '${name}': register it with registerClass under the same name on both sides.`,
      );
    }
    const data: unknown = content[1];
    if (registration.fromData) {
      try {
        return registration.fromData(data);
      } catch (error) {
        throw new DeserializationError(`fromData of class '${name}' failed.`, { cause: error });
      }
    }
    if (typeof data !== 'object' || data === null || Object.getPrototypeOf(data) !== Object.prototype) {
      throw new DeserializationError(`Invalid data for class '${name}': expected its fields.`);
    }
    const instance = Object.create(registration.prototype) as object;
    assignFields(instance, data);
    return instance;
  }

  /**
   * `[part0, …, partN-1, tail]`: see the encoder's `writeError`. Built from the end, so that each error gets its
   * cause from its constructor, as a thrown one does; a cycle (tail `[1, i]`) is closed afterwards.
   */
  private buildErrorChain(content: unknown): Error {
    if (!Array.isArray(content) || content.length < 2) throw new DeserializationError('Invalid error extension.');
    const n = content.length - 1;
    const tail: unknown = content[n];
    if (!Array.isArray(tail)) throw new DeserializationError('Invalid error extension.');
    let cause: { cause: unknown } | undefined;
    let backReference = -1;
    if (tail.length === 2 && tail[0] === 0) {
      cause = { cause: tail[1] };
    } else if (tail.length === 2 && tail[0] === 1 && Number.isInteger(tail[1]) && tail[1] >= 0 && tail[1] < n) {
      backReference = tail[1] as number;
    } else if (tail.length !== 0) {
      throw new DeserializationError('Invalid error extension.');
    }
    const errors: Error[] = new Array(n);
    for (let i = n - 1; i >= 0; i--) {
      errors[i] = this.buildError(content[i], cause);
      cause = { cause: errors[i] };
    }
    if (backReference >= 0) defineProperty(errors[n - 1], 'cause', hidden(errors[backReference]));
    return errors[0]!;
  }

  /**
   * `[classKey, name, message, stack, fields, errors]` → a real error object (made by the native constructor, so
   * `util.types.isNativeError` holds) whose prototype is that of the class found under `classKey`: a class
   * registered as an error, a native error class, an RPC error class, else `Error` (keeping the original `name`).
   * Constructors of user classes do not run, so any constructor signature works.
   */
  private buildError(part: unknown, cause: { cause: unknown } | undefined): Error {
    if (!Array.isArray(part) || part.length !== 6) throw new DeserializationError('Invalid error extension.');
    const [classKey, rawName, rawMessage, rawStack, fields, errors] = part as unknown[];
    // These end up in log lines and messages (`${e.name}: ${e.message}`): an object from a peer there (say
    // `{ toString: 1 }`) would make that formatting throw. Objects become safe strings; primitives stay as sent.
    const name = printable(rawName);
    const message = printable(rawMessage);
    const stack = printable(rawStack);
    // Native and RPC error classes take (message, options): they are constructed as usual. A registered class may
    // take anything: the native constructor makes the object, with the class's prototype (its constructor never runs).
    let cls: Function = Error;
    let known = true;
    if (typeof classKey === 'string') {
      const registration = this.host.classNamed(classKey);
      if (registration?.asError) {
        cls = registration.ctor;
        known = false;
      } else {
        cls = NATIVE_ERRORS.get(classKey) ?? RPC_ERROR_CLASSES.get(classKey) ?? Error;
      }
    }
    const base = known ? cls : nativeBase(cls);
    const text = typeof message === 'string' ? message : undefined;
    const list = Array.isArray(errors) ? errors : [];
    // No stack trace of the decoder (capturing one costs most of the time): the sender's stack replaces it.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let error: Error;
    try {
      if (base === AggregateError) {
        error = known ? new AggregateError(list, text, cause) : Reflect.construct(base, [list, text, cause], cls);
      } else if (known) {
        error = new (cls as ErrorConstructor)(text, cause);
      } else {
        error = Reflect.construct(base, [text, cause], cls) as Error;
      }
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (message !== undefined && typeof message !== 'string') defineProperty(error, 'message', hidden(message));
    // An own enumerable `name` comes with the fields (and must keep its place among them).
    const nameIsField = fields !== null && typeof fields === 'object' && Object.hasOwn(fields, 'name');
    if (name !== error.name && !nameIsField) defineProperty(error, 'name', hidden(name));
    // `stack` is an own writable property of every native error: a plain assignment keeps it non-enumerable.
    if (stack === undefined) delete error.stack;
    else (error as { stack: unknown }).stack = stack;
    if (base !== AggregateError && Array.isArray(errors)) defineProperty(error, 'errors', hidden(errors));
    if (fields !== null && fields !== undefined) {
      if (typeof fields !== 'object' || Object.getPrototypeOf(fields) !== Object.prototype) {
        throw new DeserializationError('Invalid error extension.');
      }
      assignFields(error, fields);
    }
    return error;
  }
}

const EMPTY = Buffer.alloc(0);

/** Big-endian unsigned 32-bit integer at `p` (a plain function: a closure per call measured 7× slower). */
function u32(src: Buffer, p: number): number {
  return src[p]! * 0x1000000 + ((src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!);
}

/**
 * The string of `length` (≤ 16) ASCII bytes at `p`, or undefined when one of them is not ASCII. Unrolled, so that
 * `String.fromCharCode` gets its arguments directly (no array, no concatenation below 9 characters).
 */
function shortAscii(src: Buffer, p: number, length: number): string | undefined {
  if (length < 4) {
    if (length === 0) return '';
    const a = src[p]!;
    if (length === 1) return a < 0x80 ? fromCharCode(a) : undefined;
    const b = src[p + 1]!;
    if (length === 2) return (a | b) < 0x80 ? fromCharCode(a, b) : undefined;
    const c = src[p + 2]!;
    return (a | b | c) < 0x80 ? fromCharCode(a, b, c) : undefined;
  }
  if (length > 8) {
    const head = shortAscii(src, p, 8);
    if (head === undefined) return undefined;
    const rest = shortAscii(src, p + 8, length - 8);
    return rest === undefined ? undefined : head + rest;
  }
  const a = src[p]!;
  const b = src[p + 1]!;
  const c = src[p + 2]!;
  const d = src[p + 3]!;
  if ((a | b | c | d) >= 0x80) return undefined;
  if (length === 4) return fromCharCode(a, b, c, d);
  const e = src[p + 4]!;
  if (e >= 0x80) return undefined;
  if (length === 5) return fromCharCode(a, b, c, d, e);
  const f = src[p + 5]!;
  if (f >= 0x80) return undefined;
  if (length === 6) return fromCharCode(a, b, c, d, e, f);
  const g = src[p + 6]!;
  if (g >= 0x80) return undefined;
  if (length === 7) return fromCharCode(a, b, c, d, e, f, g);
  const h = src[p + 7]!;
  return h < 0x80 ? fromCharCode(a, b, c, d, e, f, g, h) : undefined;
}

/** A primitive as it is; an object as a string that cannot throw to produce. */
function printable(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  try {
    const s = String(value);
    if (typeof s === 'string') return s;
  } catch {
    // `toString`/`valueOf` that are not functions: fall back to the tag
  }
  return Object.prototype.toString.call(value);
}

/** A property as the Error constructor makes them: writable, configurable, not enumerable. */
function hidden(value: unknown): PropertyDescriptor {
  return { value, writable: true, enumerable: false, configurable: true };
}

/** Copies the own properties of decoded `fields` as own data properties (never through setters or `__proto__`). */
function assignFields(target: object, fields: object): void {
  for (const key of Object.keys(fields)) {
    defineProperty(target, key, {
      value: (fields as Record<string, unknown>)[key],
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
}
