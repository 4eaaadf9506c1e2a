/**
 * High-availability stores on ZooKeeper, laid out as Flink lays them out: ZooKeeper holds small pointer nodes, the
 * data lives in files under `high-availability.storageDir`.
 * ```
 * <cluster path>/jobgraphs/<jobId>                                 → pointer to a job graph file
 * <cluster path>/jobs/<jobId>/checkpoints/<checkpointId, 19 digits> → pointer to a completed checkpoint file
 * <cluster path>/jobs/<jobId>/checkpoint_id_counter                 → the next checkpoint id (decimal text)
 * <cluster path>/job_results/<jobId>                               → pointer to a job result file, and its clean mark
 * <storageDir>/<clusterId>/…                                        → the files
 * ```
 * Every write is a ZooKeeper transaction that checks the writer's leader latch (the election passed as `guard`), so a
 * JobManager that lost its leadership cannot change what its successor recovers: it gets {@link LeadershipLostError}.
 * A data file is written before its pointer and deleted after its pointer is gone, so a pointer never names a missing
 * file (a crash in between leaves an orphaned file at worst).
 */

import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  GuardedOperation,
  LeaderElection,
  ZooKeeperHaServices,
  ZooKeeperLeaderGuardedStore,
} from '../../ha/index.js';
import type { Logger } from '../../index.js';
import type { CompletedCheckpoint, JobId, JobResult, ValidatedJobGraph } from '../types.js';
import { checkMaxRetained } from './memoryStores.js';
import {
  type CheckpointIdCounter,
  type ClusterHaStores,
  type CompletedCheckpointStore,
  type JobGraphStore,
  type JobResultStore,
  LeadershipLostError,
} from './stores.js';

/** Options of {@link createZooKeeperClusterHaStores}. */
export interface ZooKeeperClusterHaStoresOptions {
  /** `high-availability.storageDir`: a directory every JobManager of the cluster can read (here: a local path). */
  readonly storageDir: string;
  /** Reports unreadable entries that are skipped. */
  readonly logger?: Logger;
}

const JOB_GRAPHS = '/jobgraphs';
const JOB_RESULTS = '/job_results';
const jobPath = (jobId: JobId) => `/jobs/${jobId}`;
const checkpointsPath = (jobId: JobId) => `${jobPath(jobId)}/checkpoints`;
const counterPath = (jobId: JobId) => `${jobPath(jobId)}/checkpoint_id_counter`;
/** Flink's node name for a checkpoint: zero-padded, so names sort as ids do. */
const checkpointNode = (checkpointId: number) => String(checkpointId).padStart(19, '0');

/** How often an optimistic write is retried when another write of the same leader raced it. */
const MAX_CONFLICT_RETRIES = 10;
const INITIAL_CHECKPOINT_ID = 1;

interface Pointer {
  readonly path: string;
  /** Job results only: the job's other data has been cleaned up. */
  readonly clean?: boolean;
}

function encodePointer(pointer: Pointer): Buffer {
  return Buffer.from(JSON.stringify(pointer));
}

function decodePointer(data: Buffer, where: string): Pointer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw new Error(`The ZooKeeper node ${where} does not hold a valid state pointer.`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as Pointer).path !== 'string') {
    throw new Error(`The ZooKeeper node ${where} does not hold a valid state pointer.`);
  }
  return parsed as Pointer;
}

/** Runs store operations one at a time: a read-modify-write of one store never interleaves with another. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => {});
    return result;
  }
}

/** The files under `<storageDir>/<clusterId>`. */
class StateFiles {
  constructor(private readonly directory: string) {}

  /** Writes `value` as JSON to a new file (atomically: a reader never sees half a file); returns its path. */
  async write(prefix: string, value: unknown): Promise<string> {
    await mkdir(this.directory, { recursive: true });
    const path = join(this.directory, `${prefix}-${randomUUID()}.json`);
    const temporary = `${path}.tmp`;
    await writeFile(temporary, JSON.stringify(value), { flag: 'wx' });
    await rename(temporary, path);
    return path;
  }

