/**
 * The built-in operators a job graph can name: `generator` (numbered records into a transactional file sink),
 * `fail` and `stall` (failures on demand, for tests and demos) and `noop`.
 */

import { setTimeout as delay } from 'node:timers/promises';
import type { Operator, OperatorFactory, TaskContext } from './Operator.js';
import { type SinkState, TransactionalFileSink } from './TransactionalFileSink.js';

/** An operator's config is user input (JSON from a job graph): every option is checked with a clear message. */
class OperatorConfigError extends Error {
  constructor(operator: string, message: string) {
    super(`Invalid config of operator '${operator}': ${message}`);
    this.name = 'OperatorConfigError';
  }
}

function intOption(
  operator: string,
  config: Readonly<Record<string, unknown>>,
  key: string,
  defaultValue: number | undefined,
  min = 0,
): number {
  const value = config[key] ?? defaultValue;
  if (value === undefined) throw new OperatorConfigError(operator, `'${key}' is required.`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new OperatorConfigError(operator, `'${key}' must be an integer >= ${min}, was ${JSON.stringify(value)}.`);
  }
  return value;
}

function attemptsOption(
  operator: string,
  config: Readonly<Record<string, unknown>>,
  key: string,
): ReadonlySet<number> | undefined {
  const value = config[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw new OperatorConfigError(operator, `'${key}' must be an array of attempt numbers (integers >= 0).`);
  }
  return new Set(value as number[]);
}

function stringOption(operator: string, config: Readonly<Record<string, unknown>>, key: string): string {
  const value = config[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new OperatorConfigError(operator, `'${key}' must be a non-empty string.`);
  }
  return value;
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await delay(ms, undefined, { signal });
}

/**
 * A step's delay that work of the runtime between steps (a checkpoint) may interrupt. The returned function resolves
 * true once the delay passed — the step does its work — or false when interrupted: the step returns without work and
 * its next call waits for the rest of the same delay, so the operator's pace stays as configured.
 */
function stepPacer(context: TaskContext, delayMs: number): () => Promise<boolean> {
  let dueAt: number | undefined;
  return async () => {
    if (delayMs <= 0) return true;
    dueAt ??= Date.now() + delayMs;
    const remaining = dueAt - Date.now();
    let elapsed = true;
    if (remaining > 0) {
      if (context.waitInterruptibly === undefined) await pause(remaining, context.signal);
      else elapsed = await context.waitInterruptibly(remaining);
    }
    if (elapsed) dueAt = undefined;
    return elapsed;
  };
}

/** The records of one subtask: `subtaskIndex`, `subtaskIndex + parallelism`, … below `records`. */
export function recordsOfSubtask(records: number, subtaskIndex: number, parallelism: number): number {
  return subtaskIndex >= records ? 0 : Math.ceil((records - subtaskIndex) / parallelism);
}

interface GeneratorState {
  /** Records of this subtask that the checkpoint covers. */
  readonly emitted: number;
  readonly sink: SinkState;
}

/**
 * `generator`: writes the records `0 … records-1` (split round-robin over the subtasks, one number per line) to a
 * transactional file sink under `output`, committed only when a checkpoint completes.
 *
 * Config: `records` (required), `output` (required, a directory), `recordsPerStep` (default 100), `stepDelayMs`
 * (default 0), and for failure tests `failAfterRecords` with `failOnAttempts` (default `[0]`): the subtask throws
 * once it emitted that many records in one of those attempts.
 */
export const generator: OperatorFactory = (context) => {
  const name = 'generator';
  const records = intOption(name, context.config, 'records', undefined);
  const output = stringOption(name, context.config, 'output');
  const recordsPerStep = intOption(name, context.config, 'recordsPerStep', 100, 1);
  const stepDelayMs = intOption(name, context.config, 'stepDelayMs', 0);
  const failAfterRecords =
    context.config.failAfterRecords === undefined
      ? undefined
      : intOption(name, context.config, 'failAfterRecords', undefined);
  const failOnAttempts = attemptsOption(name, context.config, 'failOnAttempts') ?? new Set([0]);
  const total = recordsOfSubtask(records, context.subtaskIndex, context.parallelism);
  const sink = new TransactionalFileSink({
    outputDir: output,
    vertexId: context.vertexId,
    subtaskIndex: context.subtaskIndex,
    attemptNumber: context.attemptNumber,
  });
  let emitted = 0;
  const stepDue = stepPacer(context, stepDelayMs);
  const failsNow = () =>
    failAfterRecords !== undefined && failOnAttempts.has(context.attemptNumber) && emitted >= failAfterRecords;

  const operator: Operator<GeneratorState> = {
    async open(_ctx, restored) {
      if (restored !== undefined && (typeof restored !== 'object' || !Number.isSafeInteger(restored.emitted))) {
        throw new Error('The restored state of the generator is malformed.');
      }
      await sink.open(restored?.sink, context.restoredCheckpointId);
      emitted = Math.min(restored?.emitted ?? 0, total);
    },
    async step() {
      if (!(await stepDue())) return false;
      const until = Math.min(total, emitted + recordsPerStep);
      while (emitted < until) {
        if (failsNow()) {
          throw new Error(
            `Generator subtask ${context.subtaskIndex} fails on purpose after ${emitted} records ` +
              `(attempt ${context.attemptNumber}).`,
          );
        }
        sink.write(String(context.subtaskIndex + emitted * context.parallelism));
        emitted += 1;
      }
      if (failsNow()) {
        throw new Error(
          `Generator subtask ${context.subtaskIndex} fails on purpose after ${emitted} records ` +
            `(attempt ${context.attemptNumber}).`,
        );
      }
      return emitted >= total;
    },
    async snapshotState(checkpointId) {
      const sinkState = await sink.preCommit(checkpointId);
      return { emitted, sink: sinkState };
    },
    numRecordsOut: () => emitted,
    async notifyCheckpointComplete(checkpointId) {
      await sink.commitUpTo(checkpointId);
    },
    close() {
      sink.discardBuffer();
    },
  };
  return operator as Operator;
};

