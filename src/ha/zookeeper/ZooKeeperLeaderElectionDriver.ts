/**
 * The ZooKeeper election recipe for one contender: an ephemeral sequential latch node, the lowest one leads, every
 * other contender watches only its predecessor (no herd effect). The leader also watches its own node (deletion by
 * anyone deposes it) and the connection info (to restore it if someone removes it).
 *
 * Leadership ends at once when the connection is suspended: the session may expire while we cannot hear about it,
 * and another contender would then lead. After a reconnect within the same session the latch node is still in place
 * and the contender is granted again (with a new session id); after expiry it joins again with a new node.
 */

import { randomUUID } from 'node:crypto';
import type { Event } from 'node-zookeeper-client';
import type { Logger } from '../../rpc/logger.js';
import type { LeaderElectionDriver, LeaderElectionDriverListener } from '../drivers.js';
import { LeaderElectionException, toError } from '../errors.js';
import { decodeLeaderInformation, type LeaderInformation, sameLeaderInformation } from '../LeaderInformation.js';
import { SerialExecutor } from '../SerialExecutor.js';
import { deleteLeaderInformationGuarded, writeLeaderInformationGuarded } from './leaderInformationStore.js';
import { type ComponentPaths, latchPrefix, sortLatches } from './paths.js';
import {
  type ConnectionState,
  CreateMode,
  Exception,
  isConnectionProblem,
  isZooKeeperError,
  type ZooKeeperConnection,
} from './ZooKeeperConnection.js';

interface Latch {
  readonly name: string;
  readonly path: string;
  /** The connection's session number when the node was created: the node dies with that session. */
  readonly session: number;
}

/** One contender's participation in the ZooKeeper election of a component. */
export class ZooKeeperLeaderElectionDriver implements LeaderElectionDriver {
  /** All ZooKeeper work of this driver runs here, one step at a time, so the latch and leader state are never torn. */
  private readonly queue = new SerialExecutor();
  private readonly contenderId = randomUUID();
  private latch: Latch | null = null;
  private leaderSessionId: string | null = null;
  /** What this driver wrote last during the current leadership: the baseline for noticing outside changes. */
  private lastWritten: LeaderInformation | null = null;
  /** Bumped on every connection state change: an evaluation that spans one is stale and discarded. */
  private epoch = 0;
  private evaluationQueued = false;
  private closed = false;
  private readonly unsubscribe: () => void;
  /** One function for every watch: nzc registers a function once per path, so re-arming never duplicates it. */
  private readonly watcher = (event: Event) => this.scheduleEvaluation(`${event.getName()} ${event.getPath()}`);

  constructor(
    private readonly connection: ZooKeeperConnection,
    private readonly paths: ComponentPaths,
    private readonly listener: LeaderElectionDriverListener,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = connection.onStateChange((state) => this.onConnectionState(state));
    if (connection.isConnected()) this.scheduleEvaluation('start');
  }

  hasLeadership(): boolean {
    return !this.closed && this.leaderSessionId !== null && this.connection.isConnected();
  }

  /**
   * The path of this contender's latch node while it holds the leadership in the current ZooKeeper session, else
   * `null`. Writes made on behalf of the leader check this node in the same transaction: once the node is gone (the
   * session expired, the node was deleted) such a write fails, whatever this process still believes.
   */
  leaderLatchPath(): string | null {
    const latch = this.latch;
    if (!this.hasLeadership() || latch === null || latch.session !== this.connection.session) return null;
    return latch.path;
  }

  publishLeaderInformation(info: LeaderInformation): Promise<boolean> {
    return this.queue.submit(async () => {
      const latch = this.latch;
      // The session check matters after a reconnect: the same latch node leads again, under a new session id.
      if (!this.hasLeadership() || latch === null || info.sessionId !== this.leaderSessionId) return false;
      const written = await writeLeaderInformationGuarded(this.connection, latch.path, this.paths.connectionInfo, info);
      if (written) this.lastWritten = info;
      return written;
    });
  }

