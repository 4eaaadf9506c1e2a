import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser } from './browserSupport.js';
import { type RestFixture, sampleJobGraph, startRestFixture } from './restFixture.js';

// The dashboard in a real headless Chromium, over a fake Dispatcher whose state the test drives: every state the
// dashboard must show (restarting, failed with exceptions) is reached on cue.
let fixture: RestFixture;
let browser: Browser;

beforeAll(async () => {
  fixture = await startRestFixture({ refreshIntervalMs: 200 });
  fixture.dispatcher.cluster.addTaskManager('taskmanager-a', 2);
  fixture.dispatcher.cluster.addTaskManager('taskmanager-b', 2);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await fixture?.close();
});

const text = async (selector: string): Promise<string> =>
  ((await browser.page.locator(selector).first().textContent({ timeout: 5_000 })) ?? '').trim();

async function submit(graph: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${fixture.rest.url}/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(graph),
  });
  expect(response.status).toBe(202);
}

describe('dashboard (fake Dispatcher, real browser)', () => {
  it('shows the overview, a job that appears by itself, and the task managers', async () => {
    const { page } = browser;
    await page.goto(`${fixture.rest.url}/`);
    await expect.poll(() => text('[data-testid="taskmanagers-count"]')).toBe('2');
    await expect.poll(() => text('[data-testid="slots"]')).toBe('4 / 4');
    expect(await page.locator('[data-testid="no-jobs"]').count()).toBe(1);

    await submit(sampleJobGraph({ jobId: 'dash-job', name: 'dashboard job', checkpointing: { interval: 100 } }));
    await expect.poll(() => text('tr[data-job-id="dash-job"] [data-state]')).toBe('RUNNING');
    expect(await text('tr[data-job-id="dash-job"] .job-name')).toBe('dashboard job');
    expect(await page.locator('tr[data-tm-id]').count()).toBe(2);
  });

  it('the job page draws the vertices with their subtasks, and checkpoints advance', async () => {
    const { page } = browser;
    await page.locator('tr[data-job-id="dash-job"] .job-name').click();
    await expect.poll(() => page.url()).toContain('#/jobs/dash-job');
    await expect.poll(() => page.locator('g[data-vertex-id]').count()).toBe(2);
    expect(await page.locator('g[data-vertex-id="source"] rect[data-subtask-state="RUNNING"]').count()).toBe(2);
    expect(await page.locator('svg.graph path.edge').count()).toBe(1);
    const first = Number(await text('[data-testid="checkpoints-completed"]'));
    await expect.poll(async () => Number(await text('[data-testid="checkpoints-completed"]'))).toBeGreaterThan(first);
    expect(await page.locator('tr[data-checkpoint-id]').count()).toBeGreaterThan(0);
  });

  it('a restarting job shows it, with its restart count', async () => {
    fixture.dispatcher.cluster.setJobState('dash-job', 'RESTARTING', 'DEPLOYING');
    await expect.poll(() => text('[data-testid="job-state"]')).toBe('RESTARTING');
    await expect.poll(() => text('[data-testid="restarts"]')).toBe('1');
    expect(await browser.page.locator('rect[data-subtask-state="DEPLOYING"]').count()).toBe(4);
    await browser.screenshot('fake-job-restarting');
    fixture.dispatcher.cluster.setJobState('dash-job', 'RUNNING');
    await expect.poll(() => text('[data-testid="job-state"]')).toBe('RUNNING');
  });

  it('the cancel button cancels the job', async () => {
    const { page } = browser;
    await page.locator('[data-testid="cancel-job"]').click();
    await page.locator('[data-testid="confirm-cancel"]').click();
    await expect.poll(() => text('[data-testid="job-state"]')).toBe('CANCELED');
    expect(fixture.dispatcher.cluster.jobs.get('dash-job')?.state).toBe('CANCELED');
    expect(await page.locator('[data-testid="cancel-job"]').count()).toBe(0);
  });

  it('a failed job shows its exception; a lost task manager leaves the list', async () => {
    const { page } = browser;
    await submit(sampleJobGraph({ jobId: 'doomed', name: 'doomed job' }));
    fixture.dispatcher.cluster.failJob('doomed', 'division by zero in the operator');
    await page.goto(`${fixture.rest.url}/#/jobs/doomed`);
    await expect.poll(() => text('[data-testid="job-state"]')).toBe('FAILED');
    await expect.poll(() => text('#exceptions pre')).toContain('division by zero in the operator');

    await page.goto(`${fixture.rest.url}/#/taskmanagers`);
    await expect.poll(() => page.locator('tr[data-tm-id]').count()).toBe(2);
    fixture.dispatcher.cluster.removeTaskManager('taskmanager-b');
    await expect.poll(() => page.locator('tr[data-tm-id]').count()).toBe(1);
    expect(await page.locator('tr[data-tm-id="taskmanager-b"]').count()).toBe(0);
    expect(browser.pageErrors).toEqual([]);
  });

  it('says so when no JobManager leads, and recovers', async () => {
    const { page } = browser;
    await fixture.dispatcher.close();
    await expect.poll(() => text('.banner')).toContain('No JobManager leader');
    const { FakeDispatcherContender } = await import('./restFakeDispatcher.js');
    const standby = new FakeDispatcherContender(fixture.rpcService);
    await standby.start(fixture.haServices);
    try {
      await expect.poll(() => page.locator('.banner').count(), { timeout: 5_000 }).toBe(0);
    } finally {
      await standby.close();
    }
    // The 503s while no leader was elected are logged by Chromium as failed loads: expected here.
    browser.pageErrors.length = 0;
  });
});
