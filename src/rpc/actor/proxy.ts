/**
 * The invocation handler behind gateway proxies. A proxy is an instance of a class generated once per gateway
 * descriptor (plain methods, no ES `Proxy` trap on the hot path); each RPC method turns a call into an envelope:
 * an *ask* (a `PendingAsk` with a deadline, the caller gets its promise) or a *tell* (fire-and-forget).
 * The target decides how the envelope travels: into a local mailbox, or onto a connection.
 */

import { RpcException } from '../errors.js';
import type { GatewayDescriptor, MethodInfo, RpcGateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import type { DeadlineQueue } from './DeadlineQueue.js';
import { Envelope, MESSAGE_ASK, MESSAGE_TELL } from './messages.js';
import type { Observability } from './observability.js';
import { Cancellation, PendingAsk } from './PendingAsk.js';

/** Where a proxy's envelopes go. */
export interface RpcTarget {
  readonly address: string;
  readonly hostname: string;
  /** True when the endpoint lives in this process and service (`local` methods allowed, no serialization). */
  readonly inProcess: boolean;
  deliver(envelope: Envelope): void;
}

/** Per-service settings of the invocation handler. */
export interface InvocationContext {
  readonly askTimeout: number;
  readonly captureAskCallStack: boolean;
  readonly deadlines: DeadlineQueue;
  readonly logger: Logger;
  /**
   * When set (force-serialization test aid), local arguments and results of non-`local` methods pass through it
   * (a serialize/deserialize round trip) as if they crossed the network.
   */
  readonly roundTrip: ((value: unknown) => unknown) | null;
  /** Metrics and tracing of calls; null when the service has neither (then calls pay one null check). */
  readonly observability: Observability | null;
}

const kTarget = Symbol('target');
const kContext = Symbol('context');
const kToken = Symbol('token');
const kFenced = Symbol('fenced');
const kGateway = Symbol('gateway');

/** The part of every proxy that is answered locally, without a message. */
abstract class GatewayProxy implements RpcGateway {
  [kTarget]: RpcTarget;
  [kContext]: InvocationContext;
  [kToken]: unknown;
  [kFenced]: boolean;
  [kGateway]: GatewayDescriptor;

  constructor(target: RpcTarget, context: InvocationContext, token: unknown, fenced: boolean, gw: GatewayDescriptor) {
    this[kTarget] = target;
    this[kContext] = context;
    this[kToken] = token;
    this[kFenced] = fenced;
    this[kGateway] = gw;
  }

  getAddress(): string {
    return this[kTarget].address;
  }

  getHostname(): string {
    return this[kTarget].hostname;
  }

  getFencingToken(): unknown {
    if (!this[kFenced]) {
      throw new RpcException(
        'The gateway does not support the call FencedRpcGateway#getFencingToken. This indicates that you retrieved ' +
          'a FencedRpcGateway without specifying a fencing token. Please use ' +
          'RpcService#connect(address, fencingToken, Gateway) to retrieve a properly fenced gateway.',
      );
    }
    return this[kToken];
  }

  toString(): string {
    return `${this[kGateway].name}(${this[kTarget].address})`;
  }
}

function timeoutOf(info: MethodInfo, args: unknown[], context: InvocationContext): number {
  if (info.timeoutArg === undefined) return context.askTimeout;
  const value = args[info.timeoutArg];
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RpcException(
      `The rpc timeout argument ${info.timeoutArg} of ${info.qualifiedName} must be a non-negative number of ` +
        `milliseconds, but it was ${String(value)}.`,
    );
  }
  return value;
}

function refuseLocalOnly(info: MethodInfo, target: RpcTarget): RpcException {
  return new RpcException(
    `Method ${info.qualifiedName} is local-only and cannot be invoked on the remote endpoint ${target.address}.`,
  );
}

function serializationFailure(info: MethodInfo, error: unknown): RpcException {
  return new RpcException(`Could not serialize the arguments of method ${info.qualifiedName}: ${String(error)}`, {
    cause: error,
  });
}

/**
 * The caller's signal at the method's `signalArg` (undefined when none was passed); the argument itself is cleared:
 * the endpoint gets a signal of the runtime's own, and a signal never travels over the network.
 */
function takeSignal(info: MethodInfo, signalArg: number, args: unknown[]): AbortSignal | undefined {
  const value = args[signalArg];
  if (value === undefined || value === null) return undefined;
  if (!(value instanceof AbortSignal)) {
    throw new RpcException(
      `The signal argument ${signalArg} of ${info.qualifiedName} must be an AbortSignal, but it was ${typeof value}.`,
    );
  }
  args[signalArg] = undefined;
  return value;
}

