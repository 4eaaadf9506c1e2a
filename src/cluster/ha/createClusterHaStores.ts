/** Picks the HA stores that match a cluster's high-availability services. */

import { type HighAvailabilityServices, ZooKeeperHaServices } from '../../ha/index.js';
import type { Logger } from '../../index.js';
import { createMemoryClusterHaStores } from './memoryStores.js';
import type { ClusterHaStores } from './stores.js';
import { createZooKeeperClusterHaStores } from './zookeeperStores.js';

/** Options of {@link createClusterHaStores}. */
export interface ClusterHaStoresOptions {
  /** `high-availability.storageDir`: required for ZooKeeper, where the stores' files live. */
  readonly storageDir?: string;
  readonly logger?: Logger;
}

/**
 * The stores for `haServices`' backend: ZooKeeper pointers plus files under `storageDir` for
 * {@link ZooKeeperHaServices} (a successor JobManager in another process recovers from them); memory for the embedded
 * and standalone backends (as in Flink, standalone recovers nothing after a JobManager process dies).
 */
export function createClusterHaStores(
  haServices: HighAvailabilityServices,
  options: ClusterHaStoresOptions = {},
): ClusterHaStores {
  if (haServices instanceof ZooKeeperHaServices) {
    return createZooKeeperClusterHaStores(haServices, {
      storageDir: options.storageDir ?? '',
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }
  return createMemoryClusterHaStores();
}
