/** Helpers for tests against the throwaway ZooKeeper server. */

import { randomUUID } from 'node:crypto';
import {
  ComponentIds,
  type HighAvailabilityServices,
  ZooKeeperHaServices,
  ZooKeeperPaths,
} from '../../../src/ha/index.js';
import { sortLatches } from '../../../src/ha/zookeeper/paths.js';
import { ZooKeeperConnection } from '../../../src/ha/zookeeper/ZooKeeperConnection.js';
import { getDefaultLogger } from '../../../src/rpc/logger.js';
import type { ZooKeeperTestServer } from '../../support/zookeeper.js';
import type { ContractCluster } from './contract.js';

/** Session timeout of test clients: short, so that failover tests are quick. */
export const TEST_SESSION_TIMEOUT_MS = 2_000;

/** A direct connection for inspecting and tampering with the tree. */
export function adminConnection(connectString: string): Promise<ZooKeeperConnection> {
  return ZooKeeperConnection.connect({
    connectString,
    sessionTimeout: 10_000,
    connectionTimeout: 10_000,
    logger: getDefaultLogger().child({ test: 'zk-admin' }),
  });
}

/** A fresh cluster id (its own subtree), so tests never see each other's nodes. */
export function newClusterId(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A contract cluster on `server`: every `newServices()` is a separate ZooKeeper session. */
export async function zooKeeperContractCluster(server: ZooKeeperTestServer): Promise<ContractCluster> {
  const clusterId = newClusterId('contract');
  const paths = new ZooKeeperPaths('/flink', clusterId);
  const admin = await adminConnection(server.connectString);
  const created: HighAvailabilityServices[] = [];
  return {
    async newServices() {
      const services = await ZooKeeperHaServices.create({
        connectString: server.connectString,
        clusterId,
        sessionTimeout: TEST_SESSION_TIMEOUT_MS,
        connectionTimeout: 10_000,
      });
      created.push(services);
      return services;
    },
    async deposeLeader(componentId) {
      // An operator deleting the leader's latch node: the next contender leads at once.
      const { latchDir } = paths.component(componentId);
      const [first] = sortLatches(await admin.getChildren(latchDir));
      if (first === undefined) throw new Error(`No latch node under ${latchDir}.`);
      await admin.remove(`${latchDir}/${first}`);
    },
    async close() {
      await Promise.all(created.map((s) => s.close()));
      await admin.removeRecursive(paths.clusterPath).catch(() => {});
      await admin.close();
    },
  };
}

export { ComponentIds };
