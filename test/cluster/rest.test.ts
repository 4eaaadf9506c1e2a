import { Counter, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RestFixture, sampleJobGraph, startRestFixture } from './restFixture.js';

let fixture: RestFixture;

beforeEach(async () => {
  fixture = await startRestFixture({ refreshIntervalMs: 1_234 });
  fixture.dispatcher.cluster.addTaskManager('tm-1', 4);
  fixture.dispatcher.cluster.addTaskManager('tm-2', 4);
});

afterEach(async () => {
  await fixture.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(fixture.rest.url + path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

describe('REST API over the Dispatcher leader (Flink paths and JSON names)', () => {
  it('GET /config tells the dashboard its refresh interval', async () => {
    const { status, json } = await call('GET', '/config');
    expect(status).toBe(200);
    expect(json['refresh-interval']).toBe(1_234);
    expect(json['flink-version']).toMatch(/^flink-rpc/);
  });

  it('GET /overview reports task managers and slots', async () => {
    const { status, json } = await call('GET', '/overview');
    expect(status).toBe(200);
    expect(json).toMatchObject({ taskmanagers: 2, 'slots-total': 8, 'slots-available': 8, 'jobs-running': 0 });
  });

  it('POST /jobs submits a job graph and answers 202 with its id; the job shows everywhere', async () => {
    const submitted = await call('POST', '/jobs', sampleJobGraph({ jobId: 'job-a' }));
    expect(submitted).toEqual({ status: 202, json: { jobid: 'job-a' } });

    const overview = await call('GET', '/jobs/overview');
    expect(overview.json.jobs).toEqual([
      expect.objectContaining({ jid: 'job-a', name: 'exactly-once generator', state: 'RUNNING' }),
    ]);
    expect(overview.json.jobs[0].tasks).toMatchObject({ RUNNING: 4, total: 4 });
    expect((await call('GET', '/jobs')).json).toEqual({ jobs: [{ id: 'job-a', status: 'RUNNING' }] });

    const details = await call('GET', '/jobs/job-a');
    expect(details.status).toBe(200);
    expect(details.json.vertices.map((v: { id: string; parallelism: number }) => [v.id, v.parallelism])).toEqual([
      ['source', 2],
      ['sink', 2],
    ]);
    expect(details.json.plan.nodes[1].inputs).toEqual([{ id: 'source' }]);
    expect((await call('GET', '/overview')).json['jobs-running']).toBe(1);
  });

  it('GET /jobs/:id/checkpoints and /exceptions answer with Flink field names', async () => {
    await call('POST', '/jobs', sampleJobGraph({ jobId: 'job-b', checkpointing: { interval: 20 } }));
    await new Promise((resolve) => setTimeout(resolve, 70));
    const checkpoints = await call('GET', '/jobs/job-b/checkpoints');
    expect(checkpoints.status).toBe(200);
    expect(checkpoints.json.counts.completed).toBeGreaterThanOrEqual(2);
    expect(checkpoints.json.latest.completed).toMatchObject({
      status: 'COMPLETED',
      end_to_end_duration: expect.any(Number),
    });

    fixture.dispatcher.cluster.failJob('job-b', 'operator exploded');
    const exceptions = await call('GET', '/jobs/job-b/exceptions');
    expect(exceptions.status).toBe(200);
    expect(exceptions.json['root-exception']).toContain('operator exploded');
    expect(exceptions.json.exceptionHistory.entries).toHaveLength(1);
  });

  it('PATCH /jobs/:id?mode=cancel cancels the job (202)', async () => {
    await call('POST', '/jobs', sampleJobGraph({ jobId: 'job-c' }));
    const cancelled = await call('PATCH', '/jobs/job-c?mode=cancel');
    expect(cancelled.status).toBe(202);
    expect((await call('GET', '/jobs/job-c')).json.state).toBe('CANCELED');
    expect((await call('GET', '/overview')).json['jobs-cancelled']).toBe(1);
  });

  it('GET /taskmanagers and /taskmanagers/:id list slots and heartbeats', async () => {
    const list = await call('GET', '/taskmanagers');
    expect(list.json.taskmanagers.map((tm: { id: string }) => tm.id)).toEqual(['tm-1', 'tm-2']);
    expect(list.json.taskmanagers[0]).toMatchObject({ slotsNumber: 4, freeSlots: 4 });
    expect(Date.now() - list.json.taskmanagers[0].timeSinceLastHeartbeat).toBeLessThan(5_000);
    const one = await call('GET', '/taskmanagers/tm-2');
    expect(one).toMatchObject({ status: 200, json: { id: 'tm-2' } });
  });

  it('GET /metrics renders Flink metric names in Prometheus text, computed at scrape time', async () => {
    await call('POST', '/jobs', sampleJobGraph({ jobId: 'job-m', name: 'metered', checkpointing: { interval: 10 } }));
    await new Promise((resolve) => setTimeout(resolve, 40));
    fixture.dispatcher.cluster.setJobState('job-m', 'RESTARTING');
    fixture.dispatcher.cluster.setJobState('job-m', 'RUNNING');
    const response = await fetch(`${fixture.rest.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('flink_jobmanager_numRegisteredTaskManagers 2');
    expect(text).toContain('flink_jobmanager_numRunningJobs 1');
    expect(text).toContain('flink_jobmanager_taskSlotsTotal 8');
    expect(text).toMatch(/flink_jobmanager_taskSlotsAvailable \d+/);
    expect(text).toContain('flink_jobmanager_job_numRestarts{job_id="job-m",job_name="metered"} 1');
    expect(text).toMatch(
      /flink_jobmanager_job_numberOfCompletedCheckpoints\{job_id="job-m",job_name="metered"\} [1-9]/,
    );
    expect(text).toMatch(/flink_jobmanager_job_lastCheckpointDuration\{job_id="job-m",job_name="metered"\} \d+/);
    expect(text).toContain('flink_jobmanager_job_numberOfFailedCheckpoints{job_id="job-m",job_name="metered"} 0');

    // A task manager lost and the job finished: the next scrape shows it, and the job's series are gone.
    fixture.dispatcher.cluster.removeTaskManager('tm-2');
    fixture.dispatcher.cluster.setJobState('job-m', 'FINISHED');
    const after = await (await fetch(`${fixture.rest.url}/metrics`)).text();
    expect(after).toContain('flink_jobmanager_numRegisteredTaskManagers 1');
    expect(after).toContain('flink_jobmanager_numRunningJobs 0');
    expect(after).not.toContain('job_id="job-m"');
  });

  it("GET /metrics also serves registries handed to the server (such as the RPC layer's)", async () => {
    const registry = new Registry();
    new Counter({ name: 'flink_rpc_test_calls_total', help: 'calls', registers: [registry] }).inc(3);
    const other = await startRestFixture({ metricRegistries: [registry] });
    try {
      const text = await (await fetch(`${other.rest.url}/metrics`)).text();
      expect(text).toContain('flink_jobmanager_numRegisteredTaskManagers 0');
      expect(text).toContain('flink_rpc_test_calls_total 3');
    } finally {
      await other.close();
    }
  });

  it('serves the dashboard and the view library as ES modules from the installed packages', async () => {
    const page = await fetch(`${fixture.rest.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('"preact": "/vendor/preact.mjs"');
    for (const path of ['/vendor/preact.mjs', '/vendor/preact-hooks.mjs', '/vendor/htm.mjs', '/web/app.js']) {
      const response = await fetch(fixture.rest.url + path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toContain('text/javascript');
    }
  });

  it('answers 503 while no Dispatcher leads, and recovers when one is elected again', async () => {
    await fixture.dispatcher.close();
    const unavailable = await call('GET', '/overview');
    expect(unavailable.status).toBe(503);
    expect(unavailable.json.errors[0]).toMatch(/Dispatcher leader is not available/);

    const { FakeDispatcherContender } = await import('./restFakeDispatcher.js');
    const standby = new FakeDispatcherContender(fixture.rpcService);
    await standby.start(fixture.haServices);
    try {
      await expect.poll(async () => (await call('GET', '/overview')).status, { timeout: 5_000 }).toBe(200);
    } finally {
      await standby.close();
    }
  });
});
