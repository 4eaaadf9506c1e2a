/**
 * Seed 004's first example, runnable: two endpoints, one reached through its self gateway, the other through
 * `connect(address, Gateway)`.
 */

import { gateway, RpcEndpoint, type RpcGateway, type RpcService, RpcSystem } from '../src/index.js';

export interface HelloGateway extends RpcGateway {
  hello(): Promise<string>;
}
export const HelloGateway = gateway<HelloGateway>('HelloGateway', { hello: 'ask' });

export interface HiGateway extends RpcGateway {
  hi(): Promise<string>;
}
export const HiGateway = gateway<HiGateway>('HiGateway', { hi: 'ask' });

export class HelloRpcEndpoint extends RpcEndpoint implements HelloGateway {
  static readonly gateways = [HelloGateway];
  constructor(rpcService: RpcService) {
    super(rpcService);
  }
  hello(): Promise<string> {
    return Promise.resolve('hello');
  }
}

export class HiRpcEndpoint extends RpcEndpoint implements HiGateway {
  static readonly gateways = [HiGateway];
  async hi(): Promise<string> {
    return 'hi';
  }
}

export async function main(log: (line: string) => void = console.log): Promise<string[]> {
  const rpcService = await RpcSystem.load().localServiceBuilder({}).createAndStart();
  try {
    const helloEndpoint = new HelloRpcEndpoint(rpcService);
    const hiEndpoint = new HiRpcEndpoint(rpcService);
    helloEndpoint.start();
    hiEndpoint.start();

    // The self gateway of an endpoint.
    const helloGateway = helloEndpoint.getSelfGateway(HelloGateway);
    const hello = await helloGateway.hello();
    log(`self gateway of ${helloEndpoint.getAddress()} says: ${hello}`);

    // A proxy obtained from the endpoint's address.
    const hiGateway = await rpcService.connect(hiEndpoint.getAddress(), HiGateway);
    const hi = await hiGateway.hi();
    log(`connected gateway of ${hiGateway.getAddress()} says: ${hi}`);
    return [hello, hi];
  } finally {
    await rpcService.closeAsync();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
