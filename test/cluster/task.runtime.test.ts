import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyExactlyOnce } from '../../src/cluster/task/verifyExactlyOnce.js';
import { Task, type TaskActions } from '../../src/cluster/taskexecutor/Task.js';
import type {
  ExecutionState,
  SerializedError,
  TaskDeploymentDescriptor,
  TaskExecutionState,
  TaskStateHandle,
} from '../../src/cluster/types.js';
import type { Logger } from '../../src/index.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const getDefaultLogger = () => silent;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flink-rpc-task-runtime-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tdd(overrides: Partial<TaskDeploymentDescriptor>): TaskDeploymentDescriptor {
  return {
    jobId: 'job',
    jobName: 'job',
    vertexId: 'v',
    vertexName: 'v',
    subtaskIndex: 0,
    parallelism: 1,
    attemptNumber: 0,
    executionAttemptId: crypto.randomUUID(),
    allocationId: 'alloc',
    operator: 'noop',
    config: {},
    ...overrides,
  };
}

class Recorder implements TaskActions {
  readonly states: TaskExecutionState[] = [];
  readonly acks: { checkpointId: number; state: TaskStateHandle }[] = [];
  readonly declines: { checkpointId: number; reason: SerializedError }[] = [];
  updateTaskExecutionState(state: TaskExecutionState): void {
    this.states.push(state);
  }
  acknowledgeCheckpoint(_task: Task, checkpointId: number, state: TaskStateHandle): void {
    this.acks.push({ checkpointId, state });
  }
  declineCheckpoint(_task: Task, checkpointId: number, reason: SerializedError): void {
    this.declines.push({ checkpointId, reason });
  }
  names(): ExecutionState[] {
    return this.states.map((s) => s.state);
  }
}

function start(descriptor: TaskDeploymentDescriptor, cancellationTimeout = 200) {
  const actions = new Recorder();
  const task = new Task(descriptor, { actions, cancellationTimeout, logger: getDefaultLogger() });
  task.startTaskThread();
  return { task, actions };
}

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(5);
  }
}

