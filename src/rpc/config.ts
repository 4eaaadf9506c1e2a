/** Configuration of an RPC service. Durations are milliseconds, sizes bytes. */

import { getHeapStatistics } from 'node:v8';
import type { TracerProvider } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** TLS options of a remote service (Flink's internal SSL): mutual authentication is always required. */
export interface RpcTlsConfig {
  /** PEM private key of this service. */
  readonly key: string | Buffer;
  /** PEM certificate (chain) of this service. */
  readonly cert: string | Buffer;
  /** PEM CA certificate(s) that peers' certificates must chain to. */
  readonly ca: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Optional pinned SHA-256 fingerprints (`AA:BB:...`) of accepted peer certificates. */
  readonly fingerprints?: readonly string[];
  /** Check the peer certificate's host name against the address (default false: internal certs are often IP-less). */
  readonly checkServerIdentity?: boolean;
}

/** Options of an RPC service; every option has a default. */
export interface RpcConfig {
  /** Default timeout of an ask, and of connect's lookup and handshake (default 10 000, Flink's `pekko.ask.timeout`). */
  readonly askTimeout?: number;
  /** Largest frame sent or accepted over the network (default 10 485 760, Flink's `pekko.framesize`). */
  readonly maxFrameSize?: number;
  /** Messages an endpoint handles per turn before another endpoint gets the main loop (default 15). */
  readonly throughput?: number;
  /**
   * How long (ms) the dispatcher runs endpoints' turns back to back before it yields to the event loop, so that
   * sockets, timers and other callbacks are served while endpoints have a backlog (default 4). Between two turns
   * the continuations of the replies sent so far always run first. The clock is read once per turn, not per message.
   */
  readonly timeSlice?: number;
  /**
   * Capture the caller's synchronous stack at each ask for its timeout (Flink's `pekko.ask.callstack`). Default false:
   * without it an `RpcTimeoutException` still names the functions awaiting the call (`at async callerFn`, V8's async
   * stack traces, free of cost); capturing costs about 3.6 µs per call here, several times a whole local ask. Switch
   * it on for callers that do not `await` the ask directly.
   */
  readonly captureAskCallStack?: boolean;
  /** Serialize local invocations as if remote, except `local` methods (default false; a test aid). */
  readonly forceInvocationSerialization?: boolean;
  /** Name of the service in its addresses (default `'flink'`). */
  readonly componentName?: string;
  /** Timeout of opening a TCP (and TLS) connection (default 20 000, Flink's `pekko.tcp.timeout`). */
  readonly connectTimeout?: number;
  /** Interval of transport pings on an idle connection (default 5 000). */
  readonly pingInterval?: number;
  /** A connection that has received nothing for this long is closed as dead (default 30 000). */
  readonly idleTimeout?: number;
  /** A peer that has not completed its handshake within this time is disconnected (default 10 000). */
  readonly handshakeTimeout?: number;
  /**
   * Memory budget of one inbound connection, in bytes: what the asks a peer has awaiting an answer at this service
   * may hold (estimated per ask as a fixed 512 bytes plus twice the size of its frame). Past it, further asks on that
   * connection are refused at once with an `RpcException` naming this setting; the connection and its pings,
   * handshakes and other calls go on. Default: a quarter of the JavaScript heap limit, at most 1 GiB (room for about
   * two million small pending asks).
   */
  readonly connectionMemoryBudget?: number;
  /** TLS with mutual authentication; off when absent. */
  readonly tls?: RpcTlsConfig;
  /** Logger (pino-compatible); default: pino at level `FLINK_RPC_LOG_LEVEL` or `warn`. */
  readonly logger?: Logger;
  /**
   * A prom-client `Registry` that receives the RPC metrics: client calls by gateway, method and outcome (`ok`,
   * `error`, `timeout`, `unreachable`, `fencing`, `cancelled`) and their duration, server handling duration by gateway
   * and method, mailbox size and mailbox latency (enqueue to start) by endpoint class, and the transport's
   * connections, bytes and rejected frames. Labels never hold endpoint ids or addresses. Several services may share
   * one registry. Absent (the default): nothing is measured.
   */
  readonly metrics?: Registry;
  /**
   * OpenTelemetry tracing through `@opentelemetry/api`: a client span per ask and tell named `Gateway/method`, a
   * server span per handled call, W3C trace context carried across the network. `true` (the default) traces with
   * the global tracer provider when an application has registered an SDK before the service starts (without one it
   * costs nothing); a `TracerProvider` traces with that provider; `false` never traces.
   */
  readonly tracing?: boolean | TracerProvider;
}

/** A configuration with every default filled in. */
export type ResolvedRpcConfig = Required<Omit<RpcConfig, 'tls' | 'metrics'>> & {
  readonly tls: RpcTlsConfig | undefined;
  readonly metrics: Registry | undefined;
};

export const DEFAULT_ASK_TIMEOUT = 10_000;
export const DEFAULT_MAX_FRAME_SIZE = 10_485_760;
export const DEFAULT_THROUGHPUT = 15;
export const DEFAULT_TIME_SLICE = 4;

/** A quarter of the heap limit, at most 1 GiB: one flooding peer cannot exhaust the heap on its own. */
function defaultConnectionMemoryBudget(): number {
  return Math.min(1024 * 1024 * 1024, Math.floor(getHeapStatistics().heap_size_limit / 4));
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`Invalid RPC config: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number.`);
  }
  return value;
}

