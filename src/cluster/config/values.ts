/** Flink's textual forms of configuration values: durations ("10 s", "500 ms", plain milliseconds) and the rest. */

const DURATION_UNITS: ReadonlyMap<string, number> = (() => {
  const units = new Map<string, number>();
  const add = (factor: number, ...names: string[]) => {
    for (const name of names) units.set(name, factor);
  };
  // Flink's TimeUtils: short forms, then the long forms, each also in the plural.
  add(86_400_000, 'd', 'day', 'days');
  add(3_600_000, 'h', 'hour', 'hours');
  add(60_000, 'm', 'min', 'mins', 'minute', 'minutes');
  add(1_000, 's', 'sec', 'secs', 'second', 'seconds');
  add(1, 'ms', 'milli', 'millis', 'millisecond', 'milliseconds');
  add(0.001, 'us', 'µs', 'micro', 'micros', 'microsecond', 'microseconds');
  add(0.000_001, 'ns', 'nano', 'nanos', 'nanosecond', 'nanoseconds');
  return units;
})();

/**
 * Parses a duration as Flink does (`TimeUtils.parseDuration`): a whole number followed by an optional unit
 * (`d`, `h`, `min`/`m`, `s`, `ms`, `us`/`µs`, `ns` or their long forms `day`, `hours`, `seconds`, …), spaces allowed in
 * between; no unit means milliseconds. Returns whole milliseconds (sub-millisecond durations round up, so a positive
 * duration never becomes 0). Throws a plain Error explaining the format.
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+)\s*([a-zµ]*)\s*$/i.exec(text);
  if (match === null) {
    throw new Error(
      `${JSON.stringify(text)} is not a duration: use a whole number and a unit, such as "10 s" or "500 ms".`,
    );
  }
  const amount = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  const factor = unit === '' ? 1 : DURATION_UNITS.get(unit);
  if (factor === undefined) {
    throw new Error(`${JSON.stringify(text)} has the unknown time unit "${match[2]}": use d, h, min, s, ms, us or ns.`);
  }
  const milliseconds = Math.ceil(amount * factor);
  if (!Number.isSafeInteger(milliseconds)) throw new Error(`${JSON.stringify(text)} is too long a duration.`);
  return milliseconds;
}

/** Parses a whole number (Flink's int/long options). */
export function parseInteger(text: string): number {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new Error(`${JSON.stringify(text)} is not a whole number.`);
  }
  return Number(trimmed);
}

/** Parses a decimal number (Flink's double options). */
export function parseNumber(text: string): number {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value)) throw new Error(`${JSON.stringify(text)} is not a number.`);
  return value;
}

/** Parses `true` / `false` (any case), as Flink's boolean options. */
export function parseBoolean(text: string): boolean {
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new Error(`${JSON.stringify(text)} is not a boolean: use true or false.`);
}

/** Formats milliseconds the way Flink prints durations ("10 s", "500 ms", "1 min"). */
export function formatDuration(milliseconds: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1_000, 's'],
  ];
  for (const [factor, unit] of units) {
    if (milliseconds !== 0 && milliseconds % factor === 0) return `${milliseconds / factor} ${unit}`;
  }
  return `${milliseconds} ms`;
}
