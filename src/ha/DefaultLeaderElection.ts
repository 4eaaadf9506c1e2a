/**
 * The election service shared by every backend (Flink's `DefaultLeaderElectionService`, one per component): it
 * tracks the session id it handed to the contender, refuses confirmations for any other session, and delivers every
 * callback through one serial queue.
 */

import type { Logger } from '../rpc/logger.js';
import type { LeaderElectionDriver, LeaderElectionDriverFactory, LeaderElectionDriverListener } from './drivers.js';
import { toError } from './errors.js';
import type { LeaderContender, LeaderElection } from './LeaderElection.js';
import { describeLeader, type LeaderInformation, sameLeaderInformation } from './LeaderInformation.js';
import { SerialExecutor } from './SerialExecutor.js';

/** Leader election of one component on top of a {@link LeaderElectionDriver}. */
export class DefaultLeaderElection implements LeaderElection {
  private readonly queue = new SerialExecutor();
  private contender: LeaderContender | null = null;
  private driver: LeaderElectionDriver | null = null;
  private started = false;
  /** Set synchronously by `close()`: from then on no grant reaches the contender and no confirmation is accepted. */
  private closing = false;
  private closed: Promise<void> | null = null;
  /** The session id handed to the contender by the last grant that was delivered and not revoked yet. */
  private issuedSessionId: string | null = null;
  /** What this contender published under `issuedSessionId`. */
  private confirmed: LeaderInformation | null = null;

  /**
   * @param componentId names the component in logs
   * @param driverFactory creates the backend driver when the contender starts
   * @param onClosed called once after `close()` finished (the HA services use it to forget this election)
   */
  constructor(
    private readonly componentId: string,
    private readonly driverFactory: LeaderElectionDriverFactory,
    private readonly logger: Logger,
    private readonly onClosed: () => void = () => {},
  ) {}

  async startLeaderElection(contender: LeaderContender): Promise<void> {
    if (this.closing) throw new Error(`The leader election of ${this.componentId} is closed.`);
    if (this.started) throw new Error(`The leader election of ${this.componentId} was already started.`);
    this.started = true;
    this.contender = contender;
    const listener: LeaderElectionDriverListener = {
      onGrantLeadership: (sessionId) => this.enqueue('grant', () => this.handleGrant(sessionId)),
      onRevokeLeadership: () => this.enqueue('revoke', () => this.handleRevoke()),
      onLeaderInformationChange: (info) => this.enqueue('information change', () => this.handleInformationChange(info)),
      onError: (error) => this.enqueue('error', () => this.deliverError(error)),
    };
    // Events the driver reports while it is being created are queued and run after this assignment.
    this.driver = this.driverFactory(listener);
    this.logger.debug({ component: this.componentId }, 'Leader election started.');
  }

  hasLeadership(sessionId: string): boolean {
    return (
      !this.closing &&
      this.issuedSessionId !== null &&
      this.issuedSessionId === sessionId &&
      this.driver?.hasLeadership() === true
    );
  }

  confirmLeadership(sessionId: string, address: string): Promise<boolean> {
    if (this.closing || !this.started) {
      this.logger.debug({ component: this.componentId, sessionId }, 'Ignoring confirmation: election not running.');
      return Promise.resolve(false);
    }
    return this.queue.submit(async () => {
      // Checked inside the queue: a revoke queued before this confirmation has been delivered by now.
      if (!this.hasLeadership(sessionId)) {
        this.logger.debug(
          { component: this.componentId, sessionId, current: this.issuedSessionId },
          'Ignoring confirmation of a leadership that is not held.',
        );
        return false;
      }
      const info: LeaderInformation = { sessionId, address };
      try {
        const published = await this.driver!.publishLeaderInformation(info);
        if (published) {
          this.confirmed = info;
          this.logger.info({ component: this.componentId, address, sessionId }, 'Leadership confirmed.');
        } else {
          this.logger.debug({ component: this.componentId, sessionId }, 'Confirmation refused by the backend.');
        }
        return published;
      } catch (error) {
        // A failure caused by losing the leadership meanwhile is a refusal, not an error.
        if (this.hasLeadership(sessionId)) this.deliverError(toError(error));
        else
          this.logger.debug({ component: this.componentId, err: error }, 'Confirmation failed after leadership loss.');
        return false;
      }
    });
  }

  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    this.closed = (async () => {
      if (this.driver !== null) await this.queue.submit(() => this.shutDown(this.driver!));
      this.contender = null;
      this.onClosed();
      this.logger.debug({ component: this.componentId }, 'Leader election closed.');
    })();
    return this.closed;
  }

  private async shutDown(driver: LeaderElectionDriver): Promise<void> {
    const wasLeader = this.issuedSessionId !== null;
    if (wasLeader) this.handleRevoke();
    if (wasLeader && driver.hasLeadership()) {
      // Before leaving the latch: once it is gone a successor may publish, and this delete must not hit its node.
      await driver.deleteLeaderInformation().catch((error: unknown) => {
        this.logger.warn({ component: this.componentId, err: error }, 'Could not delete leader information.');
      });
    }
    await driver.close().catch((error: unknown) => {
      this.logger.warn({ component: this.componentId, err: error }, 'Could not close the leader election driver.');
    });
  }

  private enqueue(what: string, task: () => void | Promise<void>): void {
    this.queue.submit(task).catch((error: unknown) => {
      this.logger.error({ component: this.componentId, err: error, event: what }, 'Leader election event failed.');
    });
  }

  private handleGrant(sessionId: string): void {
    if (this.closing || this.contender === null) return;
    // A driver grants again only after a revoke; if that ever changes, the contender still sees revoke before grant.
    if (this.issuedSessionId !== null) this.handleRevoke();
    this.issuedSessionId = sessionId;
    this.confirmed = null;
    this.logger.info({ component: this.componentId, sessionId }, 'Leadership granted.');
    const contender = this.contender;
    this.callContender(() => contender.grantLeadership(sessionId));
  }

  private handleRevoke(): void {
    if (this.issuedSessionId === null || this.contender === null) return;
    this.logger.info({ component: this.componentId, sessionId: this.issuedSessionId }, 'Leadership revoked.');
    this.issuedSessionId = null;
    this.confirmed = null;
    const contender = this.contender;
    this.callContender(() => contender.revokeLeadership());
  }

  private async handleInformationChange(info: LeaderInformation | null): Promise<void> {
    const confirmed = this.confirmed;
    if (this.closing || confirmed === null || !this.hasLeadership(confirmed.sessionId)) return;
    if (sameLeaderInformation(info, confirmed)) return;
    // Someone removed or replaced what this leader published (an operator, a cleanup): restore it, as Flink does.
    this.logger.warn(
      { component: this.componentId, found: describeLeader(info), expected: describeLeader(confirmed) },
      'Leader information changed behind the leader; rewriting it.',
    );
    try {
      await this.driver!.publishLeaderInformation(confirmed);
    } catch (error) {
      if (this.hasLeadership(confirmed.sessionId)) this.deliverError(toError(error));
    }
  }

  private deliverError(error: Error): void {
    const contender = this.contender;
    if (contender === null || this.closing) {
      this.logger.warn({ component: this.componentId, err: error }, 'Leader election error with no contender to tell.');
      return;
    }
    try {
      contender.handleError(error);
    } catch (thrown) {
      this.logger.error({ component: this.componentId, err: thrown }, 'LeaderContender.handleError threw.');
    }
  }

  private callContender(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.logger.error({ component: this.componentId, err: error }, 'LeaderContender callback threw.');
      this.deliverError(toError(error));
    }
  }
}
