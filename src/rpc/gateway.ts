/**
 * Gateway definitions: a TypeScript interface (the protocol) plus a runtime descriptor of the same name that tells
 * the runtime which methods exist and how each one is sent (ask or tell), which argument carries a per-call timeout,
 * which one carries an `AbortSignal` and which methods may only be called in-process.
 */

/** The base of every gateway: what a proxy answers locally, without a message to the endpoint. */
export interface RpcGateway {
  /** The fully qualified address of the endpoint this gateway talks to. */
  getAddress(): string;
  /** The host of that endpoint (`'localhost'` for an in-process service). */
  getHostname(): string;
}

/** A gateway whose every message carries a fencing token; the endpoint refuses messages with another token. */
export interface FencedRpcGateway<F> extends RpcGateway {
  /** The token this gateway sends with every call (for a self gateway: the endpoint's own token). */
  getFencingToken(): F;
}

/** The methods every gateway has and that are answered by the proxy itself: never listed in a descriptor. */
type BaseGatewayKeys = keyof FencedRpcGateway<unknown>;

/** Index of an argument whose type is `number` (a candidate for `timeoutArg`). */
type NumberArgIndex<A extends readonly unknown[]> = {
  [I in keyof A]: A[I] extends number ? (I extends `${infer N extends number}` ? N : never) : never;
}[number];

/** Index of an argument whose type is `AbortSignal` (optional or not): a candidate for `signalArg`. */
type SignalArgIndex<A extends readonly unknown[]> = {
  [I in keyof A]: [Exclude<A[I], undefined>] extends [never]
    ? never
    : [Exclude<A[I], undefined>] extends [AbortSignal]
      ? I extends `${infer N extends number}`
        ? N
        : never
      : never;
}[number];

/** How an ask method may be declared. */
export type AskSpec<A extends readonly unknown[] = unknown[]> =
  | 'ask'
  | {
      readonly kind?: 'ask';
      /** Index of the argument (milliseconds) that is this call's timeout, like Flink's `@RpcTimeout`. */
      readonly timeoutArg?: NumberArgIndex<A>;
      /**
       * Index of the argument that carries an `AbortSignal`. Aborting it rejects the caller's promise at once with
       * `signal.reason` (an already-aborted signal rejects without sending anything), and the endpoint's method
       * receives, at the same position, a signal of its own that is aborted when the caller aborts — locally and
       * across the network. The caller's signal object itself never reaches the endpoint.
       */
      readonly signalArg?: SignalArgIndex<A>;
      /** Only callable in-process (Flink's `@Local`): never serialized, refused over the network. */
      readonly local?: boolean;
    };

/** How a tell (fire-and-forget) method may be declared. */
export type TellSpec =
  | 'tell'
  | {
      readonly kind?: 'tell';
      /** Only callable in-process (Flink's `@Local`). */
      readonly local?: boolean;
    };

/**
 * The declaration a method of type `M` needs: Promise-returning methods are asks, `void` ones are tells, anything
 * else (a synchronous result) cannot be an RPC in JavaScript and is rejected by the compiler.
 */
export type MethodSpec<M> = M extends (...args: infer A) => infer R
  ? [R] extends [void]
    ? TellSpec
    : R extends PromiseLike<unknown>
      ? AskSpec<A>
      : never
  : never;

/** Every RPC method of `G` that is not inherited from `Base`, and nothing else. */
export type MethodTable<G, Base = RpcGateway> = {
  readonly [K in Exclude<keyof G, BaseGatewayKeys | keyof Base>]-?: MethodSpec<G[K]>;
};

/** Runtime information about one RPC method. */
export interface MethodInfo {
  /** Method name. */
  readonly name: string;
  /** The gateway that declares it (used in messages and for remote lookup). */
  readonly gateway: string;
  /** `ask` (a reply is awaited) or `tell` (fire-and-forget). */
  readonly kind: 'ask' | 'tell';
  /** Index of the argument that carries the per-call timeout in milliseconds. */
  readonly timeoutArg: number | undefined;
  /** Index of the argument that carries an `AbortSignal` (see {@link AskSpec}). */
  readonly signalArg: number | undefined;
  /** Only callable in-process (Flink's `@Local`). */
  readonly local: boolean;
  /** `Gateway.method`, precomputed for error messages. */
  readonly qualifiedName: string;
}

