/**
 * From the measurements of every round to the printed table: per row (system, workload) the median of each figure
 * over the rounds, and the ratios to the raw baseline taken within each round, as a median and a spread. Also the
 * issue's targets for flink-rpc and the JSON document.
 */

import { cpus, loadavg } from 'node:os';
import { formatRatio, median, roundRatios, roundSpread, type Spread, spread, textTable } from '../rounds.js';
import type { SystemSpec } from './systems.js';
import type { BenchTiming, Result, Workload } from './types.js';
import { workloadName } from './workloads.js';

const WORKLOAD_ORDER: Workload[] = ['echo', 'tell', 'echo-1MiB', 'echo-8MiB'];

/** One row of the table: a system on a workload, summarised over the rounds. */
export interface RemoteRow {
  system: string;
  workload: Workload;
  concurrency: number;
  /** `ok` when at least one round measured it. */
  status: 'ok' | 'error' | 'unavailable';
  error?: string;
  /** Rounds that measured it. */
  rounds: number;
  /** Medians over the rounds. */
  opsPerSec?: number;
  mbPerSec?: number;
  p50Us?: number;
  p99Us?: number;
  cpuUsPerOp?: number;
  clientCpuUsPerOp?: number;
  serverCpuUsPerOp?: number;
  /** Throughput ÷ raw's in the same round: median and spread over the rounds. */
  ratioToRaw?: Spread;
  /** p50 ÷ raw's p50 in the same round (lower is better). */
  p50RatioToRaw?: Spread;
  /** CPU µs per op ÷ raw's in the same round (lower is better). */
  cpuRatioToRaw?: Spread;
}

const rowKey = (system: string, workload: Workload, concurrency: number) => `${system}/${workload}/${concurrency}`;

/** The row's throughput measure: MB/s for buffers (same ratio as calls/s, clearer to read), else ops/s. */
function throughput(result: Result | RemoteRow): number | undefined {
  return result.mbPerSec ?? result.opsPerSec;
}

/** Per (system, workload, concurrency): that row's figure in each round (undefined where it was not measured). */
function byRound(
  results: readonly Result[],
  rounds: number,
  pick: (r: Result) => number | undefined,
): Map<string, (number | undefined)[]> {
  const map = new Map<string, (number | undefined)[]>();
  for (const r of results) {
    if (r.status !== 'ok' || r.round === undefined) continue;
    const key = rowKey(r.system, r.workload, r.concurrency);
    let values = map.get(key);
    if (values === undefined) map.set(key, (values = new Array<number | undefined>(rounds).fill(undefined)));
    values[r.round] = pick(r);
  }
  return map;
}

/** Summarises the measurements of all rounds into table rows, sorted by workload, concurrency, then `systems`. */
export function summarize(
  results: readonly Result[],
  systems: readonly SystemSpec[],
  rounds: number,
  baseline = 'raw',
): RemoteRow[] {
  const tput = byRound(results, rounds, throughput);
  const p50 = byRound(results, rounds, (r) => r.p50Us);
  const cpu = byRound(results, rounds, (r) => r.cpuUsPerOp);
  const rows = new Map<string, RemoteRow>();
  for (const r of results) {
    const key = rowKey(r.system, r.workload, r.concurrency);
    const mine = results.filter((x) => rowKey(x.system, x.workload, x.concurrency) === key);
    if (rows.has(key)) continue;
    const ok = mine.filter((x) => x.status === 'ok');
    if (ok.length === 0) {
      const failed = mine.find((x) => x.status === 'unavailable') ?? mine[0]!;
      rows.set(key, {
        system: r.system,
        workload: r.workload,
        concurrency: r.concurrency,
        status: failed.status,
        rounds: 0,
        ...(failed.error === undefined ? {} : { error: failed.error }),
      });
      continue;
    }
    const med = (pick: (x: Result) => number | undefined, digits = 1) => {
      const value = median(ok.map(pick));
      return value === undefined ? undefined : Math.round(value * 10 ** digits) / 10 ** digits;
    };
    const row: RemoteRow = {
      system: r.system,
      workload: r.workload,
      concurrency: r.concurrency,
      status: 'ok',
      rounds: ok.length,
    };
    assign(
      row,
      'opsPerSec',
      med((x) => x.opsPerSec, 0),
    );
    assign(
      row,
      'mbPerSec',
      med((x) => x.mbPerSec),
    );
    assign(
      row,
      'p50Us',
      med((x) => x.p50Us),
    );
    assign(
      row,
      'p99Us',
      med((x) => x.p99Us),
    );
    assign(
      row,
      'cpuUsPerOp',
      med((x) => x.cpuUsPerOp, 2),
    );
    assign(
      row,
      'clientCpuUsPerOp',
      med((x) => x.clientCpuUsPerOp, 2),
    );
    assign(
      row,
      'serverCpuUsPerOp',
      med((x) => x.serverCpuUsPerOp, 2),
    );
    const rawKey = rowKey(baseline, r.workload, r.concurrency);
    const versus = (map: Map<string, (number | undefined)[]>) =>
      roundSpread(spread(roundRatios(map.get(key) ?? [], map.get(rawKey) ?? [])));
    if (r.system !== baseline) {
      assign(row, 'ratioToRaw', versus(tput));
      assign(row, 'p50RatioToRaw', versus(p50));
      assign(row, 'cpuRatioToRaw', versus(cpu));
    }
    rows.set(key, row);
  }
  const systemIndex = (id: string) => systems.findIndex((s) => s.id === id);
  return [...rows.values()].sort(
    (a, b) =>
      WORKLOAD_ORDER.indexOf(a.workload) - WORKLOAD_ORDER.indexOf(b.workload) ||
      a.concurrency - b.concurrency ||
      systemIndex(a.system) - systemIndex(b.system),
  );
}

