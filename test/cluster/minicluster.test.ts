import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Configuration } from '../../src/cluster/config/index.js';
import { MiniCluster, type MiniClusterOptions } from '../../src/cluster/minicluster/MiniCluster.js';
import { verifyExactlyOnce } from '../../src/cluster/task/builtins.js';
import type { JobGraph } from '../../src/cluster/types.js';
import { waitFor } from './support/jobs.js';

/** Short heartbeats and registration delays keep failure detection (and the tests) fast. */
const FAST: MiniClusterOptions['configuration'] = {
  heartbeatInterval: 100,
  heartbeatTimeout: 500,
  slotRequestTimeout: 10_000,
  rpcTimeout: 2_000,
  registration: {
    initialRegistrationTimeout: 100,
    maxRegistrationTimeout: 1_000,
    errorDelay: 100,
    refusedRegistrationDelay: 100,
  },
  taskCancellationTimeout: 2_000,
};

const clusters: MiniCluster[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((cluster) => cluster.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function startCluster(options: MiniClusterOptions): Promise<MiniCluster> {
  const cluster = new MiniCluster({ ...options, configuration: { ...FAST, ...options.configuration } });
  clusters.push(cluster);
  await cluster.start();
  return cluster;
}

/** Every `.state` file under `dir`, relative paths. */
async function stateFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => entry.endsWith('.state')).sort();
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flink-rpc-minicluster-'));
  dirs.push(dir);
  return dir;
}

const waitUntil = <T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000) =>
  waitFor(what, probe, timeoutMs, 25);

function generatorJob(
  output: string,
  options: {
    records: number;
    parallelism: number;
    interval?: number;
    stepDelayMs?: number;
    jobId?: string;
    extra?: Record<string, unknown>;
  },
): JobGraph {
  return {
    ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
    name: 'exactly-once generator',
    vertices: [
      {
        id: 'source',
        name: 'Generator',
        parallelism: options.parallelism,
        operator: 'generator',
        config: {
          records: options.records,
          output,
          recordsPerStep: 10,
          stepDelayMs: options.stepDelayMs ?? 5,
          ...options.extra,
        },
      },
    ],
    checkpointing: { interval: options.interval ?? 100 },
  };
}

function stallJob(parallelism: number, jobId?: string): JobGraph {
  return {
    ...(jobId === undefined ? {} : { jobId }),
    name: 'stall',
    vertices: [{ id: 'stall', parallelism, operator: 'stall' }],
  };
}

