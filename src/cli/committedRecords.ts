/**
 * Records committed so far by a job. The JobManager reports them (each vertex's `write-records`: the records its
 * subtasks' snapshots covered in the latest completed checkpoint); only for a JobManager that does not, the count
 * falls back to reading the `generator` vertices' transactional sinks' output directories (what a person would count
 * by hand) — possible only where those directories are visible to the CLI (same machine or shared storage).
 */

import { resolve } from 'node:path';
import { verifyExactlyOnce } from '../cluster/task/verifyExactlyOnce.js';
import type { JobDetails } from '../cluster/types.js';
import { recordsCommitted } from './progress.js';

interface GeneratorSink {
  readonly vertexId: string;
  readonly output: string;
  readonly records: number;
}

/** The generator vertices of a job graph (JSON as submitted) and where they commit. */
export function generatorSinks(graph: unknown): GeneratorSink[] {
  const vertices = (graph as { vertices?: unknown }).vertices;
  if (!Array.isArray(vertices)) return [];
  const sinks: GeneratorSink[] = [];
  for (const vertex of vertices as { id?: unknown; operator?: unknown; config?: Record<string, unknown> }[]) {
    const output = vertex.config?.output;
    const records = vertex.config?.records;
    if (
      vertex.operator === 'generator' &&
      typeof vertex.id === 'string' &&
      typeof output === 'string' &&
      typeof records === 'number'
    ) {
      sinks.push({ vertexId: vertex.id, output: resolve(output), records });
    }
  }
  return sinks;
}

/** The committed records of `sinks`, or undefined when none can be read. */
export async function countCommittedRecords(sinks: readonly GeneratorSink[]): Promise<number | undefined> {
  if (sinks.length === 0) return undefined;
  const counts = await Promise.all(
    sinks.map((sink) =>
      verifyExactlyOnce(sink.output, { records: sink.records, vertexId: sink.vertexId }).then(
        (report) => report.committed,
        () => undefined,
      ),
    ),
  );
  const known = counts.filter((count): count is number => count !== undefined);
  return known.length === 0 ? undefined : known.reduce((sum, count) => sum + count, 0);
}

/** The JobManager's figure for `job` when it reports one, else the count read from `sinks`' output directories. */
export async function committedRecordsOf(
  job: JobDetails,
  sinks: readonly GeneratorSink[],
): Promise<number | undefined> {
  return recordsCommitted(job) ?? (await countCommittedRecords(sinks));
}