/** Fills in defaults and rejects nonsense values with a message naming the option. */
export function resolveConfig(config: RpcConfig = {}, defaultLogger: () => Logger): ResolvedRpcConfig {
  if (typeof config !== 'object' || config === null) throw new TypeError('RPC config must be an object.');
  const componentName = config.componentName ?? 'flink';
  if (!/^[A-Za-z0-9][\w-]*$/.test(componentName)) {
    throw new RangeError(`Invalid RPC config: componentName ${JSON.stringify(componentName)} (letters, digits, _ -).`);
  }
  const throughput = positive('throughput', config.throughput, DEFAULT_THROUGHPUT);
  if (!Number.isInteger(throughput)) throw new RangeError('Invalid RPC config: throughput must be an integer.');
  return {
    askTimeout: positive('askTimeout', config.askTimeout, DEFAULT_ASK_TIMEOUT),
    maxFrameSize: positive('maxFrameSize', config.maxFrameSize, DEFAULT_MAX_FRAME_SIZE),
    throughput,
    timeSlice: positive('timeSlice', config.timeSlice, DEFAULT_TIME_SLICE, true),
    captureAskCallStack: config.captureAskCallStack ?? false,
    forceInvocationSerialization: config.forceInvocationSerialization ?? false,
    componentName,
    connectTimeout: positive('connectTimeout', config.connectTimeout, 20_000),
    pingInterval: positive('pingInterval', config.pingInterval, 5_000),
    idleTimeout: positive('idleTimeout', config.idleTimeout, 30_000),
    handshakeTimeout: positive('handshakeTimeout', config.handshakeTimeout, 10_000),
    connectionMemoryBudget:
      config.connectionMemoryBudget === undefined
        ? defaultConnectionMemoryBudget()
        : positive('connectionMemoryBudget', config.connectionMemoryBudget, 0),
    tls: config.tls,
    logger: config.logger ?? defaultLogger(),
    metrics: checkRegistry(config.metrics),
    tracing: checkTracing(config.tracing),
  };
}

function checkRegistry(registry: Registry | undefined): Registry | undefined {
  if (registry === undefined) return undefined;
  if (typeof registry !== 'object' || registry === null || typeof registry.registerMetric !== 'function') {
    throw new TypeError('Invalid RPC config: metrics must be a prom-client Registry.');
  }
  return registry;
}

function checkTracing(tracing: boolean | TracerProvider | undefined): boolean | TracerProvider {
  if (tracing === undefined) return true;
  if (typeof tracing === 'boolean') return tracing;
  if (typeof tracing !== 'object' || tracing === null || typeof tracing.getTracer !== 'function') {
    throw new TypeError('Invalid RPC config: tracing must be a boolean or an OpenTelemetry TracerProvider.');
  }
  return tracing;
}
