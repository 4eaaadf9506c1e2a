/**
 * Checkpoint storage of task snapshots (Flink's `state.checkpoints.dir` with its memory threshold): small states
 * travel inline with the acknowledgement, larger ones are written to a file whose path travels instead.
 */

import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { TaskStateHandle } from '../types.js';

/** Flink's `state.storage.fs.memory-threshold` default: 20 KiB. */
export const DEFAULT_INLINE_STATE_THRESHOLD = 20 * 1024;

/** Where one snapshot goes. */
export interface SnapshotLocation {
  /** Checkpoint storage directory; without one every state is inline. */
  readonly storageDir?: string;
  readonly jobId: string;
  readonly checkpointId: number;
  readonly vertexId: string;
  readonly subtaskIndex: number;
  readonly executionAttemptId: string;
}

function safeSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
}

/**
 * Stores `state` (structured-cloneable data): inline up to `inlineThreshold` serialized bytes (or whatever its size
 * when there is no storage directory), else in `<dir>/<job>/chk-<id>/<vertex>-<subtask>-<attempt>.state`.
 * The inline copy is a deep clone, so the operator may keep mutating its own objects.
 */
export async function storeTaskState(
  state: unknown,
  location: SnapshotLocation,
  inlineThreshold = DEFAULT_INLINE_STATE_THRESHOLD,
): Promise<TaskStateHandle> {
  const bytes = serialize(state);
  if (location.storageDir === undefined || bytes.length <= inlineThreshold) {
    return { inline: structuredClone(state), size: bytes.length };
  }
  const path = join(
    resolve(location.storageDir),
    safeSegment(location.jobId),
    `chk-${location.checkpointId}`,
    `${safeSegment(location.vertexId)}-${location.subtaskIndex}-${safeSegment(location.executionAttemptId)}.state`,
  );
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return { path, size: bytes.length };
}

/**
 * Reads back what {@link storeTaskState} stored (undefined for no handle).
 * @param storageDir when given, a state file must lie inside it (handles arrive over the network)
 */
export async function loadTaskState(handle: TaskStateHandle | undefined, storageDir?: string): Promise<unknown> {
  if (handle === undefined || handle === null) return undefined;
  if (typeof handle.path === 'string') {
    if (storageDir !== undefined && !isInside(storageDir, handle.path)) {
      throw new Error(`The checkpointed state ${handle.path} is not inside the checkpoint storage ${storageDir}.`);
    }
    try {
      return deserialize(await readFile(handle.path));
    } catch (error) {
      throw new Error(`Could not read the checkpointed state at ${handle.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  return structuredClone(handle.inline);
}

/**
 * Deletes the file of a stored state, if it has one (e.g. when its checkpoint was subsumed), and the checkpoint's
 * directory once it is empty.
 * @param storageDir when given, a state file outside it is left alone (handles arrive over the network)
 */
export async function discardTaskState(handle: TaskStateHandle | undefined, storageDir?: string): Promise<void> {
  if (typeof handle?.path !== 'string') return;
  if (storageDir !== undefined && !isInside(storageDir, handle.path)) {
    throw new Error(`The checkpointed state ${handle.path} is not inside the checkpoint storage ${storageDir}.`);
  }
  await rm(handle.path, { force: true });
  // The checkpoint's directory goes with its last state file (other subtasks may still be deleting theirs).
  await rmdir(dirname(handle.path)).catch(() => {});
}

function isInside(storageDir: string, path: string): boolean {
  const inside = relative(resolve(storageDir), resolve(path));
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
}
