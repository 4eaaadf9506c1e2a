/**
 * The remote benchmark: the same workloads against the raw baseline, grpc-js, birpc over ws and flink-rpc, each
 * server and each client in its own process on 127.0.0.1. All processes start first and live for the whole run;
 * then every workload is measured in rounds, one short window per system per round, the systems taking turns (see
 * `../rounds.ts`), so that the ratios hold on a noisy machine.
 *
 *   npx tsx bench/remote/run.ts [--quick] [--only=raw,flink,echo1,...] [--rounds=N] [--cpu-prof]
 *
 * Prints the table and the flink-rpc target checks, and writes `bench/results/latest.json`. A system that cannot
 * start or connect is reported as not available; the others still run. No assertions, no exit code on targets.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineLoad, roundOrder } from '../rounds.js';
import type { ClientEvent } from './client-main.js';
import { type Child, endChild, installCleanupHandlers, isShuttingDown, startChild, stopChild } from './processes.js';
import {
  buildJson,
  checkTargets,
  formatTable,
  formatTargets,
  type RemoteRow,
  type SystemStatus,
  summarize,
} from './report.js';
import { SYSTEMS, type SystemSpec } from './systems.js';
import {
  type BenchTiming,
  ECHO_CONCURRENCY,
  FULL_ROUNDS,
  FULL_TIMING,
  QUICK_ROUNDS,
  QUICK_TIMING,
  type Result,
  type ServerInfo,
} from './types.js';
import { type WorkloadStep, workloadName, workloadSteps } from './workloads.js';

export interface RemoteBenchOptions {
  /** Short windows and 3 rounds: a smoke test, not a measurement (default false). */
  quick?: boolean;
  /** System ids to run (default all of `systems`). The baseline is always added: every ratio needs it. */
  only?: readonly string[];
  /** Workload keys to run: `echo1`, `echo16`, `echo256`, `tell`, `echo1MiB`, `echo8MiB` (default all). */
  workloads?: readonly string[];
  /** The systems to choose from (default {@link SYSTEMS}); variants of flink-rpc are added this way. */
  systems?: readonly SystemSpec[];
  /** Progress and the final report (default: stdout). */
  log?: (line: string) => void;
  /** Print the table and target checks through `log` (default true). */
  print?: boolean;
  /** Print the flink-rpc target checks (default true). */
  targets?: boolean;
  /** Where to write the JSON; `null` to skip (default `bench/results/latest.json`). */
  jsonPath?: string | null;
  /** Measured window of one echo or tell measurement in ms (default 400; 200 with `quick`); warm-up is a quarter. */
  windowMs?: number;
  /** Rounds per workload (default 7; 3 with `quick`). */
  rounds?: number;
  /** The system every ratio compares with (default `raw`); it always runs. */
  baseline?: string;
  /** Extra node flags for every server and client process (e.g. `--cpu-prof`, `--cpu-prof-dir=…`). */
  nodeArgs?: readonly string[];
}

export interface RemoteBenchOutcome {
  rows: RemoteRow[];
  /** Every measurement, with its round. */
  results: Result[];
}

export const DEFAULT_JSON_PATH = fileURLToPath(new URL('../results/latest.json', import.meta.url));

const SERVER_START_TIMEOUT_MS = 30_000;
/** How long the harness waits beyond a step's own budget before it gives up on a client process. */
const HARNESS_MARGIN_MS = 10_000;

