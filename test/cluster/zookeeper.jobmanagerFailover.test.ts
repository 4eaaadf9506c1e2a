/**
 * High availability with a real ZooKeeper: two JobManager processes and two TaskManager processes. The leading
 * JobManager is SIGKILLed mid-job; the standby wins leadership, recovers the job from the job graph store and its
 * latest checkpoint, the TaskManagers register with the new leaders, and the job finishes with every record exactly
 * once. Calls carrying the dead leader's fencing token are refused.
 */

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DispatcherGateway } from '../../src/cluster/gateways.js';
import { LocalProcessCluster } from '../../src/cluster/process/LocalProcessCluster.js';
import { verifyExactlyOnce } from '../../src/cluster/task/verifyExactlyOnce.js';
import { FencingTokenException } from '../../src/index.js';
import { allRunning, generatorJob, waitFor } from './support/jobs.js';
import { QUICK_FAILOVER_CONFIGURATION, useZooKeeperWorkDir } from './support/zooKeeperWorkDir.js';

const fixture = useZooKeeperWorkDir('flink-rpc-zk-cluster-');
let cluster: LocalProcessCluster | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('JobManager failover with ZooKeeper', () => {
  it('the standby recovers the job and its latest checkpoint after the leader is SIGKILLed; the old token is refused', async () => {
    cluster = await LocalProcessCluster.start({
      ha: { type: 'zookeeper', quorum: fixture.zooKeeper.connectString, storageDir: join(fixture.workDir, 'ha') },
      jobManagers: 2,
      taskManagers: 2,
      slotsPerTaskManager: 2,
      configuration: QUICK_FAILOVER_CONFIGURATION,
    });
    const oldDispatcher = await cluster.dispatcher();
    const leader = cluster.jobManagerServing(oldDispatcher.getAddress());
    expect(leader).toBeDefined();
    const standby = cluster.jobManagers.find((jobManager) => jobManager !== leader)!;

    const output = join(fixture.workDir, 'jm-loss');
    const records = 3_000;
    const jobId = await oldDispatcher.submitJob(generatorJob({ output, records, parallelism: 4 }), 10_000);
    await waitFor('all tasks running', async () => allRunning(await oldDispatcher.requestJob(jobId)));
    const checkpointBeforeKill = await waitFor('a completed checkpoint', async () => {
      const latest = (await oldDispatcher.requestCheckpointStats(jobId)).latest.completed;
      return latest !== null && latest.id >= 2 ? latest.id : undefined;
    });
    const oldToken = oldDispatcher.getFencingToken();

    leader!.kill('SIGKILL');
    await leader!.exited;

    const newDispatcher = await waitFor('a new Dispatcher leader', async () => {
      const gateway = await cluster!.dispatcher(1_000);
      return gateway.getFencingToken() !== oldToken ? gateway : undefined;
    });
    expect(cluster.jobManagerServing(newDispatcher.getAddress())).toBe(standby);
    await waitFor('the recovered job running', async () => allRunning(await newDispatcher.requestJob(jobId)), 30_000);

    const result = await newDispatcher.requestJobResult(jobId, 60_000);
    expect(result.status).toBe('FINISHED');
    const stats = await newDispatcher.requestCheckpointStats(jobId);
    expect(stats.latest.restored?.id).toBeGreaterThanOrEqual(checkpointBeforeKill);
    const report = await verifyExactlyOnce(output, { records });
    expect(report.summary).toMatch(/exactly once/);
    expect(report.ok).toBe(true);

    // A call carrying the dead leader's token reaches the new leader and is refused.
    const stale = await cluster.getClient().rpcService.connect(newDispatcher.getAddress(), oldToken, DispatcherGateway);
    await expect(stale.listJobs()).rejects.toBeInstanceOf(FencingTokenException);
  }, 120_000);

  it('a leader stopped with SIGTERM hands leadership over at once and exits 0', async () => {
    cluster = await LocalProcessCluster.start({
      ha: { type: 'zookeeper', quorum: fixture.zooKeeper.connectString, storageDir: join(fixture.workDir, 'ha-term') },
      jobManagers: 2,
      taskManagers: 0,
      // A long session: only a clean handover (the leader deleting its latch) can be this quick.
      configuration: { 'high-availability.zookeeper.client.session-timeout': '20 s' },
    });
    const oldDispatcher = await cluster.dispatcher();
    const leader = cluster.jobManagerServing(oldDispatcher.getAddress())!;
    const standby = cluster.jobManagers.find((jobManager) => jobManager !== leader)!;
    const stoppedAt = Date.now();
    expect(await leader.stop()).toEqual({ code: 0, signal: null });
    const newDispatcher = await waitFor('the standby to lead', async () => {
      const gateway = await cluster!.dispatcher(1_000);
      return gateway.getFencingToken() !== oldDispatcher.getFencingToken() ? gateway : undefined;
    });
    expect(cluster.jobManagerServing(newDispatcher.getAddress())).toBe(standby);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(await newDispatcher.requestClusterOverview()).toMatchObject({ 'jobs-running': 0 });
  }, 60_000);
});