function assign<K extends keyof RemoteRow>(row: RemoteRow, key: K, value: RemoteRow[K] | undefined): void {
  if (value !== undefined) row[key] = value;
}

const integer = (n: number) => Math.round(n).toLocaleString('en-US');
const decimal = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n)
    ? ''
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function formatThroughput(row: RemoteRow): string {
  if (row.mbPerSec !== undefined) return `${decimal(row.mbPerSec)} MB/s`;
  return `${integer(row.opsPerSec ?? 0)} ${row.workload === 'tell' ? 'tells/s' : 'calls/s'}`;
}

/** CPU µs per op of both processes, then the client's and the server's share. */
function formatCpu(row: RemoteRow): string {
  if (row.cpuUsPerOp === undefined)
    return row.clientCpuUsPerOp === undefined ? '' : `client ${decimal(row.clientCpuUsPerOp, 2)}`;
  const digits = row.cpuUsPerOp >= 1000 ? 0 : row.cpuUsPerOp >= 100 ? 1 : 2;
  return `${decimal(row.cpuUsPerOp, digits)} (${decimal(row.clientCpuUsPerOp, digits)} + ${decimal(row.serverCpuUsPerOp, digits)})`;
}

export function formatTable(rows: readonly RemoteRow[], systems: readonly SystemSpec[], baseline = 'raw'): string {
  const label = (id: string) => systems.find((s) => s.id === id)?.label ?? id;
  const versus = baseline === 'raw' ? 'raw' : label(baseline);
  const lines: string[][] = [
    [
      'workload',
      'system',
      'throughput',
      'p50 µs',
      'p99 µs',
      'CPU µs/op (client + server)',
      `× ${versus}`,
      `p50 × ${versus}`,
      `CPU × ${versus}`,
    ],
  ];
  const unavailable = new Map<string, string>();
  const errors: string[] = [];
  for (const r of rows) {
    if (r.status === 'unavailable') {
      unavailable.set(r.system, r.error ?? 'unknown reason');
      continue;
    }
    const name = workloadName(r.workload, r.concurrency);
    if (r.status === 'error') {
      // The message goes below the table, so that one long error does not widen every row.
      errors.push(`[${errors.length + 1}] ${label(r.system)}, ${name}: ${r.error ?? 'unknown error'}`);
      lines.push([name, label(r.system), `error [${errors.length}]`]);
      continue;
    }
    lines.push([
      name,
      label(r.system),
      formatThroughput(r),
      decimal(r.p50Us),
      decimal(r.p99Us),
      formatCpu(r),
      formatRatio(r.ratioToRaw),
      formatRatio(r.p50RatioToRaw),
      formatRatio(r.cpuRatioToRaw),
    ]);
  }
  let text = textTable(lines, [false, false, true, true, true, true, true, true, true]);
  for (const error of errors) text += `\n${error}`;
  for (const [system, reason] of unavailable) text += `\n${label(system)}: not available (${reason})`;
  return text;
}

export interface TargetCheck {
  target: string;
  /** The ratio within each round: median and spread. */
  value?: Spread;
  /** CPU µs per op of flink-rpc divided by the other system's, within each round (a second opinion). */
  cpuRatio?: Spread;
  /** Judged on the median. */
  status: 'met' | 'not met' | 'not measured';
}

/**
 * The performance targets for `system` (flink-rpc), judged on the median of the per-round ratios. Ratios compare
 * throughput (MB/s for 8 MiB) unless the target is about p50.
 */
