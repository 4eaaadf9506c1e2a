/**
 * `npm run demo`: a small Flink on flink-rpc, as real processes.
 *
 * Starts a JobManager and three TaskManagers as child processes on loopback (standalone HA: fixed addresses, no
 * ZooKeeper), runs an exactly-once job (a generator whose records go to a transactional file sink committed on
 * checkpoints), SIGKILLs a TaskManager that runs tasks half-way through, and prints one progress line per second while
 * the JobManager detects the loss by heartbeat and restarts the job from its latest checkpoint. At the end it checks
 * the output — every record exactly once — stops what it started, and exits 0 (1 if anything went wrong).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DispatcherGateway, JobDetails, JobGraph, JobStatus } from '../src/cluster/index.js';
import { verifyExactlyOnce } from '../src/cluster/index.js';
import { LocalProcessCluster } from '../src/cluster/process/LocalProcessCluster.js';

const TASK_MANAGERS = 3;
const SLOTS_PER_TASK_MANAGER = 2;
const PARALLELISM = 4;
const RECORDS = 24_000;
const HEARTBEAT = { interval: 500, timeout: 2_000 };

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const say = (line: string) => process.stdout.write(`[${elapsed()}] ${line}\n`);

async function main(): Promise<number> {
  const workDir = mkdtempSync(join(tmpdir(), 'flink-rpc-demo-'));
  const output = join(workDir, 'output');
  say(`Starting a JobManager and ${TASK_MANAGERS} TaskManagers (${SLOTS_PER_TASK_MANAGER} slots each) as processes…`);
  const cluster = await LocalProcessCluster.start({
    taskManagers: TASK_MANAGERS,
    slotsPerTaskManager: SLOTS_PER_TASK_MANAGER,
    configuration: {
      'heartbeat.interval': `${HEARTBEAT.interval} ms`,
      'heartbeat.timeout': `${HEARTBEAT.timeout} ms`,
      'cluster.registration.max-timeout': '2 s',
      'cluster.registration.error-delay': '500 ms',
      // The JobManager serves the REST API and the dashboard on a free port: watch the job live in a browser.
      'rest.port': 0,
      'web.refresh-interval': '1 s',
    },
    onLine: (name, line) => {
      if (/ ready at /.test(line)) say(`${name}: ${line}`);
      const dashboard = /REST API and dashboard at (\S+)/.exec(line)?.[1];
      if (dashboard !== undefined) say(`Dashboard (open it to watch the job live): ${dashboard}/`);
    },
  });
  let ok = false;
  try {
    ok = await runJob(cluster, output);
  } catch (error) {
    say(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    say('Stopping the cluster (SIGTERM to every process it started)…');
    await cluster.close();
    const unclean = [...cluster.jobManagers, ...cluster.taskManagers].filter(
      (child) => child.exitStatus()?.signal !== 'SIGKILL' && child.exitStatus()?.code !== 0,
    );
    if (unclean.length > 0) {
      say(`Processes that did not stop cleanly: ${unclean.map((child) => child.name).join(', ')}`);
      ok = false;
    }
    rmSync(workDir, { recursive: true, force: true });
  }
  say(ok ? 'Demo succeeded.' : 'Demo FAILED.');
  return ok ? 0 : 1;
}

async function runJob(cluster: LocalProcessCluster, output: string): Promise<boolean> {
  const dispatcher = await cluster.dispatcher();
  const job: JobGraph = {
    name: 'exactly-once generator',
    vertices: [
      {
        id: 'generator',
        name: 'Generator → transactional file sink',
        parallelism: PARALLELISM,
        operator: 'generator',
        config: { records: RECORDS, recordsPerStep: 10, stepDelayMs: 20, output },
      },
    ],
    checkpointing: { interval: 500, timeout: 10_000 },
    restartStrategy: { type: 'fixed-delay', attempts: 3, delay: 500 },
  };
  const jobId = await dispatcher.submitJob(job, 10_000);
  say(`Submitted job ${jobId}: ${RECORDS} records, parallelism ${PARALLELISM}, a checkpoint every 500 ms.`);

  const timeline = new FailoverTimeline(dispatcher, jobId);
  let killed = false;
  let result: JobStatus | undefined;
  const resultPromise = dispatcher.requestJobResult(jobId, 120_000).then((r) => {
    result = r.status;
  });
  while (result === undefined) {
    const progress = await readProgress(dispatcher, jobId, output);
    say(
      `${progress.state.padEnd(10)} tasks ${progress.running}/${progress.total} running | ` +
        `committed ${String(progress.committed).padStart(5)}/${RECORDS} | checkpoints ${progress.checkpoints} | ` +
        `restarts ${progress.restarts}`,
    );
    if (!killed && progress.committed >= RECORDS / 2) {
      killed = true;
      const victimId = taskManagersOf(progress.details)[0];
      const victim = victimId === undefined ? undefined : cluster.taskManager(victimId);
      if (victim === undefined) throw new Error('No TaskManager runs tasks of the job.');
      say(`Half-way: SIGKILL TaskManager ${victimId} (pid ${victim.pid}), which runs tasks of the job.`);
      timeline.start();
      victim.kill('SIGKILL');
    }
    await Promise.race([resultPromise, sleep(1_000)]);
  }
  await timeline.stop();
  const stats = await dispatcher.requestCheckpointStats(jobId);
  const details = await dispatcher.requestJob(jobId);
  say(`Job ${result} after ${details.numRestarts} restart(s); ${stats.counts.completed} checkpoints completed.`);
  if (stats.latest.restored) say(`Restored from checkpoint ${stats.latest.restored.id}.`);
  for (const line of timeline.describe()) say(line);
  const report = await verifyExactlyOnce(output, { records: RECORDS });
  say(`Output check: ${report.summary}`);
  return result === 'FINISHED' && report.ok && killed && details.numRestarts >= 1;
}

interface Progress {
  state: JobStatus;
  running: number;
  total: number;
  committed: number;
  checkpoints: number;
  restarts: number;
  details: JobDetails;
}

async function readProgress(dispatcher: DispatcherGateway, jobId: string, output: string): Promise<Progress> {
  const [details, stats, report] = await Promise.all([
    dispatcher.requestJob(jobId),
    dispatcher.requestCheckpointStats(jobId),
    verifyExactlyOnce(output, { records: RECORDS }).catch(() => undefined),
  ]);
  return {
    state: details.state,
    running: details['status-counts'].RUNNING,
    total: details.vertices.reduce((sum, vertex) => sum + vertex.parallelism, 0),
    committed: report?.committed ?? 0,
    checkpoints: stats.counts.completed,
    restarts: details.numRestarts,
    details,
  };
}

function taskManagersOf(details: JobDetails): string[] {
  const ids = new Set<string>();
  for (const vertex of details.vertices) {
    for (const subtask of vertex.subtasks) if (subtask['taskmanager-id']) ids.add(subtask['taskmanager-id']);
  }
  return [...ids].sort();
}

/** Watches the job every 50 ms after the kill: when the loss was detected, the job restarted, and ran again. */
class FailoverTimeline {
  private killedAt = 0;
  private detectedAt: number | undefined;
  private restartedAt: number | undefined;
  private runningAt: number | undefined;
  private watching: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly dispatcher: DispatcherGateway,
    private readonly jobId: string,
  ) {}

  start(): void {
    this.killedAt = Date.now();
    this.watching = this.watch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.watching;
  }

  describe(): string[] {
    if (this.killedAt === 0) return [];
    const since = (at: number | undefined) => (at === undefined ? 'not seen' : `${at - this.killedAt} ms`);
    return [
      `Failover after the kill: detected ${since(this.detectedAt)} (heartbeat interval ${HEARTBEAT.interval} ms, ` +
        `timeout ${HEARTBEAT.timeout} ms), restarted ${since(this.restartedAt)}, all tasks RUNNING again ${since(this.runningAt)}.`,
    ];
  }

  private async watch(): Promise<void> {
    while (!this.stopped && this.runningAt === undefined) {
      try {
        const details = await this.dispatcher.requestJob(this.jobId);
        const now = Date.now();
        if (this.detectedAt === undefined && (details.state !== 'RUNNING' || details.numRestarts > 0)) {
          this.detectedAt = now;
        }
        if (this.restartedAt === undefined && details.numRestarts > 0) this.restartedAt = now;
        const total = details.vertices.reduce((sum, vertex) => sum + vertex.parallelism, 0);
        if (this.restartedAt !== undefined && details['status-counts'].RUNNING === total) this.runningAt = now;
        if (details.state === 'FINISHED') return;
      } catch {
        // the JobManager is busy failing over: ask again
      }
      await sleep(50);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`Demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