function ask(proxy: GatewayProxy, info: MethodInfo, args: unknown[], caller: Function): Promise<unknown> {
  const target = proxy[kTarget];
  const context = proxy[kContext];
  let timeoutMs: number;
  let signal: AbortSignal | undefined;
  const signalArg = info.signalArg;
  try {
    timeoutMs = timeoutOf(info, args, context);
    if (info.local && !target.inProcess) throw refuseLocalOnly(info, target);
    if (signalArg !== undefined) {
      signal = takeSignal(info, signalArg, args);
      // Already aborted: nothing is sent (as fetch does).
      if (signal?.aborted) {
        context.observability?.refusedAsk(info, signal.reason, true);
        return Promise.reject(signal.reason);
      }
    }
  } catch (error) {
    context.observability?.refusedAsk(info, error, false);
    return Promise.reject(error);
  }
  const pending = new PendingAsk(MESSAGE_ASK, info, args, null, proxy[kToken], proxy[kFenced], target.address);
  const promise = new Promise<unknown>((resolve, reject) => {
    pending.resolve = resolve;
    pending.reject = reject;
  });
  if (context.observability !== null) pending.probe = context.observability.startAsk(info, pending);
  if (signalArg !== undefined) pending.cancellation = new Cancellation(pending, signal);
  const roundTrip = context.roundTrip;
  if (roundTrip !== null && target.inProcess && !info.local) {
    try {
      pending.args = roundTrip(args) as unknown[];
    } catch (error) {
      pending.fail(serializationFailure(info, error));
      return promise;
    }
    pending.mapResult = roundTrip;
  }
  if (context.captureAskCallStack) {
    const site: { stack?: string } = {};
    Error.captureStackTrace(site, caller);
    pending.site = site;
  }
  context.deadlines.add(pending, timeoutMs);
  target.deliver(pending);
  // A local delivery is followed by a dispatcher run, which stamps the deadline; anything else needs a stamp.
  if (!target.inProcess) context.deadlines.stampSoon();
  return promise;
}

function tell(proxy: GatewayProxy, info: MethodInfo, args: unknown[]): void {
  const target = proxy[kTarget];
  if (info.local && !target.inProcess) throw refuseLocalOnly(info, target);
  const roundTrip = proxy[kContext].roundTrip;
  if (roundTrip !== null && target.inProcess && !info.local) {
    try {
      args = roundTrip(args) as unknown[];
    } catch (error) {
      throw serializationFailure(info, error);
    }
  }
  const envelope = new Envelope(MESSAGE_TELL, info, args, null, proxy[kToken], proxy[kFenced], null);
  const observability = proxy[kContext].observability;
  if (observability === null) target.deliver(envelope);
  else observability.sendTell(info, envelope, () => target.deliver(envelope));
}

type ProxyClass = new (
  target: RpcTarget,
  context: InvocationContext,
  token: unknown,
  fenced: boolean,
  gw: GatewayDescriptor,
) => GatewayProxy;

const proxyClasses = new WeakMap<GatewayDescriptor, ProxyClass>();

function proxyClassOf(descriptor: GatewayDescriptor): ProxyClass {
  let cls = proxyClasses.get(descriptor);
  if (cls !== undefined) return cls;
  const generated = class extends GatewayProxy {};
  Object.defineProperty(generated, 'name', { value: `${descriptor.name}Proxy` });
  for (const info of descriptor.methods.values()) {
    let method: Function;
    if (info.kind === 'ask') {
      method = function (this: GatewayProxy, ...args: unknown[]) {
        return ask(this, info, args, method);
      };
    } else {
      method = function (this: GatewayProxy, ...args: unknown[]) {
        tell(this, info, args);
      };
    }
    Object.defineProperty(method, 'name', { value: info.name });
    Object.defineProperty(generated.prototype, info.name, { value: method, writable: false, enumerable: false });
  }
  cls = generated;
  proxyClasses.set(descriptor, cls);
  return cls;
}

/** Creates a proxy of `descriptor` whose calls go to `target`, carrying `token` when `fenced`. */
export function createGatewayProxy<G extends RpcGateway>(
  descriptor: GatewayDescriptor<G>,
  target: RpcTarget,
  context: InvocationContext,
  token: unknown,
  fenced: boolean,
): G {
  const Cls = proxyClassOf(descriptor);
  return new Cls(target, context, token, fenced, descriptor) as unknown as G;
}
