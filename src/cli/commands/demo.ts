/**
 * `flink-rpc demo`: the cluster as a person runs it. A JobManager (with the REST API and dashboard) and three
 * TaskManagers start as processes through this very command; an exactly-once job is submitted over REST and followed
 * with the progress view of `run`; half-way one TaskManager that runs tasks is SIGKILLed; the JobManager notices by
 * heartbeat and restarts the job from its latest checkpoint; at the end the output is checked (every record exactly
 * once) and every process is stopped. `--keep-running` leaves the cluster up afterwards to browse the dashboard.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyExactlyOnce } from '../../cluster/task/verifyExactlyOnce.js';
import type { JobDetails } from '../../cluster/types.js';
import { TERMINAL_JOB_STATUSES } from '../../cluster/types.js';
import { CliChild } from '../children.js';
import { committedRecordsOf, generatorSinks } from '../committedRecords.js';
import { type CliIo, EXIT_FAILURE, EXIT_OK } from '../output.js';
import { formatDuration, ProgressView } from '../progress.js';
import { RestClient } from '../RestClient.js';
import { sleep } from '../sleep.js';

export interface DemoOptions {
  readonly taskmanagers: number;
  readonly slots: number;
  readonly records: number;
  readonly restPort: number;
  readonly keepRunning: boolean;
}

const HEARTBEAT = ['-Dheartbeat.interval=500', '-Dheartbeat.timeout=2000'];

export async function demoCommand(options: DemoOptions, io: CliIo, signal: AbortSignal): Promise<number> {
  const started = Date.now();
  const clock = (): string => `${((Date.now() - started) / 1_000).toFixed(1).padStart(5)} s`;
  const say = (line: string): void => {
    io.stdout.write(`[${clock()}] ${line}\n`);
  };
  const workDir = await mkdtemp(join(tmpdir(), 'flink-rpc-demo-'));
  const children: CliChild[] = [];
  let result = EXIT_FAILURE;
  try {
    const rpcPort = await freePort();
    const common = ['-Djobmanager.rpc.address=127.0.0.1', `-Djobmanager.rpc.port=${rpcPort}`, ...HEARTBEAT];
    say(`Starting a JobManager and ${options.taskmanagers} TaskManagers (${options.slots} slots each) as processes…`);
    const jobManager = new CliChild('jobmanager', [
      'jobmanager',
      ...common,
      '--rest-port',
      String(options.restPort),
      '-Dweb.refresh-interval=500',
      `-Dstate.checkpoints.dir=${join(workDir, 'checkpoints')}`,
    ]);
    children.push(jobManager);
    const restUrl = (await jobManager.waitFor(/REST API and dashboard at (http:\/\/\S+)/))[1] as string;
    say(`JobManager ready. Dashboard: ${restUrl}  (open it to watch the demo live)`);
    const taskManagers = new Map<string, CliChild>();
    await Promise.all(
      Array.from({ length: options.taskmanagers }, async (_, i) => {
        const child = new CliChild(`taskmanager-${i + 1}`, [
          'taskmanager',
          '--slots',
          String(options.slots),
          ...common,
        ]);
        children.push(child);
        const id = (await child.waitFor(/TaskManager (\S+) ready/))[1] as string;
        taskManagers.set(id, child);
      }),
    );
    const client = new RestClient(restUrl);
    await waitUntil(async () => (await client.overview()).taskmanagers === options.taskmanagers, 30_000);
    const overview = await client.overview();
    say(`${overview.taskmanagers} TaskManagers registered at the ResourceManager: ${overview['slots-total']} slots.`);

    const parallelism = Math.max(1, Math.min(4, overview['slots-total'] - options.slots));
    const graph = {
      name: 'exactly-once generator',
      vertices: [
        {
          id: 'generator',
          name: 'Generator → transactional file sink',
          parallelism,
          operator: 'generator',
          config: { records: options.records, recordsPerStep: 10, stepDelayMs: 20, output: join(workDir, 'output') },
        },
      ],
      checkpointing: { interval: 500, timeout: 10_000 },
      restartStrategy: { type: 'fixed-delay', attempts: 3, delay: 500 },
    };
    const jobId = await client.submit(graph);
    say(
      `Submitted '${graph.name}' as job ${jobId}: ${options.records} numbered records from ${parallelism} tasks into a ` +
        'file sink that commits only when a checkpoint completes (every 500 ms).',
    );

    const sinks = generatorSinks(graph);
    const view = new ProgressView(io.stdout, clock);
    let killed: { id: string; at: number } | undefined;
    let restartedAt: number | undefined;
    let final: JobDetails | undefined;
    while (final === undefined && !signal.aborted) {
      const [job, checkpoints, committed] = await Promise.all([client.job(jobId), client.checkpoints(jobId)])
        .then(async ([job, checkpoints]) => [job, checkpoints, await committedRecordsOf(job, sinks)] as const)
        .catch(() => [undefined, undefined, undefined] as const);
      if (job !== undefined) {
        view.update({
          job,
          ...(checkpoints === undefined ? {} : { checkpoints }),
          ...(committed === undefined ? {} : { recordsCommitted: committed }),
        });
        if (killed !== undefined && restartedAt === undefined && job.numRestarts > 0) restartedAt = Date.now();
        if (TERMINAL_JOB_STATUSES.has(job.state)) final = job;
        if (killed === undefined && (committed ?? 0) >= options.records / 2) {
          const victim = victimOf(job, taskManagers);
          if (victim !== undefined) {
            view.done();
            say(`Half-way (${committed} records committed): SIGKILL TaskManager ${victim} — it runs tasks of the job.`);
            taskManagers.get(victim)?.kill();
            killed = { id: victim, at: Date.now() };
          }
        }
      }
      await sleep(250, signal);
    }
    view.done();
    if (final === undefined) {
      say('Interrupted.');
      return EXIT_FAILURE;
    }
    const checkpoints = await client.checkpoints(jobId);
    say(
      `Job ${final.state} after ${formatDuration(final.duration)}: ${final.numRestarts} restart(s), ` +
        `${checkpoints.counts.completed} checkpoints completed` +
        (checkpoints.latest.restored === null ? '.' : `, restored from checkpoint ${checkpoints.latest.restored.id}.`),
    );
    if (killed !== undefined && restartedAt !== undefined) {
      say(
        `Failover: the restart began ${formatDuration(restartedAt - killed.at)} after the SIGKILL (heartbeat timeout 2 s).`,
      );
    }
    const report = await verifyExactlyOnce(join(workDir, 'output'), {
      records: options.records,
      vertexId: 'generator',
    });
    say(`Output check: ${report.summary}`);
    const ok = final.state === 'FINISHED' && report.ok && killed !== undefined && final.numRestarts >= 1;
    if (options.keepRunning && !signal.aborted) {
      say(`The cluster keeps running: dashboard ${restUrl}, or 'flink-rpc list -m ${restUrl}'. Ctrl-C to stop.`);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    result = ok ? EXIT_OK : EXIT_FAILURE;
  } finally {
    say('Stopping the cluster (SIGTERM to every process)…');
    await Promise.all(children.map((child) => child.stop()));
    await rm(workDir, { recursive: true, force: true });
  }
  say(result === EXIT_OK ? 'Demo succeeded.' : 'Demo FAILED.');
  return result;
}

/** A TaskManager (still running) that holds tasks of the job. */
function victimOf(job: JobDetails, taskManagers: ReadonlyMap<string, CliChild>): string | undefined {
  for (const vertex of job.vertices) {
    for (const subtask of vertex.subtasks) {
      const id = subtask['taskmanager-id'];
      if (id !== undefined && taskManagers.get(id)?.running === true) return id;
    }
  }
  return undefined;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for the cluster.`);
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
