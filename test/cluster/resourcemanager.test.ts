import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobMasterGateway, ResourceManagerGateway, TaskExecutorGateway } from '../../src/cluster/gateways.js';
import { ResourceManager } from '../../src/cluster/resourcemanager/ResourceManager.js';
import { ResourceManagerService } from '../../src/cluster/resourcemanager/ResourceManagerService.js';
import type { SlotReport, TaskExecutorRegistration } from '../../src/cluster/types.js';
import { ComponentIds, EmbeddedHaServices, type LeaderElection } from '../../src/ha/index.js';
import { HeartbeatServices } from '../../src/heartbeat/index.js';
import { FencingTokenException } from '../../src/index.js';
import { createTestingGateway, TestingRpcService } from '../../src/testing/index.js';

const JOB = 'job-1';
const JM_ADDRESS = 'rpc://testing/jm';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `check` until it passes (vitest's waitFor, polling every 10 ms). */
const eventually = (check: () => void | Promise<void>, timeoutMs = 3_000) =>
  vi.waitFor(check, { timeout: timeoutMs, interval: 10 });

function slotReport(resourceId: string, slots: number, allocated: Record<number, [string, string]> = {}): SlotReport {
  return {
    slots: Array.from({ length: slots }, (_, slotNumber) => ({
      slotId: { resourceId, slotNumber },
      ...(allocated[slotNumber] === undefined
        ? {}
        : { allocationId: allocated[slotNumber][0], jobId: allocated[slotNumber][1] }),
    })),
  };
}

function registration(resourceId: string, slots = 2): TaskExecutorRegistration {
  return {
    taskExecutorAddress: `rpc://testing/${resourceId}`,
    resourceId,
    numberOfSlots: slots,
    hostname: 'localhost',
  };
}

describe('ResourceManager', () => {
  let service: TestingRpcService;
  let ha: EmbeddedHaServices;
  let rm: ResourceManager;
  let gateway: ResourceManagerGateway;
  const requestSlot = vi.fn(async (..._args: unknown[]) => {});
  const teDisconnects: string[] = [];
  const jmDisconnects: string[] = [];
  let jmElection: LeaderElection | undefined;

  function fakeTaskExecutor(resourceId: string, heartbeats = true) {
    const allocated: Record<number, [string, string]> = {};
    service.registerGateway(
      `rpc://testing/${resourceId}`,
      createTestingGateway(TaskExecutorGateway, {
        requestSlot: async (slotId, jobId, allocationId, ...rest) => {
          await requestSlot(slotId, jobId, allocationId, ...rest);
          allocated[slotId.slotNumber] = [allocationId, jobId];
        },
        heartbeatFromResourceManager: async () => {
          if (!heartbeats) return;
          // answer like a TaskExecutor would: a heartbeat with its slot report
          queueMicrotask(() => {
            gateway
              .heartbeatFromTaskManager(resourceId, { slotReport: slotReport(resourceId, 2, allocated) })
              .catch(() => {});
          });
        },
        disconnectResourceManager: async (cause) => {
          teDisconnects.push(`${resourceId}: ${cause.message}`);
        },
      }),
    );
  }

  async function electJobMaster(): Promise<string> {
    jmDisconnects.length = 0;
    service.registerGateway(
      JM_ADDRESS,
      createTestingGateway(JobMasterGateway, {
        heartbeatFromResourceManager: async () => {
          queueMicrotask(() => void gateway.heartbeatFromJobManager('jm-process').catch(() => {}));
        },
        disconnectResourceManager: async (_id, cause) => {
          jmDisconnects.push(cause.message);
        },
      }),
    );
    jmElection = ha.getJobManagerLeaderElection(JOB);
    let session: string | undefined;
    await jmElection.startLeaderElection({
      grantLeadership: (sessionId) => {
        session = sessionId;
        void jmElection?.confirmLeadership(sessionId, JM_ADDRESS);
      },
      revokeLeadership: () => {},
      handleError: () => {},
    });
    await eventually(() => expect(session).toBeDefined());
    return session as string;
  }

  /** Registers the TaskExecutor `resourceId` and sends its first slot report: two free slots. */
  async function registerWithSlots(resourceId: string): Promise<void> {
    const response = await gateway.registerTaskExecutor(registration(resourceId), 1_000);
    await gateway.sendSlotReport(
      resourceId,
      (response as { value: { instanceId: string } }).value.instanceId,
      slotReport(resourceId, 2),
      1_000,
    );
  }

  beforeEach(async () => {
    requestSlot.mockReset();
    requestSlot.mockImplementation(async () => {});
    teDisconnects.length = 0;
    service = await TestingRpcService.create();
    ha = new EmbeddedHaServices();
    rm = new ResourceManager(service, 'rm-1', ha, {
      resourceId: 'jm-process',
      heartbeat: new HeartbeatServices(30, 150),
      slotRequestRetryDelay: 10,
    });
    rm.start();
    gateway = await service.connect(rm.getAddress(), 'rm-1', ResourceManagerGateway);
  });

  afterEach(async () => {
    await jmElection?.close();
    jmElection = undefined;
    await rm.closeAsync();
    await ha.close();
    await service.closeAsync();
  });

  it('registers a TaskExecutor, accepts its slot report and refuses reports of unknown instances', async () => {
    fakeTaskExecutor('te-1');
    const response = await gateway.registerTaskExecutor(registration('te-1'), 1_000);
    expect(response.kind).toBe('success');
    const { instanceId, resourceManagerResourceId } = (
      response as { value: { instanceId: string; resourceManagerResourceId: string } }
    ).value;
    expect(resourceManagerResourceId).toBe('jm-process');
    await gateway.sendSlotReport('te-1', instanceId, slotReport('te-1', 2), 1_000);
    expect(await gateway.requestResourceOverview()).toEqual({
      numberRegisteredTaskManagers: 1,
      numberRegisteredSlots: 2,
      numberFreeSlots: 2,
    });
    await expect(gateway.sendSlotReport('te-1', 'bogus', slotReport('te-1', 2), 1_000)).rejects.toThrow(
      'Unknown TaskManager registration id bogus.',
    );
  });

  it('replaces the registration of a TaskExecutor that registers again under the same resource id', async () => {
    fakeTaskExecutor('te-1');
    const first = await gateway.registerTaskExecutor(registration('te-1'), 1_000);
    const second = await gateway.registerTaskExecutor(registration('te-1'), 1_000);
    expect(first.kind).toBe('success');
    expect(second.kind).toBe('success');
    const firstId = (first as { value: { instanceId: string } }).value.instanceId;
    const secondId = (second as { value: { instanceId: string } }).value.instanceId;
    expect(secondId).not.toBe(firstId);
    await expect(gateway.sendSlotReport('te-1', firstId, slotReport('te-1', 2), 1_000)).rejects.toThrow(
      `Unknown TaskManager registration id ${firstId}.`,
    );
    await gateway.sendSlotReport('te-1', secondId, slotReport('te-1', 2), 1_000);
    expect((await gateway.requestTaskManagerInfo()).map((info) => info.id)).toEqual(['te-1']);
  });

  it('refuses a malformed TaskExecutor registration with a rejection', async () => {
    const response = await gateway.registerTaskExecutor(
      { ...registration('te-1'), numberOfSlots: -3 } as TaskExecutorRegistration,
      1_000,
    );
    expect(response).toMatchObject({ kind: 'rejection' });
    expect((response as { reason: string }).reason).toContain('numberOfSlots');
  });

  it("checks a JobMaster's id against the job's leader and refuses requirements of other ids", async () => {
    const leaderId = await electJobMaster();
    const wrong = await gateway.registerJobMaster('not-the-leader', 'jm-process', JM_ADDRESS, JOB, 100);
    expect(wrong).toEqual({
      kind: 'failure',
      reason:
        `The leading JobMaster id ${leaderId} did not match the received JobMaster id not-the-leader. ` +
        'This indicates that a JobMaster leader change has happened.',
    });
    const ok = await gateway.registerJobMaster(leaderId, 'jm-process', JM_ADDRESS, JOB, 1_000);
    expect(ok).toEqual({ kind: 'success', value: { resourceManagerResourceId: 'jm-process' } });
    // the same id again is idempotent
    expect(await gateway.registerJobMaster(leaderId, 'jm-process', JM_ADDRESS, JOB, 1_000)).toEqual(ok);
    await expect(
      gateway.declareRequiredResources(
        'not-the-leader',
        { jobId: JOB, jobMasterAddress: JM_ADDRESS, numberOfRequiredSlots: 1 },
        1_000,
      ),
    ).rejects.toThrow(`The job leader's id ${leaderId} does not match the received id not-the-leader.`);
    await expect(
      gateway.declareRequiredResources(
        leaderId,
        { jobId: 'other-job', jobMasterAddress: JM_ADDRESS, numberOfRequiredSlots: 1 },
        1_000,
      ),
    ).rejects.toThrow('Could not find registered job manager for job other-job.');
  });

  it('waits for its view of the job leader to catch up with a JobMaster that just became leader', async () => {
    const sessions: string[] = [];
    const election = ha.getJobManagerLeaderElection(JOB);
    jmElection = election;
    service.registerGateway(
      JM_ADDRESS,
      createTestingGateway(JobMasterGateway, { heartbeatFromResourceManager: async () => {} }),
    );
    await election.startLeaderElection({
      grantLeadership: (sessionId) => {
        sessions.push(sessionId);
        // after the first grant, the new leader's address is published only a while after it learns it leads
        const delay = sessions.length === 1 ? 0 : 150;
        setTimeout(() => void election.confirmLeadership(sessionId, JM_ADDRESS), delay);
      },
      revokeLeadership: () => {},
      handleError: () => {},
    });
    await eventually(() => expect(ha.registry.getLeaderInformation(ComponentIds.jobManager(JOB))).not.toBeNull());
    expect(await gateway.registerJobMaster(sessions[0] as string, 'jm-1', JM_ADDRESS, JOB, 1_000)).toMatchObject({
      kind: 'success',
    });
    ha.registry.revokeLeadership(ComponentIds.jobManager(JOB));
    await eventually(() => expect(sessions).toHaveLength(2));
    // the ResourceManager still sees the old leader: it waits for the new one instead of refusing
    const response = await gateway.registerJobMaster(sessions[1] as string, 'jm-2', JM_ADDRESS, JOB, 2_000);
    expect(response).toMatchObject({ kind: 'success' });
    expect(await rm.callAsync(() => rm.getRegisteredJobMasters(), 1_000)).toEqual([
      { jobId: JOB, jobMasterId: sessions[1] },
    ]);
  });

  it('matches declared requirements to free slots with requestSlot, and retries failed requests', async () => {
    const leaderId = await electJobMaster();
    fakeTaskExecutor('te-1');
    fakeTaskExecutor('te-2');
    for (const te of ['te-1', 'te-2']) {
      await registerWithSlots(te);
    }
    let failures = 1;
    requestSlot.mockImplementation(async () => {
      if (failures-- > 0) throw new Error('TaskExecutor busy');
    });
    await gateway.registerJobMaster(leaderId, 'jm-process', JM_ADDRESS, JOB, 1_000);
    await gateway.declareRequiredResources(
      leaderId,
      { jobId: JOB, jobMasterAddress: JM_ADDRESS, numberOfRequiredSlots: 3 },
      1_000,
    );
    await eventually(async () => {
      expect(await gateway.requestResourceOverview()).toMatchObject({ numberFreeSlots: 1 });
      expect(requestSlot).toHaveBeenCalledTimes(4);
    });
    const calls = requestSlot.mock.calls as unknown as unknown[][];
    for (const call of calls) {
      expect(call[1]).toBe(JOB);
      expect(call[3]).toBe(JM_ADDRESS);
      expect(call[4]).toBe('rm-1');
    }
    // spread over both TaskExecutors
    const used = new Set(calls.slice(1).map((call) => (call[0] as { resourceId: string }).resourceId));
    expect(used).toEqual(new Set(['te-1', 'te-2']));
    const allocationIds = new Set(calls.map((call) => call[2]));
    expect(allocationIds.size).toBe(4);
    const infos = await gateway.requestTaskManagerInfo();
    expect(infos.reduce((n, info) => n + info.allocatedSlots.filter((s) => s.jobId === JOB).length, 0)).toBe(3);
  });

  it('closes the registration of a JobMaster that lost leadership and accepts its successor', async () => {
    const first = await electJobMaster();
    expect(await gateway.registerJobMaster(first, 'jm-process', JM_ADDRESS, JOB, 1_000)).toMatchObject({
      kind: 'success',
    });
    expect(await rm.callAsync(() => rm.getRegisteredJobMasters(), 1_000)).toEqual([{ jobId: JOB, jobMasterId: first }]);
    ha.registry.revokeLeadership(ComponentIds.jobManager(JOB));
    let second: string | undefined;
    await eventually(() => {
      second = ha.registry.getLeaderInformation(ComponentIds.jobManager(JOB))?.sessionId;
      expect(second).toBeDefined();
      expect(second).not.toBe(first);
    });
    await eventually(async () => expect(await rm.callAsync(() => rm.getRegisteredJobMasters(), 1_000)).toEqual([]));
    expect(jmDisconnects).toEqual(['Job leader lost leadership.']);
    // the deposed JobMaster cannot register again; its successor can
    expect(await gateway.registerJobMaster(first, 'jm-process', JM_ADDRESS, JOB, 100)).toMatchObject({
      kind: 'failure',
    });
    expect(await gateway.registerJobMaster(second as string, 'jm-2', JM_ADDRESS, JOB, 1_000)).toMatchObject({
      kind: 'success',
    });
    expect(await rm.callAsync(() => rm.getRegisteredJobMasters(), 1_000)).toEqual([
      { jobId: JOB, jobMasterId: second },
    ]);
  });

  it('ignores the late answer to a slot request it gave up, and releases pending slots on a decrease', async () => {
    const leaderId = await electJobMaster();
    fakeTaskExecutor('te-1', false);
    const answers: (() => void)[] = [];
    requestSlot.mockImplementation(() => new Promise<void>((resolve) => answers.push(resolve)));
    await registerWithSlots('te-1');
    await gateway.registerJobMaster(leaderId, 'jm-process', JM_ADDRESS, JOB, 1_000);
    const declare = (n: number) =>
      gateway.declareRequiredResources(
        leaderId,
        { jobId: JOB, jobMasterAddress: JM_ADDRESS, numberOfRequiredSlots: n },
        1_000,
      );
    await declare(2);
    await eventually(() => expect(answers).toHaveLength(2));
    expect(await rm.callAsync(() => rm.getNumberOfSlotsOfJob(JOB), 1_000)).toBe(2);
    await declare(0);
    expect(await rm.callAsync(() => rm.getNumberOfSlotsOfJob(JOB), 1_000)).toBe(0);
    expect(await gateway.requestResourceOverview()).toMatchObject({ numberFreeSlots: 2 });
    for (const answer of answers) answer();
    await sleep(80);
    expect(await rm.callAsync(() => rm.getNumberOfSlotsOfJob(JOB), 1_000)).toBe(0);
    expect(requestSlot).toHaveBeenCalledTimes(2);
  });

  it('disconnects a JobMaster whose heartbeats stop, and tells it', async () => {
    const leaderId = await electJobMaster();
    service.registerGateway(
      JM_ADDRESS,
      createTestingGateway(JobMasterGateway, {
        heartbeatFromResourceManager: async () => {},
        disconnectResourceManager: async (_id, cause) => {
          jmDisconnects.push(cause.message);
        },
      }),
    );
    await gateway.registerJobMaster(leaderId, 'silent-jm', JM_ADDRESS, JOB, 1_000);
    await eventually(async () => expect(await rm.callAsync(() => rm.getRegisteredJobMasters(), 1_000)).toEqual([]));
    expect(jmDisconnects).toEqual(['The heartbeat of JobManager with id silent-jm timed out.']);
  });

  it('disconnects a TaskExecutor whose heartbeats stop, and tells it', async () => {
    fakeTaskExecutor('te-1', false);
    await registerWithSlots('te-1');
    await eventually(async () => {
      expect(await gateway.requestResourceOverview()).toMatchObject({ numberRegisteredTaskManagers: 0 });
    });
    expect(teDisconnects).toEqual(['te-1: The heartbeat of TaskManager with id te-1 timed out.']);
  });

  it('keeps a TaskExecutor that answers heartbeats and reports the last heartbeat time', async () => {
    fakeTaskExecutor('te-1');
    await registerWithSlots('te-1');
    const before = Date.now();
    await sleep(300);
    const [info] = await gateway.requestTaskManagerInfo();
    expect(info?.id).toBe('te-1');
    expect(info?.timeSinceLastHeartbeat).toBeGreaterThanOrEqual(before);
    expect(teDisconnects).toEqual([]);
  });

  it('refuses calls that carry another fencing token', async () => {
    const stale = await service.connect(rm.getAddress(), 'rm-0', ResourceManagerGateway);
    await expect(stale.requestResourceOverview()).rejects.toBeInstanceOf(FencingTokenException);
  });
});

describe('ResourceManagerService', () => {
  it('creates a fresh fenced ResourceManager per leadership grant', async () => {
    const service = await TestingRpcService.create();
    const ha = new EmbeddedHaServices();
    const rmService = new ResourceManagerService(service, ha, { heartbeat: HeartbeatServices.noOp() });
    try {
      await rmService.start();
      await eventually(() => expect(ha.registry.getLeaderInformation(ComponentIds.resourceManager)).not.toBeNull());
      const first = ha.registry.getLeaderInformation(ComponentIds.resourceManager)!;
      expect(rmService.getCurrentLeader()?.getFencingToken()).toBe(first.sessionId);
      const stale = await service.connect(first.address, first.sessionId, ResourceManagerGateway);
      await stale.requestResourceOverview();

      ha.registry.revokeLeadership(ComponentIds.resourceManager);
      await eventually(() => {
        const now = ha.registry.getLeaderInformation(ComponentIds.resourceManager);
        expect(now?.sessionId).toBeDefined();
        expect(now?.sessionId).not.toBe(first.sessionId);
      });
      await rmService.whenSettled();
      const second = ha.registry.getLeaderInformation(ComponentIds.resourceManager)!;
      expect(rmService.getCurrentLeader()?.getFencingToken()).toBe(second.sessionId);
      const fresh = await service.connect(second.address, second.sessionId, ResourceManagerGateway);
      await expect(fresh.requestResourceOverview()).resolves.toMatchObject({ numberRegisteredTaskManagers: 0 });
      await expect(stale.requestResourceOverview()).rejects.toThrow();
    } finally {
      await rmService.close();
      expect(rmService.getCurrentLeader()).toBeUndefined();
      await ha.close();
      await service.closeAsync();
    }
  });
});
