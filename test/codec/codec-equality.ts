/**
 * A strict structural comparison for codec round-trips: numbers by `Object.is` (so `-0` ≠ `0`, NaN = NaN), exact
 * prototypes (a Buffer is not a Uint8Array, an RpcTimeoutException is not an Error), own keys in order (so
 * `{ a: undefined }` ≠ `{}`), Map and Set entries in order, typed arrays by type and bytes, errors by class, name,
 * message, stack, cause (presence and value), own fields and `errors`. Cycles are followed once.
 *
 * Differences the codec documents are accepted: a null-prototype object arrives as a plain object, an array hole
 * as `undefined`.
 */

const ObjectProto = Object.prototype;

/** The first difference between `expected` and `actual`, as `path: what`, or undefined when they match. */
export function difference(
  expected: unknown,
  actual: unknown,
  path = 'value',
  seen = new Map<object, unknown>(),
): string | undefined {
  if (typeof expected !== typeof actual) return `${path}: ${typeof expected} became ${typeof actual}`;
  if (typeof expected === 'number') {
    return Object.is(expected, actual) ? undefined : `${path}: ${show(expected)} became ${show(actual)}`;
  }
  if (typeof expected !== 'object' || expected === null || actual === null) {
    return expected === actual ? undefined : `${path}: ${show(expected)} became ${show(actual)}`;
  }
  const a = expected as object;
  const b = actual as object;
  // `seen` holds the ancestors only: a cycle must come back as a cycle, a shared object may arrive as two copies.
  if (seen.has(a)) return seen.get(a) === b ? undefined : `${path}: a cycle was not preserved`;
  seen.set(a, b);
  try {
    return compareObjects(a, b, path, seen);
  } finally {
    seen.delete(a);
  }
}

function compareObjects(a: object, b: object, path: string, seen: Map<object, unknown>): string | undefined {
  const protoA = Object.getPrototypeOf(a) ?? ObjectProto;
  if (protoA !== Object.getPrototypeOf(b)) {
    return `${path}: prototype ${protoName(protoA)} became ${protoName(Object.getPrototypeOf(b))}`;
  }
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return `${path}: length ${a.length} became ${bb.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = difference(a[i], bb[i], `${path}[${i}]`, seen);
      if (d) return d;
    }
    return undefined;
  }
  if (a instanceof Map) {
    const eb = [...(b as Map<unknown, unknown>)];
    const ea = [...a];
    if (ea.length !== eb.length) return `${path}: size ${ea.length} became ${eb.length}`;
    for (let i = 0; i < ea.length; i++) {
      const d =
        difference(ea[i]![0], eb[i]![0], `${path}.keys()[${i}]`, seen) ??
        difference(ea[i]![1], eb[i]![1], `${path}.values()[${i}]`, seen);
      if (d) return d;
    }
    return undefined;
  }
  if (a instanceof Set) {
    const vb = [...(b as Set<unknown>)];
    const va = [...a];
    if (va.length !== vb.length) return `${path}: size ${va.length} became ${vb.length}`;
    for (let i = 0; i < va.length; i++) {
      const d = difference(va[i], vb[i], `${path}.values()[${i}]`, seen);
      if (d) return d;
    }
    return undefined;
  }
  if (a instanceof Date) {
    return Object.is(a.getTime(), (b as Date).getTime())
      ? undefined
      : `${path}: time ${a.getTime()} became ${(b as Date).getTime()}`;
  }
  if (a instanceof RegExp) {
    const rb = b as RegExp;
    return a.source === rb.source && a.flags === rb.flags ? undefined : `${path}: ${a} became ${rb}`;
  }
  if (a instanceof ArrayBuffer) return sameBytes(new Uint8Array(a), new Uint8Array(b as ArrayBuffer), path);
  if (ArrayBuffer.isView(a)) {
    const vb = b as ArrayBufferView;
    return sameBytes(
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
      new Uint8Array(vb.buffer, vb.byteOffset, vb.byteLength),
      path,
    );
  }
  if (a instanceof Error) {
    const eb = b as Error;
    for (const slot of ['name', 'message', 'stack'] as const) {
      const d = difference(a[slot], eb[slot], `${path}.${slot}`, seen);
      if (d) return d;
    }
    if (Object.hasOwn(a, 'message') !== Object.hasOwn(eb, 'message')) return `${path}: own message not preserved`;
    if ('cause' in a !== 'cause' in eb) return `${path}: cause ${'cause' in a ? 'lost' : 'appeared'}`;
    if ('cause' in a) {
      const d = difference(a.cause, eb.cause, `${path}.cause`, seen);
      if (d) return d;
    }
    if (Object.hasOwn(a, 'errors')) {
      const d = difference((a as AggregateError).errors, (eb as AggregateError).errors, `${path}.errors`, seen);
      if (d) return d;
    }
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join('\u0000') !== kb.join('\u0000')) return `${path}: keys ${show(ka)} became ${show(kb)}`;
  for (const k of ka) {
    const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, seen);
    if (d) return d;
  }
  return undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array, path: string): string | undefined {
  if (a.length !== b.length) return `${path}: ${a.length} bytes became ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `${path}: byte ${i} differs`;
  return undefined;
}

function protoName(proto: unknown): string {
  if (proto === null) return 'null';
  const ctor = (proto as { constructor?: { name?: string } }).constructor;
  return ctor?.name ?? '?';
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  try {
    return String(JSON.stringify(v));
  } catch {
    return String(v);
  }
}
