import { describe, expect, it } from 'vitest';
import { createHighAvailabilityServices, DEFAULT_LEADER_SESSION_ID, StandaloneHaServices } from '../../src/ha/index.js';
import { RecordingContender, RecordingListener } from './support/recorders.js';

const config = {
  resourceManagerAddress: 'rpc.tcp://flink@rm:6123/resourcemanager',
  dispatcherAddress: 'rpc.tcp://flink@jm:6123/dispatcher',
  clusterRestEndpointAddress: 'http://jm:8081',
  jobManagerAddress: (jobId: string) => (jobId === 'known' ? 'rpc.tcp://flink@jm:6123/jobmanager_known' : undefined),
};

describe('standalone HA services', () => {
  it('grants the contender at once with the fixed default session id', async () => {
    const services = await createHighAvailabilityServices({ mode: 'standalone', standalone: config });
    expect(services).toBeInstanceOf(StandaloneHaServices);
    const rm = new RecordingContender('rm', services.getResourceManagerLeaderElection());
    await rm.start();
    expect(await rm.waitForGrant()).toBe(DEFAULT_LEADER_SESSION_ID);
    expect(rm.election.hasLeadership(DEFAULT_LEADER_SESSION_ID)).toBe(true);
    await expect(rm.election.confirmLeadership(DEFAULT_LEADER_SESSION_ID, 'ignored')).resolves.toBe(true);
    await expect(rm.election.confirmLeadership('other', 'ignored')).resolves.toBe(false);
    await rm.election.close();
    expect(rm.events.map((e) => e.type)).toEqual(['grant', 'revoke']);
    expect(rm.election.hasLeadership(DEFAULT_LEADER_SESSION_ID)).toBe(false);
    await services.close();
  });

  it('retrieves the configured addresses', async () => {
    const services = new StandaloneHaServices(config);
    const cases = [
      { retrieval: services.getResourceManagerLeaderRetriever(), address: config.resourceManagerAddress },
      { retrieval: services.getDispatcherLeaderRetriever(), address: config.dispatcherAddress },
      { retrieval: services.getClusterRestEndpointLeaderRetriever(), address: config.clusterRestEndpointAddress },
      {
        retrieval: services.getJobManagerLeaderRetriever('known'),
        address: 'rpc.tcp://flink@jm:6123/jobmanager_known',
      },
      {
        retrieval: services.getJobManagerLeaderRetriever('other', 'rpc.tcp://flink@jm:6123/default'),
        address: 'rpc.tcp://flink@jm:6123/default',
      },
    ];
    for (const { retrieval, address } of cases) {
      const listener = new RecordingListener();
      await retrieval.start(listener);
      await listener.waitForLeader(address, DEFAULT_LEADER_SESSION_ID);
      expect(listener.notifications).toHaveLength(1);
    }
    expect(() => services.getJobManagerLeaderRetriever('unknown')).toThrow(/defaultJobManagerAddress/);
    await services.close();
  });

  it('requires the fixed addresses', () => {
    expect(() => new StandaloneHaServices({ ...config, dispatcherAddress: '' })).toThrow(/dispatcherAddress/);
  });
});
