/**
 * A job's exception history (Flink's `ExceptionHistoryEntry`s in a bounded queue): the failures that made the job
 * restart or fail, newest first, the oldest dropped beyond Flink's `web.exception-history-size`; served as
 * `GET /jobs/:id/exceptions`.
 */

import { serializeError } from '../errors.js';
import type { JobExceptions, ResourceId } from '../types.js';

/** Flink's `web.exception-history-size`. */
export const EXCEPTION_HISTORY_SIZE = 16;

interface ExceptionEntry {
  readonly exceptionName: string;
  readonly stacktrace: string;
  readonly timestamp: number;
  readonly taskName?: string;
  readonly taskManagerId?: ResourceId;
}

export class ExceptionHistory {
  private readonly entries: ExceptionEntry[] = [];
  private truncated = false;

  constructor(private readonly size = EXCEPTION_HISTORY_SIZE) {}

  /** Records `error`, with the task it happened in and that task's TaskManager when known. */
  record(error: unknown, where?: { readonly taskName: string; readonly taskManagerId?: ResourceId }): void {
    const serialized = serializeError(error);
    this.entries.unshift({
      exceptionName: serialized.name,
      stacktrace: serialized.stack ?? `${serialized.name}: ${serialized.message}`,
      timestamp: Date.now(),
      ...(where === undefined ? {} : { taskName: where.taskName }),
      ...(where?.taskManagerId === undefined ? {} : { taskManagerId: where.taskManagerId }),
    });
    if (this.entries.length > this.size) {
      this.entries.length = this.size;
      this.truncated = true;
    }
  }

  /** The read model: the newest exception as the root exception, and the history. */
  toJobExceptions(): JobExceptions {
    const root = this.entries[0];
    return {
      ...(root === undefined ? {} : { 'root-exception': root.stacktrace, timestamp: root.timestamp }),
      exceptionHistory: { entries: [...this.entries], truncated: this.truncated },
    };
  }
}
