/** flink-rpc server: a remote service on 127.0.0.1 with one started `EchoEndpoint`; announces its address. */

import { RpcSystem } from '../../../src/index.js';
import { serverMain } from '../server-support.js';
import { benchConfig, EchoEndpoint } from './gateway.js';

serverMain(async () => {
  const service = await RpcSystem.load()
    .remoteServiceBuilder(benchConfig(), '127.0.0.1', '0')
    .withBindAddress('127.0.0.1')
    .createAndStart();
  const endpoint = new EchoEndpoint(service);
  endpoint.start();
  return { port: service.getPort(), address: endpoint.getAddress() };
});
