/** Compare-and-set in ZooKeeper transactions: a version of 0 means "the node's first version", never "any version". */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMode, type ZooKeeperConnection } from '../../src/ha/zookeeper/ZooKeeperConnection.js';
import { startZooKeeper, type ZooKeeperTestServer } from '../support/zookeeper.js';
import { adminConnection } from './support/zookeeperCluster.js';

let server: ZooKeeperTestServer;
let zk: ZooKeeperConnection;

beforeAll(async () => {
  server = await startZooKeeper();
  zk = await adminConnection(server.connectString);
});

afterAll(async () => {
  await zk?.close();
  await server?.stop();
});

describe('ZooKeeper transactions', () => {
  it('refuse a setData, check or remove at version 0 once the node has moved on', async () => {
    const path = `/versions-${randomUUID()}`;
    await zk.commit('create', (tx) => tx.create(path, Buffer.from('a'), CreateMode.PERSISTENT));
    await zk.commit('first write', (tx) => tx.setData(path, Buffer.from('b'), 0));
    // The node is at version 1 now: each of these would pass if 0 meant "any version".
    await expect(zk.commit('stale write', (tx) => tx.setData(path, Buffer.from('c'), 0))).rejects.toThrow();
    await expect(
      zk.commit('stale check', (tx) => {
        tx.check(path, 0);
        tx.setData(path, Buffer.from('d'), -1);
      }),
    ).rejects.toThrow();
    await expect(zk.commit('stale remove', (tx) => tx.remove(path, 0))).rejects.toThrow();
    const node = await zk.getData(path);
    expect(node?.data?.toString()).toBe('b');
    expect(node?.stat.version).toBe(1);
  });
});