export async function runRemoteBench(options: RemoteBenchOptions = {}): Promise<RemoteBenchOutcome> {
  const quick = options.quick ?? false;
  const timing = withWindow(quick ? QUICK_TIMING : FULL_TIMING, options.windowMs);
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const catalogue = options.systems ?? SYSTEMS;
  const unknown = (options.only ?? []).filter((id) => !catalogue.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new Error(`unknown system(s) ${unknown.join(', ')}; known: ${catalogue.map((s) => s.id)}`);
  const baseline = options.baseline ?? 'raw';
  const systems = catalogue.filter(
    (s) => options.only === undefined || s.id === baseline || options.only.includes(s.id),
  );
  const allSteps = workloadSteps(timing, ECHO_CONCURRENCY);
  const unknownSteps = (options.workloads ?? []).filter((key) => !allSteps.some((s) => s.key === key));
  if (unknownSteps.length > 0)
    throw new Error(`unknown workload(s) ${unknownSteps.join(', ')}; known: ${allSteps.map((s) => s.key)}`);
  const steps = allSteps.filter((s) => options.workloads === undefined || options.workloads.includes(s.key));
  const rounds = options.rounds ?? (quick ? QUICK_ROUNDS : FULL_ROUNDS);

  const removeHandlers = installCleanupHandlers();
  const live: LiveSystem[] = [];
  const results: Result[] = [];
  const statuses = new Map<string, SystemStatus>();
  const started = performance.now();
  try {
    log(`remote bench: starting ${systems.map((s) => s.label).join(', ')}`);
    // Start every system at once (process starts dominate on a slow machine); idle ones cost nothing later.
    const outcomes = await Promise.all(systems.map((system) => startSystem(system, timing, options.nodeArgs ?? [])));
    for (const outcome of outcomes) {
      const { system } = outcome;
      if ('reason' in outcome) {
        log(`  ${system.label}: not available (${outcome.reason})`);
        statuses.set(system.id, { ...system, available: false, reason: outcome.reason });
        for (const step of steps)
          results.push({
            system: system.id,
            workload: step.workload,
            concurrency: step.concurrency,
            status: 'unavailable',
            error: outcome.reason,
          });
      } else {
        statuses.set(system.id, { ...system, available: true });
        live.push(outcome);
      }
    }

    // The first measurement of a fresh process also pays for loading and compiling its code: one discarded round
    // of the first workload, so that the first counted round is not the slowest for a reason other than noise.
    const first = steps[0];
    if (first !== undefined && rounds > 1) {
      for (const system of live) await measure(system, first, -1);
      log(`  ${workloadName(first.workload, first.concurrency)}: one warm-up round (not counted)`);
    }
    for (const step of steps) {
      const name = workloadName(step.workload, step.concurrency);
      for (let round = 0; round < rounds; round++) {
        const line: string[] = [];
        for (const system of roundOrder(live, round)) {
          const result = await measure(system, step, round);
          results.push(result);
          line.push(`${system.system.label} ${shortFigure(result)}`);
        }
        log(`  ${name}, round ${round + 1}/${rounds}: ${line.join(', ')}`);
      }
    }
  } finally {
    await Promise.all(live.map((system) => stopSystem(system)));
    removeHandlers();
  }

  const rows = summarize(results, catalogue, rounds, baseline);
  const targets = checkTargets(results, rounds);
  const seconds = Math.round((performance.now() - started) / 1000);
  if (options.print ?? true) {
    log('');
    log(
      `remote RPC — ${quick ? 'quick' : 'full'} run, ${rounds} interleaved rounds per row (${timing.measureMs} ms ` +
        `windows), ${seconds} s, node ${process.version}, client and server processes on 127.0.0.1, ${machineLoad()}`,
    );
    log('figures: medians over the rounds; ratios: median of the per-round ratios (lowest–highest)');
    log(formatTable(rows, catalogue, baseline));
    log('');
    for (const s of statuses.values()) log(`  ${s.label}: ${s.notes}`);
    if (options.targets ?? true) {
      log('');
      log(formatTargets(targets, rows));
    }
  }
  const jsonPath = options.jsonPath === undefined ? DEFAULT_JSON_PATH : options.jsonPath;
  if (jsonPath !== null) {
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(
      jsonPath,
      `${JSON.stringify(buildJson(rows, results, [...statuses.values()], targets, { quick, timing, rounds }), null, 2)}\n`,
    );
    if (options.print ?? true) log(`\nwrote ${jsonPath}`);
  }
  return { rows, results };
}

/** A started system: its server, its client process (connected, waiting for commands) and its result stream. */
interface LiveSystem {
  system: SystemSpec;
  server: Child;
  client: Child;
  /** The answer the harness waits for, if any. */
  waiting: ((event: ClientEvent | { kind: 'exit'; code: number | null }) => void) | undefined;
  /** Set once the client process is gone or gave up: later measurements are errors with this reason. */
  broken: string | undefined;
}

async function startSystem(
  system: SystemSpec,
  timing: BenchTiming,
  nodeArgs: readonly string[],
): Promise<LiveSystem | { system: SystemSpec; reason: string }> {
  const dir = system.dir ?? system.id;
  const childOptions = (role: string) => ({
    nodeArgs,
    ...(system.env ? { env: system.env } : {}),
    profileName: `${system.id}-${role}`,
  });
  const server = startChild(`${dir}/server.ts`, [], childOptions('server'));
  let info: ServerInfo;
  try {
    info = await awaitServer(server);
  } catch (error) {
    await stopChild(server.process);
    return { system, reason: (error as Error).message };
  }
  const client = startChild(
    'client-main.ts',
    [dir, JSON.stringify(info), JSON.stringify(timing), JSON.stringify(ECHO_CONCURRENCY)],
    { ...childOptions('client'), nodeArgs: ['--expose-gc', ...nodeArgs] },
  );
  const live: LiveSystem = { system, server, client, waiting: undefined, broken: undefined };
  const ready = new Promise<ClientEvent | { kind: 'exit'; code: number | null }>((resolve) => {
    live.waiting = resolve;
  });
  client.lines((line) => {
    let event: ClientEvent;
    try {
      event = JSON.parse(line) as ClientEvent;
    } catch {
      return; // stray output of a library
    }
    const waiting = live.waiting;
    live.waiting = undefined;
    waiting?.(event);
  });
  void client.exited.then((code) => {
    live.broken ??= `client process exited with ${code}: ${lastLine(client.stderrTail())}`;
    const waiting = live.waiting;
    live.waiting = undefined;
    waiting?.({ kind: 'exit', code });
  });
  const first = await withTimeout(ready, 30_000);
  if (first?.kind === 'ready') return live;
  const reason =
    first === undefined
      ? 'the client did not connect within 30 s'
      : first.kind === 'unavailable'
        ? first.reason
        : `client process exited with ${'code' in first ? first.code : '?'}: ${lastLine(client.stderrTail())}`;
  await Promise.all([stopChild(client.process), stopChild(server.process)]);
  return { system, reason };
}

/** One measurement: asks the system's client process to run `step` and waits for its row. */
async function measure(live: LiveSystem, step: WorkloadStep, round: number): Promise<Result> {
  const base = { system: live.system.id, workload: step.workload, concurrency: step.concurrency, round };
  if (live.broken !== undefined) return { ...base, status: 'error', error: live.broken };
  const answer = new Promise<ClientEvent | { kind: 'exit'; code: number | null }>((resolve) => {
    live.waiting = resolve;
  });
  live.client.send(JSON.stringify({ step: step.key }));
  const event = await withTimeout(answer, step.budgetMs + HARNESS_MARGIN_MS);
  if (event === undefined) {
    live.broken = `no answer within ${step.budgetMs + HARNESS_MARGIN_MS} ms; client process killed`;
    live.waiting = undefined;
    await stopChild(live.client.process, 500);
    return { ...base, status: 'error', error: live.broken };
  }
  if (event.kind === 'result') return { ...event.result, system: live.system.id, round };
  if (event.kind === 'exit') return { ...base, status: 'error', error: live.broken ?? 'client process exited' };
  return { ...base, status: 'error', error: event.kind === 'unavailable' ? event.reason : `unexpected ${event.kind}` };
}

async function stopSystem(live: LiveSystem): Promise<void> {
  await endChild(live.client.process);
  await stopChild(live.server.process);
}

function withWindow(timing: BenchTiming, windowMs: number | undefined): BenchTiming {
  if (windowMs === undefined) return timing;
  return { ...timing, measureMs: windowMs, warmupMs: Math.max(20, Math.round(windowMs / 4)) };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the server's announcement, or rejects with why it did not come. */
function awaitServer(server: Child): Promise<ServerInfo> {
  return new Promise<ServerInfo>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not announce a port within ${SERVER_START_TIMEOUT_MS} ms`)),
      SERVER_START_TIMEOUT_MS,
    );
    server.lines((line) => {
      let message: ServerInfo & { error?: string };
      try {
        message = JSON.parse(line) as ServerInfo & { error?: string };
      } catch {
        return;
      }
      clearTimeout(timer);
      if (message.error !== undefined) reject(new Error(message.error));
      else if (Number.isInteger(message.port)) resolve(message);
      else reject(new Error(`server announced ${line}`));
    });
    void server.exited.then((code) => {
      clearTimeout(timer);
      // A no-op if the announcement came first; else the process died during startup (e.g. an import failed).
      reject(new Error(`server exited with ${code} during startup: ${lastLine(server.stderrTail()) || 'no output'}`));
    });
  });
}

/** The most telling line of a stack trace or log: the last `Error:`-like line, else the last line. */
function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return [...lines].reverse().find((l) => /(Error|Exception)\b/.test(l)) ?? lines.at(-1) ?? '';
}

/** A measurement in a few characters, for the progress lines. */
function shortFigure(result: Result): string {
  if (result.status !== 'ok') return result.status;
  if (result.mbPerSec !== undefined) return `${result.mbPerSec} MB/s`;
  const rate = result.opsPerSec ?? 0;
  return rate >= 10_000 ? `${Math.round(rate / 1000)}k/s` : `${rate}/s`;
}

/** Command line of this file (also used by `bench/run.ts`): system ids and workload keys may share `--only`. */
export function parseRemoteArgs(argv: readonly string[]): RemoteBenchOptions {
  const options: {
    quick?: boolean;
    only?: string[];
    workloads?: string[];
    rounds?: number;
    windowMs?: number;
    nodeArgs?: string[];
  } = {};
  const stepKeys = workloadSteps(QUICK_TIMING, ECHO_CONCURRENCY).map((s) => s.key);
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg.startsWith('--only=')) {
      for (const item of arg.slice('--only='.length).split(',').filter(Boolean)) {
        if (stepKeys.includes(item)) (options.workloads ??= []).push(item);
        else (options.only ??= []).push(item);
      }
    } else if (/^--rounds=[1-9]\d*$/.test(arg)) options.rounds = Number(arg.slice('--rounds='.length));
    else if (/^--window=[1-9]\d*$/.test(arg)) options.windowMs = Number(arg.slice('--window='.length));
    else if (arg === '--cpu-prof') options.nodeArgs = cpuProfArgs();
    else
      throw new Error(
        `unknown argument ${arg}; usage: run.ts [--quick] [--only=raw,grpc,birpc,flink,echo1,echo16,echo256,tell,` +
          'echo1MiB,echo8MiB] [--rounds=N] [--window=MS] [--cpu-prof]',
      );
  }
  // A profile is for flink-rpc: unless systems are named, profile it next to the raw baseline only.
  if (options.nodeArgs !== undefined && options.only === undefined) options.only = ['flink'];
  return options;
}

/** `--cpu-prof` into a fresh directory under `.tmp/prof/` (git-ignored), one profile per process, named after it. */
export function cpuProfArgs(): string[] {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = fileURLToPath(new URL(`../../.tmp/prof/${stamp}/`, import.meta.url));
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runRemoteBench(parseRemoteArgs(process.argv.slice(2))).catch((error: unknown) => {
    if (isShuttingDown()) return; // Ctrl-C: the signal handler stops the children and exits
    process.stderr.write(`remote bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
