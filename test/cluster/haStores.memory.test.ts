import { describe, expect, it } from 'vitest';
import { createMemoryClusterHaStores } from '../../src/cluster/ha/memoryStores.js';
import type { CompletedCheckpoint, ValidatedJobGraph } from '../../src/cluster/types.js';
import type { LeaderElection } from '../../src/ha/index.js';

const noGuard = {} as LeaderElection;

const graph = (jobId: string): ValidatedJobGraph => ({
  jobId,
  name: `job ${jobId}`,
  vertices: [{ id: 'v', parallelism: 2, operator: 'generator', config: { records: 10 } }],
});

const checkpoint = (jobId: string, checkpointId: number): CompletedCheckpoint => ({
  jobId,
  checkpointId,
  triggerTimestamp: checkpointId * 10,
  completionTimestamp: checkpointId * 10 + 1,
  taskStates: { 'v/0': { inline: { n: checkpointId }, size: 8 } },
});

describe('memory cluster HA stores', () => {
  it('job graphs written by one store are recovered by another store of the same backend, as copies', async () => {
    const stores = createMemoryClusterHaStores();
    const written = graph('a');
    await stores.jobGraphStore(noGuard).putJobGraph(written);
    (written.vertices[0] as { parallelism: number }).parallelism = 99;
    const other = stores.jobGraphStore(noGuard);
    expect(await other.getJobIds()).toEqual(['a']);
    const recovered = await other.recoverJobGraph('a');
    expect(recovered?.vertices[0]?.parallelism).toBe(2);
    await other.removeJobGraph('a');
    expect(await other.getJobIds()).toEqual([]);
    expect(await other.recoverJobGraph('a')).toBeUndefined();
  });

  it('keeps only the newest checkpoints, oldest first, and shares them across store instances', async () => {
    const stores = createMemoryClusterHaStores();
    const store = stores.completedCheckpointStore('a', 2, noGuard);
    const subsumed = [];
    for (const id of [1, 2, 3]) subsumed.push(await store.addCheckpoint(checkpoint('a', id)));
    // Each add names what it dropped, so that the coordinator can delete their task states.
    expect(subsumed).toEqual([[], [], [1]]);
    const again = stores.completedCheckpointStore('a', 2, noGuard);
    expect((await again.getAllCheckpoints()).map((c) => c.checkpointId)).toEqual([2, 3]);
    expect((await again.getLatestCheckpoint())?.checkpointId).toBe(3);
    expect(await stores.completedCheckpointStore('b', 2, noGuard).getLatestCheckpoint()).toBeUndefined();
    await again.discardAll();
    expect(await store.getAllCheckpoints()).toEqual([]);
  });

  it('refuses to retain fewer than one checkpoint', () => {
    expect(() => createMemoryClusterHaStores().completedCheckpointStore('a', 0, noGuard)).toThrow(/positive integer/);
  });

  it('hands out each checkpoint id once per job, starting at 1, across counter instances', async () => {
    const stores = createMemoryClusterHaStores();
    const first = stores.checkpointIdCounter('a', noGuard);
    expect(await first.get()).toBe(1);
    expect(await first.getAndIncrement()).toBe(1);
    expect(await stores.checkpointIdCounter('a', noGuard).getAndIncrement()).toBe(2);
    expect(await stores.checkpointIdCounter('b', noGuard).getAndIncrement()).toBe(1);
    expect(await first.get()).toBe(3);
    await first.discard();
    expect(await first.get()).toBe(1);
  });

  it('records job results as dirty, then clean, and refuses a second entry for one job', async () => {
    const stores = createMemoryClusterHaStores();
    const results = stores.jobResultStore(noGuard);
    const result = { jobId: 'a', jobName: 'a', status: 'FINISHED' as const, startTime: 1, endTime: 2 };
    expect(await results.hasJobResultEntry('a')).toBe(false);
    await results.createDirtyResult(result);
    expect(await results.getDirtyResults()).toEqual([result]);
    await expect(results.createDirtyResult(result)).rejects.toThrow(/already contains an entry for job a/);
    await results.markResultAsClean('a');
    expect(await results.getDirtyResults()).toEqual([]);
    expect(await stores.jobResultStore(noGuard).getJobResult('a')).toEqual(result);
    await expect(results.markResultAsClean('b')).rejects.toThrow(/no job result entry/);
  });
});
