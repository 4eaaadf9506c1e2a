/**
 * The value codec of the TCP transport: what round-trips faithfully (each type would fail its spec if it were lost),
 * how errors arrive, registration of user classes, what cannot be serialized and how that is reported, and that
 * untrusted bytes only ever produce a DeserializationError.
 */

import { isNativeError } from 'node:util/types';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { globalClassRegistry } from '../../src/codec/registry.js';
import {
  argumentSerializationMessage,
  ClassRegistry,
  DeserializationError,
  registerClass,
  SerializationError,
  ValueCodec,
} from '../../src/codec/ValueCodec.js';
import {
  RecipientUnreachableException,
  RPC_ERROR_CLASSES,
  RpcException,
  RpcTimeoutException,
} from '../../src/rpc/errors.js';
import { difference } from './codec-equality.js';

const codec = new ValueCodec();

/** Encodes and decodes with `c`, and fails with the first difference. */
function expectRoundTrip<T>(value: T, c: ValueCodec = codec): T {
  const decoded = c.decode(c.encode(value)) as T;
  expect(difference(value, decoded)).toBeUndefined();
  return decoded;
}

function serializationError(value: unknown, c: ValueCodec = codec): SerializationError {
  try {
    c.encode(value);
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError);
    return error as SerializationError;
  }
  throw new Error('encode did not fail');
}

