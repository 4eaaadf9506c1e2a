import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type CliProcess, freePort, launchBrowser, spawnCli } from './browserSupport.js';

// The dashboard of a real cluster in a real headless Chromium: a JobManager process (with the REST server) and two
// TaskManager processes started through the `flink-rpc` command, a job submitted with `flink-rpc run --detached`.
const HEARTBEAT = ['-Dheartbeat.interval=200', '-Dheartbeat.timeout=2000'];

let dir: string;
let jobManager: CliProcess;
const taskManagers = new Map<string, CliProcess>();
let restUrl: string;
let browser: Browser;
let jobId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flink-rpc-browser-'));
  const rpcPort = await freePort();
  const common = [`-Djobmanager.rpc.port=${rpcPort}`, '-Djobmanager.rpc.address=127.0.0.1', ...HEARTBEAT];
  jobManager = spawnCli([
    'jobmanager',
    ...common,
    '--rest-port',
    '0',
    '-Dweb.refresh-interval=250',
    `-Dstate.checkpoints.dir=${join(dir, 'checkpoints')}`,
  ]);
  restUrl = (await jobManager.waitFor(/REST API and dashboard at (http:\/\/\S+)/))[1] as string;
  for (let i = 0; i < 2; i++) {
    const process = spawnCli(['taskmanager', '--slots', '3', ...common]);
    const id = (await process.waitFor(/TaskManager (\S+) ready/))[1] as string;
    taskManagers.set(id, process);
  }
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([...taskManagers.values()].map((process) => process.stop()));
  await jobManager?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const text = async (selector: string): Promise<string> =>
  ((await browser.page.locator(selector).first().textContent({ timeout: 5_000 })) ?? '').trim();

const rest = async <T>(path: string): Promise<T> => (await (await fetch(restUrl + path)).json()) as T;

describe('dashboard of a real cluster (JobManager and TaskManager processes, headless Chromium)', () => {
  it('shows both TaskManagers, then the job submitted with the CLI, reaching RUNNING', async () => {
    const { page } = browser;
    await page.goto(`${restUrl}/`);
    await expect.poll(() => text('[data-testid="taskmanagers-count"]'), { timeout: 15_000 }).toBe('2');
    await expect.poll(() => text('[data-testid="slots"]')).toBe('6 / 6');

    const jobFile = join(dir, 'job.json');
    await writeFile(
      jobFile,
      JSON.stringify({
        name: 'exactly-once generator',
        vertices: [
          {
            id: 'generator',
            name: 'Generator → transactional file sink',
            parallelism: 2,
            operator: 'generator',
            config: { records: 10_000_000, recordsPerStep: 10, stepDelayMs: 20, output: join(dir, 'output') },
          },
          {
            id: 'audit',
            name: 'Audit',
            parallelism: 1,
            operator: 'noop',
            config: { steps: 10_000_000, stepDelayMs: 50 },
            inputs: ['generator'],
          },
        ],
        checkpointing: { interval: 300 },
        restartStrategy: { type: 'fixed-delay', attempts: 5, delay: 200 },
      }),
    );
    const run = spawnCli(['run', jobFile, '--detached', '-m', restUrl]);
    jobId = (await run.waitFor(/^([0-9a-f]{32})$/m))[1] as string;
    await run.stop();

    await expect
      .poll(() => text(`tr[data-job-id="${jobId}"] .job-name`), { timeout: 10_000 })
      .toBe('exactly-once generator');
    await expect.poll(() => text(`tr[data-job-id="${jobId}"] [data-state]`), { timeout: 10_000 }).toBe('RUNNING');
    await expect.poll(() => text('[data-testid="slots"]')).toBe('3 / 6');
  });

  it('the job page shows its subtasks running and checkpoints advancing', async () => {
    const { page } = browser;
    await page.locator(`tr[data-job-id="${jobId}"] .job-name`).click();
    await expect
      .poll(() => page.locator('g[data-vertex-id="generator"] rect[data-subtask-state="RUNNING"]').count(), {
        timeout: 10_000,
      })
      .toBe(2);
    await expect
      .poll(async () => Number(await text('[data-testid="checkpoints-completed"]')), { timeout: 10_000 })
      .toBeGreaterThan(0);
    const seen = Number(await text('[data-testid="checkpoints-completed"]'));
    await expect
      .poll(async () => Number(await text('[data-testid="checkpoints-completed"]')), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(seen + 2);
    await browser.screenshot('cluster-job-running');
  });

  it('a SIGKILLed TaskManager vanishes from the list, and the job shows its restart', async () => {
    const { page } = browser;
    const details = await rest<{ vertices: { subtasks: { 'taskmanager-id'?: string }[] }[] }>(`/jobs/${jobId}`);
    const victim = details.vertices[0]?.subtasks[0]?.['taskmanager-id'] as string;
    expect(taskManagers.has(victim)).toBe(true);

    await page.goto(`${restUrl}/#/taskmanagers`);
    await expect.poll(() => page.locator('tr[data-tm-id]').count(), { timeout: 10_000 }).toBe(2);
    taskManagers.get(victim)?.child.kill('SIGKILL');
    await expect.poll(() => page.locator(`tr[data-tm-id="${victim}"]`).count(), { timeout: 20_000 }).toBe(0);
    expect(await page.locator('tr[data-tm-id]').count()).toBe(1);

    await page.goto(`${restUrl}/#/jobs/${jobId}`);
    await expect
      .poll(async () => Number(await text('[data-testid="restarts"]')), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(1);
    await expect.poll(() => text('[data-testid="job-state"]'), { timeout: 20_000 }).toBe('RUNNING');
    await expect
      .poll(() => page.locator('g[data-vertex-id="generator"] rect[data-subtask-state="RUNNING"]').count(), {
        timeout: 20_000,
      })
      .toBe(2);
    // Checkpoints go on after the restore.
    const after = Number(await text('[data-testid="checkpoints-completed"]'));
    await expect
      .poll(async () => Number(await text('[data-testid="checkpoints-completed"]')), { timeout: 10_000 })
      .toBeGreaterThan(after);
    await browser.screenshot('cluster-job-after-failover');
  });

  it('the cancel button cancels the job', async () => {
    const { page } = browser;
    await page.locator('[data-testid="cancel-job"]').click();
    await page.locator('[data-testid="confirm-cancel"]').click();
    await expect.poll(() => text('[data-testid="job-state"]'), { timeout: 15_000 }).toBe('CANCELED');
    expect((await rest<{ state: string }>(`/jobs/${jobId}`)).state).toBe('CANCELED');
    await page.goto(`${restUrl}/`);
    await expect.poll(() => text('[data-testid="jobs-cancelled"]'), { timeout: 10_000 }).toBe('1');
    await expect.poll(() => text('[data-testid="slots"]'), { timeout: 10_000 }).toBe('3 / 3');
    await browser.screenshot('cluster-overview');
    expect(browser.pageErrors).toEqual([]);
  });
});
