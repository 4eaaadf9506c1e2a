/** Ratios, the printed table, the targets for flink-rpc, and the JSON document. */

import { cpus } from 'node:os';
import type { SystemSpec } from './systems.js';
import type { BenchTiming, Result, Workload } from './types.js';
import { workloadName } from './workloads.js';

const WORKLOAD_ORDER: Workload[] = ['echo', 'tell', 'echo-1MiB', 'echo-8MiB'];

function find(results: readonly Result[], system: string, workload: Workload, concurrency: number) {
  return results.find(
    (r) => r.system === system && r.workload === workload && r.concurrency === concurrency && r.status === 'ok',
  );
}

/** The row's throughput measure: MB/s for buffers (same ratio as calls/s, clearer to read), else ops/s. */
function throughput(result: Result): number | undefined {
  return result.mbPerSec ?? result.opsPerSec;
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(b > 0) ? undefined : Math.round((a / b) * 1000) / 1000;

/** Fills `ratioToRaw` and `p50RatioToRaw` of every successful row that has a raw counterpart. */
export function addRatios(results: Result[]): void {
  for (const result of results) {
    const raw = find(results, 'raw', result.workload, result.concurrency);
    if (result.status !== 'ok' || raw === undefined) continue;
    result.ratioToRaw = ratio(throughput(result), throughput(raw));
    const p50 = ratio(result.p50Us, raw.p50Us);
    if (p50 !== undefined) result.p50RatioToRaw = p50;
    const cpu = ratio(result.cpuUsPerOp, raw.cpuUsPerOp);
    if (cpu !== undefined) result.cpuRatioToRaw = cpu;
  }
}

/** Sorted by workload, concurrency, then the order of `systems`. */
export function sortResults(results: Result[], systems: readonly SystemSpec[]): Result[] {
  const systemIndex = (id: string) => systems.findIndex((s) => s.id === id);
  return results.sort(
    (a, b) =>
      WORKLOAD_ORDER.indexOf(a.workload) - WORKLOAD_ORDER.indexOf(b.workload) ||
      a.concurrency - b.concurrency ||
      systemIndex(a.system) - systemIndex(b.system),
  );
}

const integer = (n: number) => Math.round(n).toLocaleString('en-US');
const decimal = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n)
    ? ''
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const times = (value: number | undefined) => (value === undefined ? '' : `${decimal(value, 2)}×`);

function formatThroughput(result: Result): string {
  if (result.mbPerSec !== undefined) return `${decimal(result.mbPerSec)} MB/s`;
  return `${integer(result.opsPerSec ?? 0)} ${result.workload === 'tell' ? 'tells/s' : 'calls/s'}`;
}

