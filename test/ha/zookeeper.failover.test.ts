/**
 * Failover across processes: three contender processes on one ZooKeeper, a retrieval listener in this process (the
 * fourth). The bounds are the behaviour bounds: a new leader within session timeout + 1 s after the leader is
 * killed, well under a second after it closes gracefully. Each round prints its measured times.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperHaServices } from '../../src/ha/index.js';
import { startZooKeeper, type ZooKeeperTestServer } from '../support/zookeeper.js';
import { type ContenderMessage, ContenderProcess, killAllContenders, median } from './support/contenderProcess.js';
import { eventually, RecordingListener } from './support/recorders.js';
import { newClusterId, TEST_SESSION_TIMEOUT_MS } from './support/zookeeperCluster.js';

const ROUNDS = Number(process.env.HA_FAILOVER_ROUNDS ?? 3);

let server: ZooKeeperTestServer;
let observer: ZooKeeperHaServices | undefined;

beforeAll(async () => {
  server = await startZooKeeper();
});

afterEach(async () => {
  await killAllContenders();
  await observer?.close();
  observer = undefined;
});

afterAll(async () => {
  await killAllContenders();
  await server?.stop();
});

/** Three contenders and an observer on a fresh cluster; resolves once one of them leads and is visible. */
async function startCluster() {
  const clusterId = newClusterId('failover');
  const options = { connectString: server.connectString, clusterId, sessionTimeout: TEST_SESSION_TIMEOUT_MS };
  observer = await ZooKeeperHaServices.create({ ...options, connectionTimeout: 10_000 });
  expect(observer.getSessionTimeout()).toBe(TEST_SESSION_TIMEOUT_MS);
  const listener = new RecordingListener();
  await observer.getDispatcherLeaderRetriever().start(listener);
  let next = 0;
  const spawnContender = () => new ContenderProcess(`p${++next}`, options);
  const contenders = [spawnContender(), spawnContender(), spawnContender()];
  await Promise.all(contenders.map((c) => c.waitFor('ready')));
  const leader = await currentLeader(contenders, 0);
  await listener.waitForLeader(leader.address!, leader.sessionId!);
  return { contenders, listener, spawnContender };
}

/** The contender that confirmed leadership after `since`, and its confirmation. */
async function currentLeader(contenders: ContenderProcess[], since: number): Promise<ContenderMessage> {
  return eventually('a confirmed leader', () => {
    for (const c of contenders) {
      const confirmed = c.find('confirmed', since);
      if (confirmed?.ok) return confirmed;
    }
    return undefined;
  });
}

function byName(contenders: ContenderProcess[], name: string): ContenderProcess {
  const found = contenders.find((c) => c.name === name);
  if (!found) throw new Error(`No contender ${name}.`);
  return found;
}

describe('ZooKeeper failover across processes', () => {
  it(
    `SIGKILL of the leader: a new leader within session timeout + 1 s, seen by retrieval (${ROUNDS} rounds)`,
    async () => {
      const { contenders, listener, spawnContender } = await startCluster();
      const grantTimes: number[] = [];
      const retrievalTimes: number[] = [];
      let leader = await currentLeader(contenders, 0);
      for (let round = 1; round <= ROUNDS; round++) {
        const victim = byName(contenders, leader.name);
        const killedAt = Date.now();
        victim.kill('SIGKILL');
        await victim.exited;
        contenders.splice(contenders.indexOf(victim), 1);

        const granted = await eventually(
          'a grant after the kill',
          () => contenders.map((c) => c.find('granted', killedAt)).find((m) => m !== undefined),
          TEST_SESSION_TIMEOUT_MS + 5_000,
        );
        const successor = await currentLeader(contenders, killedAt);
        expect(successor.sessionId).toBe(granted.sessionId);
        expect(successor.sessionId).not.toBe(leader.sessionId);
        await listener.waitForLeader(successor.address!, successor.sessionId!);
        const grantMs = granted.at - killedAt;
        const retrievalMs = listener.timeOf(successor.address!, successor.sessionId!)! - killedAt;
        grantTimes.push(grantMs);
        retrievalTimes.push(retrievalMs);
        console.log(
          `[failover] SIGKILL round ${round}: new leader after ${grantMs} ms, retrieval after ${retrievalMs} ms`,
        );
        expect(grantMs).toBeLessThan(TEST_SESSION_TIMEOUT_MS + 1_000);

        // Exactly one process leads; the others still follow.
        expect(contenders.filter((c) => c.confirmedSession() !== undefined).map((c) => c.name)).toEqual([
          successor.name,
        ]);
        leader = successor;
        const replacement = spawnContender();
        contenders.push(replacement);
        await replacement.waitFor('ready');
      }
      console.log(
        `[failover] SIGKILL (session timeout ${TEST_SESSION_TIMEOUT_MS} ms): median new leader ${median(grantTimes)} ms, ` +
          `median retrieval ${median(retrievalTimes)} ms over ${ROUNDS} rounds`,
      );
      for (const c of contenders) expect(c.errors()).toEqual([]);
    },
    60_000 + ROUNDS * 10_000,
  );

  it(
    `graceful close hands over in well under a second (${ROUNDS} rounds)`,
    async () => {
      const { contenders, listener, spawnContender } = await startCluster();
      const grantTimes: number[] = [];
      const retrievalTimes: number[] = [];
      let leader = await currentLeader(contenders, 0);
      for (let round = 1; round <= ROUNDS; round++) {
        const closing = byName(contenders, leader.name);
        const closedAt = Date.now();
        closing.requestClose();
        const successor = await currentLeader(
          contenders.filter((c) => c !== closing),
          closedAt,
        );
        const granted = byName(contenders, successor.name).find('granted', closedAt)!;
        await listener.waitForLeader(successor.address!, successor.sessionId!);
        const grantMs = granted.at - closedAt;
        const retrievalMs = listener.timeOf(successor.address!, successor.sessionId!)! - closedAt;
        grantTimes.push(grantMs);
        retrievalTimes.push(retrievalMs);
        console.log(
          `[failover] graceful round ${round}: new leader after ${grantMs} ms, retrieval after ${retrievalMs} ms`,
        );
        expect(grantMs).toBeLessThan(1_000);
        await closing.exited;
        expect(closing.find('closed')).toBeDefined();
        contenders.splice(contenders.indexOf(closing), 1);
        leader = successor;
        const replacement = spawnContender();
        contenders.push(replacement);
        await replacement.waitFor('ready');
      }
      console.log(
        `[failover] graceful: median new leader ${median(grantTimes)} ms, median retrieval ${median(retrievalTimes)} ms`,
      );
    },
    60_000 + ROUNDS * 5_000,
  );
});
