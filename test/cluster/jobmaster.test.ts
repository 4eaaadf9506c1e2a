/**
 * The JobMaster against fake ResourceManager and TaskExecutor gateways: registration, slot offers, deployment,
 * task states, heartbeats, checkpoints and failover, each observable at the fakes.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { JobMasterGateway, ResourceManagerGateway, TaskExecutorGateway } from '../../src/cluster/gateways.js';
import { createMemoryClusterHaStores } from '../../src/cluster/ha/memoryStores.js';
import type { ArchivedJob } from '../../src/cluster/jobmaster/ArchivedJob.js';
import { JobMaster } from '../../src/cluster/jobmaster/JobMaster.js';
import { createRestartStrategy } from '../../src/cluster/restart/restartStrategies.js';
import type {
  ResourceRequirements,
  RestartStrategyConfig,
  TaskDeploymentDescriptor,
  ValidatedJobGraph,
} from '../../src/cluster/types.js';
import { EmbeddedHaServices } from '../../src/ha/index.js';
import { HeartbeatServices } from '../../src/heartbeat/index.js';
import { FencingTokenException } from '../../src/index.js';
import { createTestingGateway, TestingRpcService } from '../../src/testing/index.js';

const RM_ADDRESS = 'rpc://fake/resourcemanager';
const TE_ADDRESS = 'rpc://fake/taskexecutor';
const REGISTRATION = {
  initialRegistrationTimeout: 100,
  maxRegistrationTimeout: 1_000,
  errorDelay: 100,
  refusedRegistrationDelay: 100,
};

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function waitUntil<T>(probe: () => T | undefined | false, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function poll<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Harness {
  jobMaster: JobMaster;
  gateway: JobMasterGateway;
  service: TestingRpcService;
  declared: ResourceRequirements[];
  deployed: { tdd: TaskDeploymentDescriptor; jobMasterId: string }[];
  freed: string[];
  cancelled: string[];
  confirmed: { attemptId: string; checkpointId: number }[];
  aborted: { attemptId: string; checkpointId: number }[];
  triggered: { attemptId: string; checkpointId: number }[];
  terminal: ArchivedJob[];
  stores: ReturnType<typeof createMemoryClusterHaStores>;
  /** What the fake TaskExecutor does when the JobMaster requests a heartbeat. */
  answerHeartbeats: { value: boolean };
  onTrigger: { handler: (attemptId: string, checkpointId: number) => void };
}

async function startJobMaster(options: {
  parallelism?: number;
  checkpointInterval?: number;
  restartStrategy?: RestartStrategyConfig;
  slotRequestTimeout?: number;
}): Promise<Harness> {
  const service = await TestingRpcService.create({ askTimeout: 2_000 });
  cleanups.push(() => service.closeAsync());
  const ha = new EmbeddedHaServices();
  cleanups.push(() => ha.close());
  // A ResourceManager leader whose address leads to the fake.
  const rmElection = ha.getResourceManagerLeaderElection();
  await rmElection.startLeaderElection({
    grantLeadership: (sessionId) => void rmElection.confirmLeadership(sessionId, RM_ADDRESS),
    revokeLeadership: () => {},
    handleError: () => {},
  });
  const harness = {
    declared: [],
    deployed: [],
    freed: [],
    cancelled: [],
    confirmed: [],
    aborted: [],
    triggered: [],
    terminal: [],
    answerHeartbeats: { value: true },
    onTrigger: { handler: () => {} },
  } as unknown as Harness;
  service.registerGateway(
    RM_ADDRESS,
    createTestingGateway(ResourceManagerGateway, {
      registerJobMaster: async () => ({ kind: 'success', value: { resourceManagerResourceId: 'rm' } }),
      declareRequiredResources: async (_id, requirements) => {
        harness.declared.push(requirements);
      },
      heartbeatFromJobManager: async () => {},
      disconnectJobManager: async () => {},
    }),
  );
  service.registerGateway(
    TE_ADDRESS,
    createTestingGateway(TaskExecutorGateway, {
      submitTask: async (tdd, jobMasterId) => {
        harness.deployed.push({ tdd, jobMasterId });
      },
      cancelTask: async (attemptId) => {
        harness.cancelled.push(attemptId);
        setTimeout(() => {
          harness.gateway
            .updateTaskExecutionState({ jobId: 'job-1', executionAttemptId: attemptId, state: 'CANCELED' })
            .catch(() => {});
        }, 5);
      },
      freeSlot: async (allocationId) => {
        harness.freed.push(allocationId);
      },
      heartbeatFromJobManager: async (origin) => {
        if (harness.answerHeartbeats.value) {
          await harness.gateway.heartbeatFromTaskManager('te-1', { runningAttempts: [] });
        }
        void origin;
      },
      triggerCheckpoint: async (attemptId, checkpointId) => {
        harness.triggered.push({ attemptId, checkpointId });
        harness.onTrigger.handler(attemptId, checkpointId);
      },
      confirmCheckpoint: async (attemptId, checkpointId) => {
        harness.confirmed.push({ attemptId, checkpointId });
      },
      abortCheckpoint: async (attemptId, checkpointId) => {
        harness.aborted.push({ attemptId, checkpointId });
      },
      disconnectJobManager: async () => {},
    }),
  );
  const stores = createMemoryClusterHaStores();
  const guard = ha.getJobManagerLeaderElection('job-1');
  const graph: ValidatedJobGraph = {
    jobId: 'job-1',
    name: 'test job',
    vertices: [{ id: 'v', name: 'Vertex', parallelism: options.parallelism ?? 2, operator: 'noop' }],
    ...(options.checkpointInterval === undefined ? {} : { checkpointing: { interval: options.checkpointInterval } }),
    ...(options.restartStrategy === undefined ? {} : { restartStrategy: options.restartStrategy }),
  };
  const jobMaster = new JobMaster({
    rpcService: service,
    jobMasterId: 'jm-1',
    jobGraph: graph,
    haServices: ha,
    heartbeat: new HeartbeatServices(50, 300),
    configuration: {
      rpcTimeout: 1_000,
      slotRequestTimeout: options.slotRequestTimeout ?? 5_000,
      registration: REGISTRATION,
      maxRetainedCheckpoints: 1,
    },
    checkpointStore: stores.completedCheckpointStore('job-1', 1, guard),
    checkpointIdCounter: stores.checkpointIdCounter('job-1', guard),
    restartStrategy: createRestartStrategy(graph.restartStrategy, options.checkpointInterval !== undefined),
    startTime: Date.now(),
    onJobReachedTerminalState: (archive) => harness.terminal.push(archive),
  });
  jobMaster.start();
  cleanups.push(() => jobMaster.closeAsync());
  harness.jobMaster = jobMaster;
  harness.service = service;
  harness.stores = stores;
  harness.gateway = await service.connect(jobMaster.getAddress(), 'jm-1', JobMasterGateway);
  return harness;
}

