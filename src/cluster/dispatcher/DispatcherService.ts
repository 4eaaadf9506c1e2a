/**
 * The Dispatcher side of one JobManager process (Flink's DispatcherLeaderProcess): it takes part in the Dispatcher
 * election and runs a fresh Dispatcher per grant, fenced by the leader session id; the new Dispatcher recovers the
 * jobs of its predecessor from the HA stores. On revoke the Dispatcher stops (its JobMasters leave their elections).
 */

import { type LeaderContender, type LeaderElection, LeaderGatewayRetriever } from '../../ha/index.js';
import type { Logger } from '../../index.js';
import { ResourceManagerGateway } from '../gateways.js';
import type { ArchivedJob } from '../jobmaster/ArchivedJob.js';
import type { JobId } from '../types.js';
import { Dispatcher, type DispatcherServices } from './Dispatcher.js';

/** What a Dispatcher shares across grants, less what this service makes itself (leader retriever, archive). */
export interface DispatcherServiceOptions extends Omit<DispatcherServices, 'resourceManager' | 'archive' | 'logger'> {
  /** Default: the RPC service's logger. */
  readonly logger?: Logger;
}

export class DispatcherService implements LeaderContender {
  private readonly election: LeaderElection;
  private readonly resourceManager: LeaderGatewayRetriever<ResourceManagerGateway>;
  private readonly archive = new Map<JobId, ArchivedJob>();
  private readonly logger: Logger;
  private readonly stopping = new Set<Promise<void>>();
  private dispatcher: Dispatcher | undefined;
  private closed = false;

  constructor(private readonly options: DispatcherServiceOptions) {
    this.logger = (options.logger ?? options.rpcService.getLogger()).child({ component: 'DispatcherService' });
    this.election = options.haServices.getDispatcherLeaderElection();
    this.resourceManager = new LeaderGatewayRetriever(options.rpcService, ResourceManagerGateway, {
      logger: this.logger,
    });
  }

  async start(): Promise<void> {
    await this.resourceManager.start(this.options.haServices.getResourceManagerLeaderRetriever());
    await this.election.startLeaderElection(this);
  }

  /** The Dispatcher of this process while it leads. */
  getCurrentLeader(): Dispatcher | undefined {
    return this.dispatcher;
  }

  grantLeadership(sessionId: string): void {
    if (this.closed) return;
    const services: DispatcherServices = {
      rpcService: this.options.rpcService,
      haServices: this.options.haServices,
      stores: this.options.stores,
      heartbeat: this.options.heartbeat,
      jobMasterConfiguration: this.options.jobMasterConfiguration,
      knownOperators: this.options.knownOperators,
      resourceManager: this.resourceManager,
      archive: this.archive,
      logger: this.logger,
    };
    const dispatcher = new Dispatcher(services, sessionId, this.election);
    this.dispatcher = dispatcher;
    dispatcher.start();
    this.logger.info({ dispatcherId: sessionId }, 'Dispatcher granted leadership.');
    void this.election.confirmLeadership(sessionId, dispatcher.getAddress());
  }

  revokeLeadership(): void {
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    if (dispatcher === undefined) return;
    this.logger.info({ dispatcherId: dispatcher.getFencingToken() }, 'Dispatcher lost leadership.');
    const stopping: Promise<void> = dispatcher.closeAsync().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'The Dispatcher did not stop cleanly.');
    });
    this.stopping.add(stopping);
    void stopping.finally(() => this.stopping.delete(stopping));
  }

  handleError(error: Error): void {
    this.logger.error({ err: error }, 'Dispatcher leader election failed.');
  }

  /** Gives leadership up, stops the Dispatcher and its JobMasters. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.election.close().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'Could not leave the Dispatcher election.');
    });
    this.revokeLeadership();
    await Promise.all([...this.stopping]);
    await this.resourceManager.close();
  }
}
