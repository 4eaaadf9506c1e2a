/** What every backend's `HighAvailabilityServices` shares: creating services over drivers and closing them all. */

import type { Logger } from '../rpc/logger.js';
import { DefaultLeaderElection } from './DefaultLeaderElection.js';
import { DefaultLeaderRetrievalService } from './DefaultLeaderRetrievalService.js';
import type { LeaderElectionDriverFactory, LeaderRetrievalDriverFactory } from './drivers.js';
import { ComponentIds, type HighAvailabilityServices } from './HighAvailabilityServices.js';
import type { LeaderElection } from './LeaderElection.js';
import type { LeaderRetrievalService } from './LeaderRetrieval.js';

/** A backend's `HighAvailabilityServices`: it supplies driver factories, this class does the rest. */
export abstract class AbstractHaServices implements HighAvailabilityServices {
  private readonly elections = new Set<DefaultLeaderElection>();
  private readonly retrievals = new Set<DefaultLeaderRetrievalService>();
  private closing: Promise<void> | null = null;

  protected constructor(protected readonly logger: Logger) {}

  /** The driver factory for one contender of `componentId`. */
  protected abstract electionDriverFactory(componentId: string): LeaderElectionDriverFactory;
  /** The driver factory for a watcher of `componentId`. */
  protected abstract retrievalDriverFactory(componentId: string, defaultAddress?: string): LeaderRetrievalDriverFactory;
  /** Releases the backend (after every election and retrieval is closed); with `cleanup`, deletes stored data first. */
  protected abstract closeBackend(cleanup: boolean): Promise<void>;

  getResourceManagerLeaderElection(): LeaderElection {
    return this.createElection(ComponentIds.resourceManager);
  }

  getDispatcherLeaderElection(): LeaderElection {
    return this.createElection(ComponentIds.dispatcher);
  }

  getJobManagerLeaderElection(jobId: string): LeaderElection {
    return this.createElection(ComponentIds.jobManager(jobId));
  }

  getClusterRestEndpointLeaderElection(): LeaderElection {
    return this.createElection(ComponentIds.restServer);
  }

  getResourceManagerLeaderRetriever(): LeaderRetrievalService {
    return this.createRetrieval(ComponentIds.resourceManager);
  }

  getDispatcherLeaderRetriever(): LeaderRetrievalService {
    return this.createRetrieval(ComponentIds.dispatcher);
  }

  getJobManagerLeaderRetriever(jobId: string, defaultJobManagerAddress?: string): LeaderRetrievalService {
    return this.createRetrieval(ComponentIds.jobManager(jobId), defaultJobManagerAddress);
  }

  getClusterRestEndpointLeaderRetriever(): LeaderRetrievalService {
    return this.createRetrieval(ComponentIds.restServer);
  }

  close(): Promise<void> {
    return this.shutDown(false);
  }

  closeAndCleanupAllData(): Promise<void> {
    return this.shutDown(true);
  }

  /** Creates the election of `componentId` (for backends that add components of their own). */
  protected createElection(componentId: string): LeaderElection {
    this.ensureOpen();
    const election: DefaultLeaderElection = new DefaultLeaderElection(
      componentId,
      this.electionDriverFactory(componentId),
      this.logger.child({ component: componentId }),
      () => this.elections.delete(election),
    );
    this.elections.add(election);
    return election;
  }

  /** Creates a retrieval of `componentId`. */
  protected createRetrieval(componentId: string, defaultAddress?: string): LeaderRetrievalService {
    this.ensureOpen();
    const retrieval: DefaultLeaderRetrievalService = new DefaultLeaderRetrievalService(
      componentId,
      this.retrievalDriverFactory(componentId, defaultAddress),
      this.logger.child({ component: componentId }),
      () => this.retrievals.delete(retrieval),
    );
    this.retrievals.add(retrieval);
    return retrieval;
  }

  private ensureOpen(): void {
    if (this.closing) throw new Error('The HighAvailabilityServices are closed.');
  }

  private shutDown(cleanup: boolean): Promise<void> {
    this.closing ??= (async () => {
      // Elections first: each one gives its leadership up while the backend connection still works.
      await Promise.all([...this.elections].map((election) => election.close()));
      await Promise.all([...this.retrievals].map((retrieval) => retrieval.stop()));
      await this.closeBackend(cleanup);
      this.logger.debug({ cleanup }, 'HighAvailabilityServices closed.');
    })();
    return this.closing;
  }
}
