import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { type RestFixture, sampleJobGraph, startRestFixture } from './cluster/restFixture.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** Starts the CLI in this process; its output can be watched while it runs. */
function startCli(args: string[], signal?: AbortSignal): { stdout: Capture; stderr: Capture; code: Promise<number> } {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = runCli(
    args,
    { stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream },
    signal,
  );
  return { stdout, stderr, code };
}

async function cli(args: string[], signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  const started = startCli(args, signal);
  const code = await started.code;
  return { code, stdout: started.stdout.text, stderr: started.stderr.text };
}

let fixture: RestFixture;
let dir: string;
let jobFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flink-rpc-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  fixture = await startRestFixture();
  fixture.dispatcher.cluster.addTaskManager('tm-1', 4);
  jobFile = join(dir, 'job.json');
  await writeFile(jobFile, JSON.stringify(sampleJobGraph({ jobId: 'cli-job', checkpointing: { interval: 30 } })));
});
afterEach(async () => {
  await fixture.close();
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('flink-rpc CLI', () => {
  it('--help works on every command and exits 0', async () => {
    for (const command of ['run', 'list', 'cancel', 'minicluster', 'jobmanager', 'taskmanager', 'demo']) {
      const { code, stdout } = await cli([command, '--help']);
      expect(code, command).toBe(0);
      expect(stdout, command).toContain(`Usage: flink-rpc ${command}`);
    }
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/run \[options\] <job\.json>/);
  });

  it('wrong usage exits 2 with a clear message', async () => {
    const unknown = await cli(['run', jobFile, '--bogus']);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option '--bogus'") });
    const missing = await cli(['run']);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining("missing required argument 'job.json'") });
    const badNumber = await cli(['run', jobFile, '--interval', 'soon']);
    expect(badNumber).toMatchObject({ code: 2, stderr: expect.stringContaining('expected a positive integer') });
    const badCommand = await cli(['launch']);
    expect(badCommand.code).toBe(2);
    expect((await cli([])).code).toBe(2);
    const badAddress = await cli(['list', '-m', 'not an address']);
    expect(badAddress).toMatchObject({ code: 2, stderr: expect.stringContaining('Invalid JobManager address') });
  });

  it('an unreachable cluster is an error (exit 1) that says what to do', async () => {
    const { code, stderr } = await cli(['list', '-m', `127.0.0.1:${await closedPort()}`]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/Could not reach the JobManager at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
    expect(stderr).toContain('flink-rpc jobmanager');
  });

  it('run --detached prints the job id at once', async () => {
    const { code, stdout } = await cli(['run', jobFile, '--detached', '-m', fixture.rest.url]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('cli-job');
    expect(fixture.dispatcher.cluster.jobs.get('cli-job')?.state).toBe('RUNNING');
  });

  it('run follows the job with progress and exits 0 when it finishes', async () => {
    const run = startCli(['run', jobFile, '--interval', '20', '-m', fixture.rest.url]);
    // Each state change waits until the progress view has shown the previous one (no race with the poll interval).
    await expect.poll(() => run.stdout.text).toMatch(/RUNNING \| tasks: 4 RUNNING \| checkpoints: \d+ \| restarts: 0/);
    fixture.dispatcher.cluster.setJobState('cli-job', 'RESTARTING', 'DEPLOYING');
    await expect.poll(() => run.stdout.text).toMatch(/RESTARTING \| tasks: 4 DEPLOYING .*restarts: 1/);
    fixture.dispatcher.cluster.setJobState('cli-job', 'RUNNING');
    await expect.poll(() => run.stdout.text).toMatch(/RUNNING \| tasks: 4 RUNNING .*restarts: 1/);
    fixture.dispatcher.cluster.setJobState('cli-job', 'FINISHED');
    expect(await run.code).toBe(0);
    expect(run.stderr.text).toContain('submitted with id cli-job');
    expect(run.stdout.text).toMatch(/Job cli-job FINISHED after .* \(1 restarts\)/);
  });

  it('run counts the records committed by the generator sinks it can read', async () => {
    const output = join(dir, 'output');
    await mkdir(output, { recursive: true });
    await writeFile(join(output, 'part-source-0-1.txt'), '0\n2\n4\n');
    await writeFile(join(output, 'part-source-1-1.txt'), '1\n3\n');
    const graph = sampleJobGraph({ jobId: 'counted' });
    (graph.vertices as { config?: Record<string, unknown> }[])[0]!.config = { records: 100, output };
    const file = join(dir, 'counted.json');
    await writeFile(file, JSON.stringify(graph));
    setTimeout(() => fixture.dispatcher.cluster.setJobState('counted', 'FINISHED'), 150);
    const { code, stdout } = await cli(['run', file, '--interval', '50', '-m', fixture.rest.url]);
    expect(stdout).toMatch(/records committed: 5/);
    expect(stdout).toMatch(/Job counted FINISHED after .* \(0 restarts, 5 records committed\)/);
    expect(code).toBe(0);
  });

  it('run exits 1 and prints the root cause when the job fails', async () => {
    setTimeout(() => fixture.dispatcher.cluster.failJob('cli-job', 'the operator threw on purpose'), 150);
    const { code, stderr } = await cli(['run', jobFile, '--interval', '50', '-m', fixture.rest.url]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/Job cli-job FAILED/);
    expect(stderr).toContain('Root cause:');
    expect(stderr).toContain('the operator threw on purpose');
  });

  it('run stops following on Ctrl-C and says how to cancel', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const { code, stderr } = await cli(['run', jobFile, '--interval', '50', '-m', fixture.rest.url], controller.signal);
    expect(code).toBe(130);
    expect(stderr).toContain('flink-rpc cancel cli-job');
    expect(fixture.dispatcher.cluster.jobs.get('cli-job')?.state).toBe('RUNNING');
  });

  it('run rides out a JobManager that is briefly unreachable, and gives up after --unavailable-timeout', async () => {
    const run = startCli(['run', jobFile, '--interval', '20', '--unavailable-timeout', '400', '-m', fixture.rest.url]);
    await expect.poll(() => run.stdout.text).toMatch(/RUNNING \| tasks: 4 RUNNING/);
    await fixture.dispatcher.close(); // no Dispatcher leader: 503 for a while
    await expect.poll(() => run.stdout.text).toMatch(/\(The Dispatcher leader is not available: .*; retrying\)/);
    expect(await run.code).toBe(1);
    expect(run.stderr.text).toMatch(/no Dispatcher leader right now \(HTTP 503\)/);
  });

  it('run refuses bad job files and shows the JobManager refusal', async () => {
    const missing = await cli(['run', join(dir, 'nope.json'), '-m', fixture.rest.url]);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('Cannot read the job graph file') });
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ "name": ');
    expect((await cli(['run', broken, '-m', fixture.rest.url])).stderr).toContain('is not valid JSON');
    const empty = join(dir, 'empty.json');
    await writeFile(empty, JSON.stringify({ name: 'empty', vertices: [] }));
    const refused = await cli(['run', empty, '-m', fixture.rest.url]);
    expect(refused).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('(HTTP 400): The job graph has no vertices.'),
    });
  });

  it('list shows running jobs (and --all the others); cancel cancels', async () => {
    await cli(['run', jobFile, '--detached', '-m', fixture.rest.url]);
    const listed = await cli(['list', '-m', fixture.rest.url]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/JOB ID\s+STATE\s+DURATION\s+TASKS\s+NAME/);
    expect(listed.stdout).toMatch(/cli-job\s+RUNNING\s+.*4 RUNNING\s+exactly-once generator/);

    const cancelled = await cli(['cancel', 'cli-job', '-m', fixture.rest.url]);
    expect(cancelled).toMatchObject({ code: 0, stdout: 'Cancellation of job cli-job requested.\n' });
    expect(fixture.dispatcher.cluster.jobs.get('cli-job')?.state).toBe('CANCELED');
    expect((await cli(['list', '-m', fixture.rest.url])).stdout).toContain('No running jobs');
    expect((await cli(['list', '--all', '-m', fixture.rest.url])).stdout).toMatch(/cli-job\s+CANCELED/);

    const unknown = await cli(['cancel', 'no-such-job', '-m', fixture.rest.url]);
    expect(unknown).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('(HTTP 404): Could not find Flink job (no-such-job)'),
    });
  });

  it('process commands refuse bad configuration with exit 2 before starting anything', async () => {
    const badValue = await cli(['jobmanager', '-Dheartbeat.interval=soon']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain('heartbeat.interval');
    const badFlag = await cli(['taskmanager', '--bogus', '1']);
    expect(badFlag).toMatchObject({ code: 2, stderr: expect.stringContaining('--bogus') });
    const badDefine = await cli(['minicluster', '-D', 'novalue']);
    expect(badDefine).toMatchObject({ code: 2, stderr: expect.stringContaining('expected key=value') });
  });

  it('minicluster serves the REST API and dashboard until Ctrl-C, then exits 0', async () => {
    const controller = new AbortController();
    const mini = startCli(['minicluster', '-t', '1', '-s', '2', '--rest-port', '0'], controller.signal);
    const ready = /REST API and dashboard at (http:\/\/\S+)/;
    await expect.poll(() => mini.stdout.text, { timeout: 15_000 }).toMatch(ready);
    const url = ready.exec(mini.stdout.text)?.[1] as string;
    expect(mini.stdout.text).toContain('MiniCluster ready: 1 TaskManagers × 2 slots');
    await expect
      .poll(async () => ((await (await fetch(`${url}/overview`)).json()) as { taskmanagers: number }).taskmanagers)
      .toBe(1);
    const listed = await cli(['list', '-m', url]);
    expect(listed).toMatchObject({ code: 0, stdout: expect.stringContaining('No running jobs') });
    controller.abort();
    expect(await mini.code).toBe(0);
    expect(mini.stdout.text).toContain('MiniCluster shutting down');
    await expect(fetch(`${url}/overview`)).rejects.toThrow();
  });

  it('the installed launcher runs the CLI (exit codes reach the shell)', async () => {
    const run = promisify(execFile);
    const help = await run(process.execPath, ['bin/flink-rpc.js', 'list', '--help'], {
      env: { ...process.env, FLINK_RPC_CLI_FROM_SOURCE: '1' },
    });
    expect(help.stdout).toContain('Usage: flink-rpc list');
    const usage = await run(process.execPath, ['bin/flink-rpc.js', 'list', '--nope'], {
      env: { ...process.env, FLINK_RPC_CLI_FROM_SOURCE: '1' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option '--nope'") });
  });
});
