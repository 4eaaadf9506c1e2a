/** ZooKeeper-specific behaviour beyond the shared contract. */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ComponentIds,
  createHighAvailabilityServices,
  type HighAvailabilityServices,
  ZooKeeperHaServices,
  ZooKeeperPaths,
} from '../../src/ha/index.js';
import { decodeLeaderInformation } from '../../src/ha/LeaderInformation.js';
import { writeLeaderInformationGuarded } from '../../src/ha/zookeeper/leaderInformationStore.js';
import { CreateMode, type ZooKeeperConnection } from '../../src/ha/zookeeper/ZooKeeperConnection.js';
import { startZooKeeper, type ZooKeeperTestServer } from '../support/zookeeper.js';
import { eventually, RecordingContender, RecordingListener } from './support/recorders.js';
import { adminConnection, newClusterId, TEST_SESSION_TIMEOUT_MS } from './support/zookeeperCluster.js';

let server: ZooKeeperTestServer;
let admin: ZooKeeperConnection;
const opened: HighAvailabilityServices[] = [];

beforeAll(async () => {
  server = await startZooKeeper();
  admin = await adminConnection(server.connectString);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await admin?.close();
  await server?.stop();
});

async function services(clusterId: string): Promise<ZooKeeperHaServices> {
  const created = await ZooKeeperHaServices.create({
    connectString: server.connectString,
    clusterId,
    sessionTimeout: TEST_SESSION_TIMEOUT_MS,
    connectionTimeout: 10_000,
  });
  opened.push(created);
  return created;
}

describe('ZooKeeper guarded leader information write', () => {
  it('writes only while the writer latch node exists', async () => {
    const base = `/guard-${newClusterId()}`;
    await admin.mkdirp(`${base}/latch`);
    const latch = await admin.create(`${base}/latch/latch-x-`, Buffer.alloc(0), CreateMode.EPHEMERAL_SEQUENTIAL);
    const info = `${base}/connection_info`;

    await expect(writeLeaderInformationGuarded(admin, latch, info, { address: 'a1', sessionId: 's1' })).resolves.toBe(
      true,
    );
    await expect(writeLeaderInformationGuarded(admin, latch, info, { address: 'a2', sessionId: 's2' })).resolves.toBe(
      true,
    );
    expect(decodeLeaderInformation((await admin.getData(info))?.data)).toEqual({ address: 'a2', sessionId: 's2' });

    // Deposed: the latch node is gone. Whatever the writer believes, the transaction writes nothing.
    await admin.remove(latch);
    await expect(
      writeLeaderInformationGuarded(admin, latch, info, { address: 'stale', sessionId: 's1' }),
    ).resolves.toBe(false);
    expect(decodeLeaderInformation((await admin.getData(info))?.data)).toEqual({ address: 'a2', sessionId: 's2' });
    await admin.removeRecursive(base);
  });
});

describe('ZooKeeper HA services', () => {
  it('is what createHighAvailabilityServices builds for mode zookeeper, with the negotiated session timeout', async () => {
    const created = await createHighAvailabilityServices({
      mode: 'zookeeper',
      zookeeper: { connectString: server.connectString, clusterId: newClusterId(), sessionTimeout: 3_000 },
    });
    opened.push(created);
    expect(created).toBeInstanceOf(ZooKeeperHaServices);
    expect((created as ZooKeeperHaServices).getSessionTimeout()).toBe(3_000);
  });

  it('fails creation with a clear error when ZooKeeper is unreachable', async () => {
    await expect(
      createHighAvailabilityServices({
        mode: 'zookeeper',
        zookeeper: { connectString: '127.0.0.1:1', sessionTimeout: 2_000, connectionTimeout: 500 },
      }),
    ).rejects.toThrow('Could not connect to ZooKeeper at 127.0.0.1:1 within 500 ms.');
  });

  it('restores the leader information if someone deletes it', async () => {
    const clusterId = newClusterId();
    const sa = await services(clusterId);
    const a = new RecordingContender('a', sa.getDispatcherLeaderElection(), 'rpc://a');
    await a.start();
    const listener = new RecordingListener();
    await sa.getDispatcherLeaderRetriever().start(listener);
    const sessionId = await a.waitForGrant();
    await listener.waitForLeader('rpc://a', sessionId);

    const info = new ZooKeeperPaths('/flink', clusterId).component(ComponentIds.dispatcher).connectionInfo;
    await admin.remove(info);
    await eventually('the information to be rewritten', async () => (await admin.exists(info)) !== null);
    await eventually('rewritten', () => listener.notifications.length >= 3);
    await listener.waitForLeader('rpc://a', sessionId);
    expect(a.events.map((e) => e.type)).toEqual(['grant']);
  });

  it('a leader whose latch node is deleted is revoked and queues up again', async () => {
    const clusterId = newClusterId();
    const [sa, sb] = [await services(clusterId), await services(clusterId)];
    const a = new RecordingContender('a', sa.getResourceManagerLeaderElection(), 'rpc://a');
    const b = new RecordingContender('b', sb.getResourceManagerLeaderElection(), 'rpc://b');
    await a.start();
    const sessionA = await a.waitForGrant();
    await b.start();
    const { latchDir } = new ZooKeeperPaths('/flink', clusterId).component(ComponentIds.resourceManager);
    const [first] = (await admin.getChildren(latchDir)).sort((x, y) => x.slice(-10).localeCompare(y.slice(-10)));
    await admin.remove(`${latchDir}/${first}`);
    await a.waitForRevoke();
    await b.waitForGrant();
    // a joined again behind b: when b leaves, a leads with a new session id.
    await eventually('a to be back in line', async () => (await admin.getChildren(latchDir)).length === 2);
    await b.election.close();
    const sessionA2 = await a.waitForGrant([sessionA]);
    expect(sessionA2).not.toBe(sessionA);
  });

  it('closeAndCleanupAllData removes the cluster subtree, close leaves other clusters alone', async () => {
    const clusterId = newClusterId();
    const other = newClusterId();
    const [sa, so] = [await services(clusterId), await services(other)];
    const a = new RecordingContender('a', sa.getJobManagerLeaderElection('j1'), 'rpc://a');
    const o = new RecordingContender('o', so.getJobManagerLeaderElection('j1'), 'rpc://o');
    await a.start();
    await o.start();
    await a.waitForGrant();
    await o.waitForGrant();
    const clusterPath = new ZooKeeperPaths('/flink', clusterId).clusterPath;
    expect(await admin.exists(clusterPath)).not.toBeNull();
    await sa.closeAndCleanupAllData();
    expect(await admin.exists(clusterPath)).toBeNull();
    expect(await admin.exists(new ZooKeeperPaths('/flink', other).clusterPath)).not.toBeNull();
    expect(o.events.map((e) => e.type)).toEqual(['grant']);
  });

  it('rejects unsafe path segments', () => {
    expect(() => new ZooKeeperPaths('/flink', '../x')).toThrow(TypeError);
    expect(() => new ZooKeeperPaths('flink', 'x')).toThrow(/absolute/);
    expect(new ZooKeeperPaths('/', 'c').clusterPath).toBe('/c');
    expect(new ZooKeeperPaths('/a/b/', 'c').component('dispatcher')).toEqual({
      latchDir: '/a/b/c/leader/dispatcher/latch',
      connectionInfo: '/a/b/c/leader/dispatcher/connection_info',
    });
  });
});
