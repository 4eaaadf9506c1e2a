/**
 * Keeps stray errors of operator code from ending the process. Operator code runs inside an async scope that names
 * its task; an exception thrown from a timer callback or a promise rejected without a handler in that scope fails the
 * task (as a throwing `step()` would) instead of crashing the TaskManager. Errors outside any task scope keep Node's
 * default behaviour (print and exit) unless the process installed handlers of its own.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../../index.js';

/** What the guard needs of a task. */
export interface GuardedTask {
  isTerminated(): boolean;
  /** The operator raised `error` outside the runtime's reach: fail the task. */
  failExternally(error: Error): void;
}

const scope = new AsyncLocalStorage<GuardedTask>();
let holders = 0;
let guardLogger: Logger | undefined;

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(`Non-error thrown: ${String(value)}`);
}

function onUncaughtException(error: unknown): void {
  const task = scope.getStore();
  if (task !== undefined) {
    if (!task.isTerminated()) task.failExternally(asError(error));
    else guardLogger?.warn({ err: error }, 'Uncaught error of an operator whose task already ended.');
    return;
  }
  if (process.listenerCount('uncaughtException') === 1) {
    // Only this guard listens: behave as Node would without it.
    process.stderr.write(`${asError(error).stack ?? String(error)}\n`);
    process.exit(1);
  }
}

function onUnhandledRejection(reason: unknown): void {
  const task = scope.getStore();
  if (task !== undefined) {
    if (!task.isTerminated()) task.failExternally(asError(reason));
    else guardLogger?.warn({ err: reason }, 'Unhandled rejection of an operator whose task already ended.');
    return;
  }
  if (process.listenerCount('unhandledRejection') === 1) {
    // Node's default for unhandled rejections: raise them as uncaught exceptions.
    process.nextTick(() => {
      throw reason;
    });
  }
}

/** Runs `fn` (and everything it schedules) in the scope of `task`. */
export function runInTaskScope<T>(task: GuardedTask, fn: () => T): T {
  return scope.run(task, fn);
}

/** Runs `fn` outside of any task scope (runtime code called from a task: its errors are not the operator's). */
export function runOutsideTaskScope<T>(fn: () => T): T {
  return scope.exit(fn);
}

/**
 * Installs the process-wide handlers while at least one holder (a TaskExecutor) needs them.
 * @returns the release function (idempotent)
 */
export function acquireTaskErrorGuard(logger: Logger): () => void {
  holders += 1;
  guardLogger ??= logger;
  if (holders === 1) {
    process.on('uncaughtException', onUncaughtException);
    process.on('unhandledRejection', onUnhandledRejection);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders -= 1;
    if (holders === 0) {
      process.off('uncaughtException', onUncaughtException);
      process.off('unhandledRejection', onUnhandledRejection);
      guardLogger = undefined;
    }
  };
}
