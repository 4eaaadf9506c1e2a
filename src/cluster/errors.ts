/**
 * The errors of the control plane, with Flink's names and wording. Each extends `Error` with `name` equal to the class
 * name, so it keeps its identity when it crosses the network as an RPC error.
 */

import type { SerializedError } from './types.js';

abstract class ClusterException extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A job graph was refused at submission (names the problem). */
export class JobSubmissionException extends ClusterException {}

/** A job with this id is already running or has finished (Flink's DuplicateJobSubmissionException). */
export class DuplicateJobSubmissionException extends JobSubmissionException {
  constructor(readonly jobId: string) {
    super(`Job has already been submitted: ${jobId}`);
  }
}

/** No job with this id is known (Flink's FlinkJobNotFoundException). */
export class FlinkJobNotFoundException extends ClusterException {
  constructor(readonly jobId: string) {
    super(`Could not find Flink job (${jobId})`);
  }
}

/** A job's result was asked for, but its JobManager stopped leading before the job finished (Flink's name). */
export class JobNotFinishedException extends ClusterException {
  constructor(readonly jobId: string) {
    super(`The job (${jobId}) has not been finished.`);
  }
}

/** Not enough slots became available within `slot.request.timeout`. */
export class NoResourceAvailableException extends ClusterException {}

/** A slot requested for one job is held by another allocation. */
export class SlotOccupiedException extends ClusterException {
  constructor(
    message: string,
    readonly allocationId: string,
    readonly jobId: string,
  ) {
    super(message);
  }
}

/** A TaskExecutor refused a slot request (wrong ResourceManager, unknown slot, …). */
export class SlotAllocationException extends ClusterException {}

/** A TaskExecutor refused a task (wrong JobMasterId, no slot allocated). */
export class TaskSubmissionException extends ClusterException {}

/** An operation named a task execution attempt the receiver does not know. */
export class ExecutionAttemptNotFoundException extends ClusterException {}

/** A checkpoint could not be triggered or completed (declined, expired, task lost, job not running). */
export class CheckpointException extends ClusterException {}

/** A task failed: the operator threw, hung past its timeout, or could not be loaded. */
export class TaskFailureException extends ClusterException {}

/** A component the caller needs (TaskExecutor, JobMaster, ResourceManager) is not registered or connected. */
export class UnknownComponentException extends ClusterException {}

/** Plain data for an error, for stores, REST and task state updates. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) };
  }
  return { name: 'Error', message: String(error) };
}

/** An Error again from {@link serializeError}'s data (its name and stack kept). */
export function deserializeError(data: SerializedError): Error {
  const error = new Error(data.message);
  error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}