/**
 * `fail`: throws on purpose. Config: `phase` (`'open'` or `'step'`, default `'step'`), `afterSteps` (default 0),
 * `attempts` (attempt numbers that fail; default every attempt), `steps` (when not failing: done after this many
 * steps, default 10), `stepDelayMs` (default 0), `message`.
 */
export const fail: OperatorFactory = (context) => {
  const name = 'fail';
  const phase = context.config.phase ?? 'step';
  if (phase !== 'open' && phase !== 'step') throw new OperatorConfigError(name, `'phase' must be 'open' or 'step'.`);
  const afterSteps = intOption(name, context.config, 'afterSteps', 0);
  const steps = intOption(name, context.config, 'steps', 10);
  const stepDelayMs = intOption(name, context.config, 'stepDelayMs', 0);
  const attempts = attemptsOption(name, context.config, 'attempts');
  const message = context.config.message;
  if (message !== undefined && typeof message !== 'string') {
    throw new OperatorConfigError(name, `'message' must be a string.`);
  }
  const failing = attempts === undefined || attempts.has(context.attemptNumber);
  const error = () =>
    new Error(
      message ??
        `Operator 'fail' of ${context.vertexId}#${context.subtaskIndex} failed on purpose ` +
          `(attempt ${context.attemptNumber}, ${phase === 'open' ? 'in open' : `after ${afterSteps} steps`}).`,
    );
  let done = 0;
  const stepDue = stepPacer(context, stepDelayMs);
  return {
    open(_ctx, restored) {
      if (failing && phase === 'open') throw error();
      done = typeof restored === 'number' ? restored : 0;
    },
    async step() {
      if (!(await stepDue())) return false;
      if (failing && done >= afterSteps) throw error();
      done += 1;
      return done >= steps;
    },
    snapshotState: () => done,
    notifyCheckpointComplete() {},
    close() {},
  };
};

/**
 * `stall`: after `afterSteps` normal steps (default 0), a step that never finishes until the task is cancelled —
 * or never at all with `ignoreSignal: true` (the runtime then gives the task up after its cancellation timeout).
 */
export const stall: OperatorFactory = (context) => {
  const name = 'stall';
  const afterSteps = intOption(name, context.config, 'afterSteps', 0);
  const ignoreSignal = context.config.ignoreSignal ?? false;
  if (typeof ignoreSignal !== 'boolean') throw new OperatorConfigError(name, `'ignoreSignal' must be a boolean.`);
  let done = 0;
  return {
    open() {},
    step() {
      if (done < afterSteps) {
        done += 1;
        return false;
      }
      if (ignoreSignal) return new Promise<boolean>(() => {});
      return new Promise<boolean>((_resolve, reject) => {
        const { signal } = context;
        if (signal.aborted) reject(signal.reason);
        else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    },
    snapshotState: () => done,
    notifyCheckpointComplete() {},
    close() {},
  };
};

/** `noop`: done after `steps` steps (default 1), each `stepDelayMs` long (default 0). */
export const noop: OperatorFactory = (context) => {
  const steps = intOption('noop', context.config, 'steps', 1);
  const stepDelayMs = intOption('noop', context.config, 'stepDelayMs', 0);
  let done = 0;
  const stepDue = stepPacer(context, stepDelayMs);
  return {
    open(_ctx: TaskContext, restored: unknown) {
      done = typeof restored === 'number' ? restored : 0;
    },
    async step() {
      if (!(await stepDue())) return false;
      done += 1;
      return done >= steps;
    },
    snapshotState: () => done,
    notifyCheckpointComplete() {},
    close() {},
  };
};

/** The operators a job graph can name by string. */
export const builtinOperators: ReadonlyMap<string, OperatorFactory> = new Map<string, OperatorFactory>([
  ['generator', generator],
  ['fail', fail],
  ['stall', stall],
  ['noop', noop],
]);

export { type ExactlyOnceExpectations, type ExactlyOnceReport, verifyExactlyOnce } from './verifyExactlyOnce.js';
