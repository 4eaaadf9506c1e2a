/**
 * Port ranges of remote services (Flink's `NetUtils.getPortRangeFromString`): `'0'` (any free port), `'6123'`,
 * `'50100-50200'`, `'50100,50102'`, and lists of both (`'50100-50105,50200'`).
 */

/**
 * Parses a port range definition into the ports to try, in order (duplicates dropped).
 * @throws RangeError `Invalid port range definition: <spec>` for anything else (empty parts, ports beyond 65535,
 *   reversed ranges, signs, letters)
 */
export function parsePortRange(spec: string): number[] {
  const invalid = (): RangeError => new RangeError(`Invalid port range definition: ${String(spec)}`);
  if (typeof spec !== 'string') throw invalid();
  const ports: number[] = [];
  const seen = new Set<number>();
  const add = (port: number): void => {
    if (!seen.has(port)) {
      seen.add(port);
      ports.push(port);
    }
  };
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(part);
    if (!m) throw invalid();
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (start > 65535 || end > 65535 || end < start) throw invalid();
    for (let port = start; port <= end; port++) add(port);
  }
  return ports;
}
