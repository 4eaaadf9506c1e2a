/**
 * Registration of user classes: an instance of a registered class travels as `[name, data]` and is rebuilt as an
 * instance of the class registered under the same name on the other side. Registries exist per codec (per RPC
 * service) and once per process ({@link globalClassRegistry}); a codec consults its own first.
 */

import { RPC_ERROR_CLASSES } from '../rpc/errors.js';

/** A class: anything `new`-able with a prototype object. */
export type Class<T = unknown> = abstract new (...args: any[]) => T;

/** How instances of a registered class are turned into data and back. */
export interface ClassOptions<T = any, D = any> {
  /** The name on the wire; both sides must use the same. Default: the class's own `name`. */
  readonly name?: string;
  /**
   * The data that represents an instance (any serializable value). Default: an object with the instance's own
   * enumerable properties (for `Error` subclasses: the error form, which also keeps message, stack and cause).
   */
  readonly toData?: (value: T) => D;
  /**
   * Rebuilds an instance from that data. Default: `Object.create(Class.prototype)` with the properties assigned (the
   * constructor does not run; for `Error` subclasses a real error object with that prototype).
   */
  readonly fromData?: (data: D) => T;
}

/** A registration, as the encoder and decoder see it. */
export interface Registration {
  readonly ctor: Class;
  readonly prototype: object;
  readonly name: string;
  readonly toData: ((value: any) => unknown) | undefined;
  readonly fromData: ((data: any) => unknown) | undefined;
  /** An `Error` subclass without `toData`: it travels in the error form, with this name as its class key. */
  readonly asError: boolean;
}

/** The native error classes, by name: rebuilt as themselves. */
export const NATIVE_ERRORS: ReadonlyMap<string, new (...args: any[]) => Error> = new Map<
  string,
  new (
    ...args: any[]
  ) => Error
>([
  ['Error', Error],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
  ['AggregateError', AggregateError],
]);

/**
 * Error classes every codec knows without registration, by prototype: the native ones and the RPC system's
 * ({@link RPC_ERROR_CLASSES}). The value is the name they travel under.
 */
export const KNOWN_ERROR_PROTOTYPES: ReadonlyMap<object, string> = new Map<object, string>([
  ...[...NATIVE_ERRORS].map(([name, cls]) => [cls.prototype, name] as const),
  ...[...RPC_ERROR_CLASSES].map(([name, cls]) => [cls.prototype, name] as const),
]);

/** Classes that have their own encoding and cannot be registered. */
const BUILT_IN = new Set<unknown>([
  Object,
  Array,
  Map,
  Set,
  Date,
  RegExp,
  ArrayBuffer,
  DataView,
  Buffer,
  Function,
  Promise,
  ...NATIVE_ERRORS.values(),
  ...RPC_ERROR_CLASSES.values(),
]);

/** A set of class registrations, looked up by prototype (encoding) and by name (decoding). */
export class ClassRegistry {
  private readonly byPrototype = new Map<object, Registration>();
  private readonly byName = new Map<string, Registration>();

  /**
   * Registers `ctor`. Registering the same class again replaces its options; another class under a taken name, a
   * built-in class, or a name of a known error class is refused with a `TypeError`.
   */
  register<T>(ctor: Class<T>, options: ClassOptions<T> = {}): Registration {
    if (typeof ctor !== 'function' || typeof ctor.prototype !== 'object' || ctor.prototype === null) {
      throw new TypeError(`registerClass: ${String(ctor)} is not a class.`);
    }
    if (BUILT_IN.has(ctor)) {
      throw new TypeError(`registerClass: ${ctor.name} has a built-in encoding and cannot be registered.`);
    }
    const name = options.name ?? ctor.name;
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError('registerClass: a class needs a non-empty name (pass { name }).');
    }
    if (NATIVE_ERRORS.has(name) || RPC_ERROR_CLASSES.has(name)) {
      throw new TypeError(`registerClass: '${name}' is the name of a built-in error class; pass another { name }.`);
    }
    const taken = this.byName.get(name);
    if (taken && taken.ctor !== ctor) {
      throw new TypeError(`registerClass: the name '${name}' is already registered for another class.`);
    }
    const toData = options.toData;
    const fromData = options.fromData;
    if (
      (toData !== undefined && typeof toData !== 'function') ||
      (fromData !== undefined && typeof fromData !== 'function')
    ) {
      throw new TypeError('registerClass: toData and fromData must be functions.');
    }
    const previous = this.byPrototype.get(ctor.prototype);
    if (previous) this.byName.delete(previous.name);
    const registration: Registration = {
      ctor,
      prototype: ctor.prototype,
      name,
      toData,
      fromData,
      asError: toData === undefined && ctor.prototype instanceof Error,
    };
    this.byPrototype.set(ctor.prototype, registration);
    this.byName.set(name, registration);
    return registration;
  }

  /** Removes the registration of `ctor`; true if there was one. */
  unregister(ctor: Class): boolean {
    const registration = this.byPrototype.get(ctor.prototype);
    if (!registration) return false;
    this.byPrototype.delete(ctor.prototype);
    this.byName.delete(registration.name);
    return true;
  }

  /** The registration whose class has exactly this prototype. */
  forPrototype(prototype: object): Registration | undefined {
    return this.byPrototype.get(prototype);
  }

  /** The registration under a wire name. */
  forName(name: string): Registration | undefined {
    return this.byName.get(name);
  }
}

/** The process-wide registry every codec falls back to. */
export const globalClassRegistry = new ClassRegistry();

/**
 * Registers a class for every codec of this process (both sides must register it under the same name):
 *
 * ```ts
 * class Point { constructor(public x: number, public y: number) {} }
 * registerClass(Point);                                  // own enumerable fields, rebuilt without the constructor
 * registerClass(Money, { name: 'Money', toData: (m) => m.cents, fromData: (c) => new Money(c) });
 * ```
 */
export function registerClass<T>(ctor: Class<T>, options?: ClassOptions<T>): void {
  globalClassRegistry.register(ctor, options);
}
