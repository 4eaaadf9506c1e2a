/**
 * `npm run bench:cluster`: the control plane at simulated scale on one machine. A JobManager process (standalone HA)
 * and 100 TaskManagers × 10 slots as RPC services in a few host processes:
 * - submit → all tasks RUNNING, for jobs of parallelism 100 and 1 000;
 * - a checkpoint round (trigger → completed, tiny state), p50/p90, at 100 and 1 000 tasks;
 * - how long the ResourceManager takes to notice a TaskManager that was SIGKILLed (connection gone) or SIGSTOPped
 *   (silent: only the heartbeat timeout finds it), against heartbeat timeout + interval;
 * - the JobManager process's CPU while 100, then (a separate run) 1 000 light TaskManagers heartbeat every second.
 * Prints a table. `-- --quick` runs fewer rounds; `-- --step-ms=N` sets how long a task's step takes (default 20).
 */

import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { DispatcherGateway } from '../src/cluster/gateways.js';
import { ClusterProcess } from '../src/cluster/process/childProcesses.js';
import { LocalProcessCluster } from '../src/cluster/process/LocalProcessCluster.js';
import type { JobGraph } from '../src/cluster/types.js';

const quick = process.argv.includes('--quick');
const HOST_MODULE = fileURLToPath(new URL('./cluster-taskmanager-host.ts', import.meta.url));
const HEARTBEAT_INTERVAL = 1_000;
const HEARTBEAT_TIMEOUT = 5_000;
/** A task's step delay: a task waiting it out snapshots at once when a checkpoint comes (the wait is interrupted). */
const STEP_MS = Number(process.argv.find((arg) => arg.startsWith('--step-ms='))?.slice('--step-ms='.length) ?? 20);
const CHECKPOINT_ROUNDS = quick ? 5 : 20;
const CLOCK_TICKS_PER_SECOND = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Row {
  readonly measure: string;
  readonly at100: string;
  readonly at1000: string;
  readonly target: string;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const loadBefore = loadavg()[0]!;
  const scale = await scaleRun();
  rows.push(
    {
      measure: 'submit → all tasks RUNNING',
      at100: ms(scale.submit[100]),
      at1000: ms(scale.submit[1000]),
      target: '< 1 s at 1 000',
    },
    {
      measure: 'checkpoint round p50 (trigger → completed)',
      at100: ms(scale.checkpointP50[100]),
      at1000: ms(scale.checkpointP50[1000]),
      target: '< 50 ms at 1 000',
    },
    {
      measure: "  the same, JobManager's own end_to_end_duration (last 10)",
      at100: ms(scale.coordinatorP50[100]),
      at1000: ms(scale.coordinatorP50[1000]),
      target: '',
    },
    {
      measure: 'checkpoint round p90',
      at100: ms(scale.checkpointP90[100]),
      at1000: ms(scale.checkpointP90[1000]),
      target: '',
    },
    {
      measure: 'JobManager CPU, TaskManagers heartbeating every 1 s',
      at100: pct(scale.cpu100),
      at1000: '(below)',
      target: '< 10 % of a core',
    },
  );
  const light = await lightRun();
  rows.push({
    measure: 'JobManager CPU, 1 000 light TaskManagers (separate run)',
    at100: '',
    at1000: pct(light.cpu),
    target: '< 10 % of a core',
  });
  process.stdout.write('\n## Control plane at scale (one machine, loopback, processes)\n\n');
  process.stdout.write(
    table(
      ['measure', '100 tasks / TMs', '1 000 tasks / TMs', 'target'],
      rows.map((r) => [r.measure, r.at100, r.at1000, r.target]),
    ),
  );
  process.stdout.write(
    `\nTaskManager loss (heartbeat interval ${HEARTBEAT_INTERVAL} ms, timeout ${HEARTBEAT_TIMEOUT} ms, ` +
      `timeout + interval = ${HEARTBEAT_TIMEOUT + HEARTBEAT_INTERVAL} ms), time until the ResourceManager dropped it:\n\n`,
  );
  process.stdout.write(
    table(
      ['how it died', 'detected after', 'within timeout + interval'],
      scale.loss.map((loss) => [
        loss.how,
        ms(loss.detectedMs),
        loss.detectedMs <= HEARTBEAT_TIMEOUT + HEARTBEAT_INTERVAL ? 'yes' : 'NO',
      ]),
    ),
  );
  process.stdout.write(
    `\n100 TaskManagers × 10 slots in 4 host processes (each TaskManager its own RpcService); light run: 1 000 ` +
      `TaskManagers × 1 slot in 5 host processes, 20 per RpcService. Tasks step every ${STEP_MS} ms (a task waiting for ` +
      `its next step snapshots at once). ${CHECKPOINT_ROUNDS} checkpoint rounds per size. ${cpus().length} cores; load average ` +
      `${loadBefore.toFixed(1)} before the run, ${loadavg()[0]!.toFixed(1)} after.\n`,
  );
}

