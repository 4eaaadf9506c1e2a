/**
 * Watches a component's connection info node. ZooKeeper watches fire once, so every event re-reads the node and
 * re-arms the watch (a data watch while the node exists, an existence watch while it does not). While the
 * connection is suspended the leader is reported as unknown (`null`), as Flink does by default: the old leader may
 * already be gone.
 */

import type { Event } from 'node-zookeeper-client';
import type { Logger } from '../../rpc/logger.js';
import type { LeaderRetrievalDriver, LeaderRetrievalDriverListener } from '../drivers.js';
import { LeaderRetrievalException, toError } from '../errors.js';
import { decodeLeaderInformation, type LeaderInformation } from '../LeaderInformation.js';
import { SerialExecutor } from '../SerialExecutor.js';
import { type ConnectionState, isConnectionProblem, type ZooKeeperConnection } from './ZooKeeperConnection.js';

/** Reports the leader information stored at one path. */
export class ZooKeeperLeaderRetrievalDriver implements LeaderRetrievalDriver {
  private readonly queue = new SerialExecutor();
  private epoch = 0;
  private readQueued = false;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly watcher = (event: Event) => this.scheduleRead(`${event.getName()}`);

  constructor(
    private readonly connection: ZooKeeperConnection,
    private readonly infoPath: string,
    private readonly listener: LeaderRetrievalDriverListener,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = connection.onStateChange((state) => this.onConnectionState(state));
    if (connection.isConnected()) this.scheduleRead('start');
    else listener.onLeaderInformationChange(null);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    await this.queue.drain();
  }

  private onConnectionState(state: ConnectionState): void {
    this.epoch += 1;
    if (state === 'suspended') {
      if (!this.closed) this.listener.onLeaderInformationChange(null);
    } else {
      this.scheduleRead('connected');
    }
  }

  private scheduleRead(reason: string): void {
    if (this.closed || this.readQueued) return;
    this.readQueued = true;
    this.queue
      .submit(async () => {
        this.readQueued = false;
        await this.read(reason);
      })
      .catch((error: unknown) => {
        if (this.closed || isConnectionProblem(error)) return;
        this.logger.error({ err: error, path: this.infoPath }, 'Leader retrieval failed.');
        this.listener.onError(
          new LeaderRetrievalException('ZooKeeper leader retrieval failed.', { cause: toError(error) }),
        );
      });
  }

  private async read(reason: string): Promise<void> {
    if (this.closed || !this.connection.isConnected()) return;
    const epoch = this.epoch;
    const node = await this.connection.getData(this.infoPath, this.watcher);
    if (node === null) {
      // getData sets no watch on a missing node; exists does (and tells us if it appeared meanwhile).
      const stat = await this.connection.exists(this.infoPath, this.watcher);
      if (stat !== null) {
        this.scheduleRead('appeared');
        return;
      }
    }
    if (this.closed || this.epoch !== epoch) return;
    let info: LeaderInformation | null = null;
    try {
      info = decodeLeaderInformation(node?.data);
    } catch (error) {
      this.logger.warn({ err: error, path: this.infoPath }, 'Ignoring unreadable leader information.');
    }
    this.logger.debug({ reason, leader: info }, 'Read leader information.');
    this.listener.onLeaderInformationChange(info);
  }
}
