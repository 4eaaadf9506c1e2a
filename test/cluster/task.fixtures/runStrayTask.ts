/**
 * Runs one task whose operator raises a stray error, in this process, with the TaskManager's error guard installed;
 * prints the task's final state as JSON, then whether an error outside any task still ends the process.
 */
import { fileURLToPath } from 'node:url';
import { Task } from '../../../src/cluster/taskexecutor/Task.js';
import { acquireTaskErrorGuard } from '../../../src/cluster/taskexecutor/taskErrorGuard.js';
import type { TaskExecutionState } from '../../../src/cluster/types.js';
import type { Logger } from '../../../src/index.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const kind = process.argv[2] as string;
const release = acquireTaskErrorGuard(silent);
const states: TaskExecutionState[] = [];
const task = new Task(
  {
    jobId: 'job',
    jobName: 'job',
    vertexId: 'v',
    vertexName: 'v',
    subtaskIndex: 0,
    parallelism: 1,
    attemptNumber: 0,
    executionAttemptId: 'attempt',
    allocationId: 'slot',
    operator: { module: fileURLToPath(new URL('./strayOperators.mjs', import.meta.url)), export: kind },
    config: {},
  },
  {
    actions: {
      updateTaskExecutionState: (state) => states.push(state),
      acknowledgeCheckpoint: () => {},
      declineCheckpoint: () => {},
    },
    cancellationTimeout: 200,
    logger: silent,
  },
);
task.startTaskThread();
const state = await task.terminationFuture;
process.stdout.write(`${JSON.stringify({ state, error: states.at(-1)?.error?.message })}\n`);
if (process.argv[3] === 'then-crash') {
  setTimeout(() => {
    throw new Error('an error outside any task');
  }, 1);
} else {
  release();
}