function deserializationError(bytes: Uint8Array, c: ValueCodec = codec): DeserializationError {
  try {
    c.decode(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(DeserializationError);
    return error as DeserializationError;
  }
  throw new Error('decode did not fail');
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('round trips: primitives', () => {
  it('numbers keep their exact value, -0, NaN and ±Infinity included', () => {
    const numbers = [
      0,
      -0,
      1,
      31,
      32,
      127,
      128,
      255,
      256,
      65_535,
      65_536,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 53,
      -1,
      -31,
      -32,
      -33,
      -128,
      -129,
      -32_768,
      -32_769,
      -(2 ** 31),
      -(2 ** 31) - 1,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      0.5,
      -1.5,
      Math.PI,
      1e308,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      -Number.MIN_VALUE,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.EPSILON,
    ];
    for (const n of numbers) expect(Object.is(codec.roundTrip(n), n)).toBe(true);
    expectRoundTrip(numbers);
  });

  it('-0 is a float (not the integer 0) on the wire', () => {
    expect(codec.encode(-0)).toEqual(hex('cb 8000000000000000'));
    expect(codec.encode(0)).toEqual(hex('00'));
  });

  it('integers use the smallest MessagePack family', () => {
    expect(codec.encode(127)).toEqual(hex('7f'));
    expect(codec.encode(-32)).toEqual(hex('e0'));
    expect(codec.encode(200)).toEqual(hex('cc c8'));
    expect(codec.encode(-100)).toEqual(hex('d0 9c'));
    expect(codec.encode(70_000)).toEqual(hex('ce 00011170'));
    expect(codec.encode(-40_000)).toEqual(hex('d2 ffff63c0'));
  });

  it('booleans, null and undefined are distinct', () => {
    expect(codec.roundTrip(true)).toBe(true);
    expect(codec.roundTrip(false)).toBe(false);
    expect(codec.roundTrip(null)).toBe(null);
    expect(codec.roundTrip(undefined)).toBe(undefined);
    expect(codec.encode(undefined)).toEqual(hex('d4 00 00'));
  });

  it('null and undefined stay distinct inside arrays and as property values; an undefined property is kept', () => {
    const decoded = expectRoundTrip({ a: undefined, b: null, list: [undefined, null, undefined] });
    expect(Object.keys(decoded)).toEqual(['a', 'b', 'list']);
    expect('a' in decoded).toBe(true);
    expect(decoded.list[0]).toBeUndefined();
    expect(decoded.list[1]).toBeNull();
  });

  it('strings of every length class and script', () => {
    const strings = [
      '',
      'a',
      'x'.repeat(31),
      'x'.repeat(32),
      'x'.repeat(63),
      'x'.repeat(64),
      'x'.repeat(255),
      'x'.repeat(256),
      'x'.repeat(65_535),
      'x'.repeat(65_536),
      'x'.repeat(100_000),
      'héllo wörld',
      'ä'.repeat(20), // 20 units, 40 bytes: the header must widen from fixstr to str 8
      'ä'.repeat(63),
      '€'.repeat(100), // 300 bytes from 100 units: str 8 → str 16
      '日本語のテキスト'.repeat(600), // > 4096 units: measured exactly
      '😀 emoji 🎉 and 𝄞',
      '😀'.repeat(40),
      'replacement \uFFFD is legal',
      '\uFFFD'.repeat(100),
      '\u0000 nul and \u007f del',
    ];
    for (const s of strings) expect(codec.roundTrip(s)).toBe(s);
  });

  it('strings with lone surrogates keep them (sent as UTF-16 units)', () => {
    const strings = [
      '\uD800',
      '\uDC00',
      'a\uD83Db',
      'x\uDE00y',
      '😀\uD83D', // a pair, then a lone high surrogate
      '\uDE00😀',
      `${'y'.repeat(100)}\uD800`, // long string
      `${'€'.repeat(5000)}\uDFFF`, // long two-byte string
      `\uFFFD${'z'.repeat(80)}\uD801`, // a legal U+FFFD next to a lone surrogate
    ];
    for (const s of strings) expect(codec.roundTrip(s)).toBe(s);
    expectRoundTrip(Object.fromEntries([['key\uD800', 'value\uDC00']]));
  });

  it('BigInt of any size and sign', () => {
    const values = [
      0n,
      1n,
      -1n,
      127n,
      128n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 63n,
      2n ** 64n - 1n,
      2n ** 64n,
      -(2n ** 63n) - 1n,
      -(2n ** 64n),
      2n ** 71n,
      2n ** 72n - 1n,
      -(2n ** 71n),
      -(2n ** 71n) - 1n,
      2n ** 100n,
      -(2n ** 100n) + 7n,
      2n ** 5000n + 12345n,
      -(3n ** 3000n),
    ];
    for (const v of values) expect(codec.roundTrip(v)).toBe(v);
    expect(codec.encode(1n)).toEqual(hex('d3 0000000000000001'));
    expect(codec.encode(2n ** 64n - 1n)).toEqual(hex('cf ffffffffffffffff'));
  });
});

describe('round trips: structures', () => {
  it('plain objects and arrays, nested, with their key order', () => {
    expectRoundTrip({ id: 42, name: 'task-7', tags: ['a', 'b'], nested: { ok: true, score: 0.5, deeper: [[[1]]] } });
    expectRoundTrip({ z: 1, a: 2, m: 3, 10: 'n', 2: 'm' });
    expectRoundTrip([]);
    expectRoundTrip({});
    expectRoundTrip([[], {}, [{}], { a: [] }]);
  });

  it('objects with 15, 16, 17 and 70 000 keys (the map header widens)', () => {
    for (const n of [15, 16, 17, 70_000]) {
      const object = Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i % 3 === 0 ? { i } : i]));
      expectRoundTrip(object);
    }
  });

  it('arrays of 15, 16, 70 000 elements', () => {
    for (const n of [15, 16, 70_000]) expectRoundTrip(Array.from({ length: n }, (_, i) => i));
  });

  it('array holes arrive as undefined', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    const decoded = codec.roundTrip([1, , 3]) as unknown[];
    expect(decoded).toHaveLength(3);
    expect(1 in decoded).toBe(true);
    expect(decoded[1]).toBeUndefined();
  });

  it('a null-prototype object arrives as a plain object with the same properties', () => {
    const object = Object.assign(Object.create(null), { a: 1, b: [2] });
    const decoded = codec.roundTrip(object) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded).toEqual({ a: 1, b: [2] });
  });

  it('objects, arrays and errors made in another realm (node:vm) are plain data too', async () => {
    const vm = await import('node:vm');
    const foreign = vm.runInNewContext('({ list: [1, { a: "x" }], error: new TypeError("vm") })');
    expect(Object.getPrototypeOf(foreign)).not.toBe(Object.prototype);
    const decoded = codec.roundTrip(foreign) as { list: unknown[]; error: Error; date: unknown };
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded.list).toEqual([1, { a: 'x' }]);
    expect(decoded.error.message).toBe('vm');
    expect(decoded.error).toBeInstanceOf(Error);
    // other built-ins of that realm are not recognized: a clear error, not a silent plain object
    expect(serializationError(vm.runInNewContext('({ date: new Date(5) })')).path).toBe('.date');
    // a user class that happens to be called Object is still a class
    const NamedObject = { Object: class {} }.Object;
    expect(NamedObject.name).toBe('Object');
    expect(serializationError(new NamedObject()).reason).toBe('an instance of unregistered class Object');
  });

  it('keys that are also Object.prototype members are plain data', () => {
    const decoded = expectRoundTrip({ constructor: 'c', toString: 1, hasOwnProperty: null, valueOf: [1] });
    expect(decoded.constructor).toBe('c');
  });

  it('an own __proto__ key is kept as data and never becomes the prototype', () => {
    const object = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const decoded = expectRoundTrip(object);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.hasOwn(decoded, '__proto__')).toBe(true);
    expect((decoded as { polluted?: boolean }).polluted).toBeUndefined();
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('Map with keys of any type, in order, nested', () => {
    const objectKey = { id: 1 };
    const map = new Map<unknown, unknown>([
      ['s', 1],
      [1, 'one'],
      [objectKey, [1, 2]],
      [null, 'null'],
      [undefined, 'undefined'],
      [Number.NaN, 'nan'],
      [true, false],
      [10n, 'big'],
      [new Date(0), 'date'],
      [new Map([[1, 2]]), new Set([3])],
    ]);
    const decoded = expectRoundTrip(map);
    expect(decoded).toBeInstanceOf(Map);
    expect(decoded.get(null)).toBe('null');
    expect(decoded.get(undefined)).toBe('undefined');
    expect(decoded.get(Number.NaN)).toBe('nan');
    expect(expectRoundTrip(new Map())).toBeInstanceOf(Map);
    expectRoundTrip(new Map(Array.from({ length: 100 }, (_, i) => [i, `v${i}`])));
    expectRoundTrip({ m: new Map([['a', { b: new Map([['c', 1]]) }]]) });
  });

  it('a Map is not a plain object and a plain object is not a Map', () => {
    expect(codec.roundTrip(new Map([['a', 1]]))).toBeInstanceOf(Map);
    expect(codec.roundTrip({ a: 1 })).not.toBeInstanceOf(Map);
  });

  it('Set, in order, nested', () => {
    const decoded = expectRoundTrip(new Set<unknown>([1, 'two', { three: 3 }, [4], null, undefined, new Set([5])]));
    expect(decoded).toBeInstanceOf(Set);
    expectRoundTrip(new Set());
    expectRoundTrip(new Set(Array.from({ length: 40 }, (_, i) => i)));
  });

  it('Date: every timestamp form, before 1970, far future, fractions of seconds, invalid', () => {
    const dates = [
      new Date(0),
      new Date(1_700_000_000_000), // timestamp 32
      new Date(1_700_000_000_123), // timestamp 64
      new Date(-1), // timestamp 96
      new Date(-1500),
      new Date(-62_135_596_800_000), // year 1
      new Date(Date.UTC(2200, 0, 1, 0, 0, 0, 1)), // beyond 32-bit seconds
      new Date(Date.UTC(3000, 5, 1)), // beyond 34-bit seconds
      new Date(8.64e15), // the last valid date
      new Date(-8.64e15),
      new Date(Number.NaN),
    ];
    for (const date of dates) {
      const decoded = codec.roundTrip(date);
      expect(decoded).toBeInstanceOf(Date);
      expect(Object.is(decoded.getTime(), date.getTime())).toBe(true);
    }
  });

  it('RegExp with its flags', () => {
    for (const re of [/a+b/, /x/gimsuy, /[\u{1F600}]/u, /a\/b/d]) {
      const decoded = codec.roundTrip(re);
      expect(decoded).toBeInstanceOf(RegExp);
      expect(decoded.source).toBe(re.source);
      expect(decoded.flags).toBe(re.flags);
    }
  });
});

