/**
 * The ResourceManager's part in leader election (Flink's ResourceManagerServiceImpl): every leadership grant gets a
 * fresh fenced ResourceManager whose token is the grant's session id; a revocation stops it.
 */

import type { HighAvailabilityServices, LeaderContender, LeaderElection } from '../../ha/index.js';
import type { Logger, RpcService } from '../../index.js';
import { ResourceManager, type ResourceManagerOptions } from './ResourceManager.js';

export class ResourceManagerService implements LeaderContender {
  private election: LeaderElection | undefined;
  private current: ResourceManager | undefined;
  /** Grants and revocations are applied one after the other. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly logger: Logger;

  constructor(
    private readonly rpcService: RpcService,
    private readonly haServices: HighAvailabilityServices,
    private readonly options: ResourceManagerOptions,
  ) {
    this.logger = (options.logger ?? rpcService.getLogger()).child({ component: 'ResourceManagerService' });
  }

  /** Joins the ResourceManager election. */
  async start(): Promise<void> {
    if (this.election !== undefined) throw new Error('ResourceManagerService can be started once.');
    if (this.closed) throw new Error('ResourceManagerService is closed.');
    this.election = this.haServices.getResourceManagerLeaderElection();
    await this.election.startLeaderElection(this);
  }

  /** Leaves the election (handing leadership over) and stops the current ResourceManager. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return this.queue;
    this.closed = true;
    await this.election?.close();
    this.enqueue(() => this.stopCurrent());
    await this.queue;
  }

  /** The ResourceManager of the current grant, if this process leads. */
  getCurrentLeader(): ResourceManager | undefined {
    return this.current;
  }

  /** Resolves once the grants and revocations received so far are applied (for tests and shutdown). */
  whenSettled(): Promise<void> {
    return this.queue;
  }

  /** @internal LeaderContender */
  grantLeadership(sessionId: string): void {
    this.enqueue(async () => {
      await this.stopCurrent();
      if (this.closed || this.election === undefined || !this.election.hasLeadership(sessionId)) return;
      const resourceManager = new ResourceManager(this.rpcService, sessionId, this.haServices, this.options);
      this.current = resourceManager;
      resourceManager.start();
      const confirmed = await this.election.confirmLeadership(sessionId, resourceManager.getAddress());
      this.logger.info(
        { sessionId, address: resourceManager.getAddress(), confirmed },
        'ResourceManager leadership granted.',
      );
    });
  }

  /** @internal LeaderContender */
  revokeLeadership(): void {
    this.enqueue(async () => {
      this.logger.info('ResourceManager leadership revoked.');
      await this.stopCurrent();
    });
  }

  /** @internal LeaderContender */
  handleError(error: Error): void {
    this.logger.error({ err: error }, 'ResourceManager leader election failed.');
  }

  private async stopCurrent(): Promise<void> {
    const resourceManager = this.current;
    this.current = undefined;
    if (resourceManager !== undefined) {
      await resourceManager.closeAsync().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'The ResourceManager did not stop cleanly.');
      });
    }
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((error: unknown) => {
      this.logger.error({ err: error }, 'ResourceManager leadership change failed.');
    });
  }
}
