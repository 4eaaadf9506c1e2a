/** Configuration of an RPC service. Durations are milliseconds, sizes bytes. */

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
   * Capture the caller's stack for ask timeouts (Flink's `pekko.ask.callstack`). Default false: capturing a stack
   * costs about 3.6 µs per call here, four times a whole local ask (see README, benchmarks); switch it on while
   * hunting a timeout.
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
  /** TLS with mutual authentication; off when absent. */
  readonly tls?: RpcTlsConfig;
  /** Logger (pino-compatible); default: pino at level `FLINK_RPC_LOG_LEVEL` or `warn`. */
  readonly logger?: Logger;
}

/** A configuration with every default filled in. */
export type ResolvedRpcConfig = Required<Omit<RpcConfig, 'tls'>> & { readonly tls: RpcTlsConfig | undefined };

export const DEFAULT_ASK_TIMEOUT = 10_000;
export const DEFAULT_MAX_FRAME_SIZE = 10_485_760;
export const DEFAULT_THROUGHPUT = 15;

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
    captureAskCallStack: config.captureAskCallStack ?? false,
    forceInvocationSerialization: config.forceInvocationSerialization ?? false,
    componentName,
    connectTimeout: positive('connectTimeout', config.connectTimeout, 20_000),
    pingInterval: positive('pingInterval', config.pingInterval, 5_000),
    idleTimeout: positive('idleTimeout', config.idleTimeout, 30_000),
    handshakeTimeout: positive('handshakeTimeout', config.handshakeTimeout, 10_000),
    tls: config.tls,
    logger: config.logger ?? defaultLogger(),
  };
}
