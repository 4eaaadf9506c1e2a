/**
 * Small nodes under one cluster's ZooKeeper path, written only on behalf of a leader (Flink's
 * `ZooKeeperStateHandleStore` writes in a transaction that checks the leader latch the same way). Reads need no
 * leadership; every write is one ZooKeeper transaction that starts with a check of the writer's latch node, so a writer
 * that was deposed — its session expired, its node deleted — writes nothing, whatever it still believes.
 */

import { CreateMode, Exception, isZooKeeperError, type ZooKeeperConnection } from './ZooKeeperConnection.js';

/** One operation of a guarded transaction; paths are relative to the cluster path and start with `/`. */
export type GuardedOperation =
  | { readonly kind: 'create'; readonly path: string; readonly data: Buffer }
  | {
      readonly kind: 'setData';
      readonly path: string;
      readonly data: Buffer;
      /** The version the node must still have (optimistic concurrency); -1 for any. */
      readonly version: number;
    }
  | { readonly kind: 'remove'; readonly path: string; readonly version?: number };

/**
 * How a guarded transaction ended:
 * - `committed`: every operation took effect;
 * - `leadership-lost`: the writer does not hold the leadership (now, or when ZooKeeper checked): nothing was written;
 * - `conflict`: an operation's precondition failed (a version changed, a node exists already or is missing): nothing
 *   was written.
 */
export type GuardedCommitResult = 'committed' | 'leadership-lost' | 'conflict';

/** A node's content and version. */
export interface ZooKeeperNode {
  readonly data: Buffer;
  readonly version: number;
}

/** Where the guarded store finds the writer's latch: the election driver of the leader it writes for. */
export interface LatchSource {
  /** The latch path while leading in the current session, else null. */
  leaderLatchPath(): string | null;
}

/** Reads and leader-guarded writes of small nodes below one cluster path. */
export class ZooKeeperLeaderGuardedStore {
  /**
   * @param connection the HA services' ZooKeeper session (the latch belongs to it)
   * @param clusterPath absolute path all relative paths are resolved against
   * @param latchSource the driver of the election the writes are made for (undefined until that election starts)
   */
  constructor(
    private readonly connection: ZooKeeperConnection,
    private readonly clusterPath: string,
    private readonly latchSource: () => LatchSource | undefined,
  ) {}

  /** True while the guarding election holds the leadership in this session (a write may still fail on the server). */
  hasLeadership(): boolean {
    return this.latchSource()?.leaderLatchPath() != null;
  }

  /** The node's data and version, or `null` if it does not exist. */
  async read(path: string): Promise<ZooKeeperNode | null> {
    const node = await this.connection.getData(this.absolute(path));
    return node === null ? null : { data: node.data ?? Buffer.alloc(0), version: node.stat.version };
  }

  /** The names of the node's children (unsorted), or `[]` if the node does not exist. */
  async children(path: string): Promise<string[]> {
    try {
      return await this.connection.getChildren(this.absolute(path));
    } catch (error) {
      if (isZooKeeperError(error, Exception.NO_NODE)) return [];
      throw error;
    }
  }

  /**
   * Creates `path` and its missing parents as empty persistent nodes (unguarded: empty directories carry no state and
   * a transaction cannot create parents).
   */
  async ensurePath(path: string): Promise<void> {
    await this.connection.mkdirp(this.absolute(path));
  }

  /**
   * Runs `operations` in one transaction that first checks the writer's latch node. Never partially applied. Other
   * failures (connection loss, timeouts) are thrown; after a timeout the transaction may still have been applied.
   */
  async commit(operations: readonly GuardedOperation[]): Promise<GuardedCommitResult> {
    const latchPath = this.latchSource()?.leaderLatchPath() ?? null;
    if (latchPath === null) return 'leadership-lost';
    try {
      await this.connection.commit(`guarded write of ${operations.length} node(s) below ${this.clusterPath}`, (tx) => {
        tx.check(latchPath, -1);
        for (const operation of operations) {
          const path = this.absolute(operation.path);
          if (operation.kind === 'create') tx.create(path, operation.data, CreateMode.PERSISTENT);
          else if (operation.kind === 'setData') tx.setData(path, operation.data, operation.version);
          else tx.remove(path, operation.version ?? -1);
        }
      });
      return 'committed';
    } catch (error) {
      // nzc does not say reliably which operation failed: ask whether the guard is what failed.
      if ((await this.connection.exists(latchPath)) === null || this.latchSource()?.leaderLatchPath() !== latchPath) {
        return 'leadership-lost';
      }
      if (
        isZooKeeperError(error, Exception.BAD_VERSION) ||
        isZooKeeperError(error, Exception.NODE_EXISTS) ||
        isZooKeeperError(error, Exception.NO_NODE) ||
        isZooKeeperError(error, Exception.NOT_EMPTY)
      ) {
        return 'conflict';
      }
      throw error;
    }
  }

  private absolute(path: string): string {
    if (
      !path.startsWith('/') ||
      path.split('/').some((part, i) => i > 0 && (!/^[A-Za-z0-9_.-]+$/.test(part) || part === '.' || part === '..'))
    ) {
      throw new TypeError(`Invalid relative ZooKeeper path ${JSON.stringify(path)}.`);
    }
    return `${this.clusterPath}${path}`;
  }
}
