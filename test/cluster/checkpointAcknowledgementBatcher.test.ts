import { describe, expect, it } from 'vitest';
import { CheckpointAcknowledgementBatcher } from '../../src/cluster/taskexecutor/CheckpointAcknowledgementBatcher.js';
import type { CheckpointAcknowledgement } from '../../src/cluster/types.js';

function target() {
  const sent: { jobId: string; checkpointId: number; acks: readonly CheckpointAcknowledgement[] }[] = [];
  return {
    sent,
    gateway: {
      acknowledgeCheckpoints(jobId: string, checkpointId: number, acks: readonly CheckpointAcknowledgement[]) {
        sent.push({ jobId, checkpointId, acks });
      },
    },
  };
}

const ack = (id: string): CheckpointAcknowledgement => ({ executionAttemptId: id, state: { inline: id, size: 1 } });

describe('CheckpointAcknowledgementBatcher', () => {
  it('sends the acknowledgements of one turn as one message per JobMaster and checkpoint, each one kept', () => {
    const scheduled: (() => void)[] = [];
    const a = target();
    const b = target();
    const batcher = new CheckpointAcknowledgementBatcher<ReturnType<typeof target>>(
      (flush) => scheduled.push(flush),
      () => true,
    );
    batcher.add(a, 'job-a', 1, ack('t1'));
    batcher.add(a, 'job-a', 1, ack('t2'));
    batcher.add(b, 'job-b', 1, ack('t3'));
    batcher.add(a, 'job-a', 2, ack('t1'));
    expect(scheduled).toHaveLength(1);
    expect(a.sent).toEqual([]);
    scheduled[0]?.();
    expect(a.sent).toEqual([
      { jobId: 'job-a', checkpointId: 1, acks: [ack('t1'), ack('t2')] },
      { jobId: 'job-a', checkpointId: 2, acks: [ack('t1')] },
    ]);
    expect(b.sent).toEqual([{ jobId: 'job-b', checkpointId: 1, acks: [ack('t3')] }]);
    // Nothing is sent twice; a later acknowledgement schedules a new flush.
    batcher.flush();
    expect(a.sent).toHaveLength(2);
    batcher.add(a, 'job-a', 3, ack('t1'));
    expect(scheduled).toHaveLength(2);
  });

  it('drops the acknowledgements for a JobMaster connection that is no longer current', () => {
    const a = target();
    let current = true;
    const batcher = new CheckpointAcknowledgementBatcher<ReturnType<typeof target>>(
      () => {},
      () => current,
    );
    batcher.add(a, 'job-a', 1, ack('t1'));
    current = false;
    batcher.flush();
    expect(a.sent).toEqual([]);
  });
});