/** 100 TaskManagers × 10 slots; jobs of 100 and 1 000 tasks; TaskManager loss detection. */
async function scaleRun() {
  log('scale run: starting a JobManager and 100 TaskManagers × 10 slots in 4 processes…');
  const cluster = await LocalProcessCluster.start({ taskManagers: 0, configuration: clusterSettings() });
  const hosts: ClusterProcess[] = [];
  try {
    for (let h = 0; h < 4; h++)
      hosts.push(startHost(cluster, { services: 25, perService: 1, slots: 10, prefix: `h${h}` }));
    await Promise.all(hosts.map((host) => host.ready));
    const dispatcher = await cluster.dispatcher();
    await waitUntil(
      '100 TaskManagers registered',
      async () => (await dispatcher.requestClusterOverview()).taskmanagers === 100,
      60_000,
    );
    log('  all 100 registered');
    await sleep(3_000);
    const cpu100 = await cpuOf(cluster.jobManagers[0]!.pid, 10_000);
    log(`  JobManager CPU with 100 TaskManagers: ${pct(cpu100)}`);

    const submit: Record<number, number> = {};
    const checkpointP50: Record<number, number> = {};
    const checkpointP90: Record<number, number> = {};
    const coordinatorP50: Record<number, number> = {};
    for (const parallelism of [100, 1_000]) {
      const { jobId, submitMs } = await submitAndWaitRunning(dispatcher, parallelism);
      submit[parallelism] = submitMs;
      log(`  parallelism ${parallelism}: submit → all RUNNING ${ms(submitMs)}`);
      const rounds: number[] = [];
      for (let i = 0; i < CHECKPOINT_ROUNDS + 2; i++) {
        const started = performance.now();
        await dispatcher.triggerCheckpoint(jobId, 30_000);
        if (i >= 2) rounds.push(performance.now() - started); // two warm-up rounds
      }
      const history = (await dispatcher.requestCheckpointStats(jobId)).history;
      coordinatorP50[parallelism] = percentile(
        history.filter((entry) => entry.status === 'COMPLETED').map((entry) => entry.end_to_end_duration),
        0.5,
      );
      checkpointP50[parallelism] = percentile(rounds, 0.5);
      checkpointP90[parallelism] = percentile(rounds, 0.9);
      log(
        `  parallelism ${parallelism}: checkpoint p50 ${ms(checkpointP50[parallelism])}, p90 ${ms(checkpointP90[parallelism])}`,
      );
      await dispatcher.cancelJob(jobId);
      await waitUntil(
        'job cancelled and slots free',
        async () => {
          const overview = await dispatcher.requestClusterOverview();
          return (
            (await dispatcher.requestJobStatus(jobId)) === 'CANCELED' &&
            overview['slots-available'] === overview['slots-total']
          );
        },
        60_000,
      );
    }

    const loss: { how: string; detectedMs: number }[] = [];
    for (const how of ['SIGKILL', 'SIGSTOP'] as const) {
      const victim = startHost(cluster, { services: 1, perService: 1, slots: 1, prefix: `victim-${how}` });
      await victim.ready;
      await waitUntil(
        'the victim registered',
        async () => (await dispatcher.requestClusterOverview()).taskmanagers === 101,
        30_000,
      );
      const killedAt = performance.now();
      victim.kill(how);
      await waitUntil(
        'the victim dropped',
        async () => (await dispatcher.requestClusterOverview()).taskmanagers === 100,
        60_000,
        10,
      );
      loss.push({
        how: how === 'SIGKILL' ? 'SIGKILL (connection closed)' : 'SIGSTOP (silent)',
        detectedMs: performance.now() - killedAt,
      });
      log(`  ${how}: dropped after ${ms(loss.at(-1)!.detectedMs)}`);
      victim.kill('SIGKILL');
      await victim.exited;
    }
    return { submit, checkpointP50, checkpointP90, coordinatorP50, cpu100, loss };
  } finally {
    await Promise.all(hosts.map((host) => host.stop()));
    await cluster.close();
  }
}