describe('round trips: binary', () => {
  it('a Buffer arrives as a Buffer; empty, small, 1 MiB', () => {
    for (const size of [0, 1, 255, 256, 65_535, 65_536, 1 << 20]) {
      const buffer = Buffer.alloc(size, size % 251);
      const decoded = codec.roundTrip(buffer);
      expect(Buffer.isBuffer(decoded)).toBe(true);
      expect(decoded.equals(buffer)).toBe(true);
    }
  });

  it('a Buffer that is a view of a larger buffer sends only its own bytes', () => {
    const whole = Buffer.from('0123456789');
    const decoded = codec.roundTrip(whole.subarray(3, 6));
    expect(decoded.toString()).toBe('345');
  });

  it('a Uint8Array stays a Uint8Array (not a Buffer)', () => {
    const decoded = expectRoundTrip(new Uint8Array([1, 2, 3]));
    expect(Buffer.isBuffer(decoded)).toBe(false);
    expect(Object.getPrototypeOf(decoded)).toBe(Uint8Array.prototype);
  });

  it('every typed array keeps its type and contents, views keep only their window', () => {
    const backing = new ArrayBuffer(64);
    new Uint8Array(backing).forEach((_, i, a) => {
      a[i] = i * 7;
    });
    const arrays: ArrayBufferView[] = [
      new Int8Array([-128, 0, 127]),
      new Uint8ClampedArray([0, 255]),
      new Int16Array([-32_768, 32_767]),
      new Uint16Array([0, 65_535]),
      new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
      new Uint32Array([0, 2 ** 32 - 1]),
      new Float32Array([1.5, -0, Number.NaN, Number.POSITIVE_INFINITY]),
      new Float64Array([Math.PI, -0, Number.NaN, Number.NEGATIVE_INFINITY, Number.MIN_VALUE]),
      new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
      new BigUint64Array([0n, 2n ** 64n - 1n]),
      new Int32Array(backing, 4, 3), // byteOffset 4
      new Float64Array(backing, 8, 2),
      new Uint16Array(backing, 2, 5),
      new Float32Array(0),
    ];
    for (const array of arrays) {
      const decoded = expectRoundTrip(array);
      expect(decoded.constructor).toBe(array.constructor);
      expect(decoded.byteLength).toBe(array.byteLength);
    }
    const view = new Float64Array(backing, 8, 2);
    expect([...(codec.roundTrip(view) as Float64Array)]).toEqual([...view]);
  });

  it('ArrayBuffer and DataView (with offset)', () => {
    const buffer = new Uint8Array([9, 8, 7, 6]).buffer;
    const decoded = expectRoundTrip(buffer);
    expect(decoded).toBeInstanceOf(ArrayBuffer);
    const view = new DataView(buffer, 1, 2);
    const decodedView = expectRoundTrip(view);
    expect(decodedView).toBeInstanceOf(DataView);
    expect(decodedView.getUint8(0)).toBe(8);
    expect(decodedView.byteLength).toBe(2);
  });

  it('decoded binaries are copies by default, and views of the input with copyBuffers: false', () => {
    const bytes = codec.encode({ b: Buffer.from('abc') });
    const copied = codec.decode(bytes) as { b: Buffer };
    expect(copied.b.buffer).not.toBe(bytes.buffer);
    const viewing = new ValueCodec({ copyBuffers: false });
    const viewed = viewing.decode(bytes) as { b: Buffer };
    expect(viewed.b.buffer).toBe(bytes.buffer);
    expect(viewed.b.toString()).toBe('abc');
  });
});

