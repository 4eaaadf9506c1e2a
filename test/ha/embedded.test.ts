import { describe, expect, it } from 'vitest';
import {
  ComponentIds,
  createHighAvailabilityServices,
  EmbeddedHaServices,
  EmbeddedLeaderRegistry,
  type HighAvailabilityServices,
} from '../../src/ha/index.js';
import { leaderElectionContract } from './support/contract.js';
import { eventually, RecordingContender, RecordingListener } from './support/recorders.js';

leaderElectionContract('embedded', async () => {
  const registry = new EmbeddedLeaderRegistry();
  const created: HighAvailabilityServices[] = [];
  return {
    async newServices() {
      const services = new EmbeddedHaServices({ registry });
      created.push(services);
      return services;
    },
    async deposeLeader(componentId) {
      registry.revokeLeadership(componentId);
    },
    async close() {
      await Promise.all(created.map((s) => s.close()));
    },
  };
});

describe('embedded HA services', () => {
  it('is what createHighAvailabilityServices builds for mode embedded', async () => {
    const services = await createHighAvailabilityServices({ mode: 'embedded' });
    expect(services).toBeInstanceOf(EmbeddedHaServices);
    await services.close();
  });

  it('keeps components and jobs apart', async () => {
    const services = new EmbeddedHaServices();
    const rm = new RecordingContender('rm', services.getResourceManagerLeaderElection(), 'rpc://rm');
    const jm1 = new RecordingContender('jm1', services.getJobManagerLeaderElection('j1'), 'rpc://jm1');
    const jm2 = new RecordingContender('jm2', services.getJobManagerLeaderElection('j2'), 'rpc://jm2');
    for (const c of [rm, jm1, jm2]) await c.start();
    const listener = new RecordingListener();
    await services.getJobManagerLeaderRetriever('j2').start(listener);
    await listener.waitForLeader('rpc://jm2', await jm2.waitForGrant());
    expect(rm.grants()).toHaveLength(1);
    expect(jm1.grants()).toHaveLength(1);
    await services.close();
    for (const c of [rm, jm1, jm2]) expect(c.events.map((e) => e.type)).toEqual(['grant', 'revoke']);
  });

  it('rejects job ids that are not plain path segments', () => {
    const services = new EmbeddedHaServices();
    expect(() => services.getJobManagerLeaderElection('../x')).toThrow(TypeError);
    expect(() => services.getJobManagerLeaderRetriever('a/b')).toThrow(TypeError);
  });

  it('rewrites the leader information if it is removed behind the leader', async () => {
    const services = new EmbeddedHaServices();
    const a = new RecordingContender('a', services.getDispatcherLeaderElection(), 'rpc://a');
    await a.start();
    const listener = new RecordingListener();
    await services.getDispatcherLeaderRetriever().start(listener);
    const sessionId = await a.waitForGrant();
    await listener.waitForLeader('rpc://a', sessionId);
    const seen = listener.notifications.length;
    services.registry.clear();
    await eventually('null then the rewritten leader', () => listener.notifications.length >= seen + 2);
    expect(listener.notifications.slice(-2)).toEqual([
      { address: null, sessionId: null },
      { address: 'rpc://a', sessionId },
    ]);
    await services.close();
  });

  it('hands a contender error thrown in grantLeadership to handleError', async () => {
    const services = new EmbeddedHaServices();
    const errors: Error[] = [];
    await services.getDispatcherLeaderElection().startLeaderElection({
      grantLeadership() {
        throw new Error('boom');
      },
      revokeLeadership() {},
      handleError(error) {
        errors.push(error);
      },
    });
    await services.close();
    expect(errors.map((e) => e.message)).toEqual(['boom']);
  });

  it('refuses new elections after close', async () => {
    const services = new EmbeddedHaServices();
    await services.close();
    expect(() => services.getDispatcherLeaderElection()).toThrow(/closed/);
  });
});

describe('embedded re-grant of the same contender', () => {
  it('refuses a confirmation of the previous session even when the same contender leads again', async () => {
    const services = new EmbeddedHaServices();
    const a = new RecordingContender('a', services.getDispatcherLeaderElection());
    await a.start();
    const first = await a.waitForGrant();
    // Queued before the revocation and re-grant: when it runs, the election still holds `first` as current, so the
    // registry itself must refuse the old session.
    const stale = a.election.confirmLeadership(first, 'rpc://stale');
    services.registry.revokeLeadership(ComponentIds.dispatcher);
    const second = await a.waitForGrant([first]);
    await expect(stale).resolves.toBe(false);
    expect(services.registry.getLeaderInformation(ComponentIds.dispatcher)).toBeNull();
    await expect(a.election.confirmLeadership(second, 'rpc://a')).resolves.toBe(true);
    expect(services.registry.getLeaderInformation(ComponentIds.dispatcher)).toEqual({
      address: 'rpc://a',
      sessionId: second,
    });
    await services.close();
  });
});