export function checkTargets(results: readonly Result[], rounds: number, system = 'flink'): TargetCheck[] {
  const defs: { target: string; workload: Workload; concurrency: number; versus: string; p50?: true; goal: number }[] =
    [
      { target: 'echo ×256 throughput ≥ 0.85× raw', workload: 'echo', concurrency: 256, versus: 'raw', goal: 0.85 },
      { target: 'echo ×1 p50 ≤ 1.1× raw', workload: 'echo', concurrency: 1, versus: 'raw', p50: true, goal: 1.1 },
      { target: 'tell throughput ≥ 0.8× raw', workload: 'tell', concurrency: 1, versus: 'raw', goal: 0.8 },
      { target: 'echo 8 MiB MB/s ≥ 0.8× raw', workload: 'echo-8MiB', concurrency: 1, versus: 'raw', goal: 0.8 },
      { target: 'echo ×256 throughput ≥ 3× birpc', workload: 'echo', concurrency: 256, versus: 'birpc', goal: 3 },
      { target: 'echo ×256 throughput ≥ 25× grpc-js', workload: 'echo', concurrency: 256, versus: 'grpc', goal: 25 },
    ];
  const tput = byRound(results, rounds, throughput);
  const p50s = byRound(results, rounds, (r) => r.p50Us);
  const cpu = byRound(results, rounds, (r) => r.cpuUsPerOp);
  return defs.map(({ target, workload, concurrency, versus, p50, goal }) => {
    const mine = rowKey(system, workload, concurrency);
    const theirs = rowKey(versus, workload, concurrency);
    const map = p50 ? p50s : tput;
    const value = roundSpread(spread(roundRatios(map.get(mine) ?? [], map.get(theirs) ?? [])));
    if (value === undefined) return { target, status: 'not measured' };
    const status = (p50 ? value.median <= goal : value.median >= goal) ? 'met' : 'not met';
    const cpuRatio = roundSpread(spread(roundRatios(cpu.get(mine) ?? [], cpu.get(theirs) ?? [])));
    return cpuRatio === undefined ? { target, value, status } : { target, value, status, cpuRatio };
  });
}

export function formatTargets(checks: readonly TargetCheck[], rows: readonly RemoteRow[]): string {
  const lines = ['flink-rpc targets (median ratio over the rounds, lowest–highest):'];
  const width = Math.max(...checks.map((c) => c.target.length));
  const values = checks.map((c) => formatRatio(c.value));
  const valueWidth = Math.max(...values.map((v) => v.length));
  checks.forEach((check, i) => {
    const cpu = check.cpuRatio === undefined ? '' : `   CPU per op: ${formatRatio(check.cpuRatio)}`;
    lines.push(
      `  ${check.target.padEnd(width)}  ${values[i]!.padStart(valueWidth)}  ${check.status.padEnd(12)}${cpu}`.trimEnd(),
    );
  });
  // Whether the peer targets are reachable at all: the raw baseline's own margin over the peers.
  const raw = rows.find((r) => r.system === 'raw' && r.workload === 'echo' && r.concurrency === 256);
  const peers: string[] = [];
  for (const [peer, label] of [
    ['birpc', 'birpc'],
    ['grpc', 'grpc-js'],
  ] as const) {
    const other = rows.find((r) => r.system === peer && r.workload === 'echo' && r.concurrency === 256);
    const a = raw && throughput(raw);
    const b = other && throughput(other);
    if (a !== undefined && b !== undefined && b > 0) peers.push(`${decimal(a / b, 1)}× ${label}`);
  }
  if (peers.length > 0) lines.push(`  (for reference, raw itself reaches ${peers.join(' and ')} at 256 in flight)`);
  return lines.join('\n');
}

export interface SystemStatus extends SystemSpec {
  available: boolean;
  reason?: string;
}

export function buildJson(
  rows: readonly RemoteRow[],
  results: readonly Result[],
  systems: readonly SystemStatus[],
  targets: readonly TargetCheck[],
  options: { quick: boolean; timing: BenchTiming; rounds: number },
): object {
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpuCount: cpus().length,
    loadAverage: loadavg(),
    quick: options.quick,
    timing: options.timing,
    rounds: options.rounds,
    method:
      'client and server in separate processes on 127.0.0.1 (one client and one server process per system, alive for ' +
      'the whole run); each workload is measured in rounds, one short window per system per round, the systems taking ' +
      'turns (each round starts one system later); ratios are taken within a round and reported as the median over ' +
      'the rounds with the lowest and highest; echo: closed loop with N calls in flight, warm-up then a fixed window; ' +
      'tell: bursts of 512 until the window ends, then one count ask (rate = tells / time until it returns); buffers: ' +
      'sequential echo of random bytes, MB/s counted once',
    systems,
    rows,
    targets,
    measurements: results,
  };
}
