/**
 * Checks a transactional file sink's output directory: every expected record committed exactly once, nothing else.
 */

import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { COMMITTED_FILE, PENDING_DIR, safeVertexName } from './TransactionalFileSink.js';

/** What the output should hold. */
export interface ExactlyOnceExpectations {
  /** Records `0 … records-1` (the generator's numbering), each exactly once. */
  readonly records: number;
  /** Only files of this vertex count (default: every committed file in the directory). */
  readonly vertexId?: string;
}

/** The verdict, with enough detail to debug a failure. */
export interface ExactlyOnceReport {
  readonly ok: boolean;
  readonly expected: number;
  /** Lines in committed files. */
  readonly committed: number;
  readonly distinct: number;
  readonly committedFiles: number;
  /** Pending files still lying around (uncommitted; not an error by itself). */
  readonly pendingFiles: number;
  readonly missingCount: number;
  readonly duplicatedCount: number;
  readonly unexpectedCount: number;
  /** The first few of each, ascending. */
  readonly missing: readonly number[];
  readonly duplicated: readonly number[];
  readonly unexpected: readonly string[];
  /** One readable line. */
  readonly summary: string;
}

const SAMPLE = 20;
/** One counter per record is kept in memory. */
const MAX_RECORDS = 500_000_000;

/** Reads every committed file under `outputDir` and compares it with `expectations`. */
export async function verifyExactlyOnce(
  outputDir: string,
  expectations: ExactlyOnceExpectations,
): Promise<ExactlyOnceReport> {
  const dir = resolve(outputDir);
  const expected = expectations.records;
  if (!Number.isInteger(expected) || expected < 0 || expected > MAX_RECORDS) {
    throw new RangeError(`Expected records must be an integer from 0 to ${MAX_RECORDS}, was ${expected}.`);
  }
  const vertex = expectations.vertexId === undefined ? undefined : safeVertexName(expectations.vertexId);
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const counts = new Uint32Array(expected);
  let committed = 0;
  let committedFiles = 0;
  let unexpectedCount = 0;
  const unexpected: string[] = [];
  for (const name of names.sort()) {
    const match = COMMITTED_FILE.exec(name);
    if (match === null) continue;
    if (vertex !== undefined && match[1] !== vertex) continue;
    committedFiles += 1;
    const text = await readFile(join(dir, name), 'utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      committed += 1;
      const record = /^\d+$/.test(line) ? Number(line) : Number.NaN;
      if (Number.isInteger(record) && record < expected) {
        counts[record] = (counts[record] ?? 0) + 1;
      } else {
        unexpectedCount += 1;
        if (unexpected.length < SAMPLE) unexpected.push(`${name}: ${line.slice(0, 80)}`);
      }
    }
  }
  let pendingFiles = 0;
  try {
    pendingFiles = (await readdir(join(dir, PENDING_DIR))).length;
  } catch {
    // no pending directory: nothing pending
  }
  const missing: number[] = [];
  const duplicated: number[] = [];
  let missingCount = 0;
  let duplicatedCount = 0;
  let distinct = 0;
  for (let record = 0; record < expected; record++) {
    const count = counts[record] ?? 0;
    if (count === 0) {
      missingCount += 1;
      if (missing.length < SAMPLE) missing.push(record);
    } else {
      distinct += 1;
      if (count > 1) {
        duplicatedCount += 1;
        if (duplicated.length < SAMPLE) duplicated.push(record);
      }
    }
  }
  const ok = missingCount === 0 && duplicatedCount === 0 && unexpectedCount === 0;
  const summary = ok
    ? `exactly once: all ${expected} records committed once (${committedFiles} files)`
    : `NOT exactly once: ${expected} expected, ${committed} committed, ${missingCount} missing` +
      `${missing.length > 0 ? ` (e.g. ${missing.slice(0, 5).join(', ')})` : ''}, ${duplicatedCount} duplicated` +
      `${duplicated.length > 0 ? ` (e.g. ${duplicated.slice(0, 5).join(', ')})` : ''}, ${unexpectedCount} unexpected`;
  return {
    ok,
    expected,
    committed,
    distinct,
    committedFiles,
    pendingFiles,
    missingCount,
    duplicatedCount,
    unexpectedCount,
    missing,
    duplicated,
    unexpected,
    summary,
  };
}
