import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startZooKeeper, type ZooKeeperTestServer } from '../support/zookeeper.js';
import { type CliProcess, spawnCli } from './browserSupport.js';

// Two JobManager processes with ZooKeeper HA, each with its REST server: the standby's REST answers through the
// leading Dispatcher, and after the leader is SIGKILLed it serves the job the new leader recovered.
let zooKeeper: ZooKeeperTestServer;
let dir: string;
const processes: CliProcess[] = [];
let leaderRest: string;
let standbyRest: string;

beforeAll(async () => {
  zooKeeper = await startZooKeeper();
  dir = await mkdtemp(join(tmpdir(), 'flink-rpc-rest-standby-'));
  const common = [
    '-Dhigh-availability.type=zookeeper',
    `-Dhigh-availability.zookeeper.quorum=${zooKeeper.connectString}`,
    `-Dhigh-availability.storageDir=${join(dir, 'ha')}`,
    '-Dhigh-availability.cluster-id=rest-standby',
    '-Dhigh-availability.zookeeper.client.session-timeout=2 s',
    '-Djobmanager.rpc.address=127.0.0.1',
    '-Djobmanager.rpc.port=0',
    '-Dheartbeat.interval=200',
    '-Dheartbeat.timeout=2000',
  ];
  const start = (args: string[]) => {
    const child = spawnCli(args);
    processes.push(child);
    return child;
  };
  // The first JobManager is alone when it starts: it wins every election.
  const first = start(['jobmanager', ...common, '--rest-port', '0', `-Dstate.checkpoints.dir=${join(dir, 'cp')}`]);
  leaderRest = (await first.waitFor(/REST API and dashboard at (http:\/\/\S+)/))[1] as string;
  // Wait until it leads (its REST reaches a Dispatcher) before the second one joins the election.
  for (let i = 0; i < 200 && (await fetch(`${leaderRest}/overview`)).status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const second = start(['jobmanager', ...common, '--rest-port', '0', `-Dstate.checkpoints.dir=${join(dir, 'cp')}`]);
  standbyRest = (await second.waitFor(/REST API and dashboard at (http:\/\/\S+)/))[1] as string;
  await start(['taskmanager', '--slots', '2', ...common]).waitFor(/TaskManager \S+ ready/);
}, 90_000);

afterAll(async () => {
  await Promise.all(processes.map((child) => child.stop()));
  await zooKeeper?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function get(base: string, path: string): Promise<{ status: number; json: any }> {
  const response = await fetch(base + path);
  return { status: response.status, json: await response.json() };
}

describe('REST on a standby JobManager (ZooKeeper HA)', () => {
  it('answers like the leader, and accepts a job', async () => {
    await expect.poll(async () => (await get(standbyRest, '/overview')).json.taskmanagers, { timeout: 20_000 }).toBe(1);
    const response = await fetch(`${standbyRest}/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        jobId: 'through-standby',
        name: 'submitted through the standby',
        vertices: [
          {
            id: 'gen',
            parallelism: 2,
            operator: 'generator',
            config: { records: 10_000_000, recordsPerStep: 10, stepDelayMs: 20, output: join(dir, 'out') },
          },
        ],
        checkpointing: { interval: 200 },
        restartStrategy: { type: 'fixed-delay', attempts: 5, delay: 200 },
      }),
    });
    expect(response.status).toBe(202);
    await expect
      .poll(async () => (await get(leaderRest, '/jobs/through-standby')).json.state, { timeout: 15_000 })
      .toBe('RUNNING');
    expect((await get(standbyRest, '/jobs/through-standby')).json.state).toBe('RUNNING');
  });

  it('serves the recovered job after the leading JobManager is SIGKILLed', async () => {
    processes[0]?.child.kill('SIGKILL');
    await expect
      .poll(
        async () => {
          const answer = await get(standbyRest, '/jobs/through-standby').catch(() => ({ status: 0, json: {} }));
          return answer.status === 200 ? answer.json.state : `HTTP ${answer.status}`;
        },
        { timeout: 40_000, interval: 250 },
      )
      .toBe('RUNNING');
    const checkpoints = (await get(standbyRest, '/jobs/through-standby/checkpoints')).json;
    await expect
      .poll(async () => (await get(standbyRest, '/jobs/through-standby/checkpoints')).json.counts.completed, {
        timeout: 15_000,
      })
      .toBeGreaterThan(checkpoints.counts.completed);
  }, 60_000);
});