/** 1 000 light TaskManagers (20 per RpcService) heartbeating every second: the JobManager's CPU. */
async function lightRun() {
  log('light run: a JobManager and 1 000 TaskManagers × 1 slot in 5 processes…');
  const cluster = await LocalProcessCluster.start({ taskManagers: 0, configuration: clusterSettings() });
  const hosts: ClusterProcess[] = [];
  try {
    for (let h = 0; h < 5; h++)
      hosts.push(startHost(cluster, { services: 10, perService: 20, slots: 1, prefix: `l${h}` }));
    await Promise.all(hosts.map((host) => host.ready));
    const dispatcher = await cluster.dispatcher();
    await waitUntil(
      '1 000 TaskManagers registered',
      async () => (await dispatcher.requestClusterOverview()).taskmanagers === 1_000,
      120_000,
    );
    log('  all 1 000 registered');
    await sleep(5_000);
    const cpu = await cpuOf(cluster.jobManagers[0]!.pid, quick ? 5_000 : 15_000);
    log(`  JobManager CPU: ${pct(cpu)}`);
    return { cpu };
  } finally {
    await Promise.all(hosts.map((host) => host.stop()));
    await cluster.close();
  }
}

function clusterSettings(): Record<string, string> {
  return {
    'heartbeat.interval': `${HEARTBEAT_INTERVAL} ms`,
    'heartbeat.timeout': `${HEARTBEAT_TIMEOUT} ms`,
    'cluster.registration.max-timeout': '5 s',
    'slot.request.timeout': '60 s',
    'pekko.ask.timeout': '30 s',
  };
}

function startHost(
  cluster: LocalProcessCluster,
  layout: { services: number; perService: number; slots: number; prefix: string },
): ClusterProcess {
  const settings = cluster.configuration().toMap();
  return new ClusterProcess(
    'taskmanager',
    [JSON.stringify({ settings, ...layout })],
    {
      name: `host ${layout.prefix}`,
      module: HOST_MODULE,
      env: { FLINK_RPC_LOG_LEVEL: 'error' },
    },
    120_000,
  );
}

async function submitAndWaitRunning(dispatcher: DispatcherGateway, parallelism: number) {
  const job: JobGraph = {
    name: `bench p=${parallelism}`,
    vertices: [{ id: 'noop', parallelism, operator: 'noop', config: { steps: 1_000_000_000, stepDelayMs: STEP_MS } }],
    // Checkpoints only when the benchmark triggers them.
    checkpointing: { interval: 3_600_000, timeout: 30_000 },
    restartStrategy: { type: 'none' },
  };
  const started = performance.now();
  const jobId = await dispatcher.submitJob(job, 30_000);
  await waitUntil(
    `${parallelism} tasks running`,
    async () => (await dispatcher.listJobs()).find((overview) => overview.jid === jobId)?.tasks.RUNNING === parallelism,
    60_000,
    // Each poll makes the JobManager build the job's overview: not too often, or the poll slows what it measures.
    50,
  );
  return { jobId, submitMs: performance.now() - started };
}

/** CPU of process `pid` over `windowMs`, as a fraction of one core. */
async function cpuOf(pid: number, windowMs: number): Promise<number> {
  const read = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  };
  const before = read();
  const started = performance.now();
  await sleep(windowMs);
  return (read() - before) / ((performance.now() - started) / 1_000);
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, pollMs = 50): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet answerable
    }
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await sleep(pollMs);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function ms(value: number | undefined): string {
  return value === undefined ? '' : value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |\n`;
  return line(header) + line(widths.map((w) => '-'.repeat(w))) + rows.map(line).join('');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:cluster failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
