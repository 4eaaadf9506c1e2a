/**
 * The service contract and the endpoint base classes that live in it. `RpcService` registers `RpcEndpoint`s and an
 * `RpcEndpoint` is built on its `RpcService`: the two types name each other, so they share this module rather than
 * import each other.
 *
 * An endpoint owns one mailbox, its *main thread*: RPCs, `runAsync`, `callAsync`, scheduled runs, `onStart` and
 * `onStop` run in it one at a time.
 */

import { RpcException } from './errors.js';
import type { MainThreadExecutor, ScheduledExecutor, ScheduledTask } from './executors.js';
import type { FencedRpcGateway, GatewayDescriptor, RpcGateway } from './gateway.js';
import { kOnStart, kOnStop } from './internal.js';
import type { Logger } from './logger.js';
import { mainThreadExecutorOf } from './mainThreadExecutor.js';
import type { RpcServer } from './RpcServer.js';

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

/**
 * Base class of every RPC endpoint. Subclasses implement their gateways' methods, list the gateways they serve in
 * `static readonly gateways = [MyGateway]` (the handshake and remote calls check it; without it, an endpoint serves
 * every gateway whose methods it has), and may override `onStart` / `onStop`.
 *
 * The constructor registers the endpoint with its service: its address is usable (a `connect` succeeds) right
 * away, but it processes nothing until {@link start}: asks before then fail with `EndpointNotStartedException`,
 * tells are dropped.
 */
export abstract class RpcEndpoint implements RpcGateway, AsyncDisposable {
  // Subclasses declare `static readonly gateways = [MyGateway]`: the gateways they serve (the handshake and remote
  // calls check them). It is not declared here, so that subclasses need no `override` keyword.

  private readonly rpcService: RpcService;
  private readonly endpointId: string;
  /** @internal the runtime's handle of this endpoint */
  protected readonly rpcServer: RpcServer;
  private mainThreadExecutor: MainThreadExecutor | undefined;

  /**
   * @param rpcService the service this endpoint lives in
   * @param endpointId unique among the live endpoints of the service; default a random UUID
   * @throws RpcException for a live duplicate id, an invalid id, or a closed service
   */
  constructor(rpcService: RpcService, endpointId?: string) {
    if (rpcService === null || typeof rpcService !== 'object') throw new TypeError('rpcService is required.');
    this.rpcService = rpcService;
    this.endpointId = endpointId ?? crypto.randomUUID();
    this.rpcServer = rpcService.startServer(this);
  }

  /** Starts processing messages; `onStart` runs first, in the main thread. A second call is a no-op. */
  start(): void {
    this.rpcServer.start();
  }

  /**
   * Terminates the endpoint: runs `onStop` in the main thread (if it was started), then settles the termination
   * future, which is also returned. Idempotent.
   */
  closeAsync(): Promise<void> {
    this.rpcService.stopServer(this.rpcServer);
    return this.rpcServer.getTerminationFuture();
  }

  /** Enables `await using endpoint = new MyEndpoint(service)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.closeAsync();
  }

  /** Settles when the endpoint has terminated; rejects if `onStart` or `onStop` failed. */
  getTerminationFuture(): Promise<void> {
    return this.rpcServer.getTerminationFuture();
  }

  getAddress(): string {
    return this.rpcServer.getAddress();
  }

  getHostname(): string {
    return this.rpcServer.getHostname();
  }

  getEndpointId(): string {
    return this.endpointId;
  }

  getRpcService(): RpcService {
    return this.rpcService;
  }

  /**
   * A proxy of `gateway` that calls this endpoint through its mailbox (fenced endpoints: with their own token).
   * @throws RpcException if this endpoint does not serve `gateway`
   */
  getSelfGateway<G extends RpcGateway>(gateway: GatewayDescriptor<G>): G {
    return this.rpcServer.getSelfGateway(gateway);
  }

  /** Runs `task` in the main thread, after the messages already queued. Never fenced out. */
  runAsync(task: () => void): void {
    this.rpcServer.runAsync(task);
  }

  /** Runs `task` in the main thread no earlier than `delayMs` from now; never after termination. */
  scheduleRunAsync(task: () => void, delayMs: number): ScheduledTask<void> {
    return this.rpcServer.scheduleRunAsync(task, delayMs);
  }

  /**
   * Runs `task` in the main thread and returns its result; rejects with `RpcTimeoutException` if it has not run by
   * `timeoutMs` (the task is not cancelled), or with the task's own error.
   */
  callAsync<T>(task: () => T, timeoutMs: number): Promise<Awaited<T>> {
    return this.rpcServer.callAsync(task, timeoutMs);
  }

  /** An executor whose tasks run in this endpoint's main thread, and never after it terminated. */
  getMainThreadExecutor(): MainThreadExecutor {
    this.mainThreadExecutor ??= mainThreadExecutorOf(this.rpcServer, () => this.validateRunsInMainThread());
    return this.mainThreadExecutor;
  }

  /** Throws `RpcException` unless called from this endpoint's main thread. */
  validateRunsInMainThread(): void {
    if (!this.rpcServer.isInMainThread()) {
      throw new RpcException(
        `Violation of main thread constraint detected: expected to run in the main thread of ${this.endpointId}.`,
      );
    }
  }

  /** True from the start of `onStart` until `onStop` returned. Main thread only. */
  protected isRunning(): boolean {
    this.validateRunsInMainThread();
    return this.rpcServer.isRunning();
  }

  /**
   * Called in the main thread when the endpoint starts, before any other message. Throwing (or rejecting)
   * terminates the endpoint: its termination future fails with "Could not start RpcEndpoint <id>.".
   */
  protected onStart(): void | Promise<void> {}

  /** Called in the main thread when the endpoint stops; termination waits for the returned promise. */
  protected onStop(): void | Promise<void> {}

  /** @internal */
  [kOnStart](): unknown {
    return this.onStart();
  }

  /** @internal */
  [kOnStop](): unknown {
    return this.onStop();
  }
}

/**
 * An endpoint that accepts only messages carrying its fencing token (fixed at construction, as in Flink 1.16+).
 * Messages with another token fail with `FencingTokenException` (asks) or are dropped (tells); its own
 * `runAsync`/`callAsync` and self gateway always pass.
 */
export abstract class FencedRpcEndpoint<F> extends RpcEndpoint {
  private readonly fencingToken: F;

  /**
   * @param fencingToken compared by value (deep equality) with the token of each incoming message
   * @throws TypeError if the token is null or undefined
   */
  constructor(rpcService: RpcService, fencingToken: F, endpointId?: string) {
    if (fencingToken === null || fencingToken === undefined) {
      throw new TypeError('The fencing token must not be null or undefined.');
    }
    super(rpcService, endpointId);
    this.fencingToken = fencingToken;
  }

  getFencingToken(): F {
    return this.fencingToken;
  }
}
