/**
 * The cluster's Prometheus metrics, with Flink's metric names in Flink's Prometheus scope format
 * (`flink_jobmanager_<name>`, `flink_jobmanager_job_<name>{job_id,job_name}`). Values are read from the Dispatcher
 * at scrape time, so a scrape always shows the cluster as it is, and nothing runs between scrapes.
 */

import { Gauge, Registry } from 'prom-client';
import type { DispatcherGateway } from '../gateways.js';
import { type CheckpointStats, type JobDetails, TERMINAL_JOB_STATUSES } from '../types.js';

/** The content type of {@link ClusterMetrics.scrape}'s text. */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

const JOB_LABELS = ['job_id', 'job_name'] as const;

/** The metrics of one cluster, scraped through its Dispatcher. */
export class ClusterMetrics {
  private readonly registry = new Registry();
  private readonly numRegisteredTaskManagers = this.gauge(
    'numRegisteredTaskManagers',
    'TaskManagers registered at the ResourceManager.',
  );
  private readonly numRunningJobs = this.gauge('numRunningJobs', 'Jobs in state RUNNING.');
  private readonly taskSlotsAvailable = this.gauge('taskSlotsAvailable', 'Free task slots.');
  private readonly taskSlotsTotal = this.gauge('taskSlotsTotal', 'Task slots of all registered TaskManagers.');
  private readonly numRestarts = this.jobGauge('numRestarts', 'Restarts of the job since it was submitted.');
  private readonly lastCheckpointDuration = this.jobGauge(
    'lastCheckpointDuration',
    'End-to-end duration of the latest completed checkpoint, in milliseconds (-1 before the first).',
  );
  private readonly numberOfCompletedCheckpoints = this.jobGauge(
    'numberOfCompletedCheckpoints',
    'Completed checkpoints.',
  );
  private readonly numberOfFailedCheckpoints = this.jobGauge('numberOfFailedCheckpoints', 'Failed checkpoints.');
  private readonly numberOfInProgressCheckpoints = this.jobGauge(
    'numberOfInProgressCheckpoints',
    'Checkpoints triggered and not yet completed or failed.',
  );
  private readonly jobGauges = [
    this.numRestarts,
    this.lastCheckpointDuration,
    this.numberOfCompletedCheckpoints,
    this.numberOfFailedCheckpoints,
    this.numberOfInProgressCheckpoints,
  ];
  /** @param extraRegistries registries rendered after the cluster's own metrics (e.g. the RPC layer's) */
  constructor(private readonly extraRegistries: readonly Registry[] = []) {}

  /** Scrapes run one after the other: each resets and refills the gauges. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Reads the cluster through `dispatcher` and renders every metric in Prometheus' text format. */
  scrape(dispatcher: DispatcherGateway): Promise<string> {
    const run = this.queue.then(() => this.collect(dispatcher));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async collect(dispatcher: DispatcherGateway): Promise<string> {
    const [overview, jobs] = await Promise.all([dispatcher.requestClusterOverview(), dispatcher.listJobs()]);
    // Like Flink, job metrics exist while the job is not globally terminal.
    const live = jobs.filter((job) => !TERMINAL_JOB_STATUSES.has(job.state));
    const details = await Promise.all(
      live.map(async (job) => {
        const [detail, checkpoints] = await Promise.all([
          dispatcher.requestJob(job.jid).catch(() => undefined),
          dispatcher.requestCheckpointStats(job.jid).catch(() => undefined),
        ]);
        return { job, detail, checkpoints };
      }),
    );
    this.numRegisteredTaskManagers.set(overview.taskmanagers);
    this.numRunningJobs.set(jobs.filter((job) => job.state === 'RUNNING').length);
    this.taskSlotsAvailable.set(overview['slots-available']);
    this.taskSlotsTotal.set(overview['slots-total']);
    for (const gauge of this.jobGauges) gauge.reset();
    for (const { job, detail, checkpoints } of details) {
      const labels = { job_id: job.jid, job_name: job.name };
      this.setJobMetrics(labels, detail, checkpoints);
    }
    const texts = await Promise.all([this.registry, ...this.extraRegistries].map((registry) => registry.metrics()));
    return texts.join('\n');
  }

  private setJobMetrics(
    labels: Record<(typeof JOB_LABELS)[number], string>,
    detail: JobDetails | undefined,
    checkpoints: CheckpointStats | undefined,
  ): void {
    if (detail !== undefined) this.numRestarts.set(labels, detail.numRestarts);
    if (checkpoints === undefined) return;
    this.lastCheckpointDuration.set(labels, checkpoints.latest.completed?.end_to_end_duration ?? -1);
    this.numberOfCompletedCheckpoints.set(labels, checkpoints.counts.completed);
    this.numberOfFailedCheckpoints.set(labels, checkpoints.counts.failed);
    this.numberOfInProgressCheckpoints.set(labels, checkpoints.counts.in_progress);
  }

  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name: `flink_jobmanager_${name}`, help, registers: [this.registry] });
  }

  private jobGauge(name: string, help: string): Gauge<(typeof JOB_LABELS)[number]> {
    return new Gauge({
      name: `flink_jobmanager_job_${name}`,
      help,
      labelNames: JOB_LABELS,
      registers: [this.registry],
    });
  }
}
