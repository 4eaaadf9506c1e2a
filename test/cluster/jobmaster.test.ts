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
import { FAST_REGISTRATION, waitFor } from './support/jobs.js';

const RM_ADDRESS = 'rpc://fake/resourcemanager';
const TE_ADDRESS = 'rpc://fake/taskexecutor';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

const waitUntil = <T>(probe: () => T | undefined | false, what: string, timeoutMs = 5_000) =>
  waitFor(what, probe, timeoutMs, 10);

const poll = <T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000) =>
  waitFor(what, probe, timeoutMs, 10);

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
  /** The attempts the fake TaskExecutor reports as running in its heartbeats. */
  reportedAttempts: { value: string[] };
  onTrigger: { handler: (attemptId: string, checkpointId: number) => void };
}

async function startJobMaster(options: {
  parallelism?: number;
  checkpointInterval?: number;
  checkpointTimeout?: number;
  restartStrategy?: RestartStrategyConfig;
  /** HA stores shared with an earlier JobMaster of the same job. */
  stores?: ReturnType<typeof createMemoryClusterHaStores>;
  jobMasterId?: string;
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
    reportedAttempts: { value: [] },
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
          await harness.gateway.heartbeatFromTaskManager('te-1', { runningAttempts: harness.reportedAttempts.value });
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
      // The JobMaster sends the triggers and confirmations of one TaskExecutor's tasks in one message.
      triggerCheckpoints: async (attemptIds, checkpointId) => {
        for (const attemptId of attemptIds) {
          harness.triggered.push({ attemptId, checkpointId });
          harness.onTrigger.handler(attemptId, checkpointId);
        }
      },
      confirmCheckpoints: async (attemptIds, checkpointId) => {
        for (const attemptId of attemptIds) harness.confirmed.push({ attemptId, checkpointId });
      },
      abortCheckpoint: async (attemptId, checkpointId) => {
        harness.aborted.push({ attemptId, checkpointId });
      },
      disconnectJobManager: async () => {},
    }),
  );
  const stores = options.stores ?? createMemoryClusterHaStores();
  const guard = ha.getJobManagerLeaderElection('job-1');
  const graph: ValidatedJobGraph = {
    jobId: 'job-1',
    name: 'test job',
    vertices: [{ id: 'v', name: 'Vertex', parallelism: options.parallelism ?? 2, operator: 'noop' }],
    ...(options.checkpointInterval === undefined
      ? {}
      : {
          checkpointing: {
            interval: options.checkpointInterval,
            ...(options.checkpointTimeout === undefined ? {} : { timeout: options.checkpointTimeout }),
          },
        }),
    ...(options.restartStrategy === undefined ? {} : { restartStrategy: options.restartStrategy }),
  };
  const jobMaster = new JobMaster({
    rpcService: service,
    jobMasterId: options.jobMasterId ?? 'jm-1',
    jobGraph: graph,
    haServices: ha,
    heartbeat: new HeartbeatServices(50, 300),
    configuration: {
      rpcTimeout: 1_000,
      slotRequestTimeout: options.slotRequestTimeout ?? 5_000,
      registration: FAST_REGISTRATION,
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
  harness.gateway = await service.connect(jobMaster.getAddress(), options.jobMasterId ?? 'jm-1', JobMasterGateway);
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

  it('cancels attempts a TaskExecutor reports that the JobMaster does not know', async () => {
    const harness = await startJobMaster({ parallelism: 1 });
    await registerAndOffer(harness, 1);
    await waitUntil(() => harness.deployed.length === 1, 'a deployment');
    const known = harness.deployed[0]?.tdd.executionAttemptId as string;
    harness.reportedAttempts.value = [known, 'attempt-from-before-a-restart'];
    await waitUntil(() => harness.cancelled.includes('attempt-from-before-a-restart'), 'the unknown attempt cancelled');
    expect(harness.cancelled).not.toContain(known);
  });

  it("rejects a TaskManager registration for another job with Flink's text", async () => {
    const harness = await startJobMaster({ parallelism: 1 });
    const response = await harness.gateway.registerTaskManager(
      'job-other',
      { taskManagerAddress: TE_ADDRESS, resourceId: 'te-1', sessionId: 'session-1', hostname: 'localhost' },
      1_000,
    );
    expect(response).toEqual({
      kind: 'rejection',
      reason:
        'The JobManager is not responsible for job job-other. Maybe the TaskManager used outdated connection information.',
    });
  });

  it('drops the late success of a registration at a ResourceManager that is no longer the leader', async () => {
    const service = await TestingRpcService.create({ askTimeout: 2_000 });
    cleanups.push(() => service.closeAsync());
    const ha = new EmbeddedHaServices();
    cleanups.push(() => ha.close());
    const declaredAt: string[] = [];
    let releaseOld: () => void = () => {};
    const fakeResourceManager = (name: string, slow: boolean) =>
      createTestingGateway(ResourceManagerGateway, {
        registerJobMaster: async () => {
          if (slow) await new Promise<void>((resolve) => (releaseOld = resolve));
          return { kind: 'success', value: { resourceManagerResourceId: name } };
        },
        declareRequiredResources: async () => {
          declaredAt.push(name);
        },
        heartbeatFromJobManager: async () => {},
        disconnectJobManager: async () => {},
      });
    service.registerGateway('rpc://fake/rm-old', fakeResourceManager('rm-old', true));
    service.registerGateway('rpc://fake/rm-new', fakeResourceManager('rm-new', false));
    let grants = 0;
    const election = ha.getResourceManagerLeaderElection();
    await election.startLeaderElection({
      grantLeadership: (sessionId) => {
        grants += 1;
        void election.confirmLeadership(sessionId, grants === 1 ? 'rpc://fake/rm-old' : 'rpc://fake/rm-new');
      },
      revokeLeadership: () => {},
      handleError: () => {},
    });
    const stores = createMemoryClusterHaStores();
    const guard = ha.getJobManagerLeaderElection('job-1');
    const jobMaster = new JobMaster({
      rpcService: service,
      jobMasterId: 'jm-1',
      jobGraph: { jobId: 'job-1', name: 'j', vertices: [{ id: 'v', parallelism: 1, operator: 'noop' }] },
      haServices: ha,
      heartbeat: new HeartbeatServices(1_000, 5_000),
      configuration: {
        rpcTimeout: 1_000,
        slotRequestTimeout: 5_000,
        registration: FAST_REGISTRATION,
        maxRetainedCheckpoints: 1,
      },
      checkpointStore: stores.completedCheckpointStore('job-1', 1, guard),
      checkpointIdCounter: stores.checkpointIdCounter('job-1', guard),
      restartStrategy: createRestartStrategy(undefined, false),
      startTime: Date.now(),
      onJobReachedTerminalState: () => {},
    });
    jobMaster.start();
    cleanups.push(() => jobMaster.closeAsync());
    // The registration at the old leader hangs; leadership moves; then the old leader answers.
    await new Promise((resolve) => setTimeout(resolve, 50));
    ha.registry.revokeLeadership('resource_manager');
    await waitUntil(() => declaredAt.includes('rm-new'), 'a declaration at the new leader');
    releaseOld();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(declaredAt).not.toContain('rm-old');
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

describe('CheckpointCoordinator', () => {
  async function runningJob(
    options: Parameters<typeof startJobMaster>[0],
  ): Promise<{ harness: Harness; attempts: string[] }> {
    const harness = await startJobMaster(options);
    await registerAndOffer(harness, options.parallelism ?? 2);
    await waitUntil(() => harness.deployed.length === (options.parallelism ?? 2), 'deployments');
    const attempts = harness.deployed.map((d) => d.tdd.executionAttemptId);
    for (const attemptId of attempts) {
      await harness.gateway.updateTaskExecutionState({
        jobId: 'job-1',
        executionAttemptId: attemptId,
        state: 'RUNNING',
      });
    }
    return { harness, attempts };
  }

  it('aborts a checkpoint that is not acknowledged within the checkpoint timeout, and only that one', async () => {
    const { harness, attempts } = await runningJob({ parallelism: 2, checkpointInterval: 30, checkpointTimeout: 100 });
    // The second task never acknowledges checkpoint 1; later checkpoints are acknowledged by both.
    harness.onTrigger.handler = (attemptId, checkpointId) => {
      if (checkpointId === 1 && attemptId === attempts[1]) return;
      harness.gateway.acknowledgeCheckpoint('job-1', attemptId, checkpointId, { inline: checkpointId, size: 1 });
    };
    await waitUntil(() => harness.confirmed.some((c) => c.checkpointId === 2), 'checkpoint 2 confirmed');
    const stats = await harness.gateway.requestCheckpointStats();
    const first = stats.history.find((entry) => entry.id === 1);
    expect(first?.status).toBe('FAILED');
    expect(first?.failure_message).toBe('Checkpoint expired before completing.');
    expect(first?.num_acknowledged_subtasks).toBe(1);
    expect(
      harness.aborted
        .filter((a) => a.checkpointId === 1)
        .map((a) => a.attemptId)
        .sort(),
    ).toEqual([...attempts].sort());
    // Checkpoint 1 was never confirmed, and the job kept running.
    expect(harness.confirmed.some((c) => c.checkpointId === 1)).toBe(false);
    expect(await harness.gateway.requestJobStatus()).toBe('RUNNING');
  });

  it('aborts the pending checkpoint when a task fails, and restores the last completed one', async () => {
    const { harness, attempts } = await runningJob({
      parallelism: 2,
      checkpointInterval: 30,
      restartStrategy: { type: 'fixed-delay', attempts: 1, delay: 10 },
    });
    let acknowledge = true;
    harness.onTrigger.handler = (attemptId, checkpointId) => {
      if (acknowledge) {
        harness.gateway.acknowledgeCheckpoint('job-1', attemptId, checkpointId, {
          inline: `${attemptId}@${checkpointId}`,
          size: 1,
        });
      }
    };
    await waitUntil(() => harness.confirmed.length >= 2, 'a completed checkpoint');
    acknowledge = false;
    const pendingId = (
      await waitUntil(() => {
        const confirmedIds = new Set(harness.confirmed.map((c) => c.checkpointId));
        return harness.triggered.find((t) => !confirmedIds.has(t.checkpointId));
      }, 'a checkpoint left pending')
    ).checkpointId;
    await harness.gateway.updateTaskExecutionState({
      jobId: 'job-1',
      executionAttemptId: attempts[0] as string,
      state: 'FAILED',
      error: { name: 'Error', message: 'task lost' },
    });
    const stats = await harness.gateway.requestCheckpointStats();
    const aborted = stats.history.find((entry) => entry.id === pendingId);
    expect(aborted?.status).toBe('FAILED');
    expect(aborted?.failure_message).toContain('task lost');
    // The restart restores the latest completed checkpoint into the new attempts.
    await waitUntil(() => harness.cancelled.length === 1, 'the other task cancelled');
    await poll(async () => ((await harness.gateway.requestJobStatus()) === 'RUNNING' ? true : undefined), 'RUNNING');
    const latest = await harness.stores.completedCheckpointStore('job-1', 1, undefined as never).getLatestCheckpoint();
    await waitUntil(() => harness.deployed.length === 4, 'redeployments');
    for (const { tdd } of harness.deployed.slice(2)) {
      expect(tdd.attemptNumber).toBe(1);
      expect(tdd.restoreCheckpointId).toBe(latest?.checkpointId);
      expect(tdd.restoreState).toEqual(latest?.taskStates[`v/${tdd.subtaskIndex}`]);
    }
  });

  it('runs a checkpoint requested while another is in progress right after it', async () => {
    const { harness } = await runningJob({ parallelism: 2 });
    harness.onTrigger.handler = (attemptId, checkpointId) => {
      setTimeout(
        () =>
          harness.gateway.acknowledgeCheckpoint('job-1', attemptId, checkpointId, { inline: checkpointId, size: 1 }),
        20,
      );
    };
    const ids = await Promise.all([
      harness.gateway.triggerCheckpoint(5_000),
      harness.gateway.triggerCheckpoint(5_000),
      harness.gateway.triggerCheckpoint(5_000),
    ]);
    expect(ids).toEqual([1, 2, 3]);
    // One at a time: checkpoint 2 was triggered only after every trigger of checkpoint 1.
    const firstTriggerOf2 = harness.triggered.findIndex((t) => t.checkpointId === 2);
    expect(harness.triggered.slice(0, firstTriggerOf2).every((t) => t.checkpointId === 1)).toBe(true);
    const stats = await harness.gateway.requestCheckpointStats();
    expect(stats.counts.completed).toBe(3);
  });

  it('takes checkpoint ids from the HA counter, so a new JobMaster of the job never reuses one', async () => {
    const { harness } = await runningJob({ parallelism: 1, checkpointInterval: 20 });
    harness.onTrigger.handler = (attemptId, checkpointId) =>
      harness.gateway.acknowledgeCheckpoint('job-1', attemptId, checkpointId, { inline: checkpointId, size: 1 });
    await waitUntil(() => harness.confirmed.length >= 2, 'two checkpoints');
    await harness.jobMaster.closeAsync();
    const lastId = Math.max(...harness.triggered.map((t) => t.checkpointId));

    const successor = await startJobMaster({
      parallelism: 1,
      checkpointInterval: 20,
      stores: harness.stores,
      jobMasterId: 'jm-2',
    });
    await registerAndOffer(successor, 1);
    await waitUntil(() => successor.deployed.length === 1, 'a deployment');
    const tdd = successor.deployed[0]?.tdd as TaskDeploymentDescriptor;
    expect(tdd.restoreCheckpointId).toBeGreaterThanOrEqual(2);
    await successor.gateway.updateTaskExecutionState({
      jobId: 'job-1',
      executionAttemptId: tdd.executionAttemptId,
      state: 'RUNNING',
    });
    await waitUntil(() => successor.triggered.length >= 1, 'a trigger');
    expect(successor.triggered[0]?.checkpointId).toBeGreaterThan(lastId);
  });
});