describe('round trips: errors', () => {
  it('native error classes are rebuilt as themselves, with name, message and stack', () => {
    const errors = [
      new Error('e'),
      new TypeError('t'),
      new RangeError('r'),
      new SyntaxError('s'),
      new ReferenceError('ref'),
      new EvalError('ev'),
      new URIError('u'),
    ];
    for (const error of errors) {
      const decoded = expectRoundTrip(error);
      expect(decoded).toBeInstanceOf(error.constructor);
      expect(decoded.name).toBe(error.name);
      expect(decoded.message).toBe(error.message);
      expect(decoded.stack).toBe(error.stack);
      expect(isNativeError(decoded)).toBe(true);
      expect(Object.keys(decoded)).toEqual([]);
    }
  });

  it('every RPC error class is rebuilt as itself (instanceof works remotely)', () => {
    expect(RPC_ERROR_CLASSES.size).toBeGreaterThan(5);
    for (const [name, cls] of RPC_ERROR_CLASSES) {
      const error = new cls(`${name} happened`, { cause: new Error('because') });
      const decoded = expectRoundTrip(error);
      expect(decoded).toBeInstanceOf(cls);
      expect(decoded).toBeInstanceOf(RpcException);
      expect(decoded.name).toBe(name);
      expect(decoded.message).toBe(`${name} happened`);
      expect((decoded.cause as Error).message).toBe('because');
    }
  });

  it('a cause chain of errors and a final non-error cause', () => {
    const root = new RpcTimeoutException('outer', {
      cause: new TypeError('middle', { cause: new RangeError('inner', { cause: { code: 7, list: [1] } }) }),
    });
    const decoded = expectRoundTrip(root);
    const middle = decoded.cause as TypeError;
    expect(middle).toBeInstanceOf(TypeError);
    const inner = middle.cause as RangeError;
    expect(inner).toBeInstanceOf(RangeError);
    expect(inner.cause).toEqual({ code: 7, list: [1] });
  });

  it('cause present but undefined or null is kept, an absent cause stays absent', () => {
    const undefinedCause = codec.roundTrip(new Error('x', { cause: undefined }));
    expect('cause' in undefinedCause).toBe(true);
    expect(undefinedCause.cause).toBeUndefined();
    expect(codec.roundTrip(new Error('x', { cause: null })).cause).toBeNull();
    expect('cause' in codec.roundTrip(new Error('x'))).toBe(false);
  });

  it('a cause that is a string, a number or any value', () => {
    for (const cause of ['text', 42, [1, 2], new Map([[1, 2]]), 10n]) {
      expectRoundTrip(new Error('x', { cause }));
    }
  });

  it('cycles in the cause chain are preserved and do not hang', () => {
    const a = new Error('a');
    const b = new TypeError('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const decoded = codec.roundTrip(a);
    expect((decoded.cause as Error).message).toBe('b');
    expect((decoded.cause as Error).cause).toBe(decoded);

    const self = new Error('self');
    (self as { cause?: unknown }).cause = self;
    const decodedSelf = codec.roundTrip(self);
    expect(decodedSelf.cause).toBe(decodedSelf);
  });

  it('a long cause chain (beyond the nesting limit) is fine: the chain is flat on the wire', () => {
    let error = new Error('0');
    for (let i = 1; i < 2_000; i++) error = new Error(String(i), { cause: error });
    const decoded = codec.roundTrip(error);
    let depth = 0;
    for (let e: unknown = decoded, o: unknown = error; e instanceof Error; e = e.cause, o = (o as Error).cause) {
      expect(e.message).toBe((o as Error).message);
      expect(e.stack).toBe((o as Error).stack);
      depth++;
    }
    expect(depth).toBe(2_000);
  });

  it('own enumerable fields travel (code, errno, nested values, errors as values)', () => {
    const error = Object.assign(new Error('with fields'), {
      code: 'E_FAIL',
      errno: -2,
      details: { path: '/x', attempts: [1, 2] },
      related: new RangeError('related'),
    });
    const decoded = expectRoundTrip(error);
    expect(decoded.code).toBe('E_FAIL');
    expect(decoded.related).toBeInstanceOf(RangeError);
  });

  it('a Node system error (own code, errno, syscall) keeps its fields', async () => {
    const { promises } = await import('node:fs');
    const error = (await promises.readFile('/definitely/not/here').then(
      () => new Error('unexpected'),
      (e: unknown) => e,
    )) as NodeJS.ErrnoException;
    const decoded = expectRoundTrip(error);
    expect(decoded.code).toBe('ENOENT');
    expect(decoded.syscall).toBe('open');
  });

  it('AggregateError keeps its errors', () => {
    const error = new AggregateError([new Error('one'), new TypeError('two'), 'three'], 'many', {
      cause: new Error('why'),
    });
    const decoded = expectRoundTrip(error);
    expect(decoded).toBeInstanceOf(AggregateError);
    expect(decoded.errors).toHaveLength(3);
    expect(decoded.errors[1]).toBeInstanceOf(TypeError);
    expect(Object.keys(decoded)).toEqual([]);
  });

  it('an unknown error class arrives as an Error with the original name', () => {
    class JobFailedError extends Error {
      override name = 'JobFailedError';
    }
    const decoded = codec.roundTrip(new JobFailedError('job 7 failed'));
    expect(Object.getPrototypeOf(decoded)).toBe(Error.prototype);
    expect(decoded.name).toBe('JobFailedError');
    expect(decoded.message).toBe('job 7 failed');
    expect(Object.keys(decoded)).toEqual(['name']); // an own enumerable name (a class field) stays one
    class NamedOnPrototype extends Error {}
    NamedOnPrototype.prototype.name = 'NamedOnPrototype';
    const fromPrototype = codec.roundTrip(new NamedOnPrototype('x'));
    expect(fromPrototype.name).toBe('NamedOnPrototype');
    expect(Object.keys(fromPrototype)).toEqual([]);
  });

  it('an unknown subclass of a known class arrives as the nearest known class, with its name', () => {
    class SlotTimeout extends RpcTimeoutException {
      constructor(message: string) {
        super(message);
        Object.defineProperty(this, 'name', { value: 'SlotTimeout' });
      }
    }
    const decoded = codec.roundTrip(new SlotTimeout('no slot'));
    expect(Object.getPrototypeOf(decoded)).toBe(RpcTimeoutException.prototype);
    expect(decoded.name).toBe('SlotTimeout');
    class Bad extends TypeError {}
    expect(Object.getPrototypeOf(codec.roundTrip(new Bad('x')))).toBe(TypeError.prototype);
  });

  it('an error without message or stack stays without them', () => {
    const error = new Error();
    delete (error as { stack?: string }).stack;
    const decoded = codec.roundTrip(error);
    expect(Object.hasOwn(decoded, 'message')).toBe(false);
    expect(decoded.message).toBe('');
    expect(decoded.stack).toBeUndefined();
  });

  it('odd but legal: a non-string message, an own name on a known class', () => {
    const error = new RangeError('x');
    (error as { message: unknown }).message = 42;
    error.name = 'Custom';
    const decoded = codec.roundTrip(error);
    expect(decoded).toBeInstanceOf(RangeError);
    expect(decoded.message).toBe(42);
    expect(decoded.name).toBe('Custom');
  });

  it('an error whose stack cannot be formatted (a name V8 cannot print) still travels, without its stack', () => {
    const error = new Error('odd');
    Object.defineProperty(error, 'name', { value: Object.create(null), enumerable: false });
    expect(() => error.stack).toThrow(TypeError);
    const decoded = codec.roundTrip(error);
    expect(decoded.message).toBe('odd');
    expect(Object.hasOwn(decoded, 'stack')).toBe(false);
  });

  it('errors inside other values', () => {
    expectRoundTrip({
      failures: [new Error('a'), new RecipientUnreachableException('b')],
      map: new Map([[1, new Error('c')]]),
    });
  });

  it('the decoder does not add its own stack frames', () => {
    const error = new Error('remote');
    error.stack = 'Error: remote\n    at remoteFunction (remote.js:1:1)';
    expect(codec.roundTrip(error).stack).toBe(error.stack);
  });
});

describe('user classes by registration', () => {
  class Point {
    constructor(
      public x: number,
      public y: number,
    ) {}
    length(): number {
      return Math.hypot(this.x, this.y);
    }
  }

  class Money {
    static constructed = 0;
    readonly #cents: bigint;
    constructor(cents: bigint) {
      this.#cents = cents;
      Money.constructed++;
    }
    get cents(): bigint {
      return this.#cents;
    }
  }

  it('default registration: own fields, same class on the other side, no constructor call', () => {
    const sender = new ValueCodec({ useGlobalRegistry: false }).registerClass(Point);
    const receiver = new ValueCodec({ useGlobalRegistry: false }).registerClass(Point);
    const decoded = receiver.decode(sender.encode({ where: new Point(3, 4), list: [new Point(0, 1)] })) as {
      where: Point;
      list: Point[];
    };
    expect(decoded.where).toBeInstanceOf(Point);
    expect(decoded.where.length()).toBe(5);
    expect(decoded.list[0]).toBeInstanceOf(Point);
    expect(difference(new Point(3, 4), decoded.where)).toBeUndefined();
  });

  it('toData / fromData for classes with private state', () => {
    const c = new ValueCodec({ useGlobalRegistry: false }).registerClass(Money, {
      name: 'Money',
      toData: (m) => m.cents,
      fromData: (cents: bigint) => new Money(cents),
    });
    const before = Money.constructed;
    const decoded = c.roundTrip([new Money(1234n)])[0]!;
    expect(decoded).toBeInstanceOf(Money);
    expect(decoded.cents).toBe(1234n);
    expect(Money.constructed).toBe(before + 2);
  });

  it('both sides may use different classes under one name (the wire name is the contract)', () => {
    class PointV1 {
      x = 1;
    }
    class PointV2 {
      x = 0;
      describe() {
        return `x=${this.x}`;
      }
    }
    const sender = new ValueCodec({ useGlobalRegistry: false }).registerClass(PointV1, { name: 'geo.Point' });
    const receiver = new ValueCodec({ useGlobalRegistry: false }).registerClass(PointV2, { name: 'geo.Point' });
    const decoded = receiver.decode(sender.encode(new PointV1())) as PointV2;
    expect(decoded).toBeInstanceOf(PointV2);
    expect(decoded.describe()).toBe('x=1');
  });

  it('a class registered on one side only fails to decode on the other with a DeserializationError', () => {
    const sender = new ValueCodec({ useGlobalRegistry: false }).registerClass(Point);
    const receiver = new ValueCodec({ useGlobalRegistry: false });
    const error = deserializationError(sender.encode(new Point(1, 2)), receiver);
    expect(error.message).toContain("Unknown class 'Point'");
  });

  it('registrations are per codec; registerClass() registers for every codec of the process', () => {
    class Local {
      v = 1;
    }
    class Everywhere {
      v = 2;
    }
    const a = new ValueCodec().registerClass(Local);
    const b = new ValueCodec();
    expect(a.roundTrip(new Local())).toBeInstanceOf(Local);
    expect(serializationError(new Local(), b).message).toContain('unregistered class Local');
    registerClass(Everywhere);
    try {
      expect(a.roundTrip(new Everywhere())).toBeInstanceOf(Everywhere);
      expect(b.roundTrip(new Everywhere())).toBeInstanceOf(Everywhere);
      const isolated = new ValueCodec({ useGlobalRegistry: false });
      expect(serializationError(new Everywhere(), isolated).reason).toBe(
        'an instance of unregistered class Everywhere',
      );
    } finally {
      globalClassRegistry.unregister(Everywhere);
    }
  });

  it('a registered Error subclass arrives as itself, with message, stack, cause and fields', () => {
    class QuotaExceeded extends Error {
      override name = 'QuotaExceeded';
      constructor(
        readonly quota: number,
        options?: ErrorOptions,
      ) {
        super(`quota ${quota} exceeded`, options);
      }
    }
    const c = new ValueCodec({ useGlobalRegistry: false }).registerClass(QuotaExceeded);
    const error = new QuotaExceeded(10, { cause: new Error('too many jobs') });
    const decoded = expectRoundTrip(error, c);
    expect(decoded).toBeInstanceOf(QuotaExceeded);
    expect(decoded.quota).toBe(10);
    expect(isNativeError(decoded)).toBe(true);
  });

  it('fields of an instance are data: setters and __proto__ are not triggered', () => {
    class Guarded {
      declare value: unknown;
    }
    let setterCalls = 0;
    Object.defineProperty(Guarded.prototype, 'value', {
      set() {
        setterCalls++;
      },
      get() {
        return 'from prototype';
      },
      configurable: true,
    });
    const sender = new ValueCodec({ useGlobalRegistry: false }).registerClass(Guarded, {
      toData: () => JSON.parse('{"value": 1, "__proto__": {"evil": true}}'),
    });
    const receiver = new ValueCodec({ useGlobalRegistry: false }).registerClass(Guarded);
    const decoded = receiver.decode(sender.encode(new Guarded())) as Guarded & { evil?: boolean };
    expect(setterCalls).toBe(0);
    expect(Object.getOwnPropertyDescriptor(decoded, 'value')?.value).toBe(1);
    expect(Object.getPrototypeOf(decoded)).toBe(Guarded.prototype);
    expect(decoded.evil).toBeUndefined();
  });

  it('registration is validated', () => {
    const registry = new ClassRegistry();
    class A {}
    class B {}
    registry.register(A, { name: 'same' });
    registry.register(A, { name: 'same' }); // idempotent
    expect(() => registry.register(B, { name: 'same' })).toThrow(/already registered/);
    expect(() => registry.register(Map)).toThrow(/built-in/);
    expect(() => registry.register(RpcException)).toThrow(/built-in/);
    class TypeErrorLike extends Error {}
    expect(() => registry.register(TypeErrorLike, { name: 'TypeError' })).toThrow(/built-in error class/);
    expect(() => registry.register((() => {}) as never)).toThrow(/not a class/);
    expect(() => registry.register(class {}, { name: '' })).toThrow(/non-empty name/);
  });

  it('fromData that throws is a DeserializationError with the cause', () => {
    class Fragile {}
    const sender = new ValueCodec({ useGlobalRegistry: false }).registerClass(Fragile);
    const receiver = new ValueCodec({ useGlobalRegistry: false }).registerClass(Fragile, {
      fromData: () => {
        throw new Error('corrupt');
      },
    });
    const error = deserializationError(sender.encode(new Fragile()), receiver);
    expect((error.cause as Error).message).toBe('corrupt');
  });

  it('toData and fromData may use the codec themselves (re-entrant use is safe)', () => {
    class Wrapped {
      constructor(readonly inner: unknown) {}
    }
    const c: ValueCodec = new ValueCodec({ useGlobalRegistry: false }).registerClass(Wrapped, {
      toData: (w) => c.encode(w.inner),
      fromData: (bytes: Buffer) => new Wrapped(c.decode(bytes)),
    });
    const decoded = c.roundTrip({ before: 'x', w: new Wrapped({ deep: [1, new Map([[1, 2]])] }), after: 'y' });
    expect(decoded.w).toBeInstanceOf(Wrapped);
    expect(difference({ deep: [1, new Map([[1, 2]])] }, decoded.w.inner)).toBeUndefined();
    expect(decoded.after).toBe('y');
  });
});

describe('values that cannot be serialized', () => {
  it('a function, with the path to it', () => {
    const error = serializationError([1, { callback: () => 1 }]);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('Cannot serialize value of type Function at value[1].callback');
    expect(error.reason).toBe('value of type Function');
    expect(error.path).toBe('[1].callback');
    expect(error.segments).toEqual([1, 'callback']);
    expect(error.describe('args')).toBe('value of type Function at args[1].callback');
  });

  it('the message the transport sends for an argument (Flink: "Could not serialize 1th argument …")', () => {
    const error = serializationError(['ok', { callback: () => 1 }]);
    expect(argumentSerializationMessage('HelloGateway.hello', error)).toBe(
      'Could not serialize argument 1 of method HelloGateway.hello: value of type Function at args[1].callback',
    );
    const envelope = serializationError(['token', ['ok', Symbol('s')]]);
    expect(argumentSerializationMessage('G.m', envelope, [1])).toBe(
      'Could not serialize argument 1 of method G.m: value of type Symbol at args[1]',
    );
    expect(argumentSerializationMessage('G.m', new Error('other'))).toBe(
      'Could not serialize the arguments of method G.m: other',
    );
  });

  it('a symbol, a WeakMap, a WeakSet, a Promise, a SharedArrayBuffer, a boxed primitive', () => {
    expect(serializationError({ s: Symbol('x') }).message).toBe('Cannot serialize value of type Symbol at value.s');
    expect(serializationError([new WeakMap()]).reason).toBe('value of type WeakMap');
    expect(serializationError([new WeakSet()]).reason).toBe('value of type WeakSet');
    expect(serializationError({ p: Promise.resolve(1) }).message).toBe(
      'Cannot serialize value of type Promise at value.p',
    );
    expect(serializationError(new SharedArrayBuffer(8)).reason).toBe('value of type SharedArrayBuffer');
    expect(serializationError(Object(1)).reason).toBe('value of type Number (a boxed primitive)');
  });

  it('an instance of an unregistered class (silently sending a plain object would lose its methods)', () => {
    class Task {
      id = 1;
    }
    const error = serializationError({ tasks: [new Task()] });
    expect(error.message).toBe(
      'Cannot serialize an instance of unregistered class Task at value.tasks[0]: register the class with registerClass on both sides',
    );
    expect(error.describe()).toBe('an instance of unregistered class Task at value.tasks[0]');
    class Tagged extends Array {}
    expect(serializationError(Tagged.from([1])).reason).toBe('an instance of unregistered class Tagged');
  });

  it('paths through Map keys and values, Set entries, error fields and causes, class data', () => {
    expect(serializationError(new Map([['k', () => 1]])).path).toBe('.get("k")');
    expect(serializationError(new Map([[Symbol('k'), 1]])).path).toBe('.keys()[0]');
    expect(serializationError(new Set([1, () => 1])).path).toBe('.values()[1]');
    expect(serializationError(Object.assign(new Error('e'), { handler: () => 1 })).path).toBe('.handler');
    const deep = new Error('a', { cause: new Error('b', { cause: Symbol('c') }) });
    expect(serializationError(deep).path).toBe('.cause.cause');
    const fieldOfCause = new Error('a', { cause: Object.assign(new Error('b'), { fn: () => 1 }) });
    expect(serializationError(fieldOfCause).path).toBe('.cause.fn');
    class Holder {}
    const c = new ValueCodec({ useGlobalRegistry: false }).registerClass(Holder, { toData: () => ({ f: () => 1 }) });
    expect(serializationError([new Holder()], c).path).toBe('[0]<toData of Holder>.f');
    expect(serializationError({ 'odd key': () => 1 }).path).toBe('["odd key"]');
  });

  it('a cyclic structure names both ends of the cycle', () => {
    const job: Record<string, unknown> = { name: 'job', tasks: [] };
    (job.tasks as unknown[]).push({ owner: job });
    const error = serializationError({ job });
    expect(error.message).toBe(
      'Cannot serialize a cyclic structure at value.job.tasks[0].owner (a reference back to value.job)',
    );
    expect(error.describe('args')).toBe('a cyclic structure at args.job.tasks[0].owner (a reference back to args.job)');
    const list: unknown[] = [];
    list.push(list);
    expect(serializationError(list).message).toBe(
      'Cannot serialize a cyclic structure at value[0] (a reference back to value)',
    );
    const map = new Map<string, unknown>();
    map.set('self', map);
    expect(serializationError(map).message).toContain('a cyclic structure at value.get("self")');
  });

  it('a cycle that runs through a large string fails fast without filling memory', () => {
    const node: Record<string, unknown> = { payload: 'x'.repeat(1 << 20) };
    node.next = node;
    const started = process.hrtime.bigint();
    expect(serializationError(node).reason).toBe('a cyclic structure');
    // 512 levels × 1 MiB would be half a gigabyte; the depth limit stops long before.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5_000);
  });

  it('nesting deeper than maxDepth (no cycle)', () => {
    const c = new ValueCodec({ maxDepth: 10 });
    let deep: unknown = 'leaf';
    for (let i = 0; i < 11; i++) deep = [deep];
    const error = serializationError(deep, c);
    expect(error.reason).toBe('nesting deeper than 10 levels');
    expect(error.segments).toHaveLength(10);
  });

  it('a getter that throws: the path, and the error as cause', () => {
    const value = {
      get broken(): never {
        throw new Error('no access');
      },
    };
    const error = serializationError({ outer: value });
    expect(error.path).toBe('.outer.broken');
    expect(error.reason).toBe('a value that could not be read (Error: no access)');
    expect((error.cause as Error).message).toBe('no access');
  });

  it('describeUnserializable: undefined when fine, the description otherwise', () => {
    expect(codec.describeUnserializable({ ok: [1, 'two'] })).toBeUndefined();
    expect(codec.describeUnserializable([0, () => 1], 'args')).toBe('value of type Function at args[1]');
  });

  it('a failed encode leaves the codec and earlier results intact', () => {
    const earlier = codec.encode({ keep: 'me' });
    const copy = Buffer.from(earlier);
    for (let i = 0; i < 100; i++) serializationError({ big: 'x'.repeat(10_000), bad: () => i });
    expect(earlier.equals(copy)).toBe(true);
    expect(codec.roundTrip({ still: 'works' })).toEqual({ still: 'works' });
  });
});

describe('encoded buffers (for the transport)', () => {
  it('results are never overwritten by later encodes', () => {
    const c = new ValueCodec();
    const kept = Array.from({ length: 50 }, (_, i) => ({
      value: { i, s: 'v'.repeat(i * 50) },
      bytes: Buffer.alloc(0) as Buffer,
    }));
    for (const k of kept) k.bytes = c.encode(k.value);
    const snapshots = kept.map((k) => Buffer.from(k.bytes));
    for (let i = 0; i < 3_000; i++) c.encode({ filler: 'f'.repeat(i % 700), n: i });
    c.encode(Buffer.alloc(3 << 20)); // a slab that grows
    kept.forEach((k, i) => {
      expect(k.bytes.equals(snapshots[i]!)).toBe(true);
      expect(c.decode(k.bytes)).toEqual(k.value);
    });
  });

  it('reserve leaves free bytes in front for a frame header; decode takes a range', () => {
    const frame = codec.encode(['HelloGateway', 'hello', ['flink']], 9);
    frame.writeUInt32BE(frame.length - 4, 0);
    frame[4] = 7;
    frame.writeUInt32BE(123, 5);
    expect(codec.decode(frame, 9)).toEqual(['HelloGateway', 'hello', ['flink']]);
    expect(codec.decode(frame, 9, frame.length)).toEqual(['HelloGateway', 'hello', ['flink']]);
    expect(() => codec.encode(1, -1)).toThrow(RangeError);
    expect(() => codec.decode(frame, 9, frame.length + 1)).toThrow(RangeError);
  });

  it('consecutive results are adjacent in one slab, so a transport can join them without copying', () => {
    const c = new ValueCodec();
    const frames = [c.encode('a', 4), c.encode({ b: 1 }, 4), c.encode([3], 4)];
    for (let i = 1; i < frames.length; i++) {
      expect(frames[i]!.buffer).toBe(frames[0]!.buffer);
      expect(frames[i]!.byteOffset).toBe(frames[i - 1]!.byteOffset + frames[i - 1]!.length);
    }
    const joined = Buffer.from(
      frames[0]!.buffer,
      frames[0]!.byteOffset,
      frames.reduce((n, f) => n + f.length, 0),
    );
    expect(joined).toEqual(Buffer.concat(frames));
    expect(new ValueCodec().encode('x').buffer).not.toBe(frames[0]!.buffer);
  });

  it('containers and wide maps stay right when the slab grows in the middle of them', () => {
    const c = new ValueCodec();
    for (let i = 0; i < 30; i++) c.encode('x'.repeat(2_000)); // fill most of the slab
    const wide = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`k${i}`, i === 3 ? Buffer.alloc(200_000, 1) : i]),
    );
    const value = {
      map: new Map<unknown, unknown>([
        ['big', Buffer.alloc(100_000, 2)],
        ['wide', wide],
      ]),
      set: new Set(['a'.repeat(70_000), 1]),
      error: Object.assign(new Error('e'), { blob: Buffer.alloc(90_000, 3) }),
      wide,
    };
    expect(difference(value, c.decode(c.encode(value)))).toBeUndefined();
  });

  it('interoperates with msgpackr for the standard families', () => {
    const json = {
      id: 42,
      name: 'task-7',
      tags: ['a', 'b'],
      nested: { ok: true, score: 0.5, n: null },
      big: 2 ** 40,
      neg: -5,
    };
    expect(new Unpackr({ useRecords: false }).unpack(codec.encode(json))).toEqual(json);
    expect(codec.decode(new Packr({ useRecords: false }).pack(json))).toEqual(json);
    expect(
      codec.decode(
        new Packr({ useRecords: false }).pack({ d: new Date(1_700_000_000_123), b: Buffer.from('x'), u: undefined }),
      ),
    ).toEqual({
      d: new Date(1_700_000_000_123),
      b: Buffer.from('x'),
      u: undefined,
    });
    expect(
      new Unpackr({ useRecords: false }).unpack(codec.encode({ t: new Float64Array([1.5]), n: 2n ** 80n })),
    ).toEqual({
      t: new Float64Array([1.5]),
      n: 2n ** 80n,
    });
  });

  it('roundTrip is a deep copy', () => {
    const value = { list: [{ a: 1 }], buffer: Buffer.from('x') };
    const copy = codec.roundTrip(value);
    expect(copy).toEqual(value);
    expect(copy.list).not.toBe(value.list);
    expect(copy.buffer).not.toBe(value.buffer);
  });
});

