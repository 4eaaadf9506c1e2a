import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobMasterGateway, ResourceManagerGateway, TaskExecutorGateway } from '../../src/cluster/gateways.js';
import type { RetryingRegistrationOptions } from '../../src/cluster/registration/RetryingRegistration.js';
import { ResourceManagerService } from '../../src/cluster/resourcemanager/ResourceManagerService.js';
import { startTaskManager, type TaskManagerHandle } from '../../src/cluster/taskexecutor/startTaskManager.js';
import type {
  RegistrationResponse,
  SlotOffer,
  TaskDeploymentDescriptor,
  TaskExecutionState,
  TaskExecutorRegistrationSuccess,
} from '../../src/cluster/types.js';
import { ComponentIds, EmbeddedHaServices, type LeaderContender, type LeaderElection } from '../../src/ha/index.js';
import { HeartbeatServices } from '../../src/heartbeat/index.js';
import { RpcTimeoutException } from '../../src/index.js';
import { createTestingGateway, TestingRpcService } from '../../src/testing/index.js';

const JOB = 'job-1';
const JM_ADDRESS = 'rpc://testing/jm';
const registration: RetryingRegistrationOptions = {
  initialRegistrationTimeout: 50,
  maxRegistrationTimeout: 200,
  errorDelay: 30,
  refusedRegistrationDelay: 30,
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `check` until it passes (vitest's waitFor, polling every 10 ms). */
const eventually = (check: () => void | Promise<void>, timeoutMs = 4_000) =>
  vi.waitFor(check, { timeout: timeoutMs, interval: 10 });

/** A contender that publishes the address it is told, per grant. */
async function elect(election: LeaderElection, address: () => string): Promise<{ sessions: string[] }> {
  const sessions: string[] = [];
  const contender: LeaderContender = {
    grantLeadership: (sessionId) => {
      sessions.push(sessionId);
      void election.confirmLeadership(sessionId, address());
    },
    revokeLeadership: () => {},
    handleError: () => {},
  };
  await election.startLeaderElection(contender);
  await eventually(() => expect(sessions.length).toBeGreaterThan(0));
  return { sessions };
}

function tdd(allocationId: string, overrides: Partial<TaskDeploymentDescriptor> = {}): TaskDeploymentDescriptor {
  return {
    jobId: JOB,
    jobName: 'test job',
    vertexId: 'v',
    vertexName: 'v',
    subtaskIndex: 0,
    parallelism: 1,
    attemptNumber: 0,
    executionAttemptId: crypto.randomUUID(),
    allocationId,
    operator: 'noop',
    config: { steps: 2 },
    ...overrides,
  };
}

describe('TaskExecutor with a ResourceManager and a (fake) JobMaster', () => {
  let service: TestingRpcService;
  let ha: EmbeddedHaServices;
  let rmService: ResourceManagerService;
  let tm: TaskManagerHandle;
  let te: TaskExecutorGateway;
  let jmElection: LeaderElection;
  let jobMasterId: string;
  let heartbeatLoop: ReturnType<typeof setInterval> | undefined;
  const states: TaskExecutionState[] = [];
  const offers: SlotOffer[][] = [];
  const jmDisconnects: string[] = [];
  const registerTaskManager = vi.fn();

  async function rmGateway(): Promise<ResourceManagerGateway> {
    const leader = ha.registry.getLeaderInformation(ComponentIds.resourceManager);
    if (leader === null) throw new Error('no RM leader');
    return service.connect(leader.address, leader.sessionId, ResourceManagerGateway);
  }

  async function allocatedSlots(): Promise<string[]> {
    const report = await tm.taskExecutor.callAsync(() => tm.taskExecutor.getSlotReport(), 1_000);
    return report.slots.flatMap((slot) => (slot.allocationId === undefined ? [] : [slot.allocationId]));
  }

  function startJobManagerHeartbeats(): void {
    heartbeatLoop = setInterval(() => {
      void allocatedSlots()
        .then((slots) => te.heartbeatFromJobManager('jm-resource', slots))
        .catch(() => {});
    }, 40);
  }

  beforeEach(async () => {
    states.length = 0;
    offers.length = 0;
    jmDisconnects.length = 0;
    registerTaskManager.mockReset();
    service = await TestingRpcService.create();
    ha = new EmbeddedHaServices();
    const heartbeat = new HeartbeatServices(40, 400);
    rmService = new ResourceManagerService(service, ha, { heartbeat, slotRequestRetryDelay: 20 });
    await rmService.start();
    service.registerGateway(
      JM_ADDRESS,
      createTestingGateway(JobMasterGateway, {
        registerTaskManager: async (jobId, info) => {
          registerTaskManager(jobId, info);
          return { kind: 'success', value: { jobMasterResourceId: 'jm-resource' } };
        },
        offerSlots: async (_resourceId, offered) => {
          offers.push(offered);
          return offered;
        },
        updateTaskExecutionState: async (state) => {
          states.push(state);
        },
        heartbeatFromTaskManager: async () => {},
        heartbeatFromResourceManager: async () => {},
        disconnectTaskManager: async (_id, cause) => {
          jmDisconnects.push(cause.message);
        },
        acknowledgeCheckpoint: () => {},
        acknowledgeCheckpoints: () => {},
        declineCheckpoint: () => {},
      }),
    );
    jmElection = ha.getJobManagerLeaderElection(JOB);
    const { sessions } = await elect(jmElection, () => JM_ADDRESS);
    jobMasterId = sessions[0] as string;
    tm = await startTaskManager({
      rpcService: service,
      haServices: ha,
      numberOfSlots: 2,
      resourceId: 'te-1',
      heartbeat,
      registration,
      taskCancellationTimeout: 200,
      slotTimeout: 300,
    });
    te = await service.connect(tm.taskExecutor.getAddress(), TaskExecutorGateway);
    await eventually(async () => {
      expect(await (await rmGateway()).requestResourceOverview()).toEqual({
        numberRegisteredTaskManagers: 1,
        numberRegisteredSlots: 2,
        numberFreeSlots: 2,
      });
    });
  });

  afterEach(async () => {
    clearInterval(heartbeatLoop);
    heartbeatLoop = undefined;
    await tm.close();
    await jmElection.close();
    await rmService.close();
    await ha.close();
    await service.closeAsync();
  });

  /** Registers the (fake) JobMaster at the ResourceManager and declares that the job needs `n` slots. */
  async function declareSlots(n: number): Promise<void> {
    const rm = await rmGateway();
    expect(await rm.registerJobMaster(jobMasterId, 'jm-resource', JM_ADDRESS, JOB, 1_000)).toMatchObject({
      kind: 'success',
    });
    await redeclareSlots(n);
  }

  /** Changes the number of slots the already registered JobMaster declares. */
  async function redeclareSlots(n: number): Promise<void> {
    await (await rmGateway()).declareRequiredResources(
      jobMasterId,
      { jobId: JOB, jobMasterAddress: JM_ADDRESS, numberOfRequiredSlots: n },
      1_000,
    );
  }

  it('gets slots allocated by the ResourceManager, offers them to the job leader and runs a task in one', async () => {
    startJobManagerHeartbeats();
    await declareSlots(2);
    await eventually(() => expect(offers.flat()).toHaveLength(2));
    expect(registerTaskManager).toHaveBeenCalledWith(
      JOB,
      expect.objectContaining({ resourceId: 'te-1', sessionId: tm.taskExecutor.sessionId }),
    );
    const allocationId = offers.flat()[0]?.allocationId as string;
    const descriptor = tdd(allocationId);
    await te.submitTask(descriptor, jobMasterId, 1_000);
    await eventually(() => expect(states.map((s) => s.state)).toContain('FINISHED'));
    expect(states.map((s) => s.state)).toEqual(['DEPLOYING', 'INITIALIZING', 'RUNNING', 'FINISHED']);
    expect(states.every((s) => s.executionAttemptId === descriptor.executionAttemptId)).toBe(true);
    expect(await (await rmGateway()).requestResourceOverview()).toMatchObject({ numberFreeSlots: 0 });
  });

  it("refuses deployments with another JobMasterId or without the job's slot, with Flink's texts", async () => {
    startJobManagerHeartbeats();
    await declareSlots(1);
    await eventually(() => expect(offers.flat()).toHaveLength(1));
    const allocationId = offers.flat()[0]?.allocationId as string;
    await expect(te.submitTask(tdd(allocationId), 'wrong-id', 1_000)).rejects.toThrow(
      'Rejecting the task submission because the job manager leader id wrong-id does not match the expected job ' +
        `manager leader id ${jobMasterId}.`,
    );
    await expect(te.submitTask(tdd('not-a-slot'), jobMasterId, 1_000)).rejects.toThrow(
      `No task slot allocated for job ID ${JOB} and allocation ID not-a-slot.`,
    );
    await expect(te.submitTask(tdd(allocationId, { jobId: 'other-job' }), jobMasterId, 1_000)).rejects.toThrow(
      'Could not submit task because there is no JobManager associated for the job other-job.',
    );
    await expect(te.cancelTask('nope', 1_000)).rejects.toThrow('Cannot find task to stop for execution nope.');
  });

  it('refuses checkpoint messages for tasks it does not run, naming them, and bad checkpoint ids', async () => {
    await expect(te.triggerCheckpoint('ghost', 1, 0)).rejects.toThrow(
      'TaskManager received a checkpoint request for unknown task ghost.',
    );
    await expect(te.confirmCheckpoint('ghost', 1, 0)).rejects.toThrow(
      'TaskManager received a checkpoint confirmation for unknown task ghost.',
    );
    await expect(te.abortCheckpoint('ghost', 1, 0)).rejects.toThrow(
      'TaskManager received an aborted checkpoint for unknown task ghost.',
    );
    await expect(te.triggerCheckpoints(['a', 'b'], 1, 0)).rejects.toThrow(
      'TaskManager received a checkpoint request for unknown task a, b.',
    );
    await expect(te.triggerCheckpoints(['a'], 1.5, 0)).rejects.toThrow('The checkpoint id must be an integer.');
    await expect(te.triggerCheckpoint(42 as unknown as string, 1, 0)).rejects.toThrow(/executionAttemptId/);
  });

  it('refuses slot requests of a foreign ResourceManager and for slots of another job', async () => {
    startJobManagerHeartbeats();
    await declareSlots(2);
    await eventually(() => expect(offers.flat()).toHaveLength(2));
    await expect(
      te.requestSlot({ resourceId: 'te-1', slotNumber: 0 }, 'job-2', 'a-2', JM_ADDRESS, 'some-other-rm', 1_000),
    ).rejects.toThrow('TaskManager is not connected to the resource manager some-other-rm.');
    const rmId = (await tm.taskExecutor.callAsync(() => tm.taskExecutor.getResourceManagerConnection(), 1_000))
      ?.resourceManagerId as string;
    const occupied = await te
      .requestSlot({ resourceId: 'te-1', slotNumber: 0 }, 'job-2', 'a-2', JM_ADDRESS, rmId, 1_000)
      .catch((e: unknown) => e as Error);
    expect(occupied).toBeInstanceOf(Error);
    expect((occupied as Error).name).toBe('SlotOccupiedException');
    expect((occupied as Error).message).toBe('The slot te-1:0 has already been allocated for a different job.');
    // the same allocation again is accepted (idempotent)
    const [first] = (await tm.taskExecutor.callAsync(() => tm.taskExecutor.getSlotReport(), 1_000)).slots;
    await te.requestSlot(
      { resourceId: 'te-1', slotNumber: 0 },
      JOB,
      first?.allocationId as string,
      JM_ADDRESS,
      rmId,
      1_000,
    );
  });

  it('registers again at a new ResourceManager leader and reports its allocated slots there', async () => {
    startJobManagerHeartbeats();
    await declareSlots(1);
    await eventually(() => expect(offers.flat()).toHaveLength(1));
    const before = ha.registry.getLeaderInformation(ComponentIds.resourceManager)?.sessionId;
    ha.registry.revokeLeadership(ComponentIds.resourceManager);
    await eventually(async () => {
      const now = ha.registry.getLeaderInformation(ComponentIds.resourceManager);
      expect(now?.sessionId).not.toBe(before);
      const connection = await tm.taskExecutor.callAsync(() => tm.taskExecutor.getResourceManagerConnection(), 1_000);
      expect(connection?.resourceManagerId).toBe(now?.sessionId);
      expect(await (await rmGateway()).requestResourceOverview()).toEqual({
        numberRegisteredTaskManagers: 1,
        numberRegisteredSlots: 2,
        numberFreeSlots: 1,
      });
    });
  });

  it('on a JobMaster heartbeat timeout fails its tasks and registers at the job leader again', async () => {
    startJobManagerHeartbeats();
    await declareSlots(1);
    await eventually(() => expect(offers.flat()).toHaveLength(1));
    const allocationId = offers.flat()[0]?.allocationId as string;
    await te.submitTask(tdd(allocationId, { operator: 'stall', config: {} }), jobMasterId, 1_000);
    await eventually(() => expect(states.map((s) => s.state)).toContain('RUNNING'));
    expect(registerTaskManager).toHaveBeenCalledTimes(1);
    clearInterval(heartbeatLoop);
    await eventually(async () => {
      expect(await tm.taskExecutor.callAsync(() => tm.taskExecutor.getTasks().length, 1_000)).toBe(0);
      expect(registerTaskManager.mock.calls.length).toBeGreaterThanOrEqual(2);
    });
    // the slot was kept and offered to the leader again
    await eventually(() => expect(offers.flat().filter((o) => o.allocationId === allocationId)).toHaveLength(2));
  });

  it('retries task state updates that fail, keeping their order', async () => {
    let failures = 3;
    let attempts = 0;
    const delivered: string[] = [];
    service.registerGateway(
      JM_ADDRESS,
      createTestingGateway(JobMasterGateway, {
        registerTaskManager: async () => ({ kind: 'success', value: { jobMasterResourceId: 'jm-resource' } }),
        offerSlots: async (_resourceId, offered) => {
          offers.push(offered);
          return offered;
        },
        updateTaskExecutionState: async (state) => {
          attempts += 1;
          if (failures-- > 0) throw new Error('JobMaster busy');
          delivered.push(state.state);
        },
        heartbeatFromTaskManager: async () => {},
        disconnectTaskManager: async () => {},
      }),
    );
    startJobManagerHeartbeats();
    await declareSlots(1);
    await eventually(() => expect(offers.flat()).toHaveLength(1));
    await te.submitTask(tdd(offers.flat()[0]?.allocationId as string), jobMasterId, 1_000);
    await eventually(() => expect(delivered).toEqual(['DEPLOYING', 'INITIALIZING', 'RUNNING', 'FINISHED']));
    expect(attempts).toBe(7);
  });

  it('frees an accepted, idle slot that the JobMaster no longer lists in its heartbeats', async () => {
    await declareSlots(2);
    await eventually(() => expect(offers.flat()).toHaveLength(2));
    const [kept, dropped] = offers.flat().map((offer) => offer.allocationId) as [string, string];
    await redeclareSlots(1);
    heartbeatLoop = setInterval(() => void te.heartbeatFromJobManager('jm-resource', [kept]).catch(() => {}), 40);
    await eventually(async () => expect(await allocatedSlots()).toEqual([kept]));
    expect(dropped).not.toBe(kept);
  });

  it('offers again after an offer timed out, and frees the slots after another offer error', async () => {
    const answers: string[] = [];
    let mode: 'timeout' | 'error' = 'timeout';
    service.registerGateway(
      JM_ADDRESS,
      createTestingGateway(JobMasterGateway, {
        registerTaskManager: async () => ({ kind: 'success', value: { jobMasterResourceId: 'jm-resource' } }),
        offerSlots: async (_resourceId, offered) => {
          offers.push(offered);
          if (mode === 'timeout') {
            mode = 'error';
            answers.push('timeout');
            throw new RpcTimeoutException('offerSlots timed out');
          }
          answers.push('error');
          throw new Error('JobMaster is confused');
        },
        heartbeatFromTaskManager: async () => {},
        disconnectTaskManager: async () => {},
      }),
    );
    await declareSlots(1);
    await eventually(() => expect(answers.slice(0, 2)).toEqual(['timeout', 'error']));
    // the same allocation was offered twice, then freed (the ResourceManager may allocate anew)
    expect(offers[0]?.[0]?.allocationId).toBe(offers[1]?.[0]?.allocationId);
    await eventually(async () => expect(await allocatedSlots()).not.toContain(offers[0]?.[0]?.allocationId));
  });

  it('frees slots the JobMaster does not accept, and the ResourceManager sees them free again', async () => {
    service.registerGateway(
      JM_ADDRESS,
      createTestingGateway(JobMasterGateway, {
        registerTaskManager: async () => ({ kind: 'success', value: { jobMasterResourceId: 'jm-resource' } }),
        offerSlots: async (_resourceId, offered) => {
          offers.push(offered);
          return [];
        },
        heartbeatFromTaskManager: async () => {},
        heartbeatFromResourceManager: async () => {},
        disconnectTaskManager: async () => {},
      }),
    );
    await declareSlots(1);
    await eventually(() => expect(offers.length).toBeGreaterThanOrEqual(1));
    await redeclareSlots(0);
    await eventually(async () => {
      expect(await allocatedSlots()).toEqual([]);
      expect(await (await rmGateway()).requestResourceOverview()).toMatchObject({ numberFreeSlots: 2 });
    });
  });

  it('frees a slot whose JobMaster never takes it within the slot timeout', async () => {
    // no job leader at the address: registration at the JobMaster keeps failing
    service.unregisterGateway(JM_ADDRESS);
    const rm = await rmGateway();
    const rmId = (await tm.taskExecutor.callAsync(() => tm.taskExecutor.getResourceManagerConnection(), 1_000))
      ?.resourceManagerId as string;
    await te.requestSlot({ resourceId: 'te-1', slotNumber: 1 }, JOB, 'lonely', JM_ADDRESS, rmId, 1_000);
    expect(await allocatedSlots()).toEqual(['lonely']);
    await eventually(async () => expect(await allocatedSlots()).toEqual([]), 2_000);
    expect(await rm.requestResourceOverview()).toMatchObject({ numberFreeSlots: 2 });
  });
});

describe('TaskExecutor registration at the ResourceManager', () => {
  it('drops the success of a registration attempt made for an outdated leader', async () => {
    const service = await TestingRpcService.create();
    const ha = new EmbeddedHaServices();
    let answerFirst!: (r: RegistrationResponse<TaskExecutorRegistrationSuccess>) => void;
    const slotReports: string[] = [];
    service.registerGateway(
      'rpc://testing/rm1',
      createTestingGateway(ResourceManagerGateway, {
        registerTaskExecutor: () => new Promise((resolve) => (answerFirst = resolve)),
        sendSlotReport: async () => {
          slotReports.push('rm1');
        },
      }),
    );
    service.registerGateway(
      'rpc://testing/rm2',
      createTestingGateway(ResourceManagerGateway, {
        registerTaskExecutor: async () => ({
          kind: 'success',
          value: { instanceId: 'instance-2', resourceManagerResourceId: 'rm2' },
        }),
        sendSlotReport: async () => {
          slotReports.push('rm2');
        },
        heartbeatFromTaskManager: async () => {},
      }),
    );
    const election = ha.getResourceManagerLeaderElection();
    let address = 'rpc://testing/rm1';
    const { sessions } = await elect(election, () => address);
    const tm = await startTaskManager({
      rpcService: service,
      haServices: ha,
      numberOfSlots: 1,
      resourceId: 'te-x',
      heartbeat: HeartbeatServices.noOp(),
      registration: { ...registration, initialRegistrationTimeout: 5_000, maxRegistrationTimeout: 5_000 },
    });
    try {
      await eventually(() => expect(answerFirst).toBeDefined());
      address = 'rpc://testing/rm2';
      ha.registry.revokeLeadership(ComponentIds.resourceManager);
      await eventually(() => expect(sessions).toHaveLength(2));
      await eventually(() => expect(slotReports).toEqual(['rm2']));
      answerFirst({ kind: 'success', value: { instanceId: 'instance-1', resourceManagerResourceId: 'rm1' } });
      await sleep(50);
      const connection = await tm.taskExecutor.callAsync(() => tm.taskExecutor.getResourceManagerConnection(), 1_000);
      expect(connection).toEqual({ resourceManagerId: sessions[1], instanceId: 'instance-2' });
      expect(slotReports).toEqual(['rm2']);
    } finally {
      await tm.close();
      await election.close();
      await ha.close();
      await service.closeAsync();
    }
  });
});

describe('TaskExecutor following a job leader', () => {
  it('keeps its tasks while the job leader is briefly unknown and comes back under the same session', async () => {
    const service = await TestingRpcService.create();
    const ha = new EmbeddedHaServices();
    service.registerGateway(
      'rpc://testing/rm',
      createTestingGateway(ResourceManagerGateway, {
        registerTaskExecutor: async () => ({
          kind: 'success',
          value: { instanceId: 'instance', resourceManagerResourceId: 'rm' },
        }),
        sendSlotReport: async () => {},
        heartbeatFromTaskManager: async () => {},
      }),
    );
    const registrations: string[] = [];
    service.registerGateway(
      JM_ADDRESS,
      createTestingGateway(JobMasterGateway, {
        registerTaskManager: async (_jobId, info) => {
          registrations.push(info.sessionId);
          return { kind: 'success', value: { jobMasterResourceId: 'jm-resource' } };
        },
        offerSlots: async (_resourceId, offered) => offered,
        updateTaskExecutionState: async () => {},
        heartbeatFromTaskManager: async () => {},
        disconnectTaskManager: async () => {},
      }),
    );
    const rmElection = ha.getResourceManagerLeaderElection();
    const { sessions } = await elect(rmElection, () => 'rpc://testing/rm');
    let jobLeaderListener: { notifyLeaderAddress(a: string | null, s: string | null): void } | undefined;
    const haWithControlledJobLeader = new Proxy(ha, {
      get(target, property) {
        if (property === 'getJobManagerLeaderRetriever') {
          return () => ({
            start: async (listener: typeof jobLeaderListener) => {
              jobLeaderListener = listener;
              listener?.notifyLeaderAddress(JM_ADDRESS, 'jm-session');
            },
            stop: async () => {},
          });
        }
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const tm = await startTaskManager({
      rpcService: service,
      haServices: haWithControlledJobLeader,
      numberOfSlots: 1,
      resourceId: 'te-j',
      heartbeat: HeartbeatServices.noOp(),
      registration,
      slotTimeout: 300,
      taskCancellationTimeout: 100,
    });
    try {
      const te = await service.connect(tm.taskExecutor.getAddress(), TaskExecutorGateway);
      await eventually(async () =>
        expect(
          await tm.taskExecutor.callAsync(() => tm.taskExecutor.getResourceManagerConnection(), 1_000),
        ).toBeDefined(),
      );
      await te.requestSlot(
        { resourceId: 'te-j', slotNumber: 0 },
        JOB,
        'slot-a',
        JM_ADDRESS,
        sessions[0] as string,
        1_000,
      );
      await eventually(async () =>
        expect(await tm.taskExecutor.callAsync(() => tm.taskExecutor.getJobManagerConnections(), 1_000)).toHaveLength(
          1,
        ),
      );
      await te.submitTask(tdd('slot-a', { operator: 'stall', config: {} }), 'jm-session', 1_000);
      const running = () => tm.taskExecutor.callAsync(() => tm.taskExecutor.getTasks().length, 1_000);
      expect(await running()).toBe(1);

      jobLeaderListener?.notifyLeaderAddress(null, null);
      await sleep(100);
      jobLeaderListener?.notifyLeaderAddress(JM_ADDRESS, 'jm-session');
      await sleep(400);
      expect(await running()).toBe(1);
      expect(registrations).toHaveLength(1);

      // gone for longer than the slot timeout: the tasks of the lost leader are cancelled
      jobLeaderListener?.notifyLeaderAddress(null, null);
      await eventually(async () => expect(await running()).toBe(0), 2_000);
    } finally {
      await tm.close();
      await rmElection.close();
      await ha.close();
      await service.closeAsync();
    }
  });
});
