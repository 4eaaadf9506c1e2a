/**
 * The value codec of the TCP transport: turns arguments, results and errors of RPCs into bytes and back.
 *
 * The format is standard MessagePack with a few extension types (documented in `wire.ts`): plain objects,
 * arrays, strings (lone surrogates included), every number (`-0`, NaN, ±Infinity), BigInt of any size, `null` and
 * `undefined` (distinct), `Map` (any keys), `Set`, `Date` (invalid ones too), `Buffer`, `Uint8Array` and every other
 * typed array, `DataView`, `ArrayBuffer`, `RegExp`, errors with name, message, stack, `cause` chain (cycles
 * included), own fields and `AggregateError.errors` — rebuilt as their own class when it is a native or RPC error
 * class or registered — and instances of registered classes.
 *
 * Anything else fails {@link ValueCodec.encode} with a {@link SerializationError} that names the path: functions,
 * symbols, instances of unregistered classes (a plain-object fallback would hand the receiver an object without its
 * methods, silently — Flink fails too), WeakMap/WeakSet/WeakRef, Promise, SharedArrayBuffer, boxed primitives,
 * cyclic structures and nesting deeper than `maxDepth`.
 *
 * ```ts
 * const codec = new ValueCodec();                      // one per RPC service
 * codec.registerClass(Point);                          // or registerClass(Point) for every codec of the process
 * const frame = codec.encode([target, method, args], 9);   // 9 free bytes for a binary frame header
 * frame.writeUInt32BE(frame.length - 4, 0);            // …which the caller fills in
 * const message = codec.decode(frame, 9);              // DeserializationError on garbage
 * ```
 *
 * For a transport:
 * - One `encode` produces a whole frame: header room (`reserve`) plus payload, in one buffer, one write.
 * - `encode` returns a view of a slab (up to 1 MiB, reused across calls): `byteOffset` is rarely 0 and `.buffer`
 *   holds other messages — never send or keep `.buffer` itself. The bytes of a returned view are never written
 *   again, so a view may wait in a write queue as long as needed; consecutive results are adjacent, so a
 *   transport can coalesce a tick's frames into one write without copying when nothing else was encoded in
 *   between. A frame that outgrows the slab gets a buffer of its own.
 * - `decode(frame, start, end)` reads a payload in place; with `copyBuffers: false` decoded Buffers are views of
 *   `frame`, which then must not be reused (a fresh buffer per frame, or a socket chunk, is fine).
 * - Failures: `encode` throws {@link SerializationError} (wrap it with {@link argumentSerializationMessage}),
 *   `decode` throws only {@link DeserializationError} for bad input. Nothing else is thrown for data.
 */

import { Decoder, type DecoderHost } from './decoder.js';
import { EncodeFailure, Encoder, type EncoderHost } from './encoder.js';
import { DeserializationError, SerializationError } from './errors.js';
import { type Class, type ClassOptions, ClassRegistry, globalClassRegistry, type Registration } from './registry.js';
import { DEFAULT_MAX_DEPTH } from './wire.js';

export {
  argumentSerializationMessage,
  DeserializationError,
  formatPath,
  type PathSegment,
  SerializationError,
} from './errors.js';
export {
  type Class,
  type ClassOptions,
  ClassRegistry,
  globalClassRegistry,
  NATIVE_ERRORS,
  registerClass,
} from './registry.js';
export { DEFAULT_MAX_DEPTH } from './wire.js';

/** Options of a {@link ValueCodec}; all optional. */
export interface ValueCodecOptions {
  /**
   * Deepest nesting of arrays, objects, maps, sets and other containers, on encode and on decode (default 512).
   * Deeper values fail to encode (a cycle is reported as such), deeper input fails to decode — long before the
   * stack would overflow.
   */
  readonly maxDepth?: number;
  /**
   * Decoded `Buffer`s (MessagePack `bin`) are copies (default true). With false they are views of the input: no
   * copy for big binaries, but the input must never be reused or changed afterwards, and a small view keeps the
   * whole input alive. Typed arrays and ArrayBuffers are always copies (alignment).
   */
  readonly copyBuffers?: boolean;
  /** Also use the process-wide registrations of {@link registerClass} (default true). */
  readonly useGlobalRegistry?: boolean;
}

/**
 * Encodes and decodes values for one RPC service. Calls are synchronous; a nested call (a `toData` that encodes, a
 * `fromData` that decodes) is detected and served by a spare encoder or decoder.
 */
export class ValueCodec implements EncoderHost, DecoderHost {
  /** This codec's own class registrations (consulted before the global ones). */
  readonly classes = new ClassRegistry();
  /** Nesting limit, see {@link ValueCodecOptions.maxDepth}. */
  readonly maxDepth: number;
  /** See {@link ValueCodecOptions.copyBuffers}. */
  readonly copyBuffers: boolean;
  private readonly useGlobal: boolean;
  private readonly encoder: Encoder;
  private readonly decoder: Decoder;
  private spare: Encoder | undefined;
  private spareReader: Decoder | undefined;

