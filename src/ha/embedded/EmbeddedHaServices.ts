/** In-memory `HighAvailabilityServices` (Flink's `EmbeddedHaServices`): the default for demos and unit tests. */

import { getDefaultLogger, type Logger } from '../../rpc/logger.js';
import { AbstractHaServices } from '../AbstractHaServices.js';
import type { LeaderElectionDriverFactory, LeaderRetrievalDriverFactory } from '../drivers.js';
import { EmbeddedLeaderElectionDriver, EmbeddedLeaderRetrievalDriver } from './drivers.js';
import { EmbeddedLeaderRegistry } from './EmbeddedLeaderRegistry.js';

/** Options of {@link EmbeddedHaServices}. */
export interface EmbeddedHaServicesOptions {
  /**
   * The in-memory cluster to join. Services that share a registry see each other's leaders, like processes of one
   * cluster; by default each instance has its own.
   */
  registry?: EmbeddedLeaderRegistry;
  logger?: Logger;
}

/**
 * Leader election and retrieval inside one process. Several contenders per component queue up; the first is
 * leader, and leadership moves to the next when the leader closes its election.
 */
export class EmbeddedHaServices extends AbstractHaServices {
  /** The in-memory cluster these services belong to (also offers test hooks such as `revokeLeadership`). */
  readonly registry: EmbeddedLeaderRegistry;

  constructor(options: EmbeddedHaServicesOptions = {}) {
    super((options.logger ?? getDefaultLogger()).child({ ha: 'embedded' }));
    this.registry = options.registry ?? new EmbeddedLeaderRegistry();
  }

  protected electionDriverFactory(componentId: string): LeaderElectionDriverFactory {
    const election = this.registry.component(componentId);
    return (listener) => new EmbeddedLeaderElectionDriver(election, listener);
  }

  protected retrievalDriverFactory(componentId: string): LeaderRetrievalDriverFactory {
    const election = this.registry.component(componentId);
    return (listener) => new EmbeddedLeaderRetrievalDriver(election, listener);
  }

  protected async closeBackend(cleanup: boolean): Promise<void> {
    if (cleanup) this.registry.clear();
  }
}
