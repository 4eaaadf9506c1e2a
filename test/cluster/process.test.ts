/**
 * A JobManager and three TaskManagers as real processes (standalone HA): a TaskManager killed mid-job is detected by
 * heartbeat, the job restarts from its latest checkpoint on the remaining slots and finishes with every record
 * exactly once; the TaskManager restarted under its resource id registers again and its slots come back.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isPortOpen } from '../../src/cluster/process/childProcesses.js';
import { LocalProcessCluster } from '../../src/cluster/process/LocalProcessCluster.js';
import { verifyExactlyOnce } from '../../src/cluster/task/verifyExactlyOnce.js';
import { allRunning, generatorJob, taskManagersOf, waitFor } from './support/jobs.js';

const FAST_FAILURE_DETECTION = {
  'heartbeat.interval': '200 ms',
  'heartbeat.timeout': '1 s',
  'cluster.registration.max-timeout': '1 s',
  'cluster.registration.error-delay': '200 ms',
  'cluster.registration.refused-registration-delay': '200 ms',
  'slot.request.timeout': '20 s',
};

let workDir: string;
let cluster: LocalProcessCluster | undefined;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'flink-rpc-process-'));
});

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('a cluster of real processes', () => {
  it('survives a TaskManager killed mid-job: heartbeat detection, restore from the latest checkpoint, exactly once, and the restarted TaskManager comes back', async () => {
    cluster = await LocalProcessCluster.start({
      taskManagers: 3,
      slotsPerTaskManager: 2,
      configuration: FAST_FAILURE_DETECTION,
    });
    const dispatcher = await cluster.dispatcher();
    expect(await dispatcher.requestClusterOverview()).toMatchObject({ taskmanagers: 3, 'slots-total': 6 });

    const output = join(workDir, 'tm-loss');
    const records = 4_000;
    const jobId = await dispatcher.submitJob(generatorJob({ output, records, parallelism: 4 }), 10_000);
    const running = await waitFor('all tasks running', async () => {
      const details = await dispatcher.requestJob(jobId);
      return allRunning(details) ? details : undefined;
    });
    await waitFor(
      'a completed checkpoint',
      async () => (await dispatcher.requestCheckpointStats(jobId)).counts.completed > 0,
    );
    const completedBeforeKill = (await dispatcher.requestCheckpointStats(jobId)).counts.completed;

    const victimId = taskManagersOf(running)[0]!;
    const victim = cluster.taskManager(victimId)!;
    victim.kill('SIGKILL');
    await victim.exited;

    // Detected by the heartbeat (timeout or unreachable): the ResourceManager drops it, the job restarts.
    await waitFor('the ResourceManager to drop the killed TaskManager', async () => {
      const overview = await dispatcher.requestClusterOverview();
      return overview.taskmanagers === 2 && overview['slots-total'] === 4;
    });
    const restarted = await waitFor('the job running again without the killed TaskManager', async () => {
      const details = await dispatcher.requestJob(jobId);
      return details.numRestarts >= 1 && allRunning(details) && !taskManagersOf(details).includes(victimId)
        ? details
        : undefined;
    });
    expect(restarted.numRestarts).toBeGreaterThanOrEqual(1);

    const result = await dispatcher.requestJobResult(jobId, 60_000);
    expect(result.status).toBe('FINISHED');
    const stats = await dispatcher.requestCheckpointStats(jobId);
    expect(stats.latest.restored).not.toBeNull();
    expect(stats.latest.restored!.id).toBeGreaterThanOrEqual(completedBeforeKill);
    const report = await verifyExactlyOnce(output, { records });
    expect(report.summary).toMatch(/exactly once/);
    expect(report.ok).toBe(true);

    // The killed TaskManager, restarted under its resource id, registers again: its slots are back.
    await cluster.startTaskManager(victimId).ready;
    await waitFor('the restarted TaskManager and its slots', async () => {
      const overview = await dispatcher.requestClusterOverview();
      return overview.taskmanagers === 3 && overview['slots-total'] === 6 && overview['slots-available'] === 6;
    });
  }, 90_000);

  it('serves the REST API, dashboard and metrics (RPC layer included) when rest.port is set, and shuts every process down cleanly on SIGTERM: exit code 0, ports closed', async () => {
    let restUrl: string | undefined;
    cluster = await LocalProcessCluster.start({
      taskManagers: 1,
      configuration: { ...FAST_FAILURE_DETECTION, 'rest.port': 0 },
      onLine: (_name, line) => {
        restUrl ??= /REST API and dashboard at (\S+)/.exec(line)?.[1];
      },
    });
    const port = Number(cluster.configuration().getString('jobmanager.rpc.port'));
    expect(await isPortOpen(port)).toBe(true);
    expect(restUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const overview = (await (await fetch(`${restUrl}/overview`)).json()) as { taskmanagers: number };
    expect(overview.taskmanagers).toBe(1);
    expect(await (await fetch(`${restUrl}/`)).text()).toMatch(/<html/);
    // /metrics carries the RPC layer's own metrics next to Flink's: the TaskManager's registration and heartbeats
    // crossed the JobManager's connections.
    const metrics = await (await fetch(`${restUrl}/metrics`)).text();
    expect(metrics).toMatch(/^flink_jobmanager_numRegisteredTaskManagers 1$/m);
    expect(metrics).toMatch(/^flink_rpc_transport_received_bytes_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^flink_rpc_mailbox_size\{endpoint_class="ResourceManager"\} \d+$/m);
    const restPort = Number(new URL(restUrl as string).port);
    const [taskManager] = cluster.taskManagers;
    const [jobManager] = cluster.jobManagers;
    expect(await taskManager!.stop()).toEqual({ code: 0, signal: null });
    expect(await jobManager!.stop()).toEqual({ code: 0, signal: null });
    expect(jobManager!.recentOutput()).toMatch(/JobManager shutting down \(SIGTERM\)/);
    expect(await isPortOpen(port)).toBe(false);
    expect(await isPortOpen(restPort)).toBe(false);
  }, 60_000);
});
