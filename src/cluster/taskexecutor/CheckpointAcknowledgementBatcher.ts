/**
 * Gathers the checkpoint acknowledgements that a TaskExecutor's tasks send within one turn of the event loop and
 * sends those for one JobMaster connection and checkpoint as one message. Each acknowledgement keeps its meaning
 * (Flink's per-task acknowledge); only the wire carries fewer, larger messages — at 1 000 tasks a checkpoint round
 * otherwise costs the JobManager a thousand messages to decode.
 */

import type { CheckpointCoordinatorGateway } from '../gateways.js';
import type { CheckpointAcknowledgement, JobId } from '../types.js';

/** Where acknowledgements go: a JobMaster connection of one job. */
export interface AcknowledgementTarget {
  readonly gateway: Pick<CheckpointCoordinatorGateway, 'acknowledgeCheckpoints'>;
}

export class CheckpointAcknowledgementBatcher<T extends AcknowledgementTarget> {
  private pending = new Map<T, { jobId: JobId; byCheckpoint: Map<number, CheckpointAcknowledgement[]> }>();
  private scheduled = false;

  /**
   * @param schedule runs `flush` soon, on the owner's main thread (after the other tasks' acknowledgements of this
   *   turn had their chance to join)
   * @param isCurrent whether `target` is still the JobMaster connection of `jobId` when the batch goes out
   */
  constructor(
    private readonly schedule: (flush: () => void) => void,
    private readonly isCurrent: (target: T, jobId: JobId) => boolean,
  ) {}

  add(target: T, jobId: JobId, checkpointId: number, acknowledgement: CheckpointAcknowledgement): void {
    let entry = this.pending.get(target);
    if (entry === undefined) {
      entry = { jobId, byCheckpoint: new Map() };
      this.pending.set(target, entry);
    }
    const acks = entry.byCheckpoint.get(checkpointId);
    if (acks === undefined) entry.byCheckpoint.set(checkpointId, [acknowledgement]);
    else acks.push(acknowledgement);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Sends everything gathered so far (also before a task's state update, which must not overtake its acks). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const batches = this.pending;
    this.pending = new Map();
    for (const [target, { jobId, byCheckpoint }] of batches) {
      if (!this.isCurrent(target, jobId)) continue;
      for (const [checkpointId, acks] of byCheckpoint) target.gateway.acknowledgeCheckpoints(jobId, checkpointId, acks);
    }
  }
}
