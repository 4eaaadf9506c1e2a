/**
 * The remote benchmark: the same workloads against the raw baseline, grpc-js, birpc over ws and
 * flink-rpc, each server and each client in its own process on 127.0.0.1, one system at a time.
 *
 *   npx tsx bench/remote/run.ts [--quick] [--only=raw,grpc,birpc,flink] [--rounds=N]
 *
 * Prints the table and the flink-rpc target checks, and writes `bench/results/latest.json`. A system that cannot
 * start or connect is reported as not available; the others still run. No assertions, no exit code on targets.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ClientEvent } from './client-main.js';
import { installCleanupHandlers, isShuttingDown, startChild, stopChild } from './processes.js';
import {
  addRatios,
  buildJson,
  checkTargets,
  formatTable,
  formatTargets,
  type SystemStatus,
  sortResults,
} from './report.js';
import { SYSTEMS, type SystemSpec } from './systems.js';
import {
  type BenchTiming,
  ECHO_CONCURRENCY,
  FULL_TIMING,
  QUICK_TIMING,
  type Result,
  type ServerInfo,
} from './types.js';
import { workloadSteps } from './workloads.js';

export interface RemoteBenchOptions {
  /** ~0.5 s windows instead of ~2.5 s (default false). */
  quick?: boolean;
  /** System ids to run (default all: raw, grpc, birpc, flink). */
  only?: readonly string[];
  /** Progress and the final report (default: stdout). */
  log?: (line: string) => void;
  /** Print the table and target checks through `log` (default true). */
  print?: boolean;
  /** Where to write the JSON; `null` to skip (default `bench/results/latest.json`). */
  jsonPath?: string | null;
  /**
   * Passes over all systems (default 2 for a full run, 1 for a quick one). Each row keeps its best pass: on a shared
   * machine, other work only ever makes a system slower, so the best pass is the least disturbed. The second pass
   * runs the systems in reverse order, so that slow spells do not always hit the same one.
   */
  rounds?: number;
}

export const DEFAULT_JSON_PATH = fileURLToPath(new URL('../results/latest.json', import.meta.url));

const SERVER_START_TIMEOUT_MS = 30_000;

export async function runRemoteBench(options: RemoteBenchOptions = {}): Promise<Result[]> {
  const quick = options.quick ?? false;
  const timing = quick ? QUICK_TIMING : FULL_TIMING;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const unknown = (options.only ?? []).filter((id) => !SYSTEMS.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new Error(`unknown system(s) ${unknown.join(', ')}; known: ${SYSTEMS.map((s) => s.id)}`);
  const systems = SYSTEMS.filter((s) => options.only === undefined || options.only.includes(s.id));

  const rounds = options.rounds ?? (quick ? 1 : 2);
  const removeHandlers = installCleanupHandlers();
  const passes: Result[][] = [];
  const statuses = new Map<string, SystemStatus>();
  try {
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? systems : [...systems].reverse();
      for (const system of order) {
        // A system that could not start will not start on the next pass either.
        if (statuses.get(system.id)?.available === false) continue;
        if (rounds > 1) log(`remote bench: ${system.label}, pass ${round} of ${rounds}`);
        else log(`remote bench: ${system.label}`);
        const rows = await benchSystem(system, timing, log);
        passes.push(rows);
        const unavailable = rows.find((r) => r.status === 'unavailable');
        statuses.set(
          system.id,
          unavailable
            ? { ...system, available: false, reason: unavailable.error ?? '' }
            : { ...system, available: true },
        );
      }
    }
  } finally {
    removeHandlers();
  }
  const results = bestOf(passes);

  addRatios(results);
  sortResults(results, SYSTEMS);
  const targets = checkTargets(results);
  if (options.print ?? true) {
    log('');
    log(
      `remote RPC benchmark — ${quick ? 'quick' : 'full'} run, ${rounds > 1 ? `best of ${rounds} passes, ` : ''}` +
        `node ${process.version}, client and server processes on 127.0.0.1`,
    );
    log(formatTable(results, SYSTEMS));
    log('');
    for (const s of statuses.values()) log(`  ${s.label}: ${s.notes}`);
    log('');
    log(formatTargets(targets, results));
  }
  const jsonPath = options.jsonPath === undefined ? DEFAULT_JSON_PATH : options.jsonPath;
  if (jsonPath !== null) {
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(
      jsonPath,
      `${JSON.stringify(buildJson(results, [...statuses.values()], targets, { quick, timing, rounds }), null, 2)}\n`,
    );
    if (options.print ?? true) log(`\nwrote ${jsonPath}`);
  }
  return results;
}

