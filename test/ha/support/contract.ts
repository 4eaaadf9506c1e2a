/**
 * The contract every HA backend with a real election passes (embedded and ZooKeeper): run it with
 * `leaderElectionContract(name, backendFactory)` from a `*.test.ts` file.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComponentIds, type HighAvailabilityServices } from '../../../src/ha/index.js';
import { eventually, RecordingContender, RecordingListener, sleep } from './recorders.js';

/** One isolated cluster of a backend. */
export interface ContractCluster {
  /** New services of this cluster, as another process would have (separate session where the backend has one). */
  newServices(): Promise<HighAvailabilityServices>;
  /** Takes the leadership of `componentId` away from its leader without closing the leader's election. */
  deposeLeader(componentId: string): Promise<void>;
  /** Closes everything `newServices` created and whatever else the cluster holds. */
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A time in which a misbehaving backend would have acted, used only to check that nothing happens. */
const QUIET_MS = 300;

export function leaderElectionContract(name: string, newCluster: () => Promise<ContractCluster>): void {
  describe(`leader election contract: ${name}`, () => {
    let cluster: ContractCluster;

    beforeEach(async () => {
      cluster = await newCluster();
    });

    afterEach(async () => {
      await cluster.close();
    });

    it('grants a single contender with a fresh UUID session id', async () => {
      const services = await cluster.newServices();
      const a = new RecordingContender('a', services.getDispatcherLeaderElection());
      await a.start();
      const sessionId = await a.waitForGrant();
      expect(sessionId).toMatch(UUID);
      expect(a.election.hasLeadership(sessionId)).toBe(true);
      expect(a.election.hasLeadership('00000000-0000-0000-0000-000000000000')).toBe(false);
      expect(a.errors()).toEqual([]);
    });

    it('publishes a confirmed address to retrievers started before and after', async () => {
      const services = await cluster.newServices();
      const early = new RecordingListener();
      await services.getResourceManagerLeaderRetriever().start(early);
      await early.waitForLeader(null, null);

      const a = new RecordingContender('a', services.getResourceManagerLeaderElection());
      await a.start();
      const sessionId = await a.waitForGrant();
      await expect(a.election.confirmLeadership(sessionId, 'rpc://a/rm')).resolves.toBe(true);
      await early.waitForLeader('rpc://a/rm', sessionId);

      const other = await cluster.newServices();
      const late = new RecordingListener();
      await other.getResourceManagerLeaderRetriever().start(late);
      await late.waitForLeader('rpc://a/rm', sessionId);
      expect(late.notifications[0]).toEqual({ address: 'rpc://a/rm', sessionId });
    });

    it('lets a second contender wait, and hands over with a new session id when the leader closes', async () => {
      const [sa, sb, sr] = [await cluster.newServices(), await cluster.newServices(), await cluster.newServices()];
      const listener = new RecordingListener();
      await sr.getJobManagerLeaderRetriever('job-1').start(listener);
      const a = new RecordingContender('a', sa.getJobManagerLeaderElection('job-1'), 'rpc://a/jm');
      await a.start();
      const sessionA = await a.waitForGrant();
      await listener.waitForLeader('rpc://a/jm', sessionA);

      const b = new RecordingContender('b', sb.getJobManagerLeaderElection('job-1'), 'rpc://b/jm');
      await b.start();
      await sleep(QUIET_MS);
      expect(b.grants()).toEqual([]);

      await a.election.close();
      expect(a.events.map((e) => e.type)).toEqual(['grant', 'revoke']);
      const sessionB = await b.waitForGrant();
      expect(sessionB).not.toBe(sessionA);
      await listener.waitForLeader('rpc://b/jm', sessionB);
      expect(listener.errors).toEqual([]);
    });

    it('never lets a deposed leader overwrite its successor', async () => {
      const [sa, sb, sr] = [await cluster.newServices(), await cluster.newServices(), await cluster.newServices()];
      const listener = new RecordingListener();
      await sr.getDispatcherLeaderRetriever().start(listener);
      const a = new RecordingContender('a', sa.getDispatcherLeaderElection(), 'rpc://a/d');
      await a.start();
      const sessionA = await a.waitForGrant();
      await listener.waitForLeader('rpc://a/d', sessionA);
      const b = new RecordingContender('b', sb.getDispatcherLeaderElection());
      await b.start();

      await cluster.deposeLeader(ComponentIds.dispatcher);
      const sessionB = await b.waitForGrant();
      // Right at the successor's grant, before the old leader may even have heard of its loss.
      const staleEarly = a.election.confirmLeadership(sessionA, 'rpc://a/stale-early');
      await expect(b.election.confirmLeadership(sessionB, 'rpc://b/d')).resolves.toBe(true);
      await expect(staleEarly).resolves.toBe(false);
      await listener.waitForLeader('rpc://b/d', sessionB);

      await a.waitForRevoke();
      expect(a.election.hasLeadership(sessionA)).toBe(false);
      await expect(a.election.confirmLeadership(sessionA, 'rpc://a/stale-late')).resolves.toBe(false);
      await sleep(QUIET_MS);
      expect(listener.last).toEqual({ address: 'rpc://b/d', sessionId: sessionB });
      expect(listener.notifications.some((n) => n.address?.includes('stale'))).toBe(false);
      expect(b.election.hasLeadership(sessionB)).toBe(true);
    });

    it('notifies (null, null) when there is no leader', async () => {
      const [sa, sr] = [await cluster.newServices(), await cluster.newServices()];
      const listener = new RecordingListener();
      await sr.getClusterRestEndpointLeaderRetriever().start(listener);
      await listener.waitForLeader(null, null);
      expect(listener.notifications).toEqual([{ address: null, sessionId: null }]);

      const a = new RecordingContender('a', sa.getClusterRestEndpointLeaderElection(), 'http://a:8081');
      await a.start();
      const sessionA = await a.waitForGrant();
      await listener.waitForLeader('http://a:8081', sessionA);
      await a.election.close();
      await listener.waitForLeader(null, null);
    });

    it('delivers callbacks one at a time; confirming from inside grantLeadership works', async () => {
      const services = await cluster.newServices();
      const contenders = [1, 2, 3].map(
        (i) => new RecordingContender(`c${i}`, services.getDispatcherLeaderElection(), `rpc://c${i}`),
      );
      for (const c of contenders) await c.start();
      const listener = new RecordingListener();
      await services.getDispatcherLeaderRetriever().start(listener);
      // Whichever joined first leads first (separate sessions may race to create their latch nodes).
      const remaining = [...contenders];
      while (remaining.length > 0) {
        const leader = await eventually('a leader', () => remaining.find((c) => c.sessionId !== undefined));
        await listener.waitForLeader(leader.autoAddress(), leader.sessionId!);
        await leader.election.close();
        remaining.splice(remaining.indexOf(leader), 1);
      }
      for (const c of contenders) {
        expect(c.overlaps).toBe(0);
        expect(c.events.map((e) => e.type)).toEqual(['grant', 'revoke']);
      }
    });

    it('refuses to start twice and ignores confirmations after close', async () => {
      const services = await cluster.newServices();
      const a = new RecordingContender('a', services.getResourceManagerLeaderElection());
      await a.start();
      await expect(a.start()).rejects.toThrow(/already started/);
      const sessionA = await a.waitForGrant();
      await a.election.close();
      await a.election.close();
      expect(a.election.hasLeadership(sessionA)).toBe(false);
      await expect(a.election.confirmLeadership(sessionA, 'rpc://a')).resolves.toBe(false);
    });

    it('leaves no timers or sockets behind once everything is closed', async () => {
      const before = resourceCounts();
      const [sa, sb] = [await cluster.newServices(), await cluster.newServices()];
      const a = new RecordingContender('a', sa.getResourceManagerLeaderElection(), 'rpc://a');
      const b = new RecordingContender('b', sb.getResourceManagerLeaderElection(), 'rpc://b');
      await a.start();
      const sessionA = await a.waitForGrant();
      await b.start();
      const listener = new RecordingListener();
      await sb.getResourceManagerLeaderRetriever().start(listener);
      await listener.waitForLeader('rpc://a', sessionA);
      await sa.close();
      await listener.waitForLeader('rpc://b', await b.waitForGrant());
      await sb.closeAndCleanupAllData();
      await cluster.close();
      await resourcesSettled(before);
    });
  });
}

/** Counts of live handles that keep a process alive, by kind (ignoring the test runner's own). */
export function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (type === 'TTYWrap' || type === 'FSReqCallback' || type === 'PipeWrap') continue;
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/**
 * Waits until the live handles are no more than `before`, in several samples in a row: a reconnect loop or a retry
 * timer would show up in one of them.
 */
export async function resourcesSettled(before: Record<string, number>, samples = 5): Promise<void> {
  let good = 0;
  await eventually(
    `resources to return to ${JSON.stringify(before)} (now ${JSON.stringify(resourceCounts())})`,
    async () => {
      const settled = Object.entries(resourceCounts()).every(([type, count]) => count <= (before[type] ?? 0));
      good = settled ? good + 1 : 0;
      if (good < samples) await sleep(100);
      return good >= samples;
    },
  );
}
