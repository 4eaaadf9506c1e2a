import { cpus, loadavg } from 'node:os';

/**
 * Interleaved rounds: how every table of the benchmark copes with a noisy machine. Instead of measuring one system
 * for a long window and then the next, each workload is measured in short windows, one per system per round, the
 * systems taking turns. A ratio is taken within each round, between measurements a second or two apart, and the
 * table shows its median over the rounds and its spread (lowest–highest). A busy neighbour then slows the systems of
 * the same round alike, and a disturbed round shows up as spread instead of shifting one system's figure.
 */

/**
 * The order of round `round` (0-based): the list as given in even rounds, reversed in odd ones. The first two (the
 * baseline and the system under study) are always measured back to back, and each takes the earlier slot every other
 * round, so that neither is favoured by a load that grows or fades during a round.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...items] : [...items].reverse();
}

/** Median of the finite values (mean of the middle two for an even count); undefined when there are none. */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const sorted = finite(values).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median with the lowest and highest value over the rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many rounds gave a value. */
  n: number;
}

export function spread(values: readonly (number | undefined)[]): Spread | undefined {
  const list = finite(values);
  const middle = median(list);
  if (middle === undefined) return undefined;
  return { median: middle, min: Math.min(...list), max: Math.max(...list), n: list.length };
}

/** Per-round ratios `a[i] / b[i]`, for the rounds where both were measured. */
export function roundRatios(a: readonly (number | undefined)[], b: readonly (number | undefined)[]): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && Number.isFinite(x) && Number.isFinite(y) && y > 0) ratios.push(x / y);
  }
  return ratios;
}

/** `0.97× (0.91–1.02)`: the median ratio and its spread over the rounds. */
export function formatRatio(value: Spread | undefined, digits = 2): string {
  if (value === undefined) return '';
  if (value.n === 1) return `${value.median.toFixed(digits)}×`;
  return `${value.median.toFixed(digits)}× (${value.min.toFixed(digits)}–${value.max.toFixed(digits)})`;
}

/** Rounds a spread for JSON output. */
export function roundSpread(value: Spread | undefined, digits = 3): Spread | undefined {
  if (value === undefined) return undefined;
  const r = (x: number) => Math.round(x * 10 ** digits) / 10 ** digits;
  return { median: r(value.median), min: r(value.min), max: r(value.max), n: value.n };
}

/** A plain-text table: columns padded, numbers right-aligned where `alignRight` says so. */
export function textTable(rows: readonly (readonly string[])[], alignRight: readonly boolean[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          alignRight[column] ? (cell ?? '').padStart(widths[column]!) : (cell ?? '').padEnd(widths[column]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function finite(values: readonly (number | undefined)[]): number[] {
  return values.filter((v): v is number => v !== undefined && Number.isFinite(v));
}

/** `load 7.9/9.1/10.2 on 2 cores`: how busy the machine was (1, 5 and 15 minute load averages), for table headers. */
export function machineLoad(): string {
  const [one, five, fifteen] = loadavg().map((x) => x.toFixed(1));
  return `load ${one}/${five}/${fifteen} on ${cpus().length} cores`;
}