describe('MiniCluster', () => {
  it('runs a job to FINISHED with every record committed exactly once', async () => {
    const cluster = await startCluster({ taskManagers: 2, slotsPerTaskManager: 2 });
    const output = await tempDir();
    const result = await cluster.executeJobBlocking(generatorJob(output, { records: 500, parallelism: 3 }));
    expect(result.status).toBe('FINISHED');
    const report = await verifyExactlyOnce(output, { records: 500 });
    expect(report.summary).toBe(report.ok ? report.summary : 'exactly once');
    expect(report.ok).toBe(true);
    expect(report.committed).toBe(500);
    // The JobManager knows what the sinks committed without reading their output.
    const details = await (await cluster.getDispatcherGateway()).requestJob(result.jobId);
    expect(details.vertices[0]?.metrics).toEqual({ 'write-records': 500, 'write-records-complete': true });
  });

  it('runs the same on a TCP RpcService with every call serialized', async () => {
    const cluster = await startCluster({
      taskManagers: 2,
      slotsPerTaskManager: 1,
      remote: true,
      forceInvocationSerialization: true,
    });
    expect(cluster.getRpcService().getAddress()).toMatch(/^127\.0\.0\.1$|localhost/);
    const output = await tempDir();
    const result = await cluster.executeJobBlocking(generatorJob(output, { records: 300, parallelism: 2 }));
    expect(result.status).toBe('FINISHED');
    expect((await verifyExactlyOnce(output, { records: 300 })).ok).toBe(true);
    const dispatcher = await cluster.getDispatcherGateway();
    const failed = await cluster.executeJobBlocking({
      name: 'fails',
      vertices: [{ id: 'bad', parallelism: 1, operator: 'fail', config: { message: 'over the wire' } }],
    });
    expect(failed.failureCause).toMatchObject({ message: 'over the wire' });
    expect((await dispatcher.requestJobExceptions(failed.jobId))['root-exception']).toContain('over the wire');
  });

  it('completes checkpoints at the configured interval', async () => {
    const cluster = await startCluster({ taskManagers: 1, slotsPerTaskManager: 2 });
    const output = await tempDir();
    const interval = 150;
    const jobId = await cluster.submitJob(
      generatorJob(output, { records: 400, parallelism: 2, interval, stepDelayMs: 20 }),
    );
    const result = await cluster.requestJobResult(jobId);
    expect(result.status).toBe('FINISHED');
    const dispatcher = await cluster.getDispatcherGateway();
    const stats = await dispatcher.requestCheckpointStats(jobId);
    expect(stats.counts.completed).toBeGreaterThanOrEqual(3);
    const completed = stats.history.filter((entry) => entry.status === 'COMPLETED').map((e) => e.trigger_timestamp);
    completed.sort((a, b) => a - b);
    // A fixed-rate schedule: a late trigger shortens the next gap a little, never to a burst.
    for (let i = 1; i < completed.length; i++) {
      expect((completed[i] as number) - (completed[i - 1] as number)).toBeGreaterThanOrEqual(interval / 2);
    }
    const span = (completed.at(-1) as number) - (completed[0] as number);
    expect(span / (completed.length - 1)).toBeGreaterThanOrEqual(interval * 0.9);
    // Every completed checkpoint was acknowledged by all the tasks it was triggered on (both, until one finished).
    const completedEntries = stats.history.filter((entry) => entry.status === 'COMPLETED');
    for (const entry of completedEntries) expect(entry.num_acknowledged_subtasks).toBe(entry.num_subtasks);
    expect(completedEntries.some((entry) => entry.num_subtasks === 2)).toBe(true);
    expect((await verifyExactlyOnce(output, { records: 400 })).ok).toBe(true);
  });

  it('cancels a job: CANCELED, and every slot is free again', async () => {
    const cluster = await startCluster({ taskManagers: 2, slotsPerTaskManager: 2 });
    const dispatcher = await cluster.getDispatcherGateway();
    const jobId = await cluster.submitJob(stallJob(3));
    await waitUntil(
      async () => (await dispatcher.requestJob(jobId))['status-counts'].RUNNING === 3,
      'all tasks running',
    );
    const inUse = await dispatcher.requestClusterOverview();
    expect(inUse['slots-available']).toBe(1);
    await dispatcher.cancelJob(jobId);
    const result = await cluster.requestJobResult(jobId);
    expect(result.status).toBe('CANCELED');
    await waitUntil(async () => {
      const overview = await dispatcher.requestClusterOverview();
      return overview['slots-available'] === 4 && overview['slots-total'] === 4;
    }, 'every slot free');
    const details = await dispatcher.requestJob(jobId);
    expect(details.state).toBe('CANCELED');
    expect(details['status-counts'].CANCELED).toBe(3);
    const overview = await dispatcher.requestClusterOverview();
    expect(overview['jobs-cancelled']).toBe(1);
  });

  it('cancels a job whose operator ignores cancellation: the TaskExecutor gives the task up after its timeout', async () => {
    const cluster = await startCluster({
      taskManagers: 1,
      slotsPerTaskManager: 1,
      configuration: { taskCancellationTimeout: 300 },
    });
    const dispatcher = await cluster.getDispatcherGateway();
    const jobId = await cluster.submitJob({
      name: 'hanging',
      vertices: [{ id: 'hang', parallelism: 1, operator: 'stall', config: { ignoreSignal: true } }],
    });
    await waitUntil(async () => (await dispatcher.requestJob(jobId))['status-counts'].RUNNING === 1, 'running');
    await dispatcher.cancelJob(jobId);
    expect((await cluster.requestJobResult(jobId)).status).toBe('CANCELED');
    await waitUntil(async () => (await dispatcher.requestClusterOverview())['slots-available'] === 1, 'slot free');
    // The TaskExecutor survived and runs the next job.
    const next = await cluster.submitJob({ name: 'next', vertices: [{ id: 'a', parallelism: 1, operator: 'noop' }] });
    expect((await cluster.requestJobResult(next)).status).toBe('FINISHED');
  });

  it('refuses each invalid job graph with a message naming its problem', async () => {
    const cluster = await startCluster({ taskManagers: 1 });
    const dispatcher = await cluster.getDispatcherGateway();
    const refusal = async (graph: unknown) => {
      try {
        await dispatcher.submitJob(graph as JobGraph, 5_000);
      } catch (error) {
        expect((error as Error).name).toBe('JobSubmissionException');
        return (error as Error).message;
      }
      throw new Error('The graph was accepted.');
    };
    const vertex = { id: 'a', parallelism: 1, operator: 'noop' };
    const unknownOperator = await refusal({ name: 'x', vertices: [{ ...vertex, operator: 'no-such-operator' }] });
    expect(unknownOperator).toMatch(/no-such-operator/);
    const zeroParallelism = await refusal({ name: 'x', vertices: [{ ...vertex, parallelism: 0 }] });
    expect(zeroParallelism).toMatch(/parallelism/i);
    const cycle = await refusal({
      name: 'x',
      vertices: [
        { ...vertex, id: 'a', inputs: ['b'] },
        { ...vertex, id: 'b', inputs: ['a'] },
      ],
    });
    expect(cycle).toMatch(/cycle/i);
    const duplicate = await refusal({ name: 'x', vertices: [vertex, { ...vertex }] });
    expect(duplicate).toMatch(/duplicate/i);
    const messages = new Set([unknownOperator, zeroParallelism, cycle, duplicate]);
    expect(messages.size).toBe(4);
    expect(await dispatcher.listJobs()).toEqual([]);
  });

  it('refuses a job id that is running or finished with DuplicateJobSubmissionException', async () => {
    const cluster = await startCluster({ taskManagers: 1, slotsPerTaskManager: 2 });
    const dispatcher = await cluster.getDispatcherGateway();
    await cluster.submitJob(stallJob(1, 'job-dup'));
    await expect(cluster.submitJob(stallJob(1, 'job-dup'))).rejects.toMatchObject({
      name: 'DuplicateJobSubmissionException',
      message: 'Job has already been submitted: job-dup',
    });
    await dispatcher.cancelJob('job-dup');
    expect((await cluster.requestJobResult('job-dup')).status).toBe('CANCELED');
    await expect(cluster.submitJob(stallJob(1, 'job-dup'))).rejects.toMatchObject({
      name: 'DuplicateJobSubmissionException',
    });
  });

  it('answers calls about unknown or malformed job ids with FlinkJobNotFoundException', async () => {
    const cluster = await startCluster({ taskManagers: 1 });
    const dispatcher = await cluster.getDispatcherGateway();
    for (const jobId of ['no-such-job', '../../etc/passwd', '', 42 as unknown as string]) {
      await expect(dispatcher.requestJob(jobId)).rejects.toMatchObject({ name: 'FlinkJobNotFoundException' });
      await expect(dispatcher.requestJobResult(jobId, 1_000)).rejects.toMatchObject({
        name: 'FlinkJobNotFoundException',
      });
      await expect(dispatcher.cancelJob(jobId)).rejects.toMatchObject({ name: 'FlinkJobNotFoundException' });
    }
    await expect(dispatcher.requestJob('no-such-job')).rejects.toThrow('Could not find Flink job (no-such-job)');
  });

  it('fails a job with NoResourceAvailableException when its slots do not come within slot.request.timeout', async () => {
    const cluster = await startCluster({
      taskManagers: 1,
      slotsPerTaskManager: 1,
      configuration: { slotRequestTimeout: 400 },
    });
    const started = Date.now();
    const result = await cluster.executeJobBlocking({ ...stallJob(2), restartStrategy: { type: 'none' } });
    expect(result.status).toBe('FAILED');
    expect(result.failureCause?.name).toBe('NoResourceAvailableException');
    expect(result.failureCause?.message).toBe('Could not acquire the minimum required resources.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const dispatcher = await cluster.getDispatcherGateway();
    await waitUntil(async () => (await dispatcher.requestClusterOverview())['slots-available'] === 1, 'slot freed');
  });

  it('restarts a throwing operator as the restart strategy allows, then fails with the root cause', async () => {
    const cluster = await startCluster({ taskManagers: 1, slotsPerTaskManager: 2 });
    const jobId = await cluster.submitJob({
      name: 'always failing',
      vertices: [
        { id: 'ok', parallelism: 1, operator: 'stall' },
        { id: 'bad', parallelism: 1, operator: 'fail', config: { afterSteps: 2, message: 'boom: the operator threw' } },
      ],
      restartStrategy: { type: 'fixed-delay', attempts: 2, delay: 50 },
    });
    const result = await cluster.requestJobResult(jobId);
    expect(result.status).toBe('FAILED');
    expect(result.failureCause?.message).toBe('boom: the operator threw');
    const dispatcher = await cluster.getDispatcherGateway();
    const details = await dispatcher.requestJob(jobId);
    expect(details.numRestarts).toBe(2);
    const bad = details.vertices.find((vertex) => vertex.id === 'bad');
    expect(bad?.subtasks[0]?.attempt).toBe(2);
    const exceptions = await dispatcher.requestJobExceptions(jobId);
    expect(exceptions['root-exception']).toContain('boom: the operator threw');
    expect(exceptions.exceptionHistory.entries).toHaveLength(3);
    expect(exceptions.exceptionHistory.entries[0]?.taskName).toBe('bad (1/1)');
  });

  it('restarts from the latest checkpoint on the remaining slots when a TaskManager is terminated mid-job, exactly once', async () => {
    const cluster = await startCluster({ taskManagers: 3, slotsPerTaskManager: 1 });
    const dispatcher = await cluster.getDispatcherGateway();
    const output = await tempDir();
    const records = 2_000;
    const jobId = await cluster.submitJob({
      ...generatorJob(output, { records, parallelism: 2, interval: 100, stepDelayMs: 20 }),
      restartStrategy: { type: 'fixed-delay', attempts: 3, delay: 50 },
    });
    await waitUntil(async () => (await dispatcher.requestCheckpointStats(jobId)).counts.completed >= 2, 'checkpoints');
    const details = await dispatcher.requestJob(jobId);
    const committedBefore = details.vertices[0]?.metrics?.['write-records'] ?? 0;
    expect(committedBefore).toBeGreaterThan(0);
    expect(committedBefore).toBeLessThan(records);
    const victim = details.vertices[0]?.subtasks[0]?.['taskmanager-id'];
    const index = cluster.getTaskManagers().findIndex((handle) => handle.resourceId === victim);
    expect(index).toBeGreaterThanOrEqual(0);
    await cluster.terminateTaskManager(index);
    const result = await cluster.requestJobResult(jobId);
    expect(result.status).toBe('FINISHED');
    const finalDetails = await dispatcher.requestJob(jobId);
    expect(finalDetails.numRestarts).toBeGreaterThanOrEqual(1);
    const stats = await dispatcher.requestCheckpointStats(jobId);
    expect(stats.counts.restored).toBeGreaterThanOrEqual(1);
    const report = await verifyExactlyOnce(output, { records });
    expect(report.ok, report.summary).toBe(true);
    // Restored from the checkpoint, the count goes on from there and ends at every record, each counted once.
    expect(finalDetails.vertices[0]?.metrics).toEqual({ 'write-records': records, 'write-records-complete': true });
    for (const subtask of finalDetails.vertices[0]?.subtasks ?? []) expect(subtask['taskmanager-id']).not.toBe(victim);
  });

  it('deletes the state files of checkpoints it no longer retains, keeping those a retained checkpoint holds', async () => {
    const storage = await tempDir();
    const cluster = await startCluster({
      taskManagers: 1,
      slotsPerTaskManager: 3,
      configuration: { checkpointStorageDir: storage, maxRetainedCheckpoints: 1 },
    });
    const module = fileURLToPath(new URL('./task.fixtures/largeState.mjs', import.meta.url));
    const operator = { module, export: 'largeState' };
    const result = await cluster.executeJobBlocking({
      name: 'large states',
      vertices: [
        // Finishes at once: its final state is carried over from checkpoint to checkpoint and must survive.
        { id: 'early', parallelism: 1, operator, config: { steps: 1 } },
        { id: 'late', parallelism: 2, operator, config: { steps: 40, stepDelayMs: 10 } },
      ],
      checkpointing: { interval: 30 },
    });
    expect(result.status).toBe('FINISHED');
    const stats = await (await cluster.getDispatcherGateway()).requestCheckpointStats(result.jobId);
    expect(stats.counts.completed).toBeGreaterThanOrEqual(3);
    // Deletion runs beside the job: wait until only the last checkpoint's three state files are left (a listing
    // that races a deletion fails and is taken again).
    let found: string[] = [];
    const files = await waitUntil(async () => {
      found = await stateFiles(storage);
      return found.length === 3 ? found : undefined;
    }, "only the retained checkpoint's state files").catch((error: Error) => {
      throw new Error(`${error.message} Found: ${found.join(', ')}`);
    });
    expect(files.filter((file) => /early-0-/.test(file))).toHaveLength(1);
    expect(files.filter((file) => /late-\d-/.test(file))).toHaveLength(2);
  });

  it('takes its settings from a Flink configuration: cluster-wide checkpointing and restart strategy', async () => {
    const configuration = Configuration.fromObject({
      'heartbeat.interval': '100 ms',
      'heartbeat.timeout': '500 ms',
      'cluster.registration.initial-timeout': '100 ms',
      'cluster.registration.error-delay': '100 ms',
      'cluster.registration.refused-registration-delay': '100 ms',
      'execution.checkpointing.interval': '100 ms',
      'restart-strategy.type': 'fixed-delay',
      'restart-strategy.fixed-delay.attempts': 1,
      'restart-strategy.fixed-delay.delay': '10 ms',
    });
    const cluster = new MiniCluster({ taskManagers: 1, slotsPerTaskManager: 2, configuration });
    clusters.push(cluster);
    await cluster.start();
    const dispatcher = await cluster.getDispatcherGateway();
    const output = await tempDir();
    // No checkpointing in the graph: the cluster's interval applies, so the output is committed by checkpoints.
    const { checkpointing: _none, ...graph } = generatorJob(output, { records: 300, parallelism: 2, stepDelayMs: 10 });
    const finished = await cluster.submitJob(graph);
    expect((await cluster.requestJobResult(finished)).status).toBe('FINISHED');
    expect((await dispatcher.requestCheckpointStats(finished)).counts.completed).toBeGreaterThanOrEqual(1);
    expect((await verifyExactlyOnce(output, { records: 300 })).ok).toBe(true);
    // No restart strategy in the graph: the cluster's fixed-delay with one attempt applies.
    const failing = await cluster.submitJob({
      name: 'failing',
      vertices: [{ id: 'bad', parallelism: 1, operator: 'fail', config: { message: 'fails every time' } }],
    });
    const result = await cluster.requestJobResult(failing);
    expect(result.status).toBe('FAILED');
    expect((await dispatcher.requestJob(failing)).numRestarts).toBe(1);
  });

  it('registers TaskExecutors and JobMasters again at a ResourceManager that regained leadership under a new id', async () => {
    const cluster = await startCluster({ taskManagers: 2, slotsPerTaskManager: 1 });
    const dispatcher = await cluster.getDispatcherGateway();
    const rmService = cluster.getJobManager().resourceManagerService;
    const first = await waitUntil(async () => rmService.getCurrentLeader(), 'a ResourceManager leader');
    const firstId = first.getFencingToken();
    const jobId = await cluster.submitJob(stallJob(1));
    await waitUntil(async () => (await dispatcher.requestJob(jobId))['status-counts'].RUNNING === 1, 'task running');

    cluster.getHaServices().registry.revokeLeadership('resource_manager');
    const second = await waitUntil(async () => {
      const leader = rmService.getCurrentLeader();
      return leader !== undefined && leader.getFencingToken() !== firstId ? leader : undefined;
    }, 'a new ResourceManager leadership');
    expect(second.getFencingToken()).not.toBe(firstId);
    // Both TaskExecutors registered again, and the running job's slot is known to the new leader.
    await waitUntil(async () => {
      const overview = await dispatcher.requestClusterOverview();
      return overview.taskmanagers === 2 && overview['slots-available'] === 1;
    }, 'TaskExecutors registered again');
    // The running job's JobMaster registered again at the new leader.
    await waitUntil(
      async () => second.getRegisteredJobMasters().some((registration) => registration.jobId === jobId),
      'the JobMaster registered again',
    );
    // A second job gets the remaining slot through the new ResourceManager; cancelling frees both slots there.
    const secondJob = await cluster.submitJob(stallJob(1));
    await waitUntil(
      async () => (await dispatcher.requestJob(secondJob))['status-counts'].RUNNING === 1,
      'second job running',
    );
    await dispatcher.cancelJob(jobId);
    await dispatcher.cancelJob(secondJob);
    expect((await cluster.requestJobResult(jobId)).status).toBe('CANCELED');
    await waitUntil(async () => (await dispatcher.requestClusterOverview())['slots-available'] === 2, 'slots free');
  });
});
