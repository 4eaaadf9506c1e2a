/**
 * The process entry points used as a library (as the CLI does): a JobManager and a TaskManager started with
 * `runJobManager` / `runTaskManager` from a Flink configuration, in this process, over TCP on loopback.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Configuration, IllegalConfigurationException } from '../../src/cluster/config/Configuration.js';
import { freePort } from '../../src/cluster/process/childProcesses.js';
import { connectToCluster } from '../../src/cluster/process/clusterClient.js';
import { runJobManager } from '../../src/cluster/process/jobmanagerMain.js';
import { runTaskManager } from '../../src/cluster/process/taskmanagerMain.js';
import { verifyExactlyOnce } from '../../src/cluster/task/verifyExactlyOnce.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe('runJobManager / runTaskManager', () => {
  it('apply the cluster-wide checkpointing and restart strategy to jobs that set none', async () => {
    const configuration = Configuration.fromObject({
      'jobmanager.rpc.port': await freePort(),
      'taskmanager.numberOfTaskSlots': 2,
      'heartbeat.interval': '200 ms',
      'heartbeat.timeout': '1 s',
      'execution.checkpointing.interval': '100 ms',
      'restart-strategy.type': 'fixed-delay',
      'restart-strategy.fixed-delay.attempts': 2,
      'restart-strategy.fixed-delay.delay': '50 ms',
    });
    const jobManager = await runJobManager(configuration);
    cleanups.push(() => jobManager.close());
    const taskManager = await runTaskManager(configuration);
    cleanups.push(() => taskManager.close());
    const client = await connectToCluster(configuration);
    cleanups.push(() => client.close());
    const output = await mkdtemp(join(tmpdir(), 'flink-rpc-inprocess-'));
    cleanups.push(() => rm(output, { recursive: true, force: true }));

    const dispatcher = await client.getDispatcher(10_000);
    const records = 400;
    const jobId = await dispatcher.submitJob(
      {
        name: 'cluster defaults',
        vertices: [
          {
            id: 'generator',
            parallelism: 2,
            operator: 'generator',
            // Fails once half-way on the first attempt: the configured fixed-delay strategy restarts it.
            config: { records, recordsPerStep: 10, stepDelayMs: 10, output, failAfterRecords: 100 },
          },
        ],
      },
      10_000,
    );
    const result = await dispatcher.requestJobResult(jobId, 30_000);
    expect(result.status).toBe('FINISHED');
    expect((await dispatcher.requestCheckpointStats(jobId)).counts.completed).toBeGreaterThan(0);
    expect((await dispatcher.requestJob(jobId)).numRestarts).toBe(1);
    expect((await verifyExactlyOnce(output, { records })).ok).toBe(true);
  }, 40_000);

  it('refuse configurations a multi-process cluster cannot run with, naming the key', async () => {
    await expect(runJobManager(Configuration.fromObject({ 'high-availability.type': 'embedded' }))).rejects.toThrow(
      /high-availability.type: embedded keeps leaders in one process's memory/,
    );
    await expect(runJobManager(Configuration.fromObject({ 'jobmanager.rpc.port': 0 }))).rejects.toThrow(
      IllegalConfigurationException,
    );
    await expect(runTaskManager(Configuration.fromObject({ 'heartbeat.timeout': 'never' }))).rejects.toThrow(
      /'heartbeat.timeout'/,
    );
    await expect(
      runJobManager(Configuration.fromObject({ 'high-availability.type': 'zookeeper', 'jobmanager.rpc.port': 0 })),
    ).rejects.toThrow('Configuration is missing the mandatory parameter: high-availability.zookeeper.quorum');
  });
});
