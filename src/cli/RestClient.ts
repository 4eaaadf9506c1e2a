/** The CLI's client of the JobManager's REST API (as Flink's CLI talks to the JobManager). */

import type {
  CheckpointStats,
  ClusterOverview,
  JobDetails,
  JobExceptions,
  JobOverview,
  TaskManagerInfo,
} from '../cluster/types.js';

/** The JobManager could not be reached at all (nothing listening, wrong host, timeout). */
export class ClusterUnreachableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(
      `Could not reach the JobManager at ${url} (${reason}). Is it running? Start one with 'flink-rpc jobmanager' ` +
        `or 'flink-rpc minicluster', or point to it with --jobmanager host:port.`,
    );
    this.name = 'ClusterUnreachableError';
  }
}

/** The REST API answered with an error (Flink's `{ errors: [...] }`). */
export class RestApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
  ) {
    super(errors.length > 0 ? errors.join('; ') : `HTTP ${status}`);
    this.name = 'RestApiError';
  }
}

/** Turns `host:port`, `:port`, `port` or a full URL into the REST base URL. */
export function restUrlOf(jobmanager: string): string {
  const trimmed = jobmanager.trim();
  if (/^https?:\/\//.test(trimmed)) return trimmed.replace(/\/+$/, '');
  if (/^\d+$/.test(trimmed)) return `http://localhost:${trimmed}`;
  if (trimmed.startsWith(':')) return `http://localhost${trimmed}`;
  if (!/^[^\s/]+:\d+$/.test(trimmed) && !/^[^\s/:]+$/.test(trimmed)) {
    throw new TypeError(`Invalid JobManager address '${jobmanager}': expected host:port or http://host:port.`);
  }
  return `http://${/:\d+$/.test(trimmed) ? trimmed : `${trimmed}:8081`}`;
}

export class RestClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  overview(): Promise<ClusterOverview> {
    return this.request('GET', '/overview');
  }
  async jobs(): Promise<JobOverview[]> {
    return (await this.request<{ jobs: JobOverview[] }>('GET', '/jobs/overview')).jobs;
  }
  job(jobId: string): Promise<JobDetails> {
    return this.request('GET', `/jobs/${encodeURIComponent(jobId)}`);
  }
  checkpoints(jobId: string): Promise<CheckpointStats> {
    return this.request('GET', `/jobs/${encodeURIComponent(jobId)}/checkpoints`);
  }
  exceptions(jobId: string): Promise<JobExceptions> {
    return this.request('GET', `/jobs/${encodeURIComponent(jobId)}/exceptions`);
  }
  async taskManagers(): Promise<TaskManagerInfo[]> {
    return (await this.request<{ taskmanagers: TaskManagerInfo[] }>('GET', '/taskmanagers')).taskmanagers;
  }
  async submit(graph: unknown): Promise<string> {
    // Submission persists the graph in the HA stores and starts a JobMaster: allow it more than a read.
    return (await this.request<{ jobid: string }>('POST', '/jobs', graph, Math.max(this.timeoutMs, 60_000))).jobid;
  }
  async cancel(jobId: string): Promise<void> {
    await this.request('PATCH', `/jobs/${encodeURIComponent(jobId)}?mode=cancel`);
  }

  private async request<T>(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
      });
    } catch (error) {
      throw new ClusterUnreachableError(this.baseUrl, describeFetchFailure(error));
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new RestApiError(response.status, [
        `The JobManager answered something that is not JSON (HTTP ${response.status}).`,
      ]);
    }
    if (!response.ok) {
      const errors = (parsed as { errors?: unknown }).errors;
      throw new RestApiError(response.status, Array.isArray(errors) ? errors.map(String) : []);
    }
    return parsed as T;
  }
}

function describeFetchFailure(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND') return 'unknown host';
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
