/**
 * The retrieval service shared by every backend (Flink's `DefaultLeaderRetrievalService`): it filters repeated
 * reports and delivers notifications one at a time.
 */

import type { Logger } from '../rpc/logger.js';
import type { LeaderRetrievalDriver, LeaderRetrievalDriverFactory } from './drivers.js';
import { type LeaderInformation, sameLeaderInformation } from './LeaderInformation.js';
import type { LeaderRetrievalListener, LeaderRetrievalService } from './LeaderRetrieval.js';
import { SerialExecutor } from './SerialExecutor.js';

/** Leader retrieval of one component on top of a {@link LeaderRetrievalDriver}. */
export class DefaultLeaderRetrievalService implements LeaderRetrievalService {
  private readonly queue = new SerialExecutor();
  private listener: LeaderRetrievalListener | null = null;
  private driver: LeaderRetrievalDriver | null = null;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private notified = false;
  private last: LeaderInformation | null = null;

  constructor(
    private readonly componentId: string,
    private readonly driverFactory: LeaderRetrievalDriverFactory,
    private readonly logger: Logger,
    private readonly onStopped: () => void = () => {},
  ) {}

  async start(listener: LeaderRetrievalListener): Promise<void> {
    if (this.stopping) throw new Error(`The leader retrieval of ${this.componentId} is stopped.`);
    if (this.listener !== null) throw new Error(`The leader retrieval of ${this.componentId} was already started.`);
    this.listener = listener;
    this.driver = this.driverFactory({
      onLeaderInformationChange: (info) => this.enqueue(() => this.deliver(info)),
      onError: (error) => this.enqueue(() => this.deliverError(error)),
    });
  }

  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    // Synchronously: nothing queued from now on reaches the listener.
    this.stopping = true;
    this.stopped = (async () => {
      await this.driver?.close().catch((error: unknown) => {
        this.logger.warn({ component: this.componentId, err: error }, 'Could not close the leader retrieval driver.');
      });
      await this.queue.drain();
      this.listener = null;
      this.onStopped();
    })();
    return this.stopped;
  }

  private enqueue(task: () => void): void {
    this.queue.submit(task).catch((error: unknown) => {
      this.logger.error({ component: this.componentId, err: error }, 'Leader retrieval event failed.');
    });
  }

  private deliver(info: LeaderInformation | null): void {
    const listener = this.listener;
    if (this.stopping || listener === null) return;
    if (this.notified && sameLeaderInformation(info, this.last)) return;
    this.notified = true;
    this.last = info;
    this.logger.debug({ component: this.componentId, leader: info }, 'Leader changed.');
    try {
      listener.notifyLeaderAddress(info?.address ?? null, info?.sessionId ?? null);
    } catch (error) {
      this.logger.error({ component: this.componentId, err: error }, 'LeaderRetrievalListener threw.');
      this.deliverError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private deliverError(error: Error): void {
    const listener = this.listener;
    if (this.stopping || listener === null) return;
    try {
      listener.handleError(error);
    } catch (thrown) {
      this.logger.error({ component: this.componentId, err: thrown }, 'LeaderRetrievalListener.handleError threw.');
    }
  }
}
