/**
 * flink-rpc client: its own remote service (as a Flink process would have) connects to the server's endpoint and
 * drives the gateway proxy. Tells are plain `void` calls: the API exposes no backpressure, so `writable()` only
 * yields a macrotask between bursts.
 */

import { RpcSystem } from '../../../src/index.js';
import type { BenchClient, ConnectFn } from '../types.js';
import { benchConfig, EchoGateway } from './gateway.js';

export const connect: ConnectFn = async ({ address }) => {
  if (address === undefined) throw new Error('the flink-rpc server announced no endpoint address');
  const service = await RpcSystem.load()
    .remoteServiceBuilder(benchConfig(), '127.0.0.1', '0')
    .withBindAddress('127.0.0.1')
    .createAndStart();
  try {
    const echo = await service.connect(address, EchoGateway);
    const client: BenchClient = {
      echo: (payload) => echo.echo(payload),
      tell: (payload) => echo.tell(payload),
      writable: () => new Promise((resolve) => setImmediate(resolve)),
      count: () => echo.count(),
      echoBuffer: (data) => echo.echoBuffer(data),
      close: () => service.closeAsync(),
    };
    return client;
  } catch (error) {
    await service.closeAsync();
    throw error;
  }
};
