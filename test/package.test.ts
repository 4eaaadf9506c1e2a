/**
 * The package as users import it: `flink-rpc` and its subpaths resolve through the `exports` map to the built
 * `dist/` (the test command builds first), and expose exactly the public names of the documented API.
 */

import { describe, expect, it } from 'vitest';

describe('the published package', () => {
  it('exports the core API from "flink-rpc"', async () => {
    const api = await import('flink-rpc');
    for (const name of [
      'gateway',
      'RpcEndpoint',
      'FencedRpcEndpoint',
      'RpcSystem',
      'RpcException',
      'RpcConnectionException',
      'HandshakeException',
      'RpcTimeoutException',
      'FencingTokenException',
      'RecipientUnreachableException',
      'EndpointNotStartedException',
      'RpcLoaderException',
      'TaskCancelledError',
      'registerClass',
    ]) {
      expect(api, name).toHaveProperty(name);
    }
    for (const cls of [api.RpcConnectionException, api.RpcTimeoutException, api.FencingTokenException]) {
      const error = new cls('x');
      expect(error).toBeInstanceOf(api.RpcException);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(cls.name);
    }
    expect(new api.HandshakeException('x')).toBeInstanceOf(api.RpcConnectionException);
  });

  it('runs an endpoint end to end from the built package', async () => {
    const { gateway, RpcEndpoint, RpcSystem } = await import('flink-rpc');
    interface Ping {
      getAddress(): string;
      getHostname(): string;
      ping(n: number): Promise<number>;
    }
    const Ping = gateway<Ping>('PackagePing', { ping: 'ask' });
    class Pinger extends RpcEndpoint {
      static readonly gateways = [Ping];
      async ping(n: number) {
        return n + 1;
      }
    }
    const service = await RpcSystem.load().localServiceBuilder({}).createAndStart();
    const endpoint = new Pinger(service);
    endpoint.start();
    await expect((await service.connect(endpoint.getAddress(), Ping)).ping(1)).resolves.toBe(2);
    await service.closeAsync();
  });

  it('exports the subpaths flink-rpc/testing, flink-rpc/ha and flink-rpc/heartbeat', async () => {
    expect(await import('flink-rpc/testing')).toHaveProperty('TestingRpcService');
    expect(await import('flink-rpc/heartbeat')).toHaveProperty('HeartbeatServices');
    expect(await import('flink-rpc/ha')).toBeTypeOf('object');
  });
});
