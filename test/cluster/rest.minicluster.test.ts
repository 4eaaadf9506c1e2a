import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniCluster } from '../../src/cluster/minicluster/MiniCluster.js';
import { type RestServerHandle, startRestServer } from '../../src/cluster/rest/index.js';

// The REST API over a real control plane: a MiniCluster's Dispatcher, JobMasters and TaskExecutors.
let cluster: MiniCluster;
let rest: RestServerHandle;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flink-rpc-rest-mini-'));
  cluster = new MiniCluster({
    taskManagers: 2,
    slotsPerTaskManager: 2,
    configuration: { heartbeatInterval: 200, heartbeatTimeout: 1_000, checkpointStorageDir: join(dir, 'checkpoints') },
  });
  await cluster.start();
  rest = await startRestServer({ rpcService: cluster.getRpcService(), haServices: cluster.getHaServices(), port: 0 });
});

afterAll(async () => {
  await rest?.close();
  await cluster?.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(rest.url + path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

function generatorJob(jobId: string, records: number, stepDelayMs: number): Record<string, unknown> {
  return {
    jobId,
    name: `generator ${jobId}`,
    vertices: [
      {
        id: 'gen',
        parallelism: 2,
        operator: 'generator',
        config: { records, recordsPerStep: 10, stepDelayMs, output: join(dir, jobId) },
      },
    ],
    checkpointing: { interval: 100 },
  };
}

describe('REST API over a MiniCluster', () => {
  it('runs a submitted job to FINISHED, with checkpoints and task counts under Flink names', async () => {
    expect((await call('GET', '/overview')).json).toMatchObject({ taskmanagers: 2, 'slots-total': 4 });
    expect(await call('POST', '/jobs', generatorJob('short', 400, 5))).toEqual({
      status: 202,
      json: { jobid: 'short' },
    });
    await expect.poll(async () => (await call('GET', '/jobs/short')).json.state, { timeout: 15_000 }).toBe('FINISHED');
    const details = (await call('GET', '/jobs/short')).json;
    expect(details.vertices[0]).toMatchObject({ id: 'gen', parallelism: 2, status: 'FINISHED' });
    expect(details['status-counts'].FINISHED).toBe(2);
    const checkpoints = (await call('GET', '/jobs/short/checkpoints')).json;
    expect(checkpoints.counts.completed).toBeGreaterThan(0);
    expect((await call('GET', '/overview')).json['jobs-finished']).toBe(1);
  });

  it('refuses invalid graphs and duplicates with the validation message (400 / 409)', async () => {
    const invalid = await call('POST', '/jobs', {
      name: 'bad',
      vertices: [{ id: 'v', parallelism: 0, operator: 'generator' }],
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json.errors[0]).toMatch(/parallelism/);
    const unknownOperator = await call('POST', '/jobs', {
      name: 'bad',
      vertices: [{ id: 'v', parallelism: 1, operator: 'nope' }],
    });
    expect(unknownOperator.status).toBe(400);
    expect(unknownOperator.json.errors[0]).toMatch(/nope/);
    const duplicate = await call('POST', '/jobs', generatorJob('short', 400, 5));
    expect(duplicate.status).toBe(409);
    expect((await call('GET', '/jobs/not-a-job')).status).toBe(404);
    expect((await call('PATCH', '/jobs/not-a-job?mode=cancel')).status).toBe(404);
  });

  it('cancels a running job (PATCH mode=cancel) and frees its slots; metrics follow', async () => {
    await call('POST', '/jobs', generatorJob('long', 10_000_000, 20));
    await expect.poll(async () => (await call('GET', '/jobs/long')).json.state, { timeout: 10_000 }).toBe('RUNNING');
    const metrics = await (await fetch(`${rest.url}/metrics`)).text();
    expect(metrics).toContain('flink_jobmanager_numRunningJobs 1');
    expect(metrics).toContain('flink_jobmanager_numRegisteredTaskManagers 2');
    expect(metrics).toMatch(/flink_jobmanager_job_numRestarts\{job_id="long",job_name="generator long"\} 0/);

    expect((await call('PATCH', '/jobs/long?mode=cancel')).status).toBe(202);
    await expect.poll(async () => (await call('GET', '/jobs/long')).json.state, { timeout: 10_000 }).toBe('CANCELED');
    await expect
      .poll(async () => (await call('GET', '/overview')).json['slots-available'], { timeout: 10_000 })
      .toBe(4);
    const after = await (await fetch(`${rest.url}/metrics`)).text();
    expect(after).toContain('flink_jobmanager_numRunningJobs 0');
    expect(after).not.toContain('job_id="long"');
  });

  it('lists task managers with their slots, and a lost one disappears', async () => {
    const { taskmanagers } = (await call('GET', '/taskmanagers')).json;
    expect(taskmanagers).toHaveLength(2);
    expect(taskmanagers[0]).toMatchObject({ slotsNumber: 2 });
    expect((await call('GET', `/taskmanagers/${taskmanagers[0].id}`)).json.id).toBe(taskmanagers[0].id);
    await cluster.terminateTaskManager(1);
    await expect
      .poll(async () => (await call('GET', '/taskmanagers')).json.taskmanagers.length, { timeout: 10_000 })
      .toBe(1);
  });
});
