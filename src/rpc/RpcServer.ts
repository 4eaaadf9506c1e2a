/** The `RpcServer` contract: the runtime's handle of one endpoint, which the endpoint's methods delegate to. */

import type { ScheduledTask } from './executors.js';
import type { GatewayDescriptor, RpcGateway } from './gateway.js';

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
