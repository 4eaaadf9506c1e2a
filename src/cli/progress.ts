/**
 * The live progress view of `flink-rpc run`: a block redrawn in place on a terminal (log-update), one line per change
 * when the output is a file or a pipe (logs and CI stay readable).
 */

import { styleText } from 'node:util';
import { createLogUpdate } from 'log-update';
import type { CheckpointStats, ExecutionState, JobDetails } from '../cluster/types.js';

/** What one poll of the REST API saw. */
export interface JobProgress {
  readonly job: JobDetails;
  readonly checkpoints?: CheckpointStats;
  /** Records committed, when known (the JobManager's `write-records`, else counted from the sinks' output). */
  readonly recordsCommitted?: number;
  /** Why the last poll failed (JobManager failover, restart): the view says so and keeps the last data. */
  readonly unavailable?: string;
}

const STATE_ORDER: readonly ExecutionState[] = [
  'CREATED',
  'SCHEDULED',
  'DEPLOYING',
  'INITIALIZING',
  'RUNNING',
  'FINISHED',
  'CANCELING',
  'CANCELED',
  'FAILED',
];

/** Records the job's sinks committed, when the JobManager reports them (Flink's `write-records` vertex metric). */
export function recordsCommitted(job: JobDetails): number | undefined {
  let total: number | undefined;
  for (const vertex of job.vertices) {
    const value = (vertex as { metrics?: Record<string, unknown> }).metrics?.['write-records'];
    if (typeof value === 'number') total = (total ?? 0) + value;
  }
  return total;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${String(Math.floor((ms % 60_000) / 1_000)).padStart(2, '0')} s`;
}

/** The task counts as "4 RUNNING · 2 FINISHED" (states in task order, zeros left out). */
export function formatTaskCounts(counts: Partial<Record<ExecutionState, number>>): string {
  const parts = STATE_ORDER.filter((state) => (counts[state] ?? 0) > 0).map((state) => `${counts[state]} ${state}`);
  return parts.length > 0 ? parts.join(' · ') : 'none';
}

function checkpointsText(stats: CheckpointStats | undefined): string {
  if (stats === undefined) return '–';
  const latest = stats.latest.completed;
  const last = latest === null ? '' : `, last #${latest.id} in ${formatDuration(latest.end_to_end_duration)}`;
  return `${stats.counts.completed} completed, ${stats.counts.failed} failed${last}`;
}

/** The multi-line block shown on a terminal. */
export function renderProgressBlock(progress: JobProgress, color: boolean): string {
  const { job, checkpoints } = progress;
  const records = progress.recordsCommitted ?? recordsCommitted(job);
  const paint = (format: Parameters<typeof styleText>[0], text: string): string =>
    color ? styleText(format, text) : text;
  const lines = [
    `${paint('bold', job.name)} ${paint('dim', `(${job.jid})`)}  ${paint(stateFormat(job.state), job.state)}  ${formatDuration(job.duration)}`,
    `  ${paint('dim', 'tasks      ')} ${formatTaskCounts(job['status-counts'])}`,
    `  ${paint('dim', 'checkpoints')} ${checkpointsText(checkpoints)}`,
    `  ${paint('dim', 'restarts   ')} ${job.numRestarts}`,
    `  ${paint('dim', 'records    ')} ${records === undefined ? '–' : `${records.toLocaleString('en-US')} committed`}`,
  ];
  if (progress.unavailable !== undefined) lines.push(paint('yellow', `  ${progress.unavailable} — retrying…`));
  return lines.join('\n');
}

/** One line, for logs. */
export function renderProgressLine(progress: JobProgress, clock?: string): string {
  const { job, checkpoints } = progress;
  const records = progress.recordsCommitted ?? recordsCommitted(job);
  const parts = [
    `${job.state}`,
    `tasks: ${formatTaskCounts(job['status-counts'])}`,
    `checkpoints: ${checkpoints?.counts.completed ?? 0}`,
    `restarts: ${job.numRestarts}`,
    ...(records === undefined ? [] : [`records committed: ${records}`]),
  ];
  if (progress.unavailable !== undefined) parts.push(`(${progress.unavailable}; retrying)`);
  return `[${clock ?? formatDuration(job.duration).padStart(8)}] ${parts.join(' | ')}`;
}

function stateFormat(state: string): Parameters<typeof styleText>[0] {
  if (state === 'FINISHED') return 'green';
  if (state === 'FAILED' || state === 'FAILING') return 'red';
  if (state === 'RESTARTING' || state === 'CANCELLING' || state === 'CANCELED') return 'yellow';
  return 'cyan';
}

/** Shows progress on `stream`: redrawn in place on a terminal, a new line per change otherwise. */
export class ProgressView {
  private readonly live: ReturnType<typeof createLogUpdate> | undefined;
  private lastLine = '';

  /** @param clock the time stamp of a line (default: the job's duration) */
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly clock?: () => string,
  ) {
    this.live = stream.isTTY === true ? createLogUpdate(stream, { showCursor: true }) : undefined;
  }

  update(progress: JobProgress): void {
    if (this.live !== undefined) {
      this.live(renderProgressBlock(progress, process.env.NO_COLOR === undefined));
      return;
    }
    const line = renderProgressLine(progress, this.clock?.());
    // Only the parts that change matter in a log: skip a line equal to the last but for the clock.
    const key = line.slice(line.indexOf(']'));
    if (key === this.lastLine) return;
    this.lastLine = key;
    this.stream.write(`${line}\n`);
  }

  /** Freezes the block (terminal) and leaves the cursor below it. */
  done(): void {
    this.live?.done();
  }
}
