/**
 * The failures of the codec. They are plain `TypeError`/`Error` subclasses, not RPC exceptions: the transport wraps
 * them (as the `cause`) into the `RpcException` that names the method and the argument.
 */

/** One step of a path into a value: an object key or array index, or a described step such as `.get(key)`. */
export type PathSegment = string | number | { readonly label: string };

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Formats path segments as a JavaScript-like accessor chain: `[1].callback`, `.tags[0]`, `["odd key"]`.
 * @param segments steps from the root
 */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string') out += IDENTIFIER.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
    else out += s.label;
  }
  return out;
}

/**
 * A value (or a part of it) cannot be serialized: a function, a symbol, an instance of an unregistered class, a
 * WeakMap, a Promise, a cyclic structure, or nesting deeper than the codec allows.
 *
 * The message reads `Cannot serialize <reason> at value<path>`, e.g.
 * `Cannot serialize value of type Function at value[1].callback`; {@link describe} renders it with another root.
 */
export class SerializationError extends TypeError {
  /**
   * @param reason what is wrong, e.g. `value of type Function` or `an instance of unregistered class Foo`
   * @param segments the path from the encoded root to the offending part
   * @param options `cause`: an error thrown while serializing (by a getter or a `toData` of a registration)
   */
  /** For a cycle: the path of the object that the offending reference points back to. */
  readonly backTo: readonly PathSegment[] | undefined;

  constructor(
    /** What is wrong, without the path: `value of type Function`. */
    readonly reason: string,
    /** Steps from the root of the encoded value to the offending part (empty: the root itself). */
    readonly segments: readonly PathSegment[],
    options?: { cause?: unknown; backTo?: readonly PathSegment[]; hint?: string },
  ) {
    const hint = options?.hint ? `: ${options.hint}` : '';
    super(`Cannot serialize ${render(reason, segments, options?.backTo, 'value', 0)}${hint}`, options);
    this.backTo = options?.backTo;
  }

  /** The path from the root, formatted: `[1].callback` (empty for the root). */
  get path(): string {
    return formatPath(this.segments);
  }

  /**
   * The failure with a root name of your choice: `describe('args')` → `value of type Function at args[1].callback`.
   * @param root how to call the encoded value
   * @param skip leading segments to drop (the transport drops the envelope's fields above the arguments)
   */
  describe(root = 'value', skip = 0): string {
    return render(this.reason, this.segments, this.backTo, root, skip);
  }
}

function render(
  reason: string,
  segments: readonly PathSegment[],
  backTo: readonly PathSegment[] | undefined,
  root: string,
  skip: number,
): string {
  const at = `${reason} at ${root}${formatPath(segments.slice(skip))}`;
  return backTo ? `${at} (a reference back to ${root}${formatPath(backTo.slice(skip))})` : at;
}
Object.defineProperty(SerializationError.prototype, 'name', { value: 'SerializationError', writable: true });

/** Bytes that are not a valid encoding: garbage, truncation, an unknown extension, too deep, an unknown class. */
export class DeserializationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
Object.defineProperty(DeserializationError.prototype, 'name', { value: 'DeserializationError', writable: true });

/**
 * The message the transport puts into its `RpcException` when an argument cannot be serialized, in Flink's words
 * (`Could not serialize 1th argument of method hello`), made precise:
 * `Could not serialize argument 1 of method HelloGateway.hello: value of type Function at args[1].callback`.
 *
 * @param method the qualified method name (`Gateway.method`)
 * @param error what `encode` threw
 * @param argsAt segments of the encoded envelope that lead to the arguments array (`[]` when the arguments array
 *   itself was encoded; `[4]` when it sits at index 4 of a frame array)
 */
export function argumentSerializationMessage(
  method: string,
  error: unknown,
  argsAt: readonly PathSegment[] = [],
): string {
  if (error instanceof SerializationError) {
    const s = error.segments;
    const under = argsAt.every((seg, i) => s[i] === seg);
    const index = s[argsAt.length];
    if (under && typeof index === 'number') {
      return `Could not serialize argument ${index} of method ${method}: ${error.describe('args', argsAt.length)}`;
    }
    return `Could not serialize the arguments of method ${method}: ${error.describe('args', argsAt.length)}`;
  }
  const detail = error instanceof Error ? error.message : String(error);
  return `Could not serialize the arguments of method ${method}: ${detail}`;
}
