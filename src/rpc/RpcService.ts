/** The service contracts: what an endpoint gets from its service, and what users call on a service. */

import type { ScheduledExecutor, ScheduledTask } from './executors.js';
import type { FencedRpcGateway, GatewayDescriptor, RpcGateway } from './gateway.js';
import type { Logger } from './logger.js';
import type { RpcEndpoint } from './RpcEndpoint.js';

/**
 * The runtime's handle of one endpoint (Flink's `RpcServer`): its mailbox, lifecycle and self gateways. Endpoints
 * use it through `RpcEndpoint`; users rarely touch it, except to pass it to `RpcService.stopServer`.
 */
export interface RpcServer {
  getAddress(): string;
  getHostname(): string;
  getEndpointId(): string;
  /** Starts processing: runs `onStart` as the first message. A second call is a no-op. */
  start(): void;
  /** Terminates the endpoint (runs `onStop` if it was started); returns the termination future. Idempotent. */
  terminate(): Promise<void>;
  getTerminationFuture(): Promise<void>;
  /** True inside `onStart`, and from then until `onStop` returned (main thread only). */
  isRunning(): boolean;
  /** True when the caller runs in this endpoint's main thread. */
  isInMainThread(): boolean;
  runAsync(task: () => void): void;
  scheduleRunAsync(task: () => void, delayMs: number): ScheduledTask<void>;
  callAsync<T>(task: () => T, timeoutMs: number): Promise<Awaited<T>>;
  /** A proxy of gateway `G` that talks to this endpoint (fenced endpoints: with their own token). */
  getSelfGateway<G extends RpcGateway>(gateway: GatewayDescriptor<G>): G;
}

/** The fencing token type of a fenced gateway. */
export type FencingTokenOf<G> = G extends FencedRpcGateway<infer F> ? F : never;

/** One RPC service: the home of endpoints, and the way to reach endpoints of other services. */
export interface RpcService {
  /** Host the service is reachable under; `''` for a local-only service. */
  getAddress(): string;
  /** Bound port; `-1` for a local-only service. */
  getPort(): number;
  /**
   * Connects to the endpoint at `address` and returns a proxy of `gateway`: resolves the address, opens or reuses a
   * connection, handshakes (protocol version; that the endpoint serves `gateway`).
   * Fails with `RpcConnectionException` (unknown endpoint, unreachable) or `HandshakeException`.
   */
  connect<G extends RpcGateway>(address: string, gateway: GatewayDescriptor<G>): Promise<G>;
  /** Like `connect(address, gateway)`, for a fenced endpoint: every call carries `fencingToken`. */
  connect<G extends FencedRpcGateway<unknown>>(
    address: string,
    fencingToken: NoInfer<FencingTokenOf<G>>,
    gateway: GatewayDescriptor<G>,
  ): Promise<G>;
  /** Registers an endpoint (called by the `RpcEndpoint` constructor). Throws for a duplicate id or a closed service. */
  startServer(endpoint: RpcEndpoint): RpcServer;
  /** Terminates the endpoint behind `server`; a no-op for an unknown or already terminated one. */
  stopServer(server: RpcServer): void;
  /** An executor for work that belongs to no endpoint (never a main thread). */
  getScheduledExecutor(): ScheduledExecutor;
  /** Terminates every endpoint (waiting for their `onStop`), closes ports, fails pending asks. Idempotent. */
  closeAsync(): Promise<void>;
  /** Settles when the service has terminated; rejects if an endpoint failed while stopping. */
  getTerminationFuture(): Promise<void>;
  /** The service's logger. */
  getLogger(): Logger;
  /** The service's default ask timeout in milliseconds. */
  getAskTimeout(): number;
  [Symbol.asyncDispose](): Promise<void>;
}
