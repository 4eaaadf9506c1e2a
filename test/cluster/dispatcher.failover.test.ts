import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DispatcherGateway } from '../../src/cluster/gateways.js';
import { createMemoryClusterHaStores } from '../../src/cluster/ha/memoryStores.js';
import { type JobManagerHandle, startJobManager } from '../../src/cluster/jobmanager/startJobManager.js';
import { MiniCluster } from '../../src/cluster/minicluster/MiniCluster.js';
import { verifyExactlyOnce } from '../../src/cluster/task/builtins.js';
import { startTaskManager, type TaskManagerHandle } from '../../src/cluster/taskexecutor/startTaskManager.js';
import type { JobGraph } from '../../src/cluster/types.js';
import { EmbeddedHaServices, EmbeddedLeaderRegistry } from '../../src/ha/index.js';
import { HeartbeatServices } from '../../src/heartbeat/index.js';
import { FencingTokenException, type RpcService, RpcSystem } from '../../src/index.js';
import { FAST_REGISTRATION, waitFor } from './support/jobs.js';

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function remoteService(): Promise<RpcService> {
  const service = await RpcSystem.load().remoteServiceBuilder({ askTimeout: 2_000 }, '127.0.0.1', '0').createAndStart();
  cleanups.push(() => service.closeAsync());
  return service;
}

const waitUntil = <T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000) =>
  waitFor(what, probe, timeoutMs, 25);

/**
 * A generator job of two subtasks writing `records` records to `output`, slow enough (about a second) to checkpoint
 * several times before the test takes its leader away, and restarted from its latest checkpoint afterwards.
 */
function checkpointedGeneratorJob(name: string, records: number, output: string): JobGraph {
  return {
    name,
    vertices: [
      {
        id: 'source',
        parallelism: 2,
        operator: 'generator',
        config: { records, output, recordsPerStep: 10, stepDelayMs: 20 },
      },
    ],
    checkpointing: { interval: 100 },
    restartStrategy: { type: 'fixed-delay', attempts: 5, delay: 50 },
  };
}