async function registerAndOffer(harness: Harness, slots: number): Promise<string[]> {
  const registration = await harness.gateway.registerTaskManager(
    'job-1',
    { taskManagerAddress: TE_ADDRESS, resourceId: 'te-1', sessionId: 'session-1', hostname: 'localhost' },
    1_000,
  );
  expect(registration).toEqual({ kind: 'success', value: { jobMasterResourceId: harness.jobMaster.resourceId } });
  const offers = Array.from({ length: slots }, (_, i) => ({ allocationId: `alloc-${i}`, slotIndex: i }));
  const accepted = await harness.gateway.offerSlots('te-1', offers, 1_000);
  return accepted.map((offer) => offer.allocationId);
}

describe('JobMaster', () => {
  it('registers at the ResourceManager, declares its slots, deploys on offered slots and finishes', async () => {
    const harness = await startJobMaster({ parallelism: 2 });
    await waitUntil(() => harness.declared.some((r) => r.numberOfRequiredSlots === 2), 'a declaration of 2 slots');
    await expect(
      harness.gateway.offerSlots('te-unknown', [{ allocationId: 'x', slotIndex: 0 }], 1_000),
    ).rejects.toMatchObject({ name: 'UnknownComponentException' });
    // Only the slots the job needs are accepted.
    expect(await registerAndOffer(harness, 3)).toEqual(['alloc-0', 'alloc-1']);
    await waitUntil(() => harness.deployed.length === 2, 'two deployments');
    for (const { tdd, jobMasterId } of harness.deployed) {
      expect(jobMasterId).toBe('jm-1');
      expect(tdd.jobId).toBe('job-1');
      expect(tdd.attemptNumber).toBe(0);
    }
    expect(harness.deployed.map((d) => d.tdd.subtaskIndex).sort()).toEqual([0, 1]);

    await expect(
      harness.gateway.updateTaskExecutionState({
        jobId: 'job-1',
        executionAttemptId: 'no-such-attempt',
        state: 'RUNNING',
      }),
    ).rejects.toMatchObject({
      name: 'ExecutionAttemptNotFoundException',
      message: 'The execution attempt no-such-attempt was not found.',
    });

    for (const { tdd } of harness.deployed) {
      await harness.gateway.updateTaskExecutionState({
        jobId: 'job-1',
        executionAttemptId: tdd.executionAttemptId,
        state: 'RUNNING',
      });
    }
    expect(await harness.gateway.requestJobStatus()).toBe('RUNNING');
    for (const { tdd } of harness.deployed) {
      await harness.gateway.updateTaskExecutionState({
        jobId: 'job-1',
        executionAttemptId: tdd.executionAttemptId,
        state: 'FINISHED',
      });
    }
    const archive = await waitUntil(() => harness.terminal[0], 'the terminal state');
    expect(archive.result.status).toBe('FINISHED');
    expect(archive.details['status-counts'].FINISHED).toBe(2);
    await waitUntil(() => harness.freed.length === 2, 'both slots freed');
    expect(harness.freed.sort()).toEqual(['alloc-0', 'alloc-1']);
    await waitUntil(() => harness.declared.at(-1)?.numberOfRequiredSlots === 0, 'a declaration of 0 slots');
  });

  it('refuses calls that carry another JobMasterId', async () => {
    const harness = await startJobMaster({});
    const stale = await harness.service.connect(harness.jobMaster.getAddress(), 'jm-0', JobMasterGateway);
    await expect(stale.requestJobStatus()).rejects.toBeInstanceOf(FencingTokenException);
  });

  it('completes checkpoints into the HA store, confirms them to every task, and aborts a declined one only', async () => {
    const harness = await startJobMaster({ parallelism: 2, checkpointInterval: 40 });
    await registerAndOffer(harness, 2);
    await waitUntil(() => harness.deployed.length === 2, 'two deployments');
    const attempts = harness.deployed.map((d) => d.tdd.executionAttemptId);
    for (const attemptId of attempts) {
      await harness.gateway.updateTaskExecutionState({
        jobId: 'job-1',
        executionAttemptId: attemptId,
        state: 'RUNNING',
      });
    }
    // Checkpoint 2 is declined by the first task; every other checkpoint is acknowledged by both.
    harness.onTrigger.handler = (attemptId, checkpointId) => {
      setTimeout(() => {
        if (checkpointId === 2 && attemptId === attempts[0]) {
          harness.gateway.declineCheckpoint('job-1', attemptId, checkpointId, { name: 'Error', message: 'not now' });
        } else {
          harness.gateway.acknowledgeCheckpoint('job-1', attemptId, checkpointId, { inline: { attemptId }, size: 10 });
        }
      }, 1);
    };
    await waitUntil(() => harness.confirmed.filter((c) => c.checkpointId === 3).length === 2, 'checkpoint 3 confirmed');
    expect(
      harness.confirmed
        .filter((c) => c.checkpointId === 1)
        .map((c) => c.attemptId)
        .sort(),
    ).toEqual([...attempts].sort());
    expect(harness.confirmed.some((c) => c.checkpointId === 2)).toBe(false);
    expect(harness.aborted.filter((a) => a.checkpointId === 2)).toHaveLength(2);
    const stats = await harness.gateway.requestCheckpointStats();
    expect(stats.counts.failed).toBeGreaterThanOrEqual(1);
    expect(stats.counts.completed).toBeGreaterThanOrEqual(2);
    expect(stats.history.find((e) => e.id === 2)?.failure_message).toContain('not now');
    const latest = await harness.stores.completedCheckpointStore('job-1', 1, undefined as never).getLatestCheckpoint();
    expect(latest?.checkpointId).toBeGreaterThanOrEqual(3);
    expect(Object.keys(latest?.taskStates ?? {}).sort()).toEqual(['v/0', 'v/1']);
  });

  it('disconnects a TaskExecutor whose heartbeats stop, fails its tasks and restarts from the latest checkpoint', async () => {
    const harness = await startJobMaster({
      parallelism: 1,
      checkpointInterval: 30,
      restartStrategy: { type: 'fixed-delay', attempts: 1, delay: 10 },
    });
    await registerAndOffer(harness, 1);
    await waitUntil(() => harness.deployed.length === 1, 'a deployment');
    const first = harness.deployed[0]?.tdd as TaskDeploymentDescriptor;
    await harness.gateway.updateTaskExecutionState({
      jobId: 'job-1',
      executionAttemptId: first.executionAttemptId,
      state: 'RUNNING',
    });
    harness.onTrigger.handler = (attemptId, checkpointId) =>
      harness.gateway.acknowledgeCheckpoint('job-1', attemptId, checkpointId, { inline: checkpointId, size: 1 });
    await waitUntil(() => harness.confirmed.length >= 1, 'a completed checkpoint');

    harness.answerHeartbeats.value = false;
    const history = await poll(async () => {
      const entries = (await harness.gateway.requestJobExceptions()).exceptionHistory.entries;
      return entries.length > 0 ? entries : undefined;
    }, 'the heartbeat timeout');
    expect(history[0]?.stacktrace).toContain('Heartbeat of TaskManager with id te-1 timed out.');
    expect(await harness.gateway.requestJobStatus()).toMatch(/RESTARTING|RUNNING/);

    // The TaskExecutor registers again (a new session) and offers its slot: the job is redeployed from the checkpoint.
    harness.answerHeartbeats.value = true;
    const registration = await harness.gateway.registerTaskManager(
      'job-1',
      { taskManagerAddress: TE_ADDRESS, resourceId: 'te-1', sessionId: 'session-2', hostname: 'localhost' },
      1_000,
    );
    expect(registration.kind).toBe('success');
    await poll(async () => (await harness.gateway.requestJobStatus()) === 'RUNNING' || undefined, 'RUNNING again');
    const accepted = await harness.gateway.offerSlots('te-1', [{ allocationId: 'alloc-again', slotIndex: 0 }], 1_000);
    expect(accepted).toHaveLength(1);
    await waitUntil(() => harness.deployed.length === 2, 'a redeployment');
    const second = harness.deployed[1]?.tdd as TaskDeploymentDescriptor;
    expect(second.attemptNumber).toBe(1);
    expect(second.restoreCheckpointId).toBeGreaterThanOrEqual(1);
    expect(second.restoreState?.inline).toBe(second.restoreCheckpointId);
    expect((await harness.gateway.requestJob()).numRestarts).toBe(1);
  });
});
