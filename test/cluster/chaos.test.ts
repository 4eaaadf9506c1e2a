/**
 * Bounded chaos: two JobManagers (ZooKeeper HA) and three TaskManagers as processes run a stream of exactly-once
 * jobs while TaskManagers and the leading JobManager are SIGKILLed at random and ZooKeeper is restarted. At the end:
 * every job FINISHED with exactly-once output, no two processes ever led one component at the same time, every slot
 * is free again, and no process is left. About a minute by default; `CHAOS_SECONDS=300` runs longer, `CHAOS_SEED`
 * replays a run.
 */

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuplicateJobSubmissionException } from '../../src/cluster/errors.js';
import type { ClusterProcess } from '../../src/cluster/process/childProcesses.js';
import { liveClusterProcesses } from '../../src/cluster/process/childProcesses.js';
import { LocalProcessCluster } from '../../src/cluster/process/LocalProcessCluster.js';
import { verifyExactlyOnce } from '../../src/cluster/task/verifyExactlyOnce.js';
import type { JobStatus } from '../../src/cluster/types.js';
import { generatorJob, statusOf, waitFor } from './support/jobs.js';
import { QUICK_FAILOVER_CONFIGURATION, useZooKeeperWorkDir } from './support/zooKeeperWorkDir.js';

const CHAOS_MS = Number(process.env.CHAOS_SECONDS ?? 40) * 1_000;
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const CONCURRENT_JOBS = 2;
const RECORDS_PER_JOB = 1_500;

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with CHAOS_SEED. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LeadershipInterval {
  readonly component: string;
  readonly process: string;
  readonly from: number;
  to: number;
}

const fixture = useZooKeeperWorkDir('flink-rpc-chaos-');
let cluster: LocalProcessCluster | undefined;

afterAll(async () => {
  await cluster?.close();
});

