import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterHaStores,
  type CompletedCheckpoint,
  createClusterHaStores,
  LeadershipLostError,
  type ValidatedJobGraph,
} from '../../src/cluster/index.js';
import { type LeaderContender, type LeaderElection, ZooKeeperHaServices, ZooKeeperPaths } from '../../src/ha/index.js';
import { sortLatches } from '../../src/ha/zookeeper/paths.js';
import { CreateMode, type ZooKeeperConnection } from '../../src/ha/zookeeper/ZooKeeperConnection.js';
import { ZooKeeperLeaderGuardedStore } from '../../src/ha/zookeeper/ZooKeeperLeaderGuardedStore.js';
import { adminConnection } from '../ha/support/zookeeperCluster.js';
import { startZooKeeper, type ZooKeeperTestServer } from '../support/zookeeper.js';

const READER = fileURLToPath(new URL('./support/readHaStores.ts', import.meta.url));

let server: ZooKeeperTestServer;
let admin: ZooKeeperConnection;
let storageDir: string;
const opened: ZooKeeperHaServices[] = [];

beforeAll(async () => {
  server = await startZooKeeper();
  admin = await adminConnection(server.connectString);
  storageDir = mkdtempSync(join(tmpdir(), 'flink-rpc-ha-storage-'));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((services) => services.close()));
});

afterAll(async () => {
  await admin?.close();
  await server?.stop();
  if (storageDir) rmSync(storageDir, { recursive: true, force: true });
});

/** One JobManager's view: its own ZooKeeper session, its Dispatcher election and stores. */
interface JobManagerView {
  haServices: ZooKeeperHaServices;
  election: LeaderElection;
  stores: ClusterHaStores;
  isLeader(): boolean;
}

