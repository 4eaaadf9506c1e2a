/** The client commands: `run`, `list`, `cancel` — they talk to a JobManager's REST API. */

import { readFile } from 'node:fs/promises';
import { type JobDetails, type JobStatus, TERMINAL_JOB_STATUSES } from '../../cluster/types.js';
import { committedRecordsOf, type countCommittedRecords, generatorSinks } from '../committedRecords.js';
import { CliError, type CliIo, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, table } from '../output.js';
import { formatDuration, formatTaskCounts, ProgressView, recordsCommitted } from '../progress.js';
import { ClusterUnreachableError, RestApiError, type RestClient } from '../RestClient.js';
import { sleep } from '../sleep.js';

export interface RunOptions {
  readonly detached: boolean;
  /** How often the progress is polled. */
  readonly intervalMs: number;
  /** How long the JobManager may stay unreachable while following (a failover) before giving up. */
  readonly unavailableTimeoutMs: number;
}

/** Reads a job graph file. @throws CliError naming the file and the problem */
export async function readJobGraph(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `Cannot read the job graph file '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
    );
  }
  let graph: unknown;
  try {
    graph = JSON.parse(text);
  } catch (error) {
    throw new CliError(`The job graph file '${path}' is not valid JSON: ${(error as Error).message}`);
  }
  if (graph === null || typeof graph !== 'object' || Array.isArray(graph)) {
    throw new CliError(`The job graph file '${path}' must hold a JSON object with 'name' and 'vertices'.`);
  }
  return graph as Record<string, unknown>;
}

/** `run`: submits, then (unless detached) follows the job until it ends. Resolves with the exit code. */
export async function runJob(
  client: RestClient,
  path: string,
  options: RunOptions,
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const graph = await readJobGraph(path);
  const jobId = await client.submit(graph);
  if (options.detached) {
    io.stdout.write(`${jobId}\n`);
    return EXIT_OK;
  }
  io.stderr.write(
    `Job '${String(graph.name)}' submitted with id ${jobId} (dashboard: ${client.baseUrl}/#/jobs/${jobId})\n`,
  );
  const final = await followJob(client, jobId, generatorSinks(graph), options, io, signal);
  if (final === undefined) {
    io.stderr.write(`Stopped following job ${jobId}; it keeps running. Cancel it with: flink-rpc cancel ${jobId}\n`);
    return EXIT_INTERRUPTED;
  }
  return reportOutcome(client, final, await committedRecordsOf(final, generatorSinks(graph)), io);
}

/** Polls until the job is globally terminal; undefined when `signal` stopped it first. */
export async function followJob(
  client: RestClient,
  jobId: string,
  sinks: Parameters<typeof countCommittedRecords>[0],
  options: RunOptions,
  io: CliIo,
  signal: AbortSignal,
): Promise<JobDetails | undefined> {
  const view = new ProgressView(io.stdout);
  let last: JobDetails | undefined;
  let lastCheckpoints: Awaited<ReturnType<RestClient['checkpoints']>> | undefined;
  let records: number | undefined;
  let unavailableSince: number | undefined;
  try {
    while (!signal.aborted) {
      try {
        const [job, checkpoints] = await Promise.all([client.job(jobId), client.checkpoints(jobId)]);
        const committed = await committedRecordsOf(job, sinks);
        last = job;
        lastCheckpoints = checkpoints;
        records = committed ?? records;
        unavailableSince = undefined;
        view.update({ job, checkpoints, ...(records === undefined ? {} : { recordsCommitted: records }) });
        if (TERMINAL_JOB_STATUSES.has(job.state)) return job;
      } catch (error) {
        // During a JobManager failover the REST API is unreachable, answers 503, or (new leader still recovering
        // the job) 404: keep the last view and retry for a while.
        if (!isTransient(error)) throw error;
        unavailableSince ??= Date.now();
        if (Date.now() - unavailableSince > options.unavailableTimeoutMs) throw error;
        if (last !== undefined) {
          const reason = error instanceof ClusterUnreachableError ? 'JobManager unreachable' : (error as Error).message;
          view.update({
            job: last,
            ...(lastCheckpoints === undefined ? {} : { checkpoints: lastCheckpoints }),
            unavailable: reason,
          });
        }
      }
      await sleep(options.intervalMs, signal);
    }
    return undefined;
  } finally {
    view.done();
  }
}

function isTransient(error: unknown): boolean {
  if (error instanceof ClusterUnreachableError) return true;
  return error instanceof RestApiError && (error.status === 503 || error.status === 404);
}

export async function reportOutcome(
  client: RestClient,
  job: JobDetails,
  committed: number | undefined,
  io: CliIo,
): Promise<number> {
  const records = recordsCommitted(job) ?? committed;
  const summary = `Job ${job.jid} ${job.state} after ${formatDuration(job.duration)} (${job.numRestarts} restarts${records === undefined ? '' : `, ${records} records committed`}).`;
  if (job.state === 'FINISHED') {
    io.stdout.write(`${summary}\n`);
    return EXIT_OK;
  }
  io.stderr.write(`${summary}\n`);
  if (job.state === 'FAILED') {
    const exceptions = await client.exceptions(job.jid).catch(() => undefined);
    const root = exceptions?.['root-exception'] ?? exceptions?.exceptionHistory.entries[0]?.stacktrace;
    if (root !== undefined) io.stderr.write(`Root cause:\n${indent(firstLines(root, 12))}\n`);
  }
  return EXIT_FAILURE;
}

/** `list`: the jobs of the cluster, running ones first. */
export async function listJobs(
  client: RestClient,
  options: { all: boolean; json: boolean },
  io: CliIo,
): Promise<number> {
  const jobs = await client.jobs();
  const shown = options.all ? jobs : jobs.filter((job) => !TERMINAL_JOB_STATUSES.has(job.state));
  if (options.json) {
    io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    return EXIT_OK;
  }
  if (shown.length === 0) {
    io.stdout.write(options.all ? 'No jobs.\n' : 'No running jobs (use --all to see finished ones).\n');
    return EXIT_OK;
  }
  const order = (state: JobStatus): number => (TERMINAL_JOB_STATUSES.has(state) ? 1 : 0);
  const sorted = [...shown].sort((a, b) => order(a.state) - order(b.state) || b['start-time'] - a['start-time']);
  const rows = [
    ['JOB ID', 'STATE', 'DURATION', 'TASKS', 'NAME'],
    ...sorted.map((job) => [job.jid, job.state, formatDuration(job.duration), formatTaskCounts(job.tasks), job.name]),
  ];
  io.stdout.write(`${table(rows)}\n`);
  return EXIT_OK;
}

/** `cancel`: asks the JobManager to cancel the job. */
export async function cancelJob(client: RestClient, jobId: string, io: CliIo): Promise<number> {
  await client.cancel(jobId);
  io.stdout.write(`Cancellation of job ${jobId} requested.\n`);
  return EXIT_OK;
}

function firstLines(text: string, count: number): string {
  const lines = text.split('\n');
  return lines.length > count ? [...lines.slice(0, count), `… (${lines.length - count} more lines)`].join('\n') : text;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