/**
 * The runtime descriptor of a gateway interface `G`. It has the same name as the interface and is what
 * `connect(address, G)` and `getSelfGateway(G)` take.
 */
export interface GatewayDescriptor<G extends RpcGateway = RpcGateway> {
  /** The gateway's name, as used in handshakes and error messages. */
  readonly name: string;
  /** All methods, the inherited ones included. */
  readonly methods: ReadonlyMap<string, MethodInfo>;
  /** The descriptors this gateway extends (directly). */
  readonly extends: readonly GatewayDescriptor[];
  /** True when this descriptor is `other` or extends it, directly or not. */
  isSubtypeOf(other: GatewayDescriptor): boolean;
  /** Phantom member carrying the interface type; never set at run time. */
  readonly __type?: G;
}

/** Options of {@link gateway}. */
export interface GatewayOptions {
  /** Gateways this one extends; their methods become methods of this one. */
  readonly extends?: readonly GatewayDescriptor<any>[];
}

const registry = new Map<string, GatewayDescriptor>();

/** Names the proxy answers itself or that would let a peer reach framework internals: never RPC methods. */
const RESERVED = new Set([
  'getAddress',
  'getHostname',
  'getFencingToken',
  'constructor',
  'then',
  'start',
  'closeAsync',
  'onStart',
  'onStop',
  'runAsync',
  'callAsync',
  'scheduleRunAsync',
  'getSelfGateway',
  'getMainThreadExecutor',
  'getTerminationFuture',
  'getRpcService',
  'getEndpointId',
  'validateRunsInMainThread',
  '__proto__',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
]);

/** The largest argument index a declaration may name (JavaScript passes at most a few thousand arguments anyway). */
const MAX_ARG_INDEX = 255;

function parseSpec(gatewayName: string, method: string, raw: unknown): MethodInfo {
  const qualifiedName = `${gatewayName}.${method}`;
  if (RESERVED.has(method) || method.startsWith('_') || method.startsWith('#')) {
    throw new TypeError(`Gateway ${gatewayName}: '${method}' cannot be an RPC method (reserved or private name).`);
  }
  if (raw === 'ask' || raw === 'tell') {
    return {
      name: method,
      gateway: gatewayName,
      kind: raw,
      timeoutArg: undefined,
      signalArg: undefined,
      local: false,
      qualifiedName,
    };
  }
  if (typeof raw !== 'object' || raw === null) {
    throw new TypeError(`Gateway ${gatewayName}: method '${method}' must be declared 'ask', 'tell' or an object.`);
  }
  const spec = raw as { kind?: unknown; timeoutArg?: unknown; signalArg?: unknown; local?: unknown };
  const kind = spec.kind ?? 'ask';
  if (kind !== 'ask' && kind !== 'tell') {
    throw new TypeError(`Gateway ${gatewayName}: method '${method}' has kind ${String(kind)}; use 'ask' or 'tell'.`);
  }
  const timeoutArg = spec.timeoutArg;
  if (timeoutArg !== undefined) {
    if (kind === 'tell') {
      throw new TypeError(
        `Gateway ${gatewayName}: tell method '${method}' cannot have a timeoutArg (tells do not wait).`,
      );
    }
    if (typeof timeoutArg !== 'number' || !Number.isInteger(timeoutArg) || timeoutArg < 0) {
      throw new TypeError(`Gateway ${gatewayName}: timeoutArg of '${method}' must be an argument index.`);
    }
  }
  const signalArg = spec.signalArg;
  if (signalArg !== undefined) {
    if (kind === 'tell') {
      throw new TypeError(
        `Gateway ${gatewayName}: tell method '${method}' cannot have a signalArg (a tell cannot be cancelled).`,
      );
    }
    if (typeof signalArg !== 'number' || !Number.isInteger(signalArg) || signalArg < 0 || signalArg > MAX_ARG_INDEX) {
      throw new TypeError(`Gateway ${gatewayName}: signalArg of '${method}' must be an argument index.`);
    }
    if (signalArg === timeoutArg) {
      throw new TypeError(
        `Gateway ${gatewayName}: signalArg and timeoutArg of '${method}' name the same argument (${signalArg}).`,
      );
    }
  }
  return {
    name: method,
    gateway: gatewayName,
    kind,
    timeoutArg: timeoutArg as number | undefined,
    signalArg: signalArg as number | undefined,
    local: spec.local === true,
    qualifiedName,
  };
}