async function jobManager(clusterId: string): Promise<JobManagerView> {
  const haServices = await ZooKeeperHaServices.create({
    connectString: server.connectString,
    clusterId,
    sessionTimeout: 2_000,
    connectionTimeout: 10_000,
  });
  opened.push(haServices);
  const election = haServices.getDispatcherLeaderElection();
  let leaderSession: string | undefined;
  const contender: LeaderContender = {
    grantLeadership: (sessionId) => {
      leaderSession = sessionId;
    },
    revokeLeadership: () => {
      leaderSession = undefined;
    },
    handleError: () => {},
  };
  await election.startLeaderElection(contender);
  const stores = createClusterHaStores(haServices, { storageDir });
  return { haServices, election, stores, isLeader: () => leaderSession !== undefined };
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const graph = (jobId: string, name = 'job'): ValidatedJobGraph => ({
  jobId,
  name,
  vertices: [{ id: 'source', parallelism: 2, operator: 'generator', config: { records: 100 } }],
});

const checkpoint = (jobId: string, checkpointId: number): CompletedCheckpoint => ({
  jobId,
  checkpointId,
  triggerTimestamp: checkpointId,
  completionTimestamp: checkpointId + 1,
  taskStates: { 'source/0': { inline: { next: checkpointId * 10 }, size: 12 } },
});

/** Deletes the current Dispatcher leader's latch node, as an expired session would. */
async function deposeDispatcherLeader(clusterId: string): Promise<void> {
  const { latchDir } = new ZooKeeperPaths('/flink', clusterId).component('dispatcher');
  const [first] = sortLatches(await admin.getChildren(latchDir));
  if (first === undefined) throw new Error('no latch');
  await admin.remove(`${latchDir}/${first}`);
}

describe('ZooKeeper cluster HA stores', () => {
  it("lays pointers out as Flink does and keeps the data in files under the cluster's storage directory", async () => {
    const clusterId = `stores-${randomUUID()}`;
    const leader = await jobManager(clusterId);
    await eventually('leadership', () => leader.isLeader());
    const jobId = 'job-layout';
    await leader.stores.jobGraphStore(leader.election).putJobGraph(graph(jobId));
    await leader.stores.completedCheckpointStore(jobId, 3, leader.election).addCheckpoint(checkpoint(jobId, 7));
    await leader.stores.checkpointIdCounter(jobId, leader.election).getAndIncrement();

    const root = `/flink/${clusterId}`;
    expect(await admin.getChildren(`${root}/jobgraphs`)).toEqual([jobId]);
    expect(await admin.getChildren(`${root}/jobs/${jobId}/checkpoints`)).toEqual(['0000000000000000007']);
    expect((await admin.getData(`${root}/jobs/${jobId}/checkpoint_id_counter`))?.data?.toString()).toBe('2');
    const pointer = JSON.parse((await admin.getData(`${root}/jobgraphs/${jobId}`))?.data?.toString() ?? '{}');
    expect(pointer.path.startsWith(join(storageDir, clusterId))).toBe(true);
    expect(existsSync(pointer.path)).toBe(true);
  });

  it('a second process sees what the leader stored, and its writes are refused while it is not the leader', async () => {
    const clusterId = `stores-${randomUUID()}`;
    const leader = await jobManager(clusterId);
    await eventually('leadership', () => leader.isLeader());
    const jobId = 'job-shared';
    const { stores, election } = leader;
    await stores.jobGraphStore(election).putJobGraph(graph(jobId, 'shared'));
    const checkpoints = stores.completedCheckpointStore(jobId, 2, election);
    const counter = stores.checkpointIdCounter(jobId, election);
    for (let i = 0; i < 3; i++) await checkpoints.addCheckpoint(checkpoint(jobId, await counter.getAndIncrement()));
    await stores.jobResultStore(election).createDirtyResult({
      jobId: 'other-job',
      jobName: 'other',
      status: 'FAILED',
      startTime: 1,
      endTime: 2,
      failureCause: { name: 'Error', message: 'boom' },
    });

    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        READER,
        JSON.stringify({ connectString: server.connectString, clusterId, storageDir, jobId }),
      ],
      { timeout: 30_000 },
    );
    expect(JSON.parse(stdout.trim())).toEqual({
      jobIds: [jobId],
      graph: graph(jobId, 'shared'),
      checkpointIds: [2, 3],
      nextCheckpointId: 4,
      dirtyResults: ['other-job'],
      writeRefused: 'LeadershipLostError',
    });
  });

  it('keeps the last N checkpoints and deletes the files of the subsumed ones', async () => {
    const clusterId = `stores-${randomUUID()}`;
    const leader = await jobManager(clusterId);
    await eventually('leadership', () => leader.isLeader());
    const jobId = 'job-retention';
    const store = leader.stores.completedCheckpointStore(jobId, 3, leader.election);
    const subsumed: (readonly number[])[] = [];
    for (let id = 1; id <= 6; id++) subsumed.push(await store.addCheckpoint(checkpoint(jobId, id)));
    expect(subsumed).toEqual([[], [], [], [1], [2], [3]]);
    expect((await store.getAllCheckpoints()).map((c) => c.checkpointId)).toEqual([4, 5, 6]);
    expect(await store.getLatestCheckpoint()).toEqual(checkpoint(jobId, 6));
    const files = () => readdirSync(join(storageDir, clusterId)).filter((name) => name.includes(`-${jobId}-`));
    expect(files()).toHaveLength(3);

    await store.discardAll();
    expect(await store.getAllCheckpoints()).toEqual([]);
    expect(files()).toHaveLength(0);
    expect(await admin.exists(`/flink/${clusterId}/jobs/${jobId}/checkpoints`)).toBeNull();
  });

  it('refuses every write of a deposed leader with LeadershipLostError and keeps what the successor wrote', async () => {
    const clusterId = `stores-${randomUUID()}`;
    const first = await jobManager(clusterId);
    await eventually('first leadership', () => first.isLeader());
    const second = await jobManager(clusterId);
    const jobId = 'job-fenced';
    const firstGraphs = first.stores.jobGraphStore(first.election);
    const firstCounter = first.stores.checkpointIdCounter(jobId, first.election);
    await firstGraphs.putJobGraph(graph(jobId, 'v1'));
    expect(await firstCounter.getAndIncrement()).toBe(1);

    await deposeDispatcherLeader(clusterId);
    // Right away, before the deposed process may even have noticed: ZooKeeper checks its latch in the transaction.
    await expect(firstGraphs.putJobGraph(graph(jobId, 'stale'))).rejects.toBeInstanceOf(LeadershipLostError);
    await eventually('successor leadership', () => second.isLeader());

    const secondGraphs = second.stores.jobGraphStore(second.election);
    const secondCounter = second.stores.checkpointIdCounter(jobId, second.election);
    expect((await secondGraphs.recoverJobGraph(jobId))?.name).toBe('v1');
    await secondGraphs.putJobGraph(graph(jobId, 'v2'));
    expect(await secondCounter.getAndIncrement()).toBe(2);

    await expect(firstGraphs.putJobGraph(graph(jobId, 'stale'))).rejects.toThrow(
      'Could not store the job graph of job job-fenced: this JobManager is no longer the leader.',
    );
    await expect(firstGraphs.removeJobGraph(jobId)).rejects.toBeInstanceOf(LeadershipLostError);
    await expect(firstCounter.getAndIncrement()).rejects.toBeInstanceOf(LeadershipLostError);
    await expect(
      first.stores.completedCheckpointStore(jobId, 1, first.election).addCheckpoint(checkpoint(jobId, 5)),
    ).rejects.toBeInstanceOf(LeadershipLostError);
    await expect(
      first.stores
        .jobResultStore(first.election)
        .createDirtyResult({ jobId, jobName: 'x', status: 'FINISHED', startTime: 0, endTime: 1 }),
    ).rejects.toBeInstanceOf(LeadershipLostError);

    expect((await secondGraphs.recoverJobGraph(jobId))?.name).toBe('v2');
    expect(await secondCounter.get()).toBe(3);
    expect(await second.stores.jobResultStore(second.election).hasJobResultEntry(jobId)).toBe(false);
  });

  it('never hands out a checkpoint id twice, also to concurrent counters of one leader', async () => {
    const clusterId = `stores-${randomUUID()}`;
    const leader = await jobManager(clusterId);
    await eventually('leadership', () => leader.isLeader());
    const counters = [1, 2, 3].map(() => leader.stores.checkpointIdCounter('job-counter', leader.election));
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => counters[i % 3]!.getAndIncrement()));
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(await counters[0]!.get()).toBe(31);
  });

  it('records job results dirty, then clean, once per job', async () => {
    const clusterId = `stores-${randomUUID()}`;
    const leader = await jobManager(clusterId);
    await eventually('leadership', () => leader.isLeader());
    const results = leader.stores.jobResultStore(leader.election);
    const result = { jobId: 'job-r', jobName: 'r', status: 'CANCELED' as const, startTime: 3, endTime: 4 };
    await results.createDirtyResult(result);
    await expect(results.createDirtyResult(result)).rejects.toThrow(
      'Job result store already contains an entry for job job-r.',
    );
    expect(await results.getDirtyResults()).toEqual([result]);
    await results.markResultAsClean('job-r');
    expect(await results.getDirtyResults()).toEqual([]);
    expect(await results.hasJobResultEntry('job-r')).toBe(true);
    expect(await results.getJobResult('job-r')).toEqual(result);
    await expect(results.markResultAsClean('job-unknown')).rejects.toThrow(/no job result entry/);
  });

  it('requires high-availability.storageDir', async () => {
    const leader = await jobManager(`stores-${randomUUID()}`);
    expect(() => createClusterHaStores(leader.haServices)).toThrow(/high-availability\.storageDir/);
  });
});