  constructor(options: ValueCodecOptions = {}) {
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 10_000) {
      throw new RangeError(`maxDepth must be an integer from 1 to 10000, not ${maxDepth}.`);
    }
    this.maxDepth = maxDepth;
    this.copyBuffers = options.copyBuffers ?? true;
    this.useGlobal = options.useGlobalRegistry ?? true;
    this.encoder = new Encoder(this, maxDepth);
    this.decoder = new Decoder(this, maxDepth, this.copyBuffers);
  }

  /**
   * Registers a class for this codec only (see {@link registerClass} for every codec of the process). Both sides
   * must register it under the same name. Returns this codec, for chaining.
   */
  registerClass<T>(ctor: Class<T>, options?: ClassOptions<T>): this {
    this.classes.register(ctor, options);
    return this;
  }

  /** @internal the registration of the class with exactly this prototype. */
  classFor(prototype: object): Registration | undefined {
    return (
      this.classes.forPrototype(prototype) ?? (this.useGlobal ? globalClassRegistry.forPrototype(prototype) : undefined)
    );
  }

  /** @internal the registration under a wire name. */
  classNamed(name: string): Registration | undefined {
    return this.classes.forName(name) ?? (this.useGlobal ? globalClassRegistry.forName(name) : undefined);
  }

  /**
   * Encodes one value (use an array to encode several, e.g. a frame's fields and its payload in one go).
   *
   * The result is a view into a slab shared with other results of this codec: its `byteOffset` is rarely 0 and its
   * `.buffer` holds other messages. It is never overwritten, so it may be kept, written to a socket, or joined with
   * the result of the next `encode` into one view without a copy.
   *
   * @param value the value
   * @param reserve bytes left free (uninitialized) at the start of the result, e.g. for a frame header
   * @throws SerializationError naming the path of the part that cannot be serialized
   */
  encode(value: unknown, reserve = 0): Buffer {
    if (!Number.isInteger(reserve) || reserve < 0 || reserve > 1024) {
      throw new RangeError(`reserve must be an integer from 0 to 1024, not ${reserve}.`);
    }
    const encoder = this.encoder.busy ? this.spareEncoder() : this.encoder;
    try {
      return encoder.encode(value, reserve);
    } catch (error) {
      throw error instanceof EncodeFailure ? this.toSerializationError(error) : error;
    }
  }

  /**
   * Decodes the one value in `bytes[start, end)`.
   * @throws DeserializationError when those bytes are not exactly one valid value (never anything else for bad input)
   */
  decode(bytes: Uint8Array, start = 0, end?: number): unknown {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('decode needs a Buffer or Uint8Array.');
    end ??= bytes.length;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > bytes.length) {
      throw new RangeError(`Invalid range [${start}, ${end}) of ${bytes.length} bytes.`);
    }
    const decoder = this.decoder.busy ? this.spareDecoder() : this.decoder;
    try {
      return decoder.decode(bytes, start, end);
    } catch (error) {
      if (error instanceof DeserializationError) throw error;
      // Defensive: a RangeError of the engine, say; the contract is one error class for bad input.
      throw new DeserializationError(`Invalid input: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Encodes and decodes `value`: a deep copy as a remote peer would see it. Flink's "force serialization" switch for
   * local calls uses this (and so fails a local call exactly where a remote one would fail).
   * @throws SerializationError as {@link encode}
   */
  roundTrip<T>(value: T): T {
    return this.decode(this.encode(value)) as T;
  }

  /**
   * What cannot be serialized in `value`, if anything: `value of type Function at args[1].callback`.
   * @param value the value to check (encoded for real, then dropped)
   * @param root the name of the root in the description
   */
  describeUnserializable(value: unknown, root = 'value'): string | undefined {
    try {
      this.encode(value);
      return undefined;
    } catch (error) {
      if (error instanceof SerializationError) return error.describe(root);
      throw error;
    }
  }

  /** An encoder for a nested `encode` (from a `toData` or a getter); one is kept, deeper nesting gets new ones. */
  private spareEncoder(): Encoder {
    if (this.spare === undefined || this.spare.busy) {
      const encoder = new Encoder(this, this.maxDepth);
      this.spare ??= encoder;
      return encoder;
    }
    return this.spare;
  }

  /** A decoder for a nested `decode` (from a `fromData`). */
  private spareDecoder(): Decoder {
    if (this.spareReader === undefined || this.spareReader.busy) {
      const decoder = new Decoder(this, this.maxDepth, this.copyBuffers);
      this.spareReader ??= decoder;
      return decoder;
    }
    return this.spareReader;
  }

  /** Turns the encoder's internal failure into the public error, finding the cycle when nesting ran too deep. */
  private toSerializationError(failure: EncodeFailure): SerializationError {
    const segments = failure.segments.slice().reverse();
    if (failure.reason !== undefined) {
      const options =
        failure.cause === undefined ? { hint: failure.hint } : { hint: failure.hint, cause: failure.cause };
      return new SerializationError(failure.reason, segments, options);
    }
    const containers = failure.containers.slice().reverse();
    const seen = new Map<unknown, number>();
    for (let j = 0; j < containers.length; j++) {
      const first = seen.get(containers[j]);
      if (first !== undefined) {
        return new SerializationError('a cyclic structure', segments.slice(0, j), { backTo: segments.slice(0, first) });
      }
      seen.set(containers[j], j);
    }
    return new SerializationError(`nesting deeper than ${this.maxDepth} levels`, segments);
  }
}
