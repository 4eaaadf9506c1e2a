/**
 * The workloads, identical for every system. They run in the client process against a `BenchClient`; the server
 * is another process. Each returns one measured row (without ratios, which the harness adds).
 */

import { type CpuMeter, cpuPerOp } from './cpu.js';
import { Histogram } from './histogram.js';
import { checkBuffer, checkId, checkPayload, makeBuffer, makePayload } from './payload.js';
import type { BenchClient, BenchTiming, Result } from './types.js';

type Measured = Omit<Result, 'system' | 'status' | 'ratioToRaw' | 'p50RatioToRaw'>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Closed-loop asks: `concurrency` slots each send the next echo as soon as their reply arrives. Warm-up first (JIT,
 * connection buffers), then a fixed window in which completed calls are counted and their latency recorded.
 */
export async function echoWorkload(
  client: BenchClient,
  concurrency: number,
  timing: BenchTiming,
  cpu: CpuMeter,
): Promise<Measured> {
  const probe = makePayload(0);
  checkPayload(probe, await client.echo(probe));

  const histogram = new Histogram();
  let phase: 'warmup' | 'measure' | 'stop' = 'warmup';
  let completed = 0;
  let nextId = 1;
  let fail!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {}); // observed through Promise.race below

  const slot = async (): Promise<void> => {
    while (phase !== 'stop') {
      const payload = makePayload(nextId++);
      const start = performance.now();
      const reply = await client.echo(payload);
      const elapsed = performance.now() - start;
      checkId(payload, reply);
      if (phase === 'measure') {
        histogram.recordMs(elapsed);
        completed++;
      }
    }
  };
  const slots = Array.from({ length: concurrency }, () => slot().catch(fail));

  await Promise.race([sleep(timing.warmupMs), failed]);
  phase = 'measure';
  const cpuStart = cpu();
  const start = performance.now();
  await Promise.race([sleep(timing.measureMs), failed]);
  phase = 'stop';
  const durationMs = performance.now() - start;
  const cpuEnd = cpu();
  await Promise.race([Promise.all(slots), failed]);

  return {
    workload: 'echo',
    concurrency,
    ops: completed,
    durationMs: round(durationMs),
    opsPerSec: Math.round((completed * 1000) / durationMs),
    p50Us: round(histogram.quantileUs(0.5)),
    p99Us: round(histogram.quantileUs(0.99)),
    ...cpuPerOp(cpuStart, cpuEnd, completed),
  };
}

/** Tells are sent in bursts of this many; between bursts the client waits for `writable()`. */
const TELL_BURST = 512;

async function sendTells(client: BenchClient, durationMs: number): Promise<number> {
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < TELL_BURST; i++) client.tell(makePayload(sent + i));
    sent += TELL_BURST;
    await client.writable();
  }
  return sent;
}

/**
 * Fire-and-forget throughput: tells in bursts for the measuring window, then one `count()` ask; the rate is the
 * number of tells over the time until that ask returns, so tells still queued at the client are paid for. The count
 * must match exactly (a transport that drops tells must not look fast).
 */
export async function tellWorkload(client: BenchClient, timing: BenchTiming, cpu: CpuMeter): Promise<Measured> {
  await sendTells(client, timing.warmupMs);
  await client.count();

  const before = await client.count();
  const cpuStart = cpu();
  const start = performance.now();
  const sent = await sendTells(client, timing.measureMs);
  const after = await client.count();
  const durationMs = performance.now() - start;
  const cpuEnd = cpu();
  if (after - before !== sent) throw new Error(`the server counted ${after - before} of ${sent} tells`);
  return {
    workload: 'tell',
    concurrency: 1,
    ops: sent,
    durationMs: round(durationMs),
    opsPerSec: Math.round((sent * 1000) / durationMs),
    ...cpuPerOp(cpuStart, cpuEnd, sent),
  };
}

/**
 * Sequential echo of one large Buffer (random bytes): a few warm-up calls, then calls until both the window has
 * passed and the minimum number of iterations is reached. MB/s counts the payload once per call.
 */