  async read<T>(path: string, what: string): Promise<T> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new Error(`Could not read ${what} from ${path}.`, { cause: error });
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new Error(`The file ${path} does not hold a valid ${what}.`, { cause: error });
    }
  }

  /** Deletes a file; a missing file is fine (deleted already). */
  async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

/** The shared machinery of the four stores: guarded commits that throw when the writer was deposed. */
class GuardedWriter {
  readonly queue = new SerialQueue();

  constructor(
    readonly zk: ZooKeeperLeaderGuardedStore,
    readonly files: StateFiles,
  ) {}

  /** Commits or throws: {@link LeadershipLostError} when deposed, an Error naming `what` on a persistent conflict. */
  async commitOrThrow(what: string, operations: readonly GuardedOperation[]): Promise<'committed' | 'conflict'> {
    const result = await this.zk.commit(operations);
    if (result === 'leadership-lost') throw new LeadershipLostError(what);
    return result;
  }

  /** Reads a pointer node, or undefined when it does not exist. */
  async readPointer(path: string): Promise<{ pointer: Pointer; version: number } | undefined> {
    const node = await this.zk.read(path);
    return node === null ? undefined : { pointer: decodePointer(node.data, path), version: node.version };
  }

  /** Refuses early (before writing any file) when the guard is not the leader at all. */
  assertLeader(what: string): void {
    if (!this.zk.hasLeadership()) throw new LeadershipLostError(what);
  }
}

class ZooKeeperJobGraphStore implements JobGraphStore {
  constructor(private readonly writer: GuardedWriter) {}

  putJobGraph(graph: ValidatedJobGraph): Promise<void> {
    return this.writer.queue.run(async () => {
      const what = `store the job graph of job ${graph.jobId}`;
      this.writer.assertLeader(what);
      const node = `${JOB_GRAPHS}/${graph.jobId}`;
      const file = await this.writer.files.write(`submittedJobGraph-${graph.jobId}`, graph);
      try {
        await this.writer.zk.ensurePath(JOB_GRAPHS);
        for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
          const existing = await this.writer.readPointer(node);
          const operation: GuardedOperation =
            existing === undefined
              ? { kind: 'create', path: node, data: encodePointer({ path: file }) }
              : { kind: 'setData', path: node, data: encodePointer({ path: file }), version: existing.version };
          if ((await this.writer.commitOrThrow(what, [operation])) === 'committed') {
            if (existing !== undefined) await this.writer.files.discard(existing.pointer.path);
            return;
          }
        }
        throw new Error(`Could not ${what}: its ZooKeeper node kept changing.`);
      } catch (error) {
        await this.writer.files.discard(file);
        throw error;
      }
    });
  }

  removeJobGraph(jobId: JobId): Promise<void> {
    return this.writer.queue.run(async () => {
      const what = `remove the job graph of job ${jobId}`;
      const node = `${JOB_GRAPHS}/${jobId}`;
      const existing = await this.writer.readPointer(node);
      if (existing === undefined) return;
      const result = await this.writer.commitOrThrow(what, [{ kind: 'remove', path: node, version: existing.version }]);
      if (result === 'conflict' && (await this.writer.readPointer(node)) !== undefined) {
        throw new Error(`Could not ${what}: its ZooKeeper node changed meanwhile.`);
      }
      await this.writer.files.discard(existing.pointer.path);
    });
  }

  async getJobIds(): Promise<JobId[]> {
    return (await this.writer.zk.children(JOB_GRAPHS)).sort();
  }

  async recoverJobGraph(jobId: JobId): Promise<ValidatedJobGraph | undefined> {
    const existing = await this.writer.readPointer(`${JOB_GRAPHS}/${jobId}`);
    if (existing === undefined) return undefined;
    return this.writer.files.read<ValidatedJobGraph>(existing.pointer.path, `the job graph of job ${jobId}`);
  }
}

class ZooKeeperCompletedCheckpointStore implements CompletedCheckpointStore {
  constructor(
    private readonly writer: GuardedWriter,
    private readonly jobId: JobId,
    private readonly maxRetained: number,
    private readonly logger: Logger | undefined,
  ) {}

