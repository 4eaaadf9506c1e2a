import { afterAll, beforeAll } from 'vitest';
import { startZooKeeper, type ZooKeeperTestServer } from '../support/zookeeper.js';
import { leaderElectionContract } from './support/contract.js';
import { zooKeeperContractCluster } from './support/zookeeperCluster.js';

let server: ZooKeeperTestServer | undefined;

beforeAll(async () => {
  server = await startZooKeeper();
});

afterAll(async () => {
  await server?.stop();
});

leaderElectionContract('zookeeper', () => {
  if (server === undefined) throw new Error('ZooKeeper did not start.');
  return zooKeeperContractCluster(server);
});
