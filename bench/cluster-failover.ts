/**
 * Failover times of real processes, median of several runs (`tsx bench/cluster-failover.ts [--runs=5]`):
 * - TaskManager loss (standalone HA, 3 TaskManagers × 2 slots, a job of 4 tasks): SIGKILL a TaskManager that runs
 *   tasks; detection = the job leaves RUNNING, restart = the new attempt is deployed, back to RUNNING = every task
 *   RUNNING again.
 * - JobManager loss (ZooKeeper HA, 2 JobManagers, 2 TaskManagers): SIGKILL the leading JobManager; detection = a new
 *   Dispatcher leader answers, restart = it has recovered the job, back to RUNNING = every task RUNNING again.
 * Heartbeat interval 500 ms, timeout 2 s; ZooKeeper session timeout 2 s; fixed-delay restarts after 500 ms.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DispatcherGateway } from '../src/cluster/gateways.js';
import { LocalProcessCluster } from '../src/cluster/process/LocalProcessCluster.js';
import type { JobDetails, JobGraph } from '../src/cluster/types.js';
import { startZooKeeper } from '../test/support/zookeeper.js';

const RUNS = Number(process.argv.find((arg) => arg.startsWith('--runs='))?.slice('--runs='.length) ?? 5);
const SETTINGS = {
  'heartbeat.interval': '500 ms',
  'heartbeat.timeout': '2 s',
  'cluster.registration.max-timeout': '1 s',
  'cluster.registration.error-delay': '200 ms',
  'cluster.registration.refused-registration-delay': '200 ms',
  'high-availability.zookeeper.client.session-timeout': '2 s',
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Timing {
  detected: number;
  restarted: number;
  running: number;
}

const job = (name: string): JobGraph => ({
  name,
  vertices: [{ id: 'noop', parallelism: 4, operator: 'noop', config: { steps: 1_000_000_000, stepDelayMs: 20 } }],
  checkpointing: { interval: 500, timeout: 10_000 },
  restartStrategy: { type: 'fixed-delay', attempts: 100, delay: 500 },
});

const totalTasks = (details: JobDetails) => details.vertices.reduce((sum, vertex) => sum + vertex.parallelism, 0);
const allRunning = (details: JobDetails) => details['status-counts'].RUNNING === totalTasks(details);

async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  pollMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await sleep(pollMs);
  }
}

async function startJob(dispatcher: DispatcherGateway, name: string): Promise<string> {
  const jobId = await dispatcher.submitJob(job(name), 10_000);
  await until('all tasks running', async () => (allRunning(await dispatcher.requestJob(jobId)) ? true : undefined));
  await until('a completed checkpoint', async () =>
    (await dispatcher.requestCheckpointStats(jobId)).counts.completed > 0 ? true : undefined,
  );
  return jobId;
}

async function taskManagerLoss(): Promise<Timing[]> {
  const cluster = await LocalProcessCluster.start({ taskManagers: 3, slotsPerTaskManager: 2, configuration: SETTINGS });
  const timings: Timing[] = [];
  try {
    const dispatcher = await cluster.dispatcher();
    for (let run = 1; run <= RUNS; run++) {
      const jobId = await startJob(dispatcher, `tm-loss-${run}`);
      const details = await dispatcher.requestJob(jobId);
      const victimId = details.vertices[0]!.subtasks.find((subtask) => subtask['taskmanager-id'])!['taskmanager-id']!;
      const victim = cluster.taskManager(victimId)!;
      const killedAt = Date.now();
      victim.kill('SIGKILL');
      const timing: Partial<Timing> = {};
      await until('the job running again', async () => {
        const now = await dispatcher.requestJob(jobId);
        const at = Date.now() - killedAt;
        if (timing.detected === undefined && (now.state !== 'RUNNING' || now.numRestarts > 0)) timing.detected = at;
        if (timing.restarted === undefined && now.numRestarts > 0) timing.restarted = at;
        return timing.restarted !== undefined && allRunning(now) ? true : undefined;
      });
      timing.running = Date.now() - killedAt;
      timings.push(timing as Timing);
      log(`  TaskManager loss run ${run}: ${describe(timing as Timing)}`);
      await dispatcher.cancelJob(jobId);
      await victim.exited;
      await cluster.startTaskManager(victimId).ready;
      await until('slots back', async () => {
        const overview = await dispatcher.requestClusterOverview();
        return overview.taskmanagers === 3 && overview['slots-available'] === 6 ? true : undefined;
      });
    }
  } finally {
    await cluster.close();
  }
  return timings;
}

async function jobManagerLoss(): Promise<Timing[]> {
  const zooKeeper = await startZooKeeper();
  const storage = mkdtempSync(join(tmpdir(), 'flink-rpc-failover-bench-'));
  const timings: Timing[] = [];
  let cluster: LocalProcessCluster | undefined;
  try {
    cluster = await LocalProcessCluster.start({
      ha: { type: 'zookeeper', quorum: zooKeeper.connectString, storageDir: storage },
      jobManagers: 2,
      taskManagers: 2,
      slotsPerTaskManager: 2,
      configuration: SETTINGS,
    });
    const running = cluster;
    for (let run = 1; run <= RUNS; run++) {
      const oldDispatcher = await running.dispatcher();
      const jobId = await startJob(oldDispatcher, `jm-loss-${run}`);
      const leader = running.jobManagerServing(oldDispatcher.getAddress())!;
      const oldToken = oldDispatcher.getFencingToken();
      const killedAt = Date.now();
      leader.kill('SIGKILL');
      const newDispatcher = await until('a new Dispatcher leader', async () => {
        const gateway = await running.dispatcher(500);
        return gateway.getFencingToken() !== oldToken ? gateway : undefined;
      });
      const detected = Date.now() - killedAt;
      await until('the job recovered', async () => ((await newDispatcher.requestJobStatus(jobId)) ? true : undefined));
      const restarted = Date.now() - killedAt;
      await until('the job running again', async () =>
        allRunning(await newDispatcher.requestJob(jobId)) ? true : undefined,
      );
      const timing = { detected, restarted, running: Date.now() - killedAt };
      timings.push(timing);
      log(`  JobManager loss run ${run}: ${describe(timing)}`);
      await newDispatcher.cancelJob(jobId);
      await leader.exited;
      await running.startJobManager().ready;
    }
  } finally {
    await cluster?.close();
    await zooKeeper.stop();
    rmSync(storage, { recursive: true, force: true });
  }
  return timings;
}

function describe(timing: Timing): string {
  return `detected ${timing.detected} ms, restarted ${timing.restarted} ms, RUNNING ${timing.running} ms`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

async function main(): Promise<void> {
  log(`TaskManager loss, ${RUNS} runs…`);
  const tm = await taskManagerLoss();
  log(`JobManager loss, ${RUNS} runs…`);
  const jm = await jobManagerLoss();
  const row = (what: string, timings: Timing[]) =>
    `| ${what} | ${median(timings.map((t) => t.detected))} ms | ${median(timings.map((t) => t.restarted))} ms | ` +
    `${median(timings.map((t) => t.running))} ms | ${timings.length} |\n`;
  process.stdout.write(
    '\n## Failover times (median; from the SIGKILL)\n\n' +
      '| lost | detected | restarted | back to RUNNING | runs |\n|---|---|---|---|---|\n' +
      row('TaskManager (heartbeat 500 ms / 2 s)', tm) +
      row('leading JobManager (ZooKeeper session 2 s)', jm),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `failover bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
