/**
 * Resolves an operator reference of a job graph to its factory: a built-in by name, or an export of a module the
 * TaskManager can import (as Flink loads user code from the job's jar).
 */

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TaskFailureException } from '../errors.js';
import type { OperatorRef } from '../types.js';
import { builtinOperators } from './builtins.js';
import type { OperatorFactory } from './Operator.js';

/** A printable name of an operator reference. */
export function describeOperatorRef(ref: OperatorRef): string {
  if (typeof ref === 'string') return `'${ref}'`;
  return `'${ref?.export ?? 'default'}' of module '${ref?.module}'`;
}

/**
 * A module specifier as `import()` needs it: paths (absolute, or relative to the working directory) become file URLs,
 * package names and URLs stay as they are.
 */
function toSpecifier(module: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return module;
  if (isAbsolute(module) || module.startsWith('./') || module.startsWith('../')) {
    return pathToFileURL(resolve(module)).href;
  }
  return module;
}

/**
 * The factory behind `ref`.
 * @throws TaskFailureException naming the operator: unknown built-in, module that cannot be imported, missing export,
 *   or an export that is not a function
 */
export async function loadOperatorFactory(
  ref: OperatorRef,
  builtins: ReadonlyMap<string, OperatorFactory> = builtinOperators,
): Promise<OperatorFactory> {
  if (typeof ref === 'string') {
    const factory = builtins.get(ref);
    if (factory === undefined) {
      throw new TaskFailureException(
        `Unknown operator '${ref}' (built-in operators: ${[...builtins.keys()].join(', ')}).`,
      );
    }
    return factory;
  }
  if (ref === null || typeof ref !== 'object' || typeof ref.module !== 'string' || ref.module.length === 0) {
    throw new TaskFailureException('An operator reference must be a built-in name or { module, export }.');
  }
  const exportName = ref.export ?? 'default';
  if (typeof exportName !== 'string') throw new TaskFailureException('The export of an operator must be a string.');
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(toSpecifier(ref.module))) as Record<string, unknown>;
  } catch (error) {
    throw new TaskFailureException(
      `Could not load the module '${ref.module}' of operator ${describeOperatorRef(ref)}: ${(error as Error)?.message ?? error}`,
      { cause: error },
    );
  }
  if (!Object.hasOwn(loaded, exportName)) {
    throw new TaskFailureException(`The module '${ref.module}' has no export '${exportName}'.`);
  }
  const factory = loaded[exportName];
  if (typeof factory !== 'function') {
    throw new TaskFailureException(
      `The export '${exportName}' of module '${ref.module}' is not an operator factory (a function), but ${typeof factory}.`,
    );
  }
  return factory as OperatorFactory;
}
