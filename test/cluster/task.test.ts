import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinOperators, recordsOfSubtask } from '../../src/cluster/task/builtins.js';
import { loadTaskState, storeTaskState } from '../../src/cluster/task/checkpointStorage.js';
import { loadOperatorFactory } from '../../src/cluster/task/loadOperator.js';
import type { Operator, TaskContext } from '../../src/cluster/task/Operator.js';
import { verifyExactlyOnce } from '../../src/cluster/task/verifyExactlyOnce.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flink-rpc-task-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(overrides: Partial<TaskContext> & { config: Record<string, unknown> }): TaskContext {
  return {
    jobId: 'job',
    jobName: 'job',
    vertexId: 'gen',
    subtaskIndex: 0,
    parallelism: 1,
    attemptNumber: 0,
    signal: new AbortController().signal,
    restoredCheckpointId: undefined,
    ...overrides,
  };
}

function generator(ctx: TaskContext): Operator {
  return (builtinOperators.get('generator') as (c: TaskContext) => Operator)(ctx);
}

async function steps(operator: Operator, n: number): Promise<boolean> {
  let done = false;
  for (let i = 0; i < n && !done; i++) done = await operator.step();
  return done;
}

describe('generator and transactional file sink', () => {
  it('commits records only when a checkpoint completes', async () => {
    const output = join(dir, 'out');
    const op = generator(context({ config: { records: 10, recordsPerStep: 3, output } }));
    await op.open(context({ config: {} }), undefined);
    await steps(op, 2);
    expect((await verifyExactlyOnce(output, { records: 10 })).committed).toBe(0);
    await op.snapshotState(1);
    expect((await verifyExactlyOnce(output, { records: 10 })).committed).toBe(0);
    await op.notifyCheckpointComplete(1);
    const report = await verifyExactlyOnce(output, { records: 10 });
    expect(report.committed).toBe(6);
    expect(report.missingCount).toBe(4);
    expect(report.ok).toBe(false);
    await op.close();
  });

  it('is exactly once across a failure: restore commits what the checkpoint covered and discards the rest', async () => {
    const output = join(dir, 'out');
    const config = { records: 50, recordsPerStep: 4, output };
    // Attempt 0, subtask 0 of 2: checkpoint 1 completes (but the notification is lost), checkpoint 2 is taken but
    // never completes, more records are produced, then the task dies without closing.
    const a0 = generator(context({ config, parallelism: 2 }));
    await a0.open(context({ config }), undefined);
    await steps(a0, 2);
    const state1 = await a0.snapshotState(1);
    await steps(a0, 2);
    await a0.snapshotState(2);
    await steps(a0, 1);
    // Subtask 1 of 2 runs cleanly to checkpoint 1 and its notification arrives.
    const b0 = generator(context({ config, parallelism: 2, subtaskIndex: 1 }));
    await b0.open(context({ config }), undefined);
    await steps(b0, 3);
    const bState1 = await b0.snapshotState(1);
    await b0.notifyCheckpointComplete(1);
    await steps(b0, 1);

    // The job restarts from checkpoint 1 (attempt 1).
    const a1 = generator(context({ config, parallelism: 2, attemptNumber: 1, restoredCheckpointId: 1 }));
    await a1.open(context({ config }), structuredClone(state1));
    const b1 = generator(
      context({ config, parallelism: 2, subtaskIndex: 1, attemptNumber: 1, restoredCheckpointId: 1 }),
    );
    await b1.open(context({ config }), structuredClone(bState1));
    expect(await readdir(join(output, '.pending'))).toEqual([]);
    expect(await steps(a1, 100)).toBe(true);
    expect(await steps(b1, 100)).toBe(true);
    await a1.snapshotState(3);
    await b1.snapshotState(3);
    await a1.notifyCheckpointComplete(3);
    await b1.notifyCheckpointComplete(3);
    const report = await verifyExactlyOnce(output, { records: 50 });
    expect(report.summary).toBe('exactly once: all 50 records committed once (4 files)');
    expect(report.ok).toBe(true);
    expect(report.pendingFiles).toBe(0);
  });

  it('restarting without a checkpoint discards everything the subtask committed before', async () => {
    const output = join(dir, 'out');
    const config = { records: 8, recordsPerStep: 8, output };
    const a0 = generator(context({ config }));
    await a0.open(context({ config }), undefined);
    await steps(a0, 1);
    await a0.snapshotState(5);
    await a0.notifyCheckpointComplete(5);
    const a1 = generator(context({ config, attemptNumber: 1 }));
    await a1.open(context({ config }), undefined);
    expect((await verifyExactlyOnce(output, { records: 8 })).committed).toBe(0);
  });

  it('fails on purpose after a number of records in the chosen attempts only', async () => {
    const output = join(dir, 'out');
    const config = { records: 20, recordsPerStep: 5, output, failAfterRecords: 7 };
    const a0 = generator(context({ config }));
    await a0.open(context({ config }), undefined);
    await a0.step();
    await expect(a0.step()).rejects.toThrow('Generator subtask 0 fails on purpose after 7 records (attempt 0).');
    const a1 = generator(context({ config, attemptNumber: 1 }));
    await a1.open(context({ config }), undefined);
    expect(await steps(a1, 10)).toBe(true);
  });

  it('refuses a bad config with a message naming the option', () => {
    expect(() => generator(context({ config: { records: -1, output: dir } }))).toThrow(
      "Invalid config of operator 'generator': 'records' must be an integer >= 0, was -1.",
    );
    expect(() => generator(context({ config: { records: 1 } }))).toThrow("'output' must be a non-empty string.");
  });

  it('splits records round-robin over subtasks', () => {
    expect([0, 1, 2].map((i) => recordsOfSubtask(10, i, 3))).toEqual([4, 3, 3]);
    expect(recordsOfSubtask(2, 5, 8)).toBe(0);
  });
});

