/**
 * Connection trouble never leaves two leaders confirmed at once: a ZooKeeper restart, and a partition (a proxy that
 * silently drops every byte) that lasts until the leader's session expires. Each contender has its own ZooKeeper
 * session, as separate processes would; they live in this process so one observer sees all callbacks in order.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HighAvailabilityServices, ZooKeeperHaServices } from '../../src/ha/index.js';
import { startZooKeeper, type ZooKeeperTestServer } from '../support/zookeeper.js';
import { resourceCounts, resourcesSettled } from './support/contract.js';
import { LeadershipObserver } from './support/leadershipObserver.js';
import { eventually, RecordingListener, sleep } from './support/recorders.js';
import { TcpProxy } from './support/tcpProxy.js';
import { newClusterId, TEST_SESSION_TIMEOUT_MS } from './support/zookeeperCluster.js';

let server: ZooKeeperTestServer;
const opened: HighAvailabilityServices[] = [];
let proxy: TcpProxy | undefined;

beforeAll(async () => {
  server = await startZooKeeper();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await proxy?.close();
  proxy = undefined;
});

afterAll(async () => {
  await server?.stop();
});

async function services(connectString: string, clusterId: string): Promise<HighAvailabilityServices> {
  const created = await ZooKeeperHaServices.create({
    connectString,
    clusterId,
    sessionTimeout: TEST_SESSION_TIMEOUT_MS,
    connectionTimeout: 10_000,
  });
  opened.push(created);
  return created;
}

describe('ZooKeeper connection trouble', () => {
  it('a ZooKeeper restart revokes and re-grants the leader, never two leaders', async () => {
    const clusterId = newClusterId('restart');
    const observer = new LeadershipObserver();
    const [sa, sb, sr] = [
      await services(server.connectString, clusterId),
      await services(server.connectString, clusterId),
      await services(server.connectString, clusterId),
    ];
    const ea = sa.getResourceManagerLeaderElection();
    await ea.startLeaderElection(observer.contender('a', ea, 'rpc://a'));
    const sessionBefore = await eventually('a to lead', () => observer.sessionOf('a'));
    const eb = sb.getResourceManagerLeaderElection();
    await eb.startLeaderElection(observer.contender('b', eb, 'rpc://b'));
    const listener = new RecordingListener();
    await sr.getResourceManagerLeaderRetriever().start(listener);
    await listener.waitForLeader('rpc://a', sessionBefore);

    await server.pause();
    // The connection drops: the leader lets go at once, retrieval no longer vouches for it.
    await eventually('a to be revoked', () => observer.count('a', 'revoked') === 1);
    expect(ea.hasLeadership(sessionBefore)).toBe(false);
    await listener.waitForLeader(null, null);
    await sleep(500);
    await server.resume();

    // Sessions survive the restart, so the latch order stays: the same contender leads, with a new session id.
    const sessionAfter = await eventually('a to lead again', () => observer.sessionOf('a'), 15_000);
    expect(sessionAfter).not.toBe(sessionBefore);
    await listener.waitForLeader('rpc://a', sessionAfter, 15_000);
    await expect(ea.confirmLeadership(sessionBefore, 'rpc://stale')).resolves.toBe(false);
    expect(listener.last).toEqual({ address: 'rpc://a', sessionId: sessionAfter });
    expect(observer.count('b', 'granted')).toBe(0);
    expect(observer.violations).toEqual([]);
  }, 40_000);

  it('a partitioned leader steps down before its successor is granted, and rejoins after its session expired', async () => {
    const clusterId = newClusterId('partition');
    proxy = await TcpProxy.start(server.port);
    const observer = new LeadershipObserver();
    const sa = await services(proxy.connectString, clusterId);
    const [sb, sr] = [await services(server.connectString, clusterId), await services(server.connectString, clusterId)];
    const ea = sa.getDispatcherLeaderElection();
    await ea.startLeaderElection(observer.contender('a', ea, 'rpc://a'));
    const sessionA = await eventually('a to lead', () => observer.sessionOf('a'));
    const eb = sb.getDispatcherLeaderElection();
    await eb.startLeaderElection(observer.contender('b', eb, 'rpc://b'));
    const listener = new RecordingListener();
    await sr.getDispatcherLeaderRetriever().start(listener);
    await listener.waitForLeader('rpc://a', sessionA);

    const cutAt = Date.now();
    proxy.partition();
    // No socket closes: only the liveness check can tell the leader. It must give up before the server expires its
    // session, which is what lets b in.
    await eventually('a to step down', () => observer.count('a', 'revoked') === 1, 10_000);
    const revokedAt = observer.events.find((e) => e.name === 'a' && e.type === 'revoked')!.at;
    const sessionB = await eventually('b to lead', () => observer.sessionOf('b'), 10_000);
    const grantedAt = observer.events.find((e) => e.name === 'b' && e.type === 'granted')!.at;
    console.log(`[partition] a stepped down after ${revokedAt - cutAt} ms, b granted after ${grantedAt - cutAt} ms`);
    expect(revokedAt).toBeLessThan(grantedAt);
    await listener.waitForLeader('rpc://b', sessionB);

    proxy.heal();
    // a reconnects, learns its session expired, starts a new one and queues up behind b.
    await sleep(TEST_SESSION_TIMEOUT_MS);
    expect(observer.leaders()).toEqual(['b']);
    await eb.close();
    const sessionA2 = await eventually('a to lead again', () => observer.sessionOf('a'), 15_000);
    await listener.waitForLeader('rpc://a', sessionA2);
    expect(sessionA2).not.toBe(sessionA);
    expect(observer.violations).toEqual([]);
    expect(observer.count('a', 'error') + observer.count('b', 'error')).toBe(0);
  }, 40_000);

  it('closing while ZooKeeper is down finishes and leaves no timers or sockets behind', async () => {
    const before = resourceCounts();
    const clusterId = newClusterId('down');
    const created = await ZooKeeperHaServices.create({
      connectString: server.connectString,
      clusterId,
      sessionTimeout: TEST_SESSION_TIMEOUT_MS,
      connectionTimeout: 10_000,
    });
    const observer = new LeadershipObserver();
    const election = created.getDispatcherLeaderElection();
    await election.startLeaderElection(observer.contender('a', election, 'rpc://a'));
    await eventually('a to lead', () => observer.sessionOf('a'));
    await server.pause();
    try {
      await eventually('a to be revoked', () => observer.count('a', 'revoked') === 1);
      // nzc alone would keep reconnecting forever after close(); the services must stop it.
      await created.close();
      await resourcesSettled(before);
    } finally {
      await server.resume();
    }
  }, 40_000);
});
