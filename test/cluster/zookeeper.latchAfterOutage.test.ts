/**
 * A contender that leaves the election while ZooKeeper is unreachable must not leave its latch node behind: the
 * session survives a short outage, so the node would stay first in line and nobody else of the component — such as
 * the JobMaster of a job recovered by the same process — could ever be granted leadership.
 */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LeaderContender, ZooKeeperHaServices } from '../../src/ha/index.js';
import { startZooKeeper, type ZooKeeperTestServer } from '../support/zookeeper.js';
import { waitFor } from './support/jobs.js';

let server: ZooKeeperTestServer;

beforeAll(async () => {
  server = await startZooKeeper();
});

afterAll(async () => {
  await server?.stop();
});

function contender() {
  const state = { leader: false, grants: 0 };
  const callbacks: LeaderContender = {
    grantLeadership: () => {
      state.leader = true;
      state.grants += 1;
    },
    revokeLeadership: () => {
      state.leader = false;
    },
    handleError: () => {},
  };
  return { state, callbacks };
}

describe('ZooKeeper election across an outage', () => {
  it('a contender closed while ZooKeeper is down gives the leadership up once it is back', async () => {
    const services = await ZooKeeperHaServices.create({
      connectString: server.connectString,
      clusterId: `outage-${randomUUID()}`,
      sessionTimeout: 4_000,
      connectionTimeout: 10_000,
    });
    try {
      const first = contender();
      const firstElection = services.getJobManagerLeaderElection('job-1');
      await firstElection.startLeaderElection(first.callbacks);
      await waitFor('the first contender to lead', () => first.state.leader);

      await server.pause();
      await waitFor('the leadership revoked while ZooKeeper is down', () => !first.state.leader);
      await firstElection.close();
      await server.resume();

      // The same process (same, surviving session) joins again, as a Dispatcher that recovers a job does.
      const second = contender();
      const secondElection = services.getJobManagerLeaderElection('job-1');
      await secondElection.startLeaderElection(second.callbacks);
      await waitFor('the new contender to lead', () => second.state.leader, 10_000);
      expect(first.state.grants).toBe(1);
    } finally {
      await services.close();
    }
  }, 40_000);
});