  deleteLeaderInformation(): Promise<void> {
    return this.queue.submit(async () => {
      const latch = this.latch;
      if (!this.hasLeadership() || latch === null) return;
      this.lastWritten = null;
      await deleteLeaderInformationGuarded(this.connection, latch.path, this.paths.connectionInfo);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    await this.queue.submit(async () => {
      const latch = this.latch;
      this.latch = null;
      this.leaderSessionId = null;
      if (latch !== null && latch.session === this.connection.session && this.connection.isConnected()) {
        // Deleting the node hands leadership over at once; if this fails, the session's end removes it later.
        await this.connection.remove(latch.path).catch((error: unknown) => {
          this.logger.warn({ err: error, latch: latch.path }, 'Could not delete the latch node.');
        });
      }
    });
  }

  private onConnectionState(state: ConnectionState): void {
    this.epoch += 1;
    if (state === 'suspended') this.loseLeadership('connection suspended');
    else this.scheduleEvaluation('connected');
  }

  private loseLeadership(reason: string): void {
    if (this.leaderSessionId === null) return;
    this.logger.info({ reason, sessionId: this.leaderSessionId }, 'ZooKeeper leadership lost.');
    this.leaderSessionId = null;
    this.lastWritten = null;
    this.listener.onRevokeLeadership();
  }

  private scheduleEvaluation(reason: string): void {
    if (this.closed || this.evaluationQueued) return;
    this.evaluationQueued = true;
    this.queue
      .submit(async () => {
        this.evaluationQueued = false;
        await this.evaluate(reason);
      })
      .catch((error: unknown) => this.onFailure(error));
  }

  private onFailure(error: unknown): void {
    if (this.closed) return;
    // Connection trouble resolves itself: the next `connected` schedules a new evaluation.
    if (isConnectionProblem(error)) {
      this.logger.debug({ err: error }, 'Leader election step failed on the connection; waiting for reconnection.');
      return;
    }
    this.logger.error({ err: error }, 'Leader election step failed.');
    this.listener.onError(new LeaderElectionException('ZooKeeper leader election failed.', { cause: toError(error) }));
  }

  /** Looks at the latch children and acts: join, lead, or watch the predecessor. */
  private async evaluate(reason: string): Promise<void> {
    const connection = this.connection;
    if (this.closed || !connection.isConnected()) return;
    const epoch = this.epoch;
    const stale = () => this.closed || this.epoch !== epoch;
    this.logger.debug({ reason }, 'Evaluating ZooKeeper leader election.');

    if (this.latch !== null && this.latch.session !== connection.session) this.latch = null;
    if (this.latch === null) {
      // Only when joining: on the hot path of a failover every round trip counts.
      await connection.mkdirp(this.paths.latchDir);
      if (stale()) return;
    }
    let children: string[];
    try {
      children = await connection.getChildren(this.paths.latchDir);
    } catch (error) {
      if (!isZooKeeperError(error, Exception.NO_NODE)) throw error;
      // The directory was removed (a cleanup): our node went with it, so join again from scratch.
      this.loseLeadership('latch directory deleted');
      this.latch = null;
      this.scheduleEvaluation('rejoin');
      return;
    }
    if (stale()) return;

    if (this.latch === null) {
      const prefix = latchPrefix(this.contenderId);
      // A create whose reply was lost may still have made our node: adopt it instead of leaving an orphan in line.
      const existing = children.find((name) => name.startsWith(prefix));
      const session = connection.session;
      const path =
        existing !== undefined
          ? `${this.paths.latchDir}/${existing}`
          : await connection.create(
              `${this.paths.latchDir}/${prefix}`,
              Buffer.alloc(0),
              CreateMode.EPHEMERAL_SEQUENTIAL,
            );
      if (this.closed) {
        await connection.remove(path).catch(() => {});
        return;
      }
      this.latch = { name: path.slice(path.lastIndexOf('/') + 1), path, session };
      if (stale()) return;
      children = await connection.getChildren(this.paths.latchDir);
      if (stale()) return;
    }

    const latch = this.latch;
    const order = sortLatches(children);
    const index = order.indexOf(latch.name);
    if (index < 0) {
      // Our node was deleted while our session lives (by an operator or a cleanup): we are out; join again.
      this.loseLeadership('latch node deleted');
      this.latch = null;
      this.scheduleEvaluation('rejoin');
      return;
    }
    if (index > 0) {
      this.loseLeadership('not first in line');
      const predecessor = `${this.paths.latchDir}/${order[index - 1]}`;
      const stat = await connection.exists(predecessor, this.watcher);
      if (stale()) return;
      if (stat === null) this.scheduleEvaluation('predecessor gone');
      return;
    }

    // First in line. Watch our own node: if anyone deletes it, a successor may be granted, and so must we be revoked.
    const own = await connection.exists(latch.path, this.watcher);
    if (stale()) return;
    if (own === null) {
      this.scheduleEvaluation('latch node vanished');
      return;
    }
    if (this.leaderSessionId === null) {
      this.leaderSessionId = randomUUID();
      this.logger.info({ latch: latch.name, sessionId: this.leaderSessionId }, 'ZooKeeper leadership granted.');
      this.listener.onGrantLeadership(this.leaderSessionId);
    }
    await this.reportLeaderInformation(epoch);
  }

  /**
   * While leading: reads (and watches) the connection info, and reports it if it differs from what this driver wrote,
   * so the service can restore it. Reads and writes share the queue, so a difference is a change made by someone else
   * (before the first write there is nothing to protect: the predecessor's information is expected there).
   */
  private async reportLeaderInformation(epoch: number): Promise<void> {
    const path = this.paths.connectionInfo;
    const node = await this.connection.getData(path, this.watcher);
    if (node === null && (await this.connection.exists(path, this.watcher)) !== null) {
      this.scheduleEvaluation('connection info appeared');
      return;
    }
    if (this.closed || this.epoch !== epoch || this.leaderSessionId === null || this.lastWritten === null) return;
    let info: LeaderInformation | null = null;
    try {
      info = decodeLeaderInformation(node?.data);
    } catch (error) {
      this.logger.warn({ err: error, path }, 'Unreadable leader information.');
    }
    if (!sameLeaderInformation(info, this.lastWritten)) this.listener.onLeaderInformationChange(info);
  }
}
