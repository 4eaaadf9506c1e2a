/**
 * `RpcSystem`: the factory of RPC services, found through pluggable loaders as Flink finds its Pekko
 * implementation. The core never imports an implementation; implementations register a loader.
 */

import type { RpcConfig } from './config.js';
import { RpcLoaderException } from './errors.js';
import type { RpcService } from './RpcService.js';

/** Builds one RPC service. */
export interface RpcServiceBuilder {
  /** The address the server socket binds to (default `0.0.0.0`); remote services only. */
  withBindAddress(bindAddress: string): RpcServiceBuilder;
  /** The port the server socket binds to (default: the external port); remote services only. */
  withBindPort(bindPort: number): RpcServiceBuilder;
  /** Name of the service in its addresses (default `'flink'`). */
  withComponentName(name: string): RpcServiceBuilder;
  /** Creates the service and, for a remote one, binds its port. */
  createAndStart(): Promise<RpcService>;
}

/** One implementation of the RPC system. */
export interface RpcSystem {
  /** A builder of a service reachable only from this process. */
  localServiceBuilder(config?: RpcConfig): RpcServiceBuilder;
  /**
   * A builder of a service reachable over the network.
   * @param externalAddress the host others reach this service under (default loopback)
   * @param externalPortRange `'0'` (any free port), `'6123'`, `'50100-50200'` or `'50100,50102'`
   */
  remoteServiceBuilder(
    config: RpcConfig | undefined,
    externalAddress: string | null,
    externalPortRange: string,
  ): RpcServiceBuilder;
  /** Releases what the implementation holds (a no-op for the built-in one). */
  close(): void;
}

/** Provides an `RpcSystem`; loaders are tried from the lowest priority number up, and one that throws is skipped. */
export interface RpcSystemLoader {
  readonly name: string;
  readonly priority: number;
  loadRpcSystem(config: RpcConfig): RpcSystem;
}

const loaders: RpcSystemLoader[] = [];

export const RpcSystem = {
  /** Makes an implementation available to {@link RpcSystem.load}. */
  registerLoader(loader: RpcSystemLoader): void {
    if (!loaders.some((l) => l.name === loader.name)) loaders.push(loader);
    loaders.sort((a, b) => a.priority - b.priority);
  },

  /** Removes a loader registered under `name` (for tests of custom loaders). */
  unregisterLoader(name: string): void {
    const index = loaders.findIndex((l) => l.name === name);
    if (index >= 0) loaders.splice(index, 1);
  },

  /**
   * Loads the RPC system: the registered loader with the lowest priority number that succeeds.
   * @throws RpcLoaderException when no loader succeeds
   */
  load(config: RpcConfig = {}): RpcSystem {
    const failures: unknown[] = [];
    for (const loader of loaders) {
      try {
        return loader.loadRpcSystem(config);
      } catch (error) {
        failures.push(error);
      }
    }
    throw new RpcLoaderException('Could not load RpcSystem.', {
      cause: failures.length > 0 ? new AggregateError(failures, 'Every RpcSystem loader failed.') : undefined,
    });
  },
};
