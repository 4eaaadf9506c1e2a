/**
 * Test helpers for users of flink-rpc (Flink's `TestingRpcService` and testing gateways): a local service in which
 * fake gateways can be registered under an address, so that the endpoint under test talks to fakes.
 *
 * ```ts
 * import { TestingRpcService, createTestingGateway } from 'flink-rpc/testing';
 * const service = await TestingRpcService.create();
 * service.registerGateway('rpc://rm/resourcemanager', createTestingGateway(ResourceManagerGateway, {
 *   registerTaskExecutor: async () => 'accepted',
 * }));
 * ```
 */

import '../rpc/actor/installActorRpcSystem.js';
import type { RpcConfig } from '../rpc/config.js';
import { couldNotConnect, type RpcConnectionException, RpcException } from '../rpc/errors.js';
import type { ScheduledExecutor } from '../rpc/executors.js';
import type { FencedRpcGateway, GatewayDescriptor, RpcGateway } from '../rpc/gateway.js';
import type { Logger } from '../rpc/logger.js';
import type { RpcServer } from '../rpc/RpcServer.js';
import type { FencingTokenOf, RpcEndpoint, RpcService } from '../rpc/RpcService.js';
import { RpcSystem } from '../rpc/RpcSystem.js';

/**
 * A local RPC service whose `connect` first looks among registered fake gateways. Endpoints created on it run for
 * real (their own mailboxes); calls to registered addresses go straight to the fakes.
 */
export class TestingRpcService implements RpcService {
  private readonly fakes = new Map<string, RpcGateway>();
  private readonly connects: string[] = [];

  private constructor(private readonly delegate: RpcService) {}

  /** Creates and starts a testing service (local, in-process). */
  static async create(config: RpcConfig = {}): Promise<TestingRpcService> {
    return new TestingRpcService(await RpcSystem.load().localServiceBuilder(config).createAndStart());
  }

  /** Makes `connect(address, …)` resolve to `fake` (whatever the gateway type or token asked for). */
  registerGateway(address: string, fake: RpcGateway): void {
    this.fakes.set(address, fake);
  }

  /** Removes a registered fake; later connects to `address` fail or reach a real endpoint. */
  unregisterGateway(address: string): boolean {
    return this.fakes.delete(address);
  }

  /** The addresses `connect` was called with, in order (to assert who a component talked to). */
  getConnectHistory(): readonly string[] {
    return this.connects;
  }

  connect<G extends RpcGateway>(address: string, gateway: GatewayDescriptor<G>): Promise<G>;
  connect<G extends FencedRpcGateway<unknown>>(
    address: string,
    fencingToken: NoInfer<FencingTokenOf<G>>,
    gateway: GatewayDescriptor<G>,
  ): Promise<G>;
  connect(address: string, ...rest: unknown[]): Promise<RpcGateway> {
    this.connects.push(address);
    const fake = this.fakes.get(address);
    if (fake !== undefined) return Promise.resolve(fake);
    return (this.delegate.connect as (address: string, ...rest: unknown[]) => Promise<RpcGateway>)(address, ...rest);
  }

  getAddress(): string {
    return this.delegate.getAddress();
  }
  getPort(): number {
    return this.delegate.getPort();
  }
  startServer(endpoint: RpcEndpoint): RpcServer {
    return this.delegate.startServer(endpoint);
  }
  stopServer(server: RpcServer): void {
    this.delegate.stopServer(server);
  }
  getScheduledExecutor(): ScheduledExecutor {
    return this.delegate.getScheduledExecutor();
  }
  closeAsync(): Promise<void> {
    this.fakes.clear();
    return this.delegate.closeAsync();
  }
  getTerminationFuture(): Promise<void> {
    return this.delegate.getTerminationFuture();
  }
  getLogger(): Logger {
    return this.delegate.getLogger();
  }
  getAskTimeout(): number {
    return this.delegate.getAskTimeout();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.closeAsync();
  }
}

/**
 * A fake gateway: the methods given in `implementation`, and for every other method of `descriptor` an ask that
 * rejects with `RpcException("… is not implemented by this testing gateway")` or a tell that does nothing.
 */
export function createTestingGateway<G extends RpcGateway>(
  descriptor: GatewayDescriptor<G>,
  implementation: Partial<Omit<G, keyof RpcGateway>> = {},
  address = `rpc://testing/${descriptor.name}`,
  hostname = 'localhost',
): G {
  const fake: Record<string, unknown> = {
    getAddress: () => address,
    getHostname: () => hostname,
  };
  for (const info of descriptor.methods.values()) {
    const given = (implementation as Record<string, unknown>)[info.name];
    if (typeof given === 'function') {
      fake[info.name] = given;
    } else if (info.kind === 'ask') {
      fake[info.name] = () =>
        Promise.reject(new RpcException(`${info.qualifiedName} is not implemented by this testing gateway.`));
    } else {
      fake[info.name] = () => {};
    }
  }
  return fake as unknown as G;
}

/** An `RpcConnectionException` as `connect` raises it, for fakes that simulate an unreachable peer. */
export function connectionFailure(address: string): RpcConnectionException {
  return couldNotConnect(address);
}
