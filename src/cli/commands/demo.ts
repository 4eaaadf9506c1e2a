/**
 * `flink-rpc demo` (and `npm run demo`): a small Flink on flink-rpc, as real processes.
 *
 * Starts a JobManager (with the REST API and dashboard) and TaskManagers as child processes on loopback (standalone
 * HA: fixed addresses, no ZooKeeper), runs an exactly-once job (a generator whose records go to a transactional file
 * sink committed on checkpoints), SIGKILLs a TaskManager that runs tasks half-way through, and prints one progress line
 * per second while the JobManager detects the loss by heartbeat and restarts the job from its latest checkpoint. At
 * the end it prints the failover timeline, checks the output — every record exactly once — and stops every process it
 * started (`--keep-running` first leaves the cluster up for the dashboard until Ctrl-C). Exit 0 on success, else 1.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DispatcherGateway,
  type JobDetails,
  type JobGraph,
  type JobStatus,
  LocalProcessCluster,
  TERMINAL_JOB_STATUSES,
  verifyExactlyOnce,
} from '../../cluster/index.js';
import { type CliIo, EXIT_FAILURE, EXIT_OK } from '../output.js';
import { sleep } from '../sleep.js';

export interface DemoOptions {
  readonly taskmanagers: number;
  readonly slots: number;
  readonly records: number;
  /** REST and dashboard port of the JobManager (0 picks a free one). */
  readonly restPort: number;
  readonly keepRunning: boolean;
}

const HEARTBEAT = { interval: 500, timeout: 2_000 };
const CHECKPOINT_INTERVAL_MS = 500;
const VERTEX_ID = 'generator';

type Say = (line: string) => void;