/** Per row (system, workload, concurrency): the successful pass with the highest throughput, else the first. */
function bestOf(passes: readonly Result[][]): Result[] {
  const best = new Map<string, Result>();
  const score = (r: Result) => (r.status === 'ok' ? (r.mbPerSec ?? r.opsPerSec ?? 0) : -1);
  for (const rows of passes) {
    for (const row of rows) {
      const key = `${row.system}/${row.workload}/${row.concurrency}`;
      const current = best.get(key);
      if (current === undefined || score(row) > score(current)) best.set(key, row);
    }
  }
  return [...best.values()];
}

/** Runs one system: its server, then its client process; always stops both. */
async function benchSystem(system: SystemSpec, timing: BenchTiming, log: (line: string) => void): Promise<Result[]> {
  const steps = workloadSteps(timing, ECHO_CONCURRENCY);
  const unavailable = (reason: string): Result[] =>
    steps.map(({ workload, concurrency }) => ({
      system: system.id,
      workload,
      concurrency,
      status: 'unavailable',
      error: reason,
    }));

  const server = startChild(`${system.id}/server.ts`);
  try {
    let info: ServerInfo;
    try {
      info = await awaitServer(server);
    } catch (error) {
      log(`  ${system.label}: not available (${(error as Error).message})`);
      return unavailable((error as Error).message);
    }

    const client = startChild('client-main.ts', [
      system.id,
      JSON.stringify(info),
      JSON.stringify(timing),
      JSON.stringify(ECHO_CONCURRENCY),
    ]);
    const rows: Result[] = [];
    let unavailableReason: string | undefined;
    client.lines((line) => {
      let event: ClientEvent;
      try {
        event = JSON.parse(line) as ClientEvent;
      } catch {
        return; // stray output of a library
      }
      if (event.kind === 'unavailable') unavailableReason = event.reason;
      if (event.kind !== 'result') return;
      const row: Result = { system: system.id, ...event.result };
      rows.push(row);
      log(`  ${describeRow(row)}`);
    });

    // The client enforces a budget per workload; this bounds the whole process in case it hangs anyway.
    const budgetMs = steps.reduce((sum, step) => sum + step.budgetMs, 30_000);
    const timer = setTimeout(() => {
      log(`  ${system.label}: client process exceeded ${budgetMs} ms, killing it`);
      void stopChild(client.process, 500);
    }, budgetMs);
    const code = await client.exited;
    clearTimeout(timer);

    if (unavailableReason !== undefined && rows.length === 0) {
      log(`  ${system.label}: not available (${unavailableReason})`);
      return unavailable(unavailableReason);
    }
    // Rows the client never reported (it crashed or stopped after a timeout) still appear, as errors.
    const crashed =
      code === 0
        ? 'not run: an earlier workload timed out'
        : `client process exited with ${code}: ${lastLine(client.stderrTail())}`;
    for (const { workload, concurrency } of steps) {
      if (!rows.some((r) => r.workload === workload && r.concurrency === concurrency)) {
        rows.push({ system: system.id, workload, concurrency, status: 'error', error: crashed });
      }
    }
    return rows;
  } finally {
    await stopChild(server.process);
  }
}

/** Resolves with the server's announcement, or rejects with why it did not come. */
function awaitServer(server: ReturnType<typeof startChild>): Promise<ServerInfo> {
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

function describeRow(row: Result): string {
  const name = row.workload === 'echo' ? `echo ×${row.concurrency}` : row.workload;
  if (row.status !== 'ok') return `${name}: ${row.status} (${row.error})`;
  const rate = row.mbPerSec !== undefined ? `${row.mbPerSec} MB/s` : `${row.opsPerSec?.toLocaleString('en-US')}/s`;
  const latency = row.p50Us !== undefined ? `, p50 ${row.p50Us} µs, p99 ${row.p99Us} µs` : '';
  const cpu = row.cpuUsPerOp !== undefined ? `, CPU ${row.cpuUsPerOp} µs/op` : '';
  return `${name}: ${rate}${latency}${cpu}`;
}

function parseArgs(argv: readonly string[]): RemoteBenchOptions {
  const options: { quick?: boolean; only?: string[]; rounds?: number } = {};
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg.startsWith('--only=')) options.only = arg.slice('--only='.length).split(',').filter(Boolean);
    else if (/^--rounds=[1-9]\d*$/.test(arg)) options.rounds = Number(arg.slice('--rounds='.length));
    else throw new Error(`unknown argument ${arg}; usage: run.ts [--quick] [--only=raw,grpc,birpc,flink] [--rounds=N]`);
  }
  return options;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runRemoteBench(parseArgs(process.argv.slice(2))).catch((error: unknown) => {
    if (isShuttingDown()) return; // Ctrl-C: the signal handler stops the children and exits
    process.stderr.write(`remote bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