describe('decoding untrusted bytes', () => {
  it('every truncation of a valid encoding is a DeserializationError', () => {
    const bytes = codec.encode({
      id: 42,
      s: 'string',
      l: 'x'.repeat(300),
      list: [1, -1, 1.5, 2n ** 70n, null, undefined, true],
      m: new Map([[1, new Set([2])]]),
      e: new TypeError('t', { cause: 'c' }),
      d: new Date(),
      b: Buffer.from('bin'),
      t: new Int16Array([1, 2]),
    });
    for (let n = 0; n < bytes.length; n++) deserializationError(bytes.subarray(0, n));
  });

  it('trailing bytes are an error', () => {
    expect(deserializationError(Buffer.concat([codec.encode([1, 2]), hex('00')])).message).toContain('after the value');
  });

  it('reserved and unknown bytes, and msgpackr-only extensions (records, bundles, pointers, its error type)', () => {
    deserializationError(hex('c1'));
    deserializationError(hex('d4 72 40')); // msgpackr record definition
    deserializationError(hex('d6 62 00000000')); // bundled strings
    deserializationError(hex('d6 70 00000001')); // structured-clone pointer
    deserializationError(hex('d4 65 00 93 a1 45 a1 6d c0')); // msgpackr's error extension
    deserializationError(hex('c7 01 7e 00')); // unknown extension type
    expect(codec.decode(hex('d4 00 00'))).toBeUndefined();
  });

  it('a huge length header with few bytes fails before allocating', () => {
    const started = process.hrtime.bigint();
    deserializationError(hex('dd ffffffff 00')); // array of 4 billion
    deserializationError(hex('df ffffffff 00')); // map of 4 billion
    deserializationError(hex('db ffffffff 61')); // string of 4 GiB
    deserializationError(hex('c6 ffffffff 00')); // bin of 4 GiB
    deserializationError(hex('c9 ffffffff 01 80')); // Map extension of 4 GiB
    // nested headers that each claim what is left: the allocation budget stops them
    const nested = Buffer.alloc(60_000);
    for (let i = 0; i < nested.length; i += 5) nested.set(hex('dd 0000ea5f'), i);
    deserializationError(nested);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
  });

  it('deep nesting fails with a DeserializationError, never a stack overflow', () => {
    for (const opener of [0x91, 0x81]) {
      const bytes = Buffer.alloc(200_000, opener);
      if (opener === 0x81) for (let i = 0; i < bytes.length; i += 2) bytes.set([0x81, 0xa0], i); // {"": {"": …}}
      expect(deserializationError(bytes).message).toContain('Nesting deeper than 512 levels');
    }
    const c = new ValueCodec({ maxDepth: 3 });
    expect(c.decode(hex('91 91 91 00'))).toEqual([[[0]]]);
    deserializationError(hex('91 91 91 91 00'), c);
  });

  it('encode and decode agree on the depth limit for every container type', () => {
    const limit = 6;
    const c = new ValueCodec({ maxDepth: limit });
    const wrappers: Array<(v: unknown) => unknown> = [
      (v) => [v],
      (v) => ({ v }),
      (v) => new Map([[1, v]]),
      (v) => new Set([v]),
      (v) => new Error('e', { cause: v }),
      (v) => Object.assign(new Error('e'), { v }),
    ];
    for (const wrap of wrappers) {
      for (let levels = 1; levels <= limit + 1; levels++) {
        let value: unknown = 'leaf';
        for (let i = 0; i < levels; i++) value = wrap(value);
        let bytes: Buffer | undefined;
        try {
          bytes = c.encode(value);
        } catch (error) {
          expect(error).toBeInstanceOf(SerializationError);
          continue;
        }
        // whatever the encoder accepts, the decoder accepts
        expect(difference(value, c.decode(bytes))).toBeUndefined();
      }
    }
  });

  it('__proto__ keys never change a prototype (objects, error fields, nested)', () => {
    const attack = hex(
      // { "__proto__": { "polluted": true }, "inner": [ { "__proto__": { "isAdmin": true } } ] }
      '82 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 c3 a5 696e6e6572 91 81 a9 5f5f70726f746f5f5f 81 a7 697341646d696e c3',
    );
    const decoded = codec.decode(attack) as { inner: Array<Record<string, unknown>> };
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(decoded.inner[0])).toBe(Object.prototype);
    expect((decoded as { polluted?: unknown }).polluted).toBeUndefined();
    expect(decoded.inner[0]!.isAdmin).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(decoded)).toEqual(['__proto__', 'inner']);

    const error = codec.decode(
      codec.encode(Object.assign(new Error('e'), JSON.parse('{"__proto__": {"x": 1}}'))),
    ) as Error;
    expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
    expect((error as { x?: unknown }).x).toBeUndefined();
  });

  it('malformed extensions: timestamps, typed arrays, errors, classes, Map and Set contents', () => {
    deserializationError(hex('d5 ff 0000')); // 2-byte timestamp
    deserializationError(hex('c7 04 74 05 000000')); // Int32Array of 3 bytes
    deserializationError(hex('c7 01 74 63')); // typed array code 99
    deserializationError(hex('c7 00 42')); // empty BigInt
    deserializationError(hex('c7 01 06 41')); // UTF-16 of odd length
    deserializationError(hex('c9 00000001 03 c0')); // error extension holding nil
    deserializationError(hex('c9 00000004 03 92 c0 90')); // error part that is nil
    deserializationError(hex('c9 00000001 01 90')); // Map extension holding an array
    deserializationError(hex('c9 00000002 01 81 01')); // Map extension missing a value
    deserializationError(hex('c9 00000003 04 92 a0 c0')); // class with an empty name
    deserializationError(hex('c9 00000007 05 92 a1 28 a3 787878')); // RegExp "(" with flags "xxx"
    deserializationError(hex('c9 00000002 01 80 c0')); // container shorter than its content… or longer
    deserializationError(hex('81 91 00 01')); // object key that is an array
  });

  it('a decoded error is always printable, whatever a peer puts in its name, message or stack', () => {
    const evil = { toString: 1, valueOf: 1 };
    // the encoder sends what it is given; a peer could send the same bytes
    const error = new Error('x');
    Object.defineProperty(error, 'stack', { value: evil }); // first: V8 would format the stack from the evil name
    Object.defineProperty(error, 'message', { value: evil });
    Object.defineProperty(error, 'name', { value: evil });
    const decoded = codec.roundTrip(error);
    expect(`${decoded.name}: ${decoded.message}`).toBe('[object Object]: [object Object]');
    expect(typeof decoded.stack).toBe('string');
  });

  it('accepts number keys from foreign encoders as strings', () => {
    expect(codec.decode(hex('82 01 a1 61 cb 3ff8000000000000 a1 62'))).toEqual({ 1: 'a', 1.5: 'b' });
  });

  it('rejects what is not bytes', () => {
    expect(() => codec.decode('abc' as unknown as Uint8Array)).toThrow(TypeError);
    expect(codec.decode(new Uint8Array([0x92, 0x01, 0xa1, 0x78]))).toEqual([1, 'x']);
  });
});
