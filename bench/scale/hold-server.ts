/**
 * Server process of the remote pending-asks row: a remote service with one `HoldEndpoint`, run with `--expose-gc`
 * so that the client can ask it for its heap after garbage collection.
 */

import { RpcSystem } from '../../src/index.js';
import { serverMain } from '../remote/server-support.js';
import { HoldEndpoint } from './hold.js';

serverMain(async () => {
  const service = await RpcSystem.load()
    .remoteServiceBuilder({ askTimeout: 3_600_000 }, '127.0.0.1', '0')
    .withBindAddress('127.0.0.1')
    .createAndStart();
  const endpoint = new HoldEndpoint(service, 'hold');
  endpoint.start();
  return { port: service.getPort(), address: endpoint.getAddress() };
});