export async function demoCommand(options: DemoOptions, io: CliIo, signal: AbortSignal): Promise<number> {
  const started = Date.now();
  const say: Say = (line) => {
    io.stdout.write(`[${((Date.now() - started) / 1_000).toFixed(1).padStart(5)}s] ${line}\n`);
  };
  const workDir = await mkdtemp(join(tmpdir(), 'flink-rpc-demo-'));
  let ok = false;
  let cluster: LocalProcessCluster | undefined;
  try {
    say(`Starting a JobManager and ${options.taskmanagers} TaskManagers (${options.slots} slots each) as processes…`);
    cluster = await LocalProcessCluster.start({
      taskManagers: options.taskmanagers,
      slotsPerTaskManager: options.slots,
      configuration: {
        'heartbeat.interval': `${HEARTBEAT.interval} ms`,
        'heartbeat.timeout': `${HEARTBEAT.timeout} ms`,
        'cluster.registration.max-timeout': '2 s',
        'cluster.registration.error-delay': '500 ms',
        'state.checkpoints.dir': join(workDir, 'checkpoints'),
        'rest.port': options.restPort,
        'web.refresh-interval': '1 s',
      },
      onLine: (name, line) => {
        const dashboard = /REST API and dashboard at (\S+)/.exec(line)?.[1];
        if (dashboard !== undefined) say(`Dashboard: ${dashboard}/  (open it to watch the job live)`);
        else if (/ ready at /.test(line)) say(`${name}: ${line}`);
      },
    });
    const dispatcher = await cluster.dispatcher();
    const overview = await dispatcher.requestClusterOverview();
    say(`${overview.taskmanagers} TaskManagers registered at the ResourceManager: ${overview['slots-total']} slots.`);
    if (!signal.aborted) {
      ok = await runJob(cluster, dispatcher, overview['slots-total'], join(workDir, 'output'), options, say, signal);
    }
    if (options.keepRunning && !signal.aborted) {
      say('The cluster keeps running: browse the dashboard above. Ctrl-C to stop.');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
  } catch (error) {
    say(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    ok = false;
  } finally {
    if (cluster !== undefined) {
      say('Stopping the cluster (SIGTERM to every process it started)…');
      await cluster.close();
      const unclean = [...cluster.jobManagers, ...cluster.taskManagers].filter(
        (child) => child.exitStatus()?.signal !== 'SIGKILL' && child.exitStatus()?.code !== 0,
      );
      if (unclean.length > 0) {
        say(`Processes that did not stop cleanly: ${unclean.map((child) => child.name).join(', ')}`);
        ok = false;
      }
    }
    await rm(workDir, { recursive: true, force: true });
  }
  say(ok ? 'Demo succeeded.' : 'Demo FAILED.');
  return ok ? EXIT_OK : EXIT_FAILURE;
}

async function runJob(
  cluster: LocalProcessCluster,
  dispatcher: DispatcherGateway,
  slotsTotal: number,
  output: string,
  options: DemoOptions,
  say: Say,
  signal: AbortSignal,
): Promise<boolean> {
  const { records } = options;
  // Leave one TaskManager's slots free, so the job finds slots again once a TaskManager is gone.
  const parallelism = Math.max(1, Math.min(4, slotsTotal - options.slots));
  const job: JobGraph = {
    name: 'exactly-once generator',
    vertices: [
      {
        id: VERTEX_ID,
        name: 'Generator → transactional file sink',
        parallelism,
        operator: 'generator',
        config: { records, recordsPerStep: 10, stepDelayMs: 20, output },
      },
    ],
    checkpointing: { interval: CHECKPOINT_INTERVAL_MS, timeout: 10_000 },
    restartStrategy: { type: 'fixed-delay', attempts: 3, delay: 500 },
  };
  const jobId = await dispatcher.submitJob(job, 10_000);
  say(
    `Submitted job ${jobId}: ${records} numbered records from ${parallelism} tasks into a file sink that commits ` +
      `only when a checkpoint completes (every ${CHECKPOINT_INTERVAL_MS} ms).`,
  );

  const timeline = new FailoverTimeline(dispatcher, jobId);
  let killed = false;
  let result: JobStatus | undefined;
  let resultError: unknown;
  const resultPromise = dispatcher.requestJobResult(jobId, 10 * 60_000).then(
    (r) => {
      result = r.status;
    },
    (error: unknown) => {
      resultError = error;
    },
  );
  try {
    while (result === undefined && resultError === undefined && !signal.aborted) {
      const progress = await readProgress(dispatcher, jobId, output, records);
      say(
        `${progress.details.state.padEnd(10)} tasks ${progress.running}/${progress.total} running | ` +
          `committed ${String(progress.committed).padStart(String(records).length)}/${records} | ` +
          `checkpoints ${progress.checkpoints} | restarts ${progress.details.numRestarts}`,
      );
      if (TERMINAL_JOB_STATUSES.has(progress.details.state)) break;
      if (!killed && progress.committed >= records / 2) {
        const victimId = taskManagersOf(progress.details).find((id) => cluster.taskManager(id) !== undefined);
        const victim = victimId === undefined ? undefined : cluster.taskManager(victimId);
        if (victim === undefined) throw new Error('No TaskManager runs tasks of the job.');
        say(
          `Half-way (${progress.committed} records committed): SIGKILL TaskManager ${victimId} (pid ${victim.pid}), ` +
            'which runs tasks of the job.',
        );
        killed = true;
        timeline.start();
        victim.kill('SIGKILL');
      }
      await Promise.race([resultPromise, sleep(1_000, signal)]);
    }
  } finally {
    await timeline.stop();
  }
  if (signal.aborted && result === undefined) {
    say('Interrupted: stopping the demo.');
    return false;
  }
  if (resultError !== undefined) throw resultError;
  const stats = await dispatcher.requestCheckpointStats(jobId);
  const details = await dispatcher.requestJob(jobId);
  say(
    `Job ${details.state} after ${details.numRestarts} restart(s); ${stats.counts.completed} checkpoints completed` +
      (stats.latest.restored ? `, restored from checkpoint ${stats.latest.restored.id}.` : '.'),
  );
  const failover = timeline.describe();
  if (failover !== undefined) say(failover);
  const report = await verifyExactlyOnce(output, { records, vertexId: VERTEX_ID });
  say(`Output check: ${report.summary}`);
  return details.state === 'FINISHED' && report.ok && killed && details.numRestarts >= 1;
}

interface Progress {
  readonly details: JobDetails;
  readonly running: number;
  readonly total: number;
  readonly committed: number;
  readonly checkpoints: number;
}

async function readProgress(
  dispatcher: DispatcherGateway,
  jobId: string,
  output: string,
  records: number,
): Promise<Progress> {
  const [details, stats, report] = await Promise.all([
    dispatcher.requestJob(jobId),
    dispatcher.requestCheckpointStats(jobId),
    // What a person would count by hand: the records the sink has committed so far.
    verifyExactlyOnce(output, { records, vertexId: VERTEX_ID }).catch(() => undefined),
  ]);
  return {
    details,
    running: details['status-counts'].RUNNING,
    total: totalTasks(details),
    committed: report?.committed ?? 0,
    checkpoints: stats.counts.completed,
  };
}

function totalTasks(details: JobDetails): number {
  return details.vertices.reduce((sum, vertex) => sum + vertex.parallelism, 0);
}

/** The TaskManagers that run tasks of the job, by resource id. */
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

  /** One line, or undefined if nothing was killed. */
  describe(): string | undefined {
    if (this.killedAt === 0) return undefined;
    const since = (at: number | undefined) => (at === undefined ? 'not seen' : `${at - this.killedAt} ms`);
    return (
      `Failover after the kill: detected ${since(this.detectedAt)} (heartbeat interval ${HEARTBEAT.interval} ms, ` +
      `timeout ${HEARTBEAT.timeout} ms), restarted ${since(this.restartedAt)}, ` +
      `all tasks RUNNING again ${since(this.runningAt)}.`
    );
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
        if (this.restartedAt !== undefined && details['status-counts'].RUNNING === totalTasks(details)) {
          this.runningAt = now;
        }
        if (TERMINAL_JOB_STATUSES.has(details.state)) return;
      } catch {
        // the JobManager is busy failing over: ask again
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