  addCheckpoint(checkpoint: CompletedCheckpoint): Promise<readonly number[]> {
    return this.writer.queue.run(async () => {
      const what = `add checkpoint ${checkpoint.checkpointId} of job ${this.jobId}`;
      this.writer.assertLeader(what);
      const directory = checkpointsPath(this.jobId);
      const file = await this.writer.files.write(
        `completedCheckpoint-${this.jobId}-${checkpoint.checkpointId}`,
        checkpoint,
      );
      let subsumed: string[] = [];
      let subsumedIds: number[] = [];
      try {
        await this.writer.zk.ensurePath(directory);
        for (let attempt = 0; ; attempt++) {
          const names = (await this.writer.zk.children(directory)).sort();
          const node = checkpointNode(checkpoint.checkpointId);
          if (names.includes(node)) throw new Error(`Could not ${what}: a checkpoint with this id is stored already.`);
          // The new one plus the newest others make up the retained ones; everything older goes in the same write.
          const all = [...names, node].sort();
          const dropped = all.slice(0, Math.max(0, all.length - this.maxRetained));
          const droppedPointers = await Promise.all(
            dropped.filter((name) => name !== node).map((name) => this.writer.readPointer(`${directory}/${name}`)),
          );
          const operations: GuardedOperation[] = [];
          if (!dropped.includes(node)) {
            operations.push({ kind: 'create', path: `${directory}/${node}`, data: encodePointer({ path: file }) });
          }
          for (const name of dropped) {
            if (name !== node) operations.push({ kind: 'remove', path: `${directory}/${name}` });
          }
          if ((await this.writer.commitOrThrow(what, operations)) === 'committed') {
            subsumed = droppedPointers.flatMap((entry) => (entry === undefined ? [] : [entry.pointer.path]));
            subsumedIds = dropped.map((name) => Number(name));
            // Older than every retained one: Flink never stores such a checkpoint either.
            if (dropped.includes(node)) subsumed.push(file);
            break;
          }
          if (attempt >= MAX_CONFLICT_RETRIES)
            throw new Error(`Could not ${what}: the checkpoint nodes kept changing.`);
        }
      } catch (error) {
        await this.writer.files.discard(file);
        throw error;
      }
      await Promise.all(subsumed.map((path) => this.writer.files.discard(path)));
      return subsumedIds;
    });
  }

  async getLatestCheckpoint(): Promise<CompletedCheckpoint | undefined> {
    const all = await this.getAllCheckpoints();
    return all[all.length - 1];
  }

  async getAllCheckpoints(): Promise<CompletedCheckpoint[]> {
    const directory = checkpointsPath(this.jobId);
    const names = (await this.writer.zk.children(directory)).sort();
    const checkpoints: CompletedCheckpoint[] = [];
    const failures: unknown[] = [];
    for (const name of names) {
      try {
        const entry = await this.writer.readPointer(`${directory}/${name}`);
        if (entry === undefined) continue; // removed meanwhile (subsumed)
        checkpoints.push(
          await this.writer.files.read<CompletedCheckpoint>(entry.pointer.path, `checkpoint ${Number(name)}`),
        );
      } catch (error) {
        // Like Flink: an unreadable checkpoint is skipped, as long as some checkpoint can be read.
        failures.push(error);
        this.logger?.warn({ err: error, jobId: this.jobId, node: name }, 'Skipping an unreadable checkpoint.');
      }
    }
    if (checkpoints.length === 0 && failures.length > 0) {
      throw new Error(`Could not read any of the ${names.length} checkpoints of job ${this.jobId} from storage.`, {
        cause: failures[failures.length - 1],
      });
    }
    return checkpoints;
  }

