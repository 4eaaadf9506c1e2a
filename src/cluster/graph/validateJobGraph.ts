/**
 * Checks a submitted job graph (JSON from a client, so anything) before the cluster accepts it, and returns a clean
 * copy with a job id. Every problem found is named in one sentence; all of them are reported together, so a user fixes
 * a graph in one round trip.
 */

import { randomBytes } from 'node:crypto';
import { JobSubmissionException } from '../errors.js';
import { restartStrategyProblems } from '../restart/restartStrategies.js';
import type { JobVertex, OperatorRef, RestartStrategyConfig, ValidatedJobGraph } from '../types.js';

/** Flink's upper bound for a job vertex's (max) parallelism. */
export const MAX_PARALLELISM = 32_768;
/** Flink refuses checkpoint intervals below this (ms). */
export const MIN_CHECKPOINT_INTERVAL = 10;

const GRAPH_KEYS = new Set(['jobId', 'name', 'vertices', 'checkpointing', 'restartStrategy']);
const VERTEX_KEYS = new Set(['id', 'name', 'parallelism', 'operator', 'config', 'inputs']);
const CHECKPOINTING_KEYS = new Set(['interval', 'timeout']);
/** Ids become ZooKeeper path segments, file names and state keys: keep them to a safe alphabet. */
const SAFE_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** A random job id in Flink's format: 32 lowercase hex digits. */
export function generateJobId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Validates `graph` and returns it normalized (only known fields, a job id set: the given one, else a random one).
 * Throws {@link JobSubmissionException} naming every problem: a malformed shape, no vertices, a duplicate vertex id,
 * an unknown operator (built-ins are checked with `knownOperators`; `{ module, export }` references are checked for
 * shape only, the TaskManager loads them), a parallelism that is not a positive integer, an unknown input, a cycle
 * through `inputs`, a bad checkpointing or restart strategy setting.
 */
export function validateJobGraph(graph: unknown, knownOperators: (name: string) => boolean): ValidatedJobGraph {
  const problems: string[] = [];
  if (!isPlainObject(graph)) {
    throw new JobSubmissionException('Invalid job graph: it must be a JSON object.');
  }
  for (const key of Object.keys(graph)) {
    if (!GRAPH_KEYS.has(key)) problems.push(`unknown field "${key}"`);
  }

  let jobId: string | undefined;
  if (graph.jobId !== undefined) {
    if (typeof graph.jobId !== 'string' || !SAFE_ID.test(graph.jobId) || graph.jobId === '.' || graph.jobId === '..') {
      problems.push(`jobId must be 1 to 128 letters, digits, '_', '.' or '-', got ${describe(graph.jobId)}`);
    } else {
      jobId = graph.jobId;
    }
  }
  if (typeof graph.name !== 'string' || graph.name.trim() === '') {
    problems.push(`name must be a non-empty string, got ${describe(graph.name)}`);
  }

  const vertices = validateVertices(graph.vertices, knownOperators, problems);
  const checkpointing = validateCheckpointing(graph.checkpointing, problems);
  for (const problem of restartStrategyProblems(graph.restartStrategy)) problems.push(problem.replace(/\.$/, ''));

  if (problems.length > 0) {
    throw new JobSubmissionException(`Invalid job graph: ${problems.join('; ')}.`);
  }
  return {
    jobId: jobId ?? generateJobId(),
    name: graph.name as string,
    vertices,
    ...(checkpointing === undefined ? {} : { checkpointing }),
    ...(graph.restartStrategy === undefined
      ? {}
      : { restartStrategy: structuredClone(graph.restartStrategy) as RestartStrategyConfig }),
  };
}

function validateVertices(value: unknown, knownOperators: (name: string) => boolean, problems: string[]): JobVertex[] {
  if (!Array.isArray(value)) {
    problems.push(`vertices must be an array, got ${describe(value)}`);
    return [];
  }
  if (value.length === 0) {
    problems.push('the job graph has no vertices');
    return [];
  }
  const vertices: JobVertex[] = [];
  const seen = new Set<string>();
  value.forEach((raw, index) => {
    const where = `vertex #${index}`;
    if (!isPlainObject(raw)) {
      problems.push(`${where} must be an object, got ${describe(raw)}`);
      return;
    }
    const label = typeof raw.id === 'string' ? `vertex "${raw.id}"` : where;
    for (const key of Object.keys(raw)) {
      if (!VERTEX_KEYS.has(key)) problems.push(`${label} has an unknown field "${key}"`);
    }
    let ok = true;
    if (typeof raw.id !== 'string' || !SAFE_ID.test(raw.id)) {
      problems.push(`${where} needs an id of 1 to 128 letters, digits, '_', '.' or '-', got ${describe(raw.id)}`);
      ok = false;
    } else if (seen.has(raw.id)) {
      problems.push(`duplicate vertex id "${raw.id}"`);
      ok = false;
    } else {
      seen.add(raw.id);
    }
    if (raw.name !== undefined && typeof raw.name !== 'string') {
      problems.push(`${label} has a name that is not a string`);
      ok = false;
    }
    if (
      typeof raw.parallelism !== 'number' ||
      !Number.isInteger(raw.parallelism) ||
      raw.parallelism < 1 ||
      raw.parallelism > MAX_PARALLELISM
    ) {
      problems.push(
        `${label} has parallelism ${describe(raw.parallelism)}; it must be an integer from 1 to ${MAX_PARALLELISM}`,
      );
      ok = false;
    }
    const operator = validateOperator(raw.operator, label, knownOperators, problems);
    if (operator === undefined) ok = false;
    let config: Record<string, unknown> | undefined;
    if (raw.config !== undefined) {
      config = cloneJsonObject(raw.config);
      if (config === undefined) {
        problems.push(`${label} has a config that is not a JSON object`);
        ok = false;
      }
    }
    let inputs: string[] | undefined;
    if (raw.inputs !== undefined) {
      if (!Array.isArray(raw.inputs) || raw.inputs.some((input) => typeof input !== 'string')) {
        problems.push(`${label} has inputs that are not an array of vertex ids`);
        ok = false;
      } else {
        inputs = [...new Set(raw.inputs as string[])];
      }
    }
    if (!ok) return;
    vertices.push({
      id: raw.id as string,
      ...(raw.name === undefined ? {} : { name: raw.name as string }),
      parallelism: raw.parallelism as number,
      operator: operator!,
      ...(config === undefined ? {} : { config }),
      ...(inputs === undefined ? {} : { inputs }),
    });
  });
  if (vertices.length === value.length) checkEdges(vertices, problems);
  return vertices;
}