export async function bufferWorkload(
  client: BenchClient,
  sizeMiB: 1 | 8,
  timing: BenchTiming,
  cpu: CpuMeter,
): Promise<Measured> {
  const size = sizeMiB * 1024 * 1024;
  const data = makeBuffer(size);
  for (let i = 0; i < 2; i++) checkBuffer(data, await client.echoBuffer(data));

  const histogram = new Histogram();
  let iterations = 0;
  const cpuStart = cpu();
  const start = performance.now();
  while (iterations < timing.minBufferIterations || performance.now() - start < timing.bufferMeasureMs) {
    const callStart = performance.now();
    const reply = await client.echoBuffer(data);
    histogram.recordMs(performance.now() - callStart);
    checkBuffer(data, reply);
    iterations++;
  }
  const durationMs = performance.now() - start;
  const cpuEnd = cpu();
  return {
    workload: sizeMiB === 1 ? 'echo-1MiB' : 'echo-8MiB',
    concurrency: 1,
    ops: iterations,
    durationMs: round(durationMs),
    opsPerSec: round((iterations * 1000) / durationMs),
    mbPerSec: round((iterations * sizeMiB * 1000) / durationMs),
    p50Us: round(histogram.quantileUs(0.5)),
    p99Us: round(histogram.quantileUs(0.99)),
    ...cpuPerOp(cpuStart, cpuEnd, iterations),
  };
}

/** One workload to run, with a generous upper bound on its duration (a hung system must not hang the run). */
export interface WorkloadStep {
  /** Short id for the command line and the client protocol: `echo1`, `echo256`, `tell`, `echo1MiB`, `echo8MiB`. */
  key: string;
  workload: Result['workload'];
  concurrency: number;
  run: (client: BenchClient, cpu: CpuMeter) => Promise<Measured>;
  budgetMs: number;
}

/** The steps of one system's run, in order: echo at each concurrency, tell, 1 MiB, 8 MiB. */
export function workloadSteps(timing: BenchTiming, echoConcurrency: readonly number[]): WorkloadStep[] {
  const margin = 15_000;
  const windowMs = timing.warmupMs + timing.measureMs + margin;
  return [
    ...echoConcurrency.map(
      (concurrency): WorkloadStep => ({
        key: workloadKey('echo', concurrency),
        workload: 'echo',
        concurrency,
        run: (client, cpu) => echoWorkload(client, concurrency, timing, cpu),
        budgetMs: windowMs,
      }),
    ),
    {
      key: 'tell',
      workload: 'tell',
      concurrency: 1,
      run: (client, cpu) => tellWorkload(client, timing, cpu),
      budgetMs: windowMs,
    },
    {
      key: 'echo1MiB',
      workload: 'echo-1MiB',
      concurrency: 1,
      run: (client, cpu) => bufferWorkload(client, 1, timing, cpu),
      budgetMs: timing.bufferMeasureMs + margin,
    },
    {
      key: 'echo8MiB',
      workload: 'echo-8MiB',
      concurrency: 1,
      run: (client, cpu) => bufferWorkload(client, 8, timing, cpu),
      budgetMs: timing.bufferMeasureMs + margin,
    },
  ];
}

/** Human name of a row: `echo ×16`, `tell`, `echo 8 MiB`. */
export function workloadName(workload: Result['workload'], concurrency: number): string {
  if (workload === 'echo') return `echo ×${concurrency}`;
  if (workload === 'tell') return 'tell';
  return workload === 'echo-1MiB' ? 'echo 1 MiB' : 'echo 8 MiB';
}

/** The short id of a row: `echo1`, `echo16`, `echo256`, `tell`, `echo1MiB`, `echo8MiB`. */
export function workloadKey(workload: Result['workload'], concurrency: number): string {
  if (workload === 'echo') return `echo${concurrency}`;
  if (workload === 'tell') return 'tell';
  return workload === 'echo-1MiB' ? 'echo1MiB' : 'echo8MiB';
}