function table(rows: string[][], alignRight: boolean[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (alignRight[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatTable(results: readonly Result[], systems: readonly SystemSpec[]): string {
  const label = (id: string) => systems.find((s) => s.id === id)?.label ?? id;
  const rows: string[][] = [
    ['workload', 'system', 'throughput', 'p50 µs', 'p99 µs', 'CPU µs/op', '× raw', 'p50 × raw', 'CPU × raw'],
  ];
  const unavailable = new Map<string, string>();
  const errors: string[] = [];
  for (const r of results) {
    if (r.status === 'unavailable') {
      unavailable.set(r.system, r.error ?? 'unknown reason');
      continue;
    }
    const name = workloadName(r.workload, r.concurrency);
    if (r.status === 'error') {
      // The message goes below the table, so that one long error does not widen every row.
      errors.push(`[${errors.length + 1}] ${label(r.system)}, ${name}: ${r.error ?? 'unknown error'}`);
      rows.push([name, label(r.system), `error [${errors.length}]`]);
      continue;
    }
    rows.push([
      name,
      label(r.system),
      formatThroughput(r),
      decimal(r.p50Us),
      decimal(r.p99Us),
      decimal(r.cpuUsPerOp, r.cpuUsPerOp !== undefined && r.cpuUsPerOp >= 1000 ? 0 : 2),
      times(r.ratioToRaw),
      times(r.p50RatioToRaw),
      times(r.cpuRatioToRaw),
    ]);
  }
  let text = table(rows, [false, false, true, true, true, true, true, true, true]);
  for (const error of errors) text += `\n${error}`;
  for (const [system, reason] of unavailable) text += `\n${label(system)}: not available (${reason})`;
  return text;
}

export interface TargetCheck {
  target: string;
  /** The measured ratio, when both sides were measured. */
  value?: number;
  /** CPU µs per op of flink-rpc divided by the other system's, for the same row (a noise-robust second opinion). */
  cpuRatio?: number;
  status: 'met' | 'not met' | 'not measured';
}

/**
 * The performance targets for `system` (flink-rpc). Ratios compare throughput (MB/s for 8 MiB) unless
 * the target is about p50.
 */
export function checkTargets(results: readonly Result[], system = 'flink'): TargetCheck[] {
  const defs: { target: string; workload: Workload; concurrency: number; versus: string; p50?: true; goal: number }[] =
    [
      { target: 'echo ×256 throughput ≥ 0.85× raw', workload: 'echo', concurrency: 256, versus: 'raw', goal: 0.85 },
      { target: 'echo ×1 p50 ≤ 1.15× raw', workload: 'echo', concurrency: 1, versus: 'raw', p50: true, goal: 1.15 },
      { target: 'tell throughput ≥ 0.8× raw', workload: 'tell', concurrency: 1, versus: 'raw', goal: 0.8 },
      { target: 'echo 8 MiB MB/s ≥ 0.8× raw', workload: 'echo-8MiB', concurrency: 1, versus: 'raw', goal: 0.8 },
      { target: 'echo ×256 throughput ≥ 3× birpc', workload: 'echo', concurrency: 256, versus: 'birpc', goal: 3 },
      { target: 'echo ×256 throughput ≥ 25× grpc-js', workload: 'echo', concurrency: 256, versus: 'grpc', goal: 25 },
    ];
  return defs.map(({ target, workload, concurrency, versus, p50, goal }) => {
    const mine = find(results, system, workload, concurrency);
    const theirs = find(results, versus, workload, concurrency);
    const value =
      mine && theirs
        ? p50
          ? ratio(mine.p50Us, theirs.p50Us)
          : ratio(throughput(mine), throughput(theirs))
        : undefined;
    if (value === undefined) return { target, status: 'not measured' };
    const status = (p50 ? value <= goal : value >= goal) ? 'met' : 'not met';
    const cpuRatio = ratio(mine?.cpuUsPerOp, theirs?.cpuUsPerOp);
    return cpuRatio === undefined ? { target, value, status } : { target, value, status, cpuRatio };
  });
}

export function formatTargets(checks: readonly TargetCheck[], results: readonly Result[]): string {
  const lines = ['flink-rpc targets:'];
  const width = Math.max(...checks.map((c) => c.target.length));
  for (const check of checks) {
    const value = check.value === undefined ? '' : `${decimal(check.value, 2)}×`;
    const cpu = check.cpuRatio === undefined ? '' : `   (CPU per op: ${decimal(check.cpuRatio, 2)}×)`;
    lines.push(`  ${check.target.padEnd(width)}  ${value.padStart(8)}  ${check.status.padEnd(12)}${cpu}`.trimEnd());
  }
  // Whether the peer targets are reachable at all: the raw baseline's own margin over the peers.
  const raw = find(results, 'raw', 'echo', 256);
  const peers: string[] = [];
  for (const [peer, label] of [
    ['birpc', 'birpc'],
    ['grpc', 'grpc-js'],
  ] as const) {
    const other = find(results, peer, 'echo', 256);
    const value = raw && other ? ratio(throughput(raw), throughput(other)) : undefined;
    if (value !== undefined) peers.push(`${decimal(value, 1)}× ${label}`);
  }
  if (peers.length > 0) lines.push(`  (for reference, raw itself reaches ${peers.join(' and ')} at 256 in flight)`);
  return lines.join('\n');
}

export interface SystemStatus extends SystemSpec {
  available: boolean;
  reason?: string;
}

export function buildJson(
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
    quick: options.quick,
    timing: options.timing,
    rounds: options.rounds,
    method:
      'client and server in separate processes on 127.0.0.1 (a fresh client process per system); echo: closed loop ' +
      'with N calls in flight, warm-up then a fixed window; tell: bursts of 512 until the window ends, then one ' +
      'count ask (rate = tells / time until it returns); buffers: sequential echo of random bytes, MB/s counted once; ' +
      'with several rounds (passes over all systems, alternating order) each row is its best pass',
    systems,
    results,
    targets,
  };
}