  discardAll(): Promise<void> {
    return this.writer.queue.run(async () => {
      const what = `discard the checkpoints of job ${this.jobId}`;
      const directory = checkpointsPath(this.jobId);
      for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
        const names = await this.writer.zk.children(directory);
        const entries = await Promise.all(names.map((name) => this.writer.readPointer(`${directory}/${name}`)));
        const operations: GuardedOperation[] = names.map((name) => ({ kind: 'remove', path: `${directory}/${name}` }));
        if (names.length > 0 || (await this.writer.zk.read(directory)) !== null) {
          operations.push({ kind: 'remove', path: directory });
        }
        if (operations.length === 0) return;
        if ((await this.writer.commitOrThrow(what, operations)) === 'committed') {
          await Promise.all(
            entries.map((entry) => (entry ? this.writer.files.discard(entry.pointer.path) : undefined)),
          );
          await removeJobNodeIfEmpty(this.writer, this.jobId);
          return;
        }
      }
      throw new Error(`Could not ${what}: the checkpoint nodes kept changing.`);
    });
  }
}

/** Removes `/jobs/<jobId>` once neither the checkpoints nor the counter are left (best effort). */
async function removeJobNodeIfEmpty(writer: GuardedWriter, jobId: JobId): Promise<void> {
  if ((await writer.zk.read(jobPath(jobId))) === null) return;
  if ((await writer.zk.children(jobPath(jobId))).length > 0) return;
  // A conflict means another node appeared below it (or it is gone already): either way it stays as it is.
  await writer.zk.commit([{ kind: 'remove', path: jobPath(jobId) }]);
}

class ZooKeeperCheckpointIdCounter implements CheckpointIdCounter {
  constructor(
    private readonly writer: GuardedWriter,
    private readonly jobId: JobId,
  ) {}

  getAndIncrement(): Promise<number> {
    return this.writer.queue.run(async () => {
      const what = `increment the checkpoint id counter of job ${this.jobId}`;
      const node = counterPath(this.jobId);
      // Versioned writes: if anyone else moved the counter since we read it, we read again. An id is returned only
      // after the write that moved the counter past it succeeded, so no id is ever handed out twice.
      for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
        const current = await this.writer.zk.read(node);
        let operation: GuardedOperation;
        let value: number;
        if (current === null) {
          await this.writer.zk.ensurePath(jobPath(this.jobId));
          value = INITIAL_CHECKPOINT_ID;
          operation = { kind: 'create', path: node, data: Buffer.from(String(value + 1)) };
        } else {
          value = decodeCounter(current.data, node);
          operation = { kind: 'setData', path: node, data: Buffer.from(String(value + 1)), version: current.version };
        }
        if ((await this.writer.commitOrThrow(what, [operation])) === 'committed') return value;
      }
      throw new Error(`Could not ${what}: it kept changing.`);
    });
  }

  async get(): Promise<number> {
    const node = counterPath(this.jobId);
    const current = await this.writer.zk.read(node);
    return current === null ? INITIAL_CHECKPOINT_ID : decodeCounter(current.data, node);
  }

  discard(): Promise<void> {
    return this.writer.queue.run(async () => {
      const node = counterPath(this.jobId);
      if ((await this.writer.zk.read(node)) === null) return;
      await this.writer.commitOrThrow(`discard the checkpoint id counter of job ${this.jobId}`, [
        { kind: 'remove', path: node },
      ]);
      await removeJobNodeIfEmpty(this.writer, this.jobId);
    });
  }
}

function decodeCounter(data: Buffer, where: string): number {
  const value = Number(data.toString('utf8'));
  if (!Number.isSafeInteger(value) || value < INITIAL_CHECKPOINT_ID) {
    throw new Error(`The checkpoint id counter ${where} holds an invalid value.`);
  }
  return value;
}

class ZooKeeperJobResultStore implements JobResultStore {
  constructor(private readonly writer: GuardedWriter) {}

  createDirtyResult(result: JobResult): Promise<void> {
    return this.writer.queue.run(async () => {
      const what = `store the result of job ${result.jobId}`;
      this.writer.assertLeader(what);
      const node = `${JOB_RESULTS}/${result.jobId}`;
      if ((await this.writer.zk.read(node)) !== null) {
        throw new Error(`Job result store already contains an entry for job ${result.jobId}.`);
      }
      const file = await this.writer.files.write(`jobResult-${result.jobId}`, result);
      try {
        await this.writer.zk.ensurePath(JOB_RESULTS);
        const outcome = await this.writer.commitOrThrow(what, [
          { kind: 'create', path: node, data: encodePointer({ path: file, clean: false }) },
        ]);
        if (outcome === 'conflict') {
          throw new Error(`Job result store already contains an entry for job ${result.jobId}.`);
        }
      } catch (error) {
        await this.writer.files.discard(file);
        throw error;
      }
    });
  }

