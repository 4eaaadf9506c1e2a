/**
 * A two-phase-commit file sink: what a task writes becomes visible in the output directory only once a checkpoint
 * covering it completed. The output directory alone then tells whether every record arrived exactly once.
 *
 * Layout of the output directory:
 * - `part-<vertex>-<subtask>-<checkpointId>.txt`: committed data (one line per record), written by an atomic rename;
 * - `.pending/part-<vertex>-<subtask>-<checkpointId>-a<attempt>.txt`: data of a snapshot whose checkpoint has not
 *   completed (yet); named by attempt so that leftovers of failed attempts are recognisable.
 */

import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Where one subtask writes. */
export interface SinkTarget {
  readonly outputDir: string;
  readonly vertexId: string;
  readonly subtaskIndex: number;
  readonly attemptNumber: number;
}

/** One pre-committed transaction: its data sits in a pending file. */
export interface PendingCommit {
  readonly checkpointId: number;
  /** File name under `.pending/`. */
  readonly file: string;
}

/** What the sink keeps in a checkpoint: the transactions pre-committed up to it and not known to be committed. */
export interface SinkState {
  readonly pending: readonly PendingCommit[];
}

export const PENDING_DIR = '.pending';

/** File names keep a vertex id only in a safe form. */
export function safeVertexName(vertexId: string): string {
  return vertexId.replace(/[^A-Za-z0-9_.]/g, '_');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches committed files of every subtask: groups vertex, subtask, checkpoint id. */
export const COMMITTED_FILE = /^part-(.+)-(\d+)-(\d+)\.txt$/;

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/**
 * The sink of one subtask attempt. Call {@link open} first (with the restored state), {@link write} records, then
 * {@link preCommit} on snapshot, {@link commitUpTo} when a checkpoint completed.
 */
export class TransactionalFileSink {
  private readonly outputDir: string;
  private readonly pendingDir: string;
  private readonly prefix: string;
  private buffer: string[] = [];
  private pending: PendingCommit[] = [];

  constructor(private readonly target: SinkTarget) {
    this.outputDir = resolve(target.outputDir);
    this.pendingDir = join(this.outputDir, PENDING_DIR);
    this.prefix = `part-${safeVertexName(target.vertexId)}-${target.subtaskIndex}-`;
  }

  /**
   * Prepares the directory. With a restored state: commits what the restored checkpoint covered (it completed, but
   * its notification may never have arrived), then discards everything else this subtask left behind — pending data
   * of failed attempts and commits of checkpoints newer than the restored one. Without a state the subtask starts
   * from scratch, so all its earlier output is discarded.
   */
  async open(restored: SinkState | undefined, restoredCheckpointId: number | undefined): Promise<void> {
    await mkdir(this.pendingDir, { recursive: true });
    const keep = new Set<string>();
    if (restored !== undefined) {
      const covered = restored.pending.filter(
        (p) => restoredCheckpointId === undefined || p.checkpointId <= restoredCheckpointId,
      );
      for (const p of covered) keep.add(this.committedName(p.checkpointId));
      this.pending = [...covered];
      await this.commitUpTo(restoredCheckpointId ?? Number.MAX_SAFE_INTEGER);
    }
    const committed = new RegExp(`^${escapeRegExp(this.prefix)}(\\d+)\\.txt$`);
    for (const name of await readdir(this.outputDir)) {
      const match = committed.exec(name);
      if (match === null || keep.has(name)) continue;
      const checkpointId = Number(match[1]);
      if (restored === undefined || restoredCheckpointId === undefined || checkpointId > restoredCheckpointId) {
        await rm(join(this.outputDir, name), { force: true });
      }
    }
    const pendingOfMine = new RegExp(`^${escapeRegExp(this.prefix)}\\d+-a\\d+\\.txt$`);
    for (const name of await readdir(this.pendingDir)) {
      if (pendingOfMine.test(name)) await rm(join(this.pendingDir, name), { force: true });
    }
  }

  /** Buffers one record (a line) in the open transaction. */
  write(record: string): void {
    this.buffer.push(record);
  }

  /** Records written since the last pre-commit. */
  bufferedRecords(): number {
    return this.buffer.length;
  }

  /** Closes the open transaction for checkpoint `checkpointId`: its data goes to a pending file. */
  async preCommit(checkpointId: number): Promise<SinkState> {
    if (this.buffer.length > 0) {
      const file = `${this.prefix}${checkpointId}-a${this.target.attemptNumber}.txt`;
      const data = `${this.buffer.join('\n')}\n`;
      await writeFile(join(this.pendingDir, file), data);
      this.buffer = [];
      this.pending.push({ checkpointId, file });
    }
    return { pending: this.pending.map((p) => ({ ...p })) };
  }

  /** Commits every pending transaction of checkpoints up to `checkpointId`, each by an atomic rename. */
  async commitUpTo(checkpointId: number): Promise<void> {
    const due = this.pending.filter((p) => p.checkpointId <= checkpointId);
    for (const p of due) {
      try {
        await rename(join(this.pendingDir, p.file), join(this.outputDir, this.committedName(p.checkpointId)));
      } catch (error) {
        // Committed already (by an earlier attempt that got the notification): committing is idempotent.
        if (!isNotFound(error)) throw error;
      }
    }
    this.pending = this.pending.filter((p) => p.checkpointId > checkpointId);
  }

  /** Forgets the open transaction (its records will be produced again after a restore). */
  discardBuffer(): void {
    this.buffer = [];
  }

  private committedName(checkpointId: number): string {
    return `${this.prefix}${checkpointId}.txt`;
  }
}