describe('Dispatcher failover', () => {
  it('a standby JobManager recovers a running job from the HA stores when the leading one dies', async () => {
    const registry = new EmbeddedLeaderRegistry();
    const stores = createMemoryClusterHaStores();
    cleanups.push(() => stores.close());
    const heartbeat = new HeartbeatServices(100, 500);
    const output = await mkdtemp(join(tmpdir(), 'flink-rpc-dispatcher-failover-'));
    cleanups.push(() => rm(output, { recursive: true, force: true }));

    const jobManager = async (): Promise<{ handle: JobManagerHandle; rpc: RpcService; ha: EmbeddedHaServices }> => {
      const rpc = await remoteService();
      const ha = new EmbeddedHaServices({ registry });
      cleanups.push(() => ha.close());
      const handle = await startJobManager({
        rpcService: rpc,
        haServices: ha,
        stores,
        heartbeat,
        registration: FAST_REGISTRATION,
        rpcTimeout: 2_000,
      });
      cleanups.push(() => handle.close());
      return { handle, rpc, ha };
    };
    const first = await jobManager();
    const second = await jobManager();

    const taskManagerRpc = await remoteService();
    const taskManagerHa = new EmbeddedHaServices({ registry });
    cleanups.push(() => taskManagerHa.close());
    const taskManagers: TaskManagerHandle[] = [];
    for (let i = 0; i < 2; i++) {
      const handle = await startTaskManager({
        rpcService: taskManagerRpc,
        haServices: taskManagerHa,
        numberOfSlots: 1,
        heartbeat,
        registration: FAST_REGISTRATION,
        taskCancellationTimeout: 2_000,
      });
      taskManagers.push(handle);
      cleanups.push(() => handle.close());
    }

    const leading = await waitUntil(
      async () => (first.handle.dispatcherService.getCurrentLeader() !== undefined ? first : undefined),
      'the first JobManager to lead',
    );
    const standby = second;
    expect(standby.handle.dispatcherService.getCurrentLeader()).toBeUndefined();

    const records = 1_000;
    const job: JobGraph = {
      jobId: 'failover-job',
      ...checkpointedGeneratorJob('survives its JobManager', records, output),
    };
    const oldDispatcher = await leading.handle.getDispatcherGateway(5_000);
    const oldToken = oldDispatcher.getFencingToken();
    await oldDispatcher.submitJob(job, 5_000);
    await waitUntil(
      async () => (await oldDispatcher.requestCheckpointStats('failover-job')).counts.completed >= 2,
      'two completed checkpoints',
    );

    // The leading JobManager process dies: its RpcService goes away, and with it its leadership.
    await leading.rpc.closeAsync();
    await leading.ha.close();

    const recovered = await waitUntil(async () => standby.handle.dispatcherService.getCurrentLeader(), 'a new leader');
    expect(recovered.getFencingToken()).not.toBe(oldToken);
    const newDispatcher = await waitUntil(async () => {
      const gateway = await standby.handle.getDispatcherGateway(1_000);
      return gateway.getFencingToken() !== oldToken ? gateway : undefined;
    }, 'the new Dispatcher gateway');
    const result = await newDispatcher.requestJobResult('failover-job', 30_000);
    expect(result.status).toBe('FINISHED');
    const stats = await newDispatcher.requestCheckpointStats('failover-job');
    expect(stats.counts.restored).toBeGreaterThanOrEqual(1);
    const report = await verifyExactlyOnce(output, { records });
    expect(report.ok, report.summary).toBe(true);

    // A call carrying the old leader's token is refused by the new leader.
    const stale = await standby.rpc.connect(recovered.getAddress(), oldToken, DispatcherGateway);
    await expect(stale.listJobs()).rejects.toBeInstanceOf(FencingTokenException);
  }, 45_000);

  it('a Dispatcher that loses leadership and regains it recovers its running job from the stores', async () => {
    const cluster = new MiniCluster({
      taskManagers: 2,
      slotsPerTaskManager: 1,
      configuration: {
        heartbeatInterval: 100,
        heartbeatTimeout: 500,
        registration: FAST_REGISTRATION,
        rpcTimeout: 2_000,
      },
    });
    cleanups.push(() => cluster.close());
    await cluster.start();
    const output = await mkdtemp(join(tmpdir(), 'flink-rpc-dispatcher-regain-'));
    cleanups.push(() => rm(output, { recursive: true, force: true }));
    const records = 1_000;
    const jobId = await cluster.submitJob(checkpointedGeneratorJob('survives a leadership change', records, output));
    const first = await cluster.getDispatcherGateway();
    await waitUntil(async () => (await first.requestCheckpointStats(jobId)).counts.completed >= 2, 'checkpoints');
    const waiting = first.requestJobResult(jobId, 30_000);

    cluster.getHaServices().registry.revokeLeadership('dispatcher');
    // The result asked of the deposed leader is not a result: the job did not finish there.
    await expect(waiting).rejects.toMatchObject({ name: 'JobNotFinishedException' });
    const result = await cluster.requestJobResult(jobId);
    expect(result.status).toBe('FINISHED');
    const dispatcher = await cluster.getDispatcherGateway();
    expect(dispatcher.getFencingToken()).not.toBe(first.getFencingToken());
    expect((await dispatcher.requestCheckpointStats(jobId)).counts.restored).toBe(1);
    const report = await verifyExactlyOnce(output, { records });
    expect(report.ok, report.summary).toBe(true);
    // Everything of the job is cleaned up in the HA stores; only its result stays.
    const stores = cluster.getHaStores();
    const guard = cluster.getHaServices().getDispatcherLeaderElection();
    expect(await stores.jobGraphStore(guard).getJobIds()).toEqual([]);
    expect((await stores.jobResultStore(guard).getJobResult(jobId))?.status).toBe('FINISHED');
    expect(await stores.completedCheckpointStore(jobId, 1, guard).getLatestCheckpoint()).toBeUndefined();
  }, 30_000);

  it('a JobManager that closes gives up its leadership and stops its endpoints; the standby takes over', async () => {
    const rpc = await RpcSystem.load().localServiceBuilder({ askTimeout: 2_000 }).createAndStart();
    cleanups.push(() => rpc.closeAsync());
    const ha = new EmbeddedHaServices();
    cleanups.push(() => ha.close());
    const stores = createMemoryClusterHaStores();
    const heartbeat = new HeartbeatServices(100, 500);
    const start = async () => {
      const handle = await startJobManager({
        rpcService: rpc,
        haServices: ha,
        stores,
        heartbeat,
        registration: FAST_REGISTRATION,
      });
      cleanups.push(() => handle.close());
      return handle;
    };
    const first = await start();
    const second = await start();
    const leader = await waitUntil(async () => first.dispatcherService.getCurrentLeader(), 'the first to lead');
    const rm = await waitUntil(async () => first.resourceManagerService.getCurrentLeader(), 'the first RM to lead');
    const oldDispatcher = await first.getDispatcherGateway(5_000);

    await first.close();
    expect(first.dispatcherService.getCurrentLeader()).toBeUndefined();
    expect(first.resourceManagerService.getCurrentLeader()).toBeUndefined();
    await leader.getTerminationFuture();
    await rm.getTerminationFuture();
    await expect(oldDispatcher.listJobs()).rejects.toMatchObject({ name: 'RecipientUnreachableException' });

    await waitUntil(async () => second.dispatcherService.getCurrentLeader(), 'the standby Dispatcher to lead');
    await waitUntil(async () => second.resourceManagerService.getCurrentLeader(), 'the standby RM to lead');
    const dispatcher = await second.getDispatcherGateway(5_000);
    expect(await dispatcher.listJobs()).toEqual([]);
    expect((await dispatcher.requestClusterOverview()).taskmanagers).toBe(0);
    await first.close();
  });
});