describe('verifyExactlyOnce', () => {
  it('names missing, duplicated and unexpected records', async () => {
    await writeFile(join(dir, 'part-v-0-1.txt'), '0\n1\n2\n');
    await writeFile(join(dir, 'part-v-0-2.txt'), '2\n4\nbogus\n');
    await writeFile(join(dir, 'notes.txt'), '99\n');
    const report = await verifyExactlyOnce(dir, { records: 6 });
    expect(report.ok).toBe(false);
    expect(report.missing).toEqual([3, 5]);
    expect(report.duplicated).toEqual([2]);
    expect(report.unexpectedCount).toBe(1);
    expect(report.summary).toBe(
      'NOT exactly once: 6 expected, 6 committed, 2 missing (e.g. 3, 5), 1 duplicated (e.g. 2), 1 unexpected',
    );
  });

  it('reports every record missing for an absent directory', async () => {
    const report = await verifyExactlyOnce(join(dir, 'nope'), { records: 3 });
    expect(report).toMatchObject({ ok: false, missingCount: 3, committed: 0 });
  });
});

describe('loadOperatorFactory', () => {
  it('resolves built-ins and names the known ones for an unknown name', async () => {
    expect(await loadOperatorFactory('generator')).toBe(builtinOperators.get('generator'));
    await expect(loadOperatorFactory('nope')).rejects.toThrow(
      "Unknown operator 'nope' (built-in operators: generator, fail, stall, noop).",
    );
  });

  it('imports a module export, and fails clearly for a missing module, export or a non-function', async () => {
    const module = join(dir, 'ops.mjs');
    await writeFile(
      module,
      'export const counter = () => ({ open() {}, step: () => true, snapshotState: () => 0, notifyCheckpointComplete() {}, close() {} });\nexport const notAFunction = 42;\n',
    );
    const factory = await loadOperatorFactory({ module, export: 'counter' });
    expect(typeof factory).toBe('function');
    await expect(loadOperatorFactory({ module: join(dir, 'missing.mjs') })).rejects.toThrow(
      `Could not load the module '${join(dir, 'missing.mjs')}'`,
    );
    await expect(loadOperatorFactory({ module, export: 'nothing' })).rejects.toThrow(
      `The module '${module}' has no export 'nothing'.`,
    );
    await expect(loadOperatorFactory({ module, export: 'notAFunction' })).rejects.toThrow(
      `The export 'notAFunction' of module '${module}' is not an operator factory (a function), but number.`,
    );
  });
});

describe('checkpoint storage', () => {
  const location = { jobId: 'j', checkpointId: 3, vertexId: 'v', subtaskIndex: 1, executionAttemptId: 'a' };

  it('keeps small states inline as a copy', async () => {
    const state = { n: 1, list: [1, 2] };
    const handle = await storeTaskState(state, { ...location, storageDir: dir });
    state.list.push(3);
    expect(handle.path).toBeUndefined();
    expect(await loadTaskState(handle)).toEqual({ n: 1, list: [1, 2] });
  });

  it('writes large states to a file under the storage directory', async () => {
    const state = { blob: 'x'.repeat(50_000), map: new Map([['k', 1]]) };
    const handle = await storeTaskState(state, { ...location, storageDir: dir });
    expect(handle.path).toBe(join(dir, 'j', 'chk-3', 'v-1-a.state'));
    expect(handle.size).toBeGreaterThan(50_000);
    expect(await loadTaskState(handle)).toEqual(state);
    await expect(loadTaskState({ path: join(dir, 'gone'), size: 1 })).rejects.toThrow(
      'Could not read the checkpointed state',
    );
  });
});