describe('Task runtime', () => {
  it('runs an operator through its states to FINISHED', async () => {
    const { task, actions } = start(tdd({ operator: 'noop', config: { steps: 3 } }));
    expect(await task.terminationFuture).toBe('FINISHED');
    expect(actions.names()).toEqual(['DEPLOYING', 'INITIALIZING', 'RUNNING', 'FINISHED']);
  });

  it('fails the task, not the process, when the operator throws, and reports the error', async () => {
    const { task, actions } = start(tdd({ operator: 'fail', config: { afterSteps: 2, message: 'kaboom' } }));
    expect(await task.terminationFuture).toBe('FAILED');
    const last = actions.states.at(-1);
    expect(last).toMatchObject({ state: 'FAILED', error: { name: 'Error', message: 'kaboom' } });
    expect(task.getFailureCause()?.message).toBe('kaboom');
  });

  it('fails with a clear error for an operator that cannot be loaded', async () => {
    const { task, actions } = start(tdd({ operator: { module: join(dir, 'absent.mjs'), export: 'x' } }));
    expect(await task.terminationFuture).toBe('FAILED');
    expect(actions.states.at(-1)?.error?.message).toContain(`Could not load the module '${join(dir, 'absent.mjs')}'`);
    expect(actions.states.at(-1)?.error?.name).toBe('TaskFailureException');
  });

  it('cancels a stalled operator through its signal', async () => {
    const { task, actions } = start(tdd({ operator: 'stall', config: { afterSteps: 2 } }), 5_000);
    await until(() => task.getExecutionState() === 'RUNNING');
    await sleep(20);
    const started = Date.now();
    task.cancelExecution();
    expect(await task.terminationFuture).toBe('CANCELED');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(actions.names().slice(-2)).toEqual(['CANCELING', 'CANCELED']);
  });

  it('gives up an operator that ignores its signal after the cancellation timeout', async () => {
    const { task, actions } = start(tdd({ operator: 'stall', config: { ignoreSignal: true } }), 150);
    await until(() => task.getExecutionState() === 'RUNNING');
    const started = Date.now();
    task.cancelExecution();
    expect(await task.terminationFuture).toBe('CANCELED');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(2_000);
    expect(actions.names().at(-1)).toBe('CANCELED');
    // The process goes on: another task still runs fine.
    const other = start(tdd({ operator: 'noop', config: { steps: 2 } }));
    expect(await other.task.terminationFuture).toBe('FINISHED');
  });

  it('snapshots between steps, acknowledges, and finishes only after a checkpoint covering all output', async () => {
    const output = join(dir, 'out');
    const { task, actions } = start(
      tdd({
        operator: 'generator',
        config: { records: 30, recordsPerStep: 5, stepDelayMs: 5, output },
        checkpointingEnabled: true,
      }),
    );
    await until(() => task.getExecutionState() === 'RUNNING');
    task.triggerCheckpoint(1);
    await until(() => actions.acks.length === 1);
    task.notifyCheckpointComplete(1);
    // all 6 steps take ~30 ms; then the task waits for a covering checkpoint
    await sleep(100);
    expect(task.getExecutionState()).toBe('RUNNING');
    const committedBefore = (await verifyExactlyOnce(output, { records: 30 })).committed;
    expect(committedBefore).toBeLessThan(30);
    task.triggerCheckpoint(2);
    await until(() => actions.acks.length === 2);
    expect(actions.acks[1]?.state.inline).toMatchObject({ emitted: 30 });
    // The generator counts its records: the JobMaster sums them into the vertex's write-records.
    expect(actions.acks[1]?.state.records).toBe(30);
    task.notifyCheckpointAborted(2);
    await sleep(20);
    expect(task.getExecutionState()).toBe('RUNNING');
    task.triggerCheckpoint(3);
    await until(() => actions.acks.length === 3);
    task.notifyCheckpointComplete(3);
    expect(await task.terminationFuture).toBe('FINISHED');
    expect((await verifyExactlyOnce(output, { records: 30 })).ok).toBe(true);
  });

  it('snapshots at once while the operator waits out its step delay, and keeps the operator at its pace', async () => {
    const { task, actions } = start(
      tdd({ operator: 'noop', config: { steps: 3, stepDelayMs: 5_000 }, checkpointingEnabled: true }),
    );
    await until(() => task.getExecutionState() === 'RUNNING');
    await sleep(20);
    const triggeredAt = Date.now();
    task.triggerCheckpoint(1);
    // Far less than the 5 s step: the wait was interrupted for the snapshot.
    await until(() => actions.acks.length === 1, 2_000);
    expect(Date.now() - triggeredAt).toBeLessThan(2_000);
    // No step was cut short: none had completed when the snapshot was taken, and none completes right after it.
    expect(actions.acks[0]?.state.inline).toBe(0);
    task.triggerCheckpoint(2);
    await until(() => actions.acks.length === 2, 2_000);
    expect(actions.acks[1]?.state.inline).toBe(0);
    task.cancelExecution();
    expect(await task.terminationFuture).toBe('CANCELED');
  });

  it('without checkpointing commits its output itself when its input ended', async () => {
    const output = join(dir, 'out');
    const { task } = start(tdd({ operator: 'generator', config: { records: 12, recordsPerStep: 5, output } }));
    expect(await task.terminationFuture).toBe('FINISHED');
    expect((await verifyExactlyOnce(output, { records: 12 })).ok).toBe(true);
  });

  it('declines a checkpoint it cannot snapshot and keeps running', async () => {
    const module = join(dir, 'badsnap.mjs');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      module,
      `export default () => { let n = 0; return { open() {}, step: async () => { await new Promise((r) => setTimeout(r, 5)); return ++n > 20; },
        snapshotState() { throw new Error('no snapshot today'); }, notifyCheckpointComplete() {}, close() {} }; };\n`,
    );
    const { task, actions } = start(tdd({ operator: { module }, checkpointingEnabled: false }));
    await until(() => task.getExecutionState() === 'RUNNING');
    task.triggerCheckpoint(7);
    await until(() => actions.declines.length === 1);
    expect(actions.declines[0]).toMatchObject({ checkpointId: 7, reason: { message: 'no snapshot today' } });
    task.cancelExecution();
    expect(await task.terminationFuture).toBe('CANCELED');
  });

  it('declines checkpoints before it runs', () => {
    const actions = new Recorder();
    const task = new Task(tdd({}), { actions, cancellationTimeout: 100, logger: getDefaultLogger() });
    task.triggerCheckpoint(1);
    expect(actions.declines[0]?.reason.message).toBe('Checkpoint 1 declined: the task is not running (state CREATED).');
    task.cancelExecution();
  });

  it('restores the state of a checkpoint and goes on from there', async () => {
    const output = join(dir, 'out');
    const config = { records: 40, recordsPerStep: 4, stepDelayMs: 2, output };
    const first = start(tdd({ operator: 'generator', config, checkpointingEnabled: true }));
    await until(() => first.task.getExecutionState() === 'RUNNING');
    await sleep(10);
    first.task.triggerCheckpoint(1);
    await until(() => first.actions.acks.length === 1);
    // checkpoint 1 completes at the JobMaster, but the task is lost before the notification arrives
    first.task.cancelExecution();
    expect(await first.task.terminationFuture).toBe('CANCELED');

    const second = start(
      tdd({
        operator: 'generator',
        config,
        checkpointingEnabled: true,
        attemptNumber: 1,
        restoreCheckpointId: 1,
        restoreState: first.actions.acks[0]?.state,
      }),
    );
    await until(() => second.task.getExecutionState() === 'RUNNING');
    await sleep(60);
    second.task.triggerCheckpoint(2);
    await until(() => second.actions.acks.length === 1);
    second.task.notifyCheckpointComplete(2);
    expect(await second.task.terminationFuture).toBe('FINISHED');
    const report = await verifyExactlyOnce(output, { records: 40 });
    expect(report.summary).toMatch(/^exactly once/);
  });
});