function validateOperator(
  value: unknown,
  label: string,
  knownOperators: (name: string) => boolean,
  problems: string[],
): OperatorRef | undefined {
  if (typeof value === 'string') {
    if (!knownOperators(value)) {
      problems.push(`${label} uses the unknown operator "${value}"`);
      return undefined;
    }
    return value;
  }
  if (isPlainObject(value)) {
    const extra = Object.keys(value).filter((key) => key !== 'module' && key !== 'export');
    if (typeof value.module !== 'string' || value.module.trim() === '') {
      problems.push(`${label} has an operator reference without a "module" string`);
      return undefined;
    }
    if (value.export !== undefined && (typeof value.export !== 'string' || value.export === '')) {
      problems.push(`${label} has an operator reference whose "export" is not a non-empty string`);
      return undefined;
    }
    if (extra.length > 0) {
      problems.push(
        `${label} has an operator reference with unknown field(s) ${extra.map((k) => `"${k}"`).join(', ')}`,
      );
      return undefined;
    }
    return value.export === undefined ? { module: value.module } : { module: value.module, export: value.export };
  }
  problems.push(
    `${label} has operator ${describe(value)}; it must be a built-in operator name or { "module": …, "export": … }`,
  );
  return undefined;
}

/** Unknown inputs, self-loops and cycles (each cycle named by its path). */
function checkEdges(vertices: readonly JobVertex[], problems: string[]): void {
  const ids = new Set(vertices.map((vertex) => vertex.id));
  let edgesOk = true;
  for (const vertex of vertices) {
    for (const input of vertex.inputs ?? []) {
      if (!ids.has(input)) {
        problems.push(`vertex "${vertex.id}" reads from the unknown vertex "${input}"`);
        edgesOk = false;
      }
    }
  }
  if (!edgesOk) return;
  const inputsOf = new Map(vertices.map((vertex) => [vertex.id, vertex.inputs ?? []]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'visiting');
    path.push(id);
    for (const input of inputsOf.get(id) ?? []) {
      if (state.get(input) === 'visiting') return [...path.slice(path.indexOf(input)), input];
      if (state.get(input) === undefined) {
        const cycle = visit(input);
        if (cycle) return cycle;
      }
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const vertex of vertices) {
    if (state.get(vertex.id) !== undefined) continue;
    const cycle = visit(vertex.id);
    if (cycle) {
      // Found walking inputs backwards: print it in data-flow order.
      problems.push(`the inputs form a cycle: ${cycle.reverse().join(' → ')}`);
      return;
    }
  }
}

function validateCheckpointing(
  value: unknown,
  problems: string[],
): { interval?: number; timeout?: number } | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    problems.push(`checkpointing must be an object, got ${describe(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!CHECKPOINTING_KEYS.has(key)) problems.push(`checkpointing has an unknown field "${key}"`);
  }
  const result: { interval?: number; timeout?: number } = {};
  if (value.interval !== undefined) {
    if (
      typeof value.interval !== 'number' ||
      !Number.isInteger(value.interval) ||
      value.interval < MIN_CHECKPOINT_INTERVAL
    ) {
      problems.push(
        `checkpointing.interval must be a whole number of milliseconds >= ${MIN_CHECKPOINT_INTERVAL}, got ${describe(value.interval)}`,
      );
    } else {
      result.interval = value.interval;
    }
  }
  if (value.timeout !== undefined) {
    if (typeof value.timeout !== 'number' || !Number.isInteger(value.timeout) || value.timeout < 1) {
      problems.push(
        `checkpointing.timeout must be a whole number of milliseconds >= 1, got ${describe(value.timeout)}`,
      );
    } else {
      result.timeout = value.timeout;
    }
  }
  return result;
}

/** A deep copy of a JSON object, or undefined if `value` is not one (functions, class instances, cycles…). */
function cloneJsonObject(value: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) return undefined;
  try {
    const copy: unknown = JSON.parse(JSON.stringify(value));
    return isPlainObject(copy) ? copy : undefined;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A short rendering of a bad value for a message. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  return `a${typeof value === 'object' ? 'n object' : ` ${typeof value}`}`;
}