describe('chaos', () => {
  it(
    `keeps every job exactly once through random kills and a ZooKeeper restart (seed ${SEED})`,
    async () => {
      const next = random(SEED);
      const intervals: LeadershipInterval[] = [];
      const open = new Map<string, LeadershipInterval>();
      const onLine = (name: string, line: string) => {
        const match = /^leadership (\S+) (granted|revoked) \S+ at (\d+)$/.exec(line);
        if (match === null) return;
        const [, component, what, at] = match;
        const key = `${name}/${component}`;
        if (what === 'granted') {
          const interval = { component: component!, process: name, from: Number(at), to: Number.POSITIVE_INFINITY };
          intervals.push(interval);
          open.set(key, interval);
        } else {
          const interval = open.get(key);
          if (interval !== undefined) interval.to = Number(at);
          open.delete(key);
        }
      };
      const endLeadershipOf = (name: string, at: number) => {
        for (const [key, interval] of open) {
          if (interval.process === name) {
            interval.to = at;
            open.delete(key);
          }
        }
      };

      cluster = await LocalProcessCluster.start({
        ha: { type: 'zookeeper', quorum: fixture.zooKeeper.connectString, storageDir: join(fixture.workDir, 'ha') },
        jobManagers: 2,
        taskManagers: 3,
        slotsPerTaskManager: 2,
        env: { FLINK_RPC_REPORT_LEADERSHIP: '1' },
        onLine,
        configuration: { ...QUICK_FAILOVER_CONFIGURATION, 'pekko.ask.timeout': '5 s' },
      });
      const running = cluster;
      const dispatcher = () => running.dispatcher(5_000);

      // ---- the jobs: keep CONCURRENT_JOBS running until the chaos ends ----
      const jobs = new Map<string, { output: string; status?: JobStatus; restarts: number; checkpoints: number }>();
      let submitting = true;
      let jobCount = 0;
      const startedAt = Date.now();
      const history: string[] = [];
      const note = (event: string) => history.push(`+${((Date.now() - startedAt) / 1000).toFixed(1)}s ${event}`);
      const submitOne = async (): Promise<string> => {
        jobCount += 1;
        const jobId = `chaos-${jobCount}`;
        const output = join(fixture.workDir, jobId);
        jobs.set(jobId, { output, restarts: 0, checkpoints: 0 });
        note(`submit ${jobId}`);
        const graph = { ...generatorJob({ output, records: RECORDS_PER_JOB, parallelism: 2 }), jobId };
        graph.restartStrategy = { type: 'fixed-delay', attempts: 1_000, delay: 200 };
        await waitFor(
          `submission of ${jobId}`,
          async () => {
            try {
              await (await dispatcher()).submitJob(graph, 10_000);
              return true;
            } catch (error) {
              // A submission that reached a JobManager which then died may have been stored: it is submitted.
              if ((error as Error).name === DuplicateJobSubmissionException.name) return true;
              throw error;
            }
          },
          60_000,
        );
        return jobId;
      };
      const active = new Set<string>();
      const driveJobs = (async () => {
        while (submitting || active.size > 0) {
          while (submitting && active.size < CONCURRENT_JOBS) active.add(await submitOne());
          for (const jobId of [...active]) {
            const job = jobs.get(jobId)!;
            // What the leader of the time knows (a new leader counts from its own recovery on).
            await dispatcher()
              .then(async (gateway) => {
                const details = await gateway.requestJob(jobId);
                const stats = await gateway.requestCheckpointStats(jobId);
                job.restarts = Math.max(job.restarts, details.numRestarts);
                job.checkpoints = Math.max(job.checkpoints, stats.counts.completed);
              })
              .catch(() => {});
            const status = await statusOf(dispatcher, jobId);
            if (status === 'FINISHED' || status === 'FAILED' || status === 'CANCELED') {
              jobs.get(jobId)!.status = status;
              active.delete(jobId);
            }
          }
          await sleep(200);
        }
      })();

      // ---- the chaos ----
      const counts = { taskManagerKills: 0, jobManagerKills: 0, zooKeeperRestarts: 0 };
      const planned = ['taskmanager', 'jobmanager', 'taskmanager', 'zookeeper'];
      const chaosEnd = Date.now() + CHAOS_MS;
      while (Date.now() < chaosEnd) {
        await sleep(2_000 + next() * 2_500);
        const action = planned.shift() ?? (next() < 0.65 ? 'taskmanager' : 'jobmanager');
        if (action === 'taskmanager') {
          const alive = running.taskManagers.filter((child) => child.isAlive());
          const victim = alive[Math.floor(next() * alive.length)]!;
          victim.kill('SIGKILL');
          await victim.exited;
          counts.taskManagerKills += 1;
          note(`SIGKILL TaskManager ${victim.name}`);
          await sleep(500 + next() * 1_000);
          await running.startTaskManager(victim.name).ready;
        } else if (action === 'jobmanager') {
          const leaderGateway = await dispatcher();
          const leader: ClusterProcess | undefined = running.jobManagerServing(leaderGateway.getAddress());
          if (leader === undefined) continue;
          const replacement = running.startJobManager();
          await replacement.ready;
          const killedAt = Date.now();
          leader.kill('SIGKILL');
          await leader.exited;
          endLeadershipOf(leader.name, killedAt);
          counts.jobManagerKills += 1;
          note(`SIGKILL leading JobManager ${leader.name}`);
          await waitFor(
            'a new Dispatcher leader',
            async () => (await dispatcher()).getAddress() !== leaderGateway.getAddress(),
            30_000,
          );
        } else {
          await fixture.zooKeeper.restart(1_000);
          counts.zooKeeperRestarts += 1;
          note('ZooKeeper restarted');
        }
      }
      submitting = false;
      await Promise.race([
        driveJobs,
        sleep(120_000).then(async () => {
          throw new Error(
            `The jobs did not finish within 120 s after the chaos ended: ${await describeJobs([...active])}`,
          );
        }),
      ]);
      const invariantsUntil = Date.now();
      async function describeJobs(jobIds: string[]): Promise<string> {
        const lines: string[] = [];
        for (const jobId of jobIds) {
          const text = await dispatcher()
            .then(async (gateway) => {
              const details = await gateway.requestJob(jobId);
              const tasks = details.vertices.flatMap((vertex) =>
                vertex.subtasks.map((subtask) => `${subtask.status}@${subtask['taskmanager-id'] ?? '-'}`),
              );
              return `${details.state}, restarts ${details.numRestarts}, tasks ${tasks.join(' ')}`;
            })
            .catch((error: Error) => `${error.name}: ${error.message}`);
          lines.push(`${jobId}: ${text}`);
        }
        const overview = await dispatcher()
          .then((gateway) => gateway.requestClusterOverview())
          .catch(() => undefined);
        return `${lines.join('; ')}; overview ${JSON.stringify(overview)}; history: ${history.join(', ')}`;
      }

      // ---- invariants ----
      const failedJobs = [...jobs]
        .filter(([, job]) => job.status !== 'FINISHED')
        .map(([jobId, job]) => `${jobId}: ${job.status}`);
      expect(failedJobs).toEqual([]);
      let committed = 0;
      for (const [jobId, job] of jobs) {
        const report = await verifyExactlyOnce(job.output, { records: RECORDS_PER_JOB });
        expect(report.ok, `${jobId}: ${report.summary}`).toBe(true);
        committed += report.committed;
      }
      const restarts = [...jobs.values()].reduce((sum, job) => sum + job.restarts, 0);
      const checkpoints = [...jobs.values()].reduce((sum, job) => sum + job.checkpoints, 0);

      const overlaps: string[] = [];
      for (const a of intervals) {
        for (const b of intervals) {
          if (a === b || a.component !== b.component || a.process >= b.process) continue;
          const from = Math.max(a.from, b.from);
          const to = Math.min(a.to, b.to, invariantsUntil);
          if (from < to) overlaps.push(`${a.component}: ${a.process} and ${b.process} both led for ${to - from} ms`);
        }
      }
      expect(overlaps).toEqual([]);

      await waitFor(
        'every slot free and every TaskManager registered',
        async () => {
          const overview = await (await dispatcher()).requestClusterOverview();
          return (
            overview.taskmanagers === 3 &&
            overview['slots-available'] === overview['slots-total'] &&
            overview['slots-total'] === 6
          );
        },
        30_000,
      );

      await cluster.close();
      expect(liveClusterProcesses()).toEqual([]);

      process.stdout.write(
        `chaos summary (seed ${SEED}, ${CHAOS_MS / 1000} s): ${jobs.size} jobs FINISHED exactly once, ` +
          `${counts.taskManagerKills} TaskManager kills, ${counts.jobManagerKills} leading JobManager kills, ` +
          `${counts.zooKeeperRestarts} ZooKeeper restarts, ${restarts} job restarts and ${checkpoints} checkpoints completed (as the leaders of the time saw them), ` +
          `${committed} records committed, ${intervals.length} leadership grants, 0 overlaps\n`,
      );
      expect(counts.jobManagerKills).toBeGreaterThanOrEqual(1);
      expect(counts.zooKeeperRestarts).toBe(1);
    },
    CHAOS_MS + 240_000,
  );
});