  markResultAsClean(jobId: JobId): Promise<void> {
    return this.writer.queue.run(async () => {
      const what = `mark the result of job ${jobId} as clean`;
      const node = `${JOB_RESULTS}/${jobId}`;
      for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
        const existing = await this.writer.readPointer(node);
        if (existing === undefined)
          throw new Error(`Could not mark job ${jobId} as clean: it has no job result entry.`);
        if (existing.pointer.clean === true) return;
        const data = encodePointer({ path: existing.pointer.path, clean: true });
        const outcome = await this.writer.commitOrThrow(what, [
          { kind: 'setData', path: node, data, version: existing.version },
        ]);
        if (outcome === 'committed') return;
      }
      throw new Error(`Could not ${what}: its ZooKeeper node kept changing.`);
    });
  }

  async hasJobResultEntry(jobId: JobId): Promise<boolean> {
    return (await this.writer.zk.read(`${JOB_RESULTS}/${jobId}`)) !== null;
  }

  async getJobResult(jobId: JobId): Promise<JobResult | undefined> {
    const existing = await this.writer.readPointer(`${JOB_RESULTS}/${jobId}`);
    if (existing === undefined) return undefined;
    return this.writer.files.read<JobResult>(existing.pointer.path, `the result of job ${jobId}`);
  }

  async getDirtyResults(): Promise<JobResult[]> {
    const results: JobResult[] = [];
    for (const jobId of (await this.writer.zk.children(JOB_RESULTS)).sort()) {
      const existing = await this.writer.readPointer(`${JOB_RESULTS}/${jobId}`);
      if (existing === undefined || existing.pointer.clean === true) continue;
      results.push(await this.writer.files.read<JobResult>(existing.pointer.path, `the result of job ${jobId}`));
    }
    return results;
  }
}

/**
 * Stores in ZooKeeper (pointers) and `options.storageDir` (files) for the cluster of `haServices`. Each store writes
 * only while its `guard` election (created by the same `haServices`) holds the leadership.
 */
export function createZooKeeperClusterHaStores(
  haServices: ZooKeeperHaServices,
  options: ZooKeeperClusterHaStoresOptions,
): ClusterHaStores {
  if (typeof options.storageDir !== 'string' || options.storageDir === '') {
    throw new Error(
      'Configuration is missing the mandatory parameter: high-availability.storageDir (needed for ZooKeeper HA).',
    );
  }
  const clusterId = haServices.paths.clusterPath.slice(haServices.paths.clusterPath.lastIndexOf('/') + 1);
  const files = new StateFiles(join(options.storageDir, clusterId));
  const writer = (guard: LeaderElection) => new GuardedWriter(haServices.getLeaderGuardedStore(guard), files);
  return {
    jobGraphStore: (guard) => new ZooKeeperJobGraphStore(writer(guard)),
    jobResultStore: (guard) => new ZooKeeperJobResultStore(writer(guard)),
    completedCheckpointStore: (jobId, maxRetained, guard) => {
      checkMaxRetained(maxRetained);
      return new ZooKeeperCompletedCheckpointStore(writer(guard), checkJobId(jobId), maxRetained, options.logger);
    },
    checkpointIdCounter: (jobId, guard) => new ZooKeeperCheckpointIdCounter(writer(guard), checkJobId(jobId)),
    // The ZooKeeper session belongs to the HA services, which close it.
    close: async () => {},
  };
}

function checkJobId(jobId: JobId): JobId {
  if (typeof jobId !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(jobId) || jobId === '.' || jobId === '..') {
    throw new TypeError(`Invalid job id ${JSON.stringify(jobId)}: use letters, digits, '_', '.' and '-'.`);
  }
  return jobId;
}
