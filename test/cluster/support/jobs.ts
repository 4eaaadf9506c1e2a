/** Job graphs and waiting helpers shared by the process tests. */

import type { DispatcherGateway } from '../../../src/cluster/gateways.js';
import type { JobDetails, JobGraph, JobStatus } from '../../../src/cluster/types.js';

/** An exactly-once generator job: `records` numbered records into a transactional file sink in `output`. */
export function generatorJob(options: {
  output: string;
  records: number;
  parallelism: number;
  recordsPerStep?: number;
  stepDelayMs?: number;
  checkpointInterval?: number;
  name?: string;
}): JobGraph {
  return {
    name: options.name ?? 'exactly-once generator',
    vertices: [
      {
        id: 'generator',
        name: 'Generator → transactional file sink',
        parallelism: options.parallelism,
        operator: 'generator',
        config: {
          records: options.records,
          recordsPerStep: options.recordsPerStep ?? 5,
          stepDelayMs: options.stepDelayMs ?? 20,
          output: options.output,
        },
      },
    ],
    checkpointing: { interval: options.checkpointInterval ?? 200, timeout: 10_000 },
    restartStrategy: { type: 'fixed-delay', attempts: 10, delay: 200 },
  };
}

/** Polls `check` every `intervalMs` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The TaskManagers (resource ids) that run tasks of the job now. */
export function taskManagersOf(details: JobDetails): string[] {
  const ids = new Set<string>();
  for (const vertex of details.vertices) {
    for (const subtask of vertex.subtasks) if (subtask['taskmanager-id']) ids.add(subtask['taskmanager-id']);
  }
  return [...ids].sort();
}

/** True when every task of the job is RUNNING. */
export function allRunning(details: JobDetails): boolean {
  const total = details.vertices.reduce((sum, vertex) => sum + vertex.parallelism, 0);
  return details['status-counts'].RUNNING === total;
}

/** The job's status, or undefined while no Dispatcher leader answers (during a JobManager failover). */
export async function statusOf(
  dispatcher: () => Promise<DispatcherGateway>,
  jobId: string,
): Promise<JobStatus | undefined> {
  try {
    return await (await dispatcher()).requestJobStatus(jobId);
  } catch {
    return undefined;
  }
}

/** Registration delays short enough for tests (Flink's defaults wait up to 30 s between attempts). */
export const FAST_REGISTRATION = {
  initialRegistrationTimeout: 100,
  maxRegistrationTimeout: 1_000,
  errorDelay: 100,
  refusedRegistrationDelay: 100,
};