class Descriptor<G extends RpcGateway> implements GatewayDescriptor<G> {
  readonly methods: ReadonlyMap<string, MethodInfo>;
  private readonly ancestors: ReadonlySet<GatewayDescriptor>;

  readonly extends: readonly GatewayDescriptor[];

  constructor(
    readonly name: string,
    own: Map<string, MethodInfo>,
    parents: readonly GatewayDescriptor[],
  ) {
    this.extends = parents;
    const methods = new Map<string, MethodInfo>();
    const ancestors = new Set<GatewayDescriptor>([this]);
    for (const parent of parents) {
      for (const [key, info] of parent.methods) methods.set(key, info);
      ancestors.add(parent);
      for (const a of (parent as Descriptor<any>).ancestors ?? []) ancestors.add(a);
    }
    for (const [key, info] of own) {
      if (methods.has(key)) {
        throw new TypeError(`Gateway ${name}: method '${key}' is already declared by ${methods.get(key)?.gateway}.`);
      }
      methods.set(key, info);
    }
    this.methods = methods;
    this.ancestors = ancestors;
  }

  isSubtypeOf(other: GatewayDescriptor): boolean {
    return this.ancestors.has(other);
  }

  toString(): string {
    return this.name;
  }
}

/**
 * Defines the runtime descriptor of a gateway interface.
 *
 * ```ts
 * export interface HelloGateway extends RpcGateway {
 *   hello(name: string): Promise<string>;
 *   notify(event: string): void;
 * }
 * export const HelloGateway = gateway<HelloGateway>('HelloGateway', { hello: 'ask', notify: 'tell' });
 * ```
 *
 * The compiler rejects a table that misses a method of `G`, lists one that is not there, declares a
 * Promise-returning method `tell` or a `void` one `ask`. A gateway that extends others names their interfaces as the
 * second type argument and lists only its own methods:
 * `gateway<JobMasterGateway, CheckpointGateway>('JobMasterGateway', {...}, { extends: [CheckpointGateway] })`.
 *
 * @param name the gateway's name (unique among the gateways of a deployment; it travels in handshakes)
 * @param methods how each method is sent: `'ask'`, `'tell'`, or `{ timeoutArg, signalArg, local }`
 * @param options `extends`: the parent gateways
 */
export function gateway<G extends RpcGateway, Base extends RpcGateway = RpcGateway>(
  name: string,
  methods: MethodTable<G, Base>,
  options: GatewayOptions = {},
): GatewayDescriptor<G> {
  if (typeof name !== 'string' || !/^[A-Za-z_$][\w$.]*$/.test(name)) {
    throw new TypeError(`Invalid gateway name: ${JSON.stringify(name)}.`);
  }
  const own = new Map<string, MethodInfo>();
  for (const key of Object.keys(methods)) {
    own.set(key, parseSpec(name, key, (methods as Record<string, unknown>)[key]));
  }
  const descriptor = new Descriptor<G>(name, own, options.extends ?? []);
  registry.set(name, descriptor);
  return descriptor;
}

/** The last descriptor defined under `name` in this process, if any (used to serve handshakes by name). */
export function findGatewayDescriptor(name: string): GatewayDescriptor | undefined {
  return registry.get(name);
}

/** True when `value` is a descriptor made by {@link gateway}. */
export function isGatewayDescriptor(value: unknown): value is GatewayDescriptor {
  return value instanceof Descriptor;
}
