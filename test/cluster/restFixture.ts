/** Starts a REST server over a fake Dispatcher (elected through embedded HA) for the REST and CLI tests. */

import { type RestServerHandle, type RestServerOptions, startRestServer } from '../../src/cluster/rest/index.js';
import { EmbeddedHaServices } from '../../src/ha/index.js';
import { type RpcService, RpcSystem } from '../../src/index.js';
import { FakeDispatcherContender } from './restFakeDispatcher.js';

export interface RestFixture {
  readonly rest: RestServerHandle;
  readonly dispatcher: FakeDispatcherContender;
  readonly haServices: EmbeddedHaServices;
  readonly rpcService: RpcService;
  close(): Promise<void>;
}

export async function startRestFixture(
  options: Partial<Omit<RestServerOptions, 'rpcService' | 'haServices'>> = {},
): Promise<RestFixture> {
  const rpcService = await RpcSystem.load().localServiceBuilder({}).createAndStart();
  const haServices = new EmbeddedHaServices();
  const dispatcher = new FakeDispatcherContender(rpcService);
  await dispatcher.start(haServices);
  const rest = await startRestServer({ rpcService, haServices, port: 0, leaderTimeoutMs: 300, ...options });
  return {
    rest,
    dispatcher,
    haServices,
    rpcService,
    async close() {
      await rest.close();
      await dispatcher.close();
      await haServices.close();
      await rpcService.closeAsync();
    },
  };
}

/** A small valid job graph. */
export function sampleJobGraph(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'exactly-once generator',
    vertices: [
      { id: 'source', name: 'Generator', parallelism: 2, operator: 'generator', config: { records: 100 } },
      { id: 'sink', name: 'Committer', parallelism: 2, operator: 'generator', inputs: ['source'] },
    ],
    checkpointing: { interval: 200 },
    ...overrides,
  };
}