describe('ZooKeeper leader-guarded store', () => {
  it('commits only while the latch node exists, all or nothing, and reports version conflicts', async () => {
    const base = `/guarded-${randomUUID()}`;
    await admin.mkdirp(`${base}/latch`);
    const latch = await admin.create(`${base}/latch/latch-x-`, Buffer.alloc(0), CreateMode.EPHEMERAL_SEQUENTIAL);
    // The writer believes it leads throughout: only ZooKeeper's check of the latch stops it.
    const store = new ZooKeeperLeaderGuardedStore(admin, base, () => ({ leaderLatchPath: () => latch }));
    await store.ensurePath('/data');
    expect(await store.commit([{ kind: 'create', path: '/data/a', data: Buffer.from('1') }])).toBe('committed');
    expect(await store.commit([{ kind: 'setData', path: '/data/a', data: Buffer.from('2'), version: 5 }])).toBe(
      'conflict',
    );
    expect(
      await store.commit([
        { kind: 'create', path: '/data/b', data: Buffer.from('b') },
        { kind: 'create', path: '/data/a', data: Buffer.from('again') },
      ]),
    ).toBe('conflict');
    expect(await store.children('/data')).toEqual(['a']);

    await admin.remove(latch);
    expect(await store.commit([{ kind: 'setData', path: '/data/a', data: Buffer.from('3'), version: -1 }])).toBe(
      'leadership-lost',
    );
    expect((await store.read('/data/a'))?.data.toString()).toBe('1');
    expect(await store.children('/missing')).toEqual([]);
    await expect(store.read('../escape')).rejects.toThrow(/Invalid relative ZooKeeper path/);
    await admin.removeRecursive(base);
  });
});
