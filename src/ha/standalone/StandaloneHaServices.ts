/** `HighAvailabilityServices` with fixed addresses and no election (Flink's `StandaloneHaServices`). */

import { getDefaultLogger, type Logger } from '../../rpc/logger.js';
import { AbstractHaServices } from '../AbstractHaServices.js';
import type { LeaderElectionDriverFactory, LeaderRetrievalDriverFactory } from '../drivers.js';
import { ComponentIds } from '../HighAvailabilityServices.js';
import { StandaloneLeaderElectionDriver, StandaloneLeaderRetrievalDriver } from './drivers.js';

/** The fixed RPC addresses of a standalone cluster. */
export interface StandaloneHaConfig {
  resourceManagerAddress: string;
  dispatcherAddress: string;
  clusterRestEndpointAddress: string;
  /** The job master address of a job; else the `defaultJobManagerAddress` passed to the retriever is used. */
  jobManagerAddress?: (jobId: string) => string | undefined;
}

/**
 * No election: a contender is granted leadership at once with the fixed session id `DEFAULT_LEADER_SESSION_ID`
 * (so fencing tokens never change) and retrieval reports the configured address. Run one contender per component.
 */
export class StandaloneHaServices extends AbstractHaServices {
  constructor(
    private readonly config: StandaloneHaConfig,
    logger: Logger = getDefaultLogger(),
  ) {
    super(logger.child({ ha: 'standalone' }));
    for (const key of ['resourceManagerAddress', 'dispatcherAddress', 'clusterRestEndpointAddress'] as const) {
      if (typeof config[key] !== 'string' || config[key].length === 0) {
        throw new TypeError(`Standalone HA needs a non-empty '${key}'.`);
      }
    }
  }

  protected electionDriverFactory(): LeaderElectionDriverFactory {
    return (listener) => new StandaloneLeaderElectionDriver(listener);
  }

  protected retrievalDriverFactory(componentId: string, defaultAddress?: string): LeaderRetrievalDriverFactory {
    const address = this.addressOf(componentId, defaultAddress);
    return (listener) => new StandaloneLeaderRetrievalDriver(address, listener);
  }

  protected async closeBackend(): Promise<void> {}

  private addressOf(componentId: string, defaultAddress: string | undefined): string {
    switch (componentId) {
      case ComponentIds.resourceManager:
        return this.config.resourceManagerAddress;
      case ComponentIds.dispatcher:
        return this.config.dispatcherAddress;
      case ComponentIds.restServer:
        return this.config.clusterRestEndpointAddress;
    }
    const jobId = componentId.slice('job-'.length);
    const address = this.config.jobManagerAddress?.(jobId) ?? defaultAddress;
    if (address === undefined || address.length === 0) {
      throw new TypeError(`Standalone HA has no job manager address for job ${jobId}: pass defaultJobManagerAddress.`);
    }
    return address;
  }
}
