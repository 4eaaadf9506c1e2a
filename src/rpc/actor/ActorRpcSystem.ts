/** The built-in `RpcSystem`: the actor runtime, with an optional network transport for remote services. */

import { type ResolvedRpcConfig, type RpcConfig, resolveConfig } from '../config.js';
import { RpcException } from '../errors.js';
import { getDefaultLogger } from '../logger.js';
import type { RpcService } from '../RpcService.js';
import type { RpcServiceBuilder, RpcSystem } from '../RpcSystem.js';
import { ActorRpcService } from './ActorRpcService.js';
import type { TransportFactory } from './Transport.js';

/** Everything a remote builder collected, handed to the transport plug-in. */
export interface RemoteServiceOptions {
  readonly externalAddress: string | null;
  readonly externalPortRange: string;
  readonly bindAddress: string | undefined;
  readonly bindPort: number | undefined;
}

/** Turns remote-builder options into a transport factory; installed by the transport module. */
export type RemoteTransportPlugin = (options: RemoteServiceOptions) => TransportFactory;

/**
 * Round trip through the wire codec (force-serialization aid); installed by the transport module. It gets the
 * service's configuration so that it can apply the same limits (`maxFrameSize`) as the wire.
 */
export type RoundTripFactory = (config: ResolvedRpcConfig) => (value: unknown) => unknown;

let remotePlugin: RemoteTransportPlugin | undefined;
let roundTripFactory: RoundTripFactory | undefined;

/** Installs the network transport used by `remoteServiceBuilder`. */
export function installRemoteTransport(plugin: RemoteTransportPlugin, roundTrip?: RoundTripFactory): void {
  remotePlugin = plugin;
  roundTripFactory = roundTrip;
}

class ActorServiceBuilder implements RpcServiceBuilder {
  private bindAddress: string | undefined;
  private bindPort: number | undefined;
  private componentName: string | undefined;

  constructor(
    private readonly config: RpcConfig,
    private readonly remote: { externalAddress: string | null; externalPortRange: string } | undefined,
  ) {}

  withBindAddress(bindAddress: string): RpcServiceBuilder {
    if (typeof bindAddress !== 'string' || bindAddress.trim() === '') {
      throw new TypeError('bindAddress must be a non-empty string.');
    }
    this.bindAddress = bindAddress;
    return this;
  }

  withBindPort(bindPort: number): RpcServiceBuilder {
    if (!Number.isInteger(bindPort) || bindPort < 0 || bindPort > 65535) {
      throw new RangeError(`Invalid port number: ${bindPort}`);
    }
    this.bindPort = bindPort;
    return this;
  }

  withComponentName(name: string): RpcServiceBuilder {
    this.componentName = name;
    return this;
  }

  async createAndStart(): Promise<RpcService> {
    const config = resolveConfig(
      this.componentName === undefined ? this.config : { ...this.config, componentName: this.componentName },
      getDefaultLogger,
    );
    const roundTrip = roundTripFactory?.(config) ?? null;
    if (config.forceInvocationSerialization && roundTrip === null) {
      throw new RpcException('forceInvocationSerialization needs the wire codec, which is not installed.');
    }
    const service = new ActorRpcService(config, roundTrip);
    if (this.remote !== undefined) {
      if (remotePlugin === undefined) {
        await service.closeAsync();
        throw new RpcException('No network transport is installed: remote RPC services are not available.');
      }
      try {
        await service.attachTransport(
          remotePlugin({
            externalAddress: this.remote.externalAddress,
            externalPortRange: this.remote.externalPortRange,
            bindAddress: this.bindAddress,
            bindPort: this.bindPort,
          }),
        );
      } catch (error) {
        await service.closeAsync().catch(() => {});
        throw error;
      }
    }
    return service;
  }
}

/** The actor-runtime implementation of `RpcSystem`. */
export class ActorRpcSystem implements RpcSystem {
  constructor(private readonly defaults: RpcConfig = {}) {}

  localServiceBuilder(config: RpcConfig = {}): RpcServiceBuilder {
    return new ActorServiceBuilder({ ...this.defaults, ...config }, undefined);
  }

  remoteServiceBuilder(
    config: RpcConfig | undefined,
    externalAddress: string | null,
    externalPortRange: string,
  ): RpcServiceBuilder {
    return new ActorServiceBuilder({ ...this.defaults, ...config }, { externalAddress, externalPortRange });
  }

  close(): void {}
}
