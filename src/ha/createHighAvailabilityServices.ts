/** Picks and builds a backend from configuration. */

import { getDefaultLogger, type Logger } from '../rpc/logger.js';
import { EmbeddedHaServices } from './embedded/EmbeddedHaServices.js';
import type { EmbeddedLeaderRegistry } from './embedded/EmbeddedLeaderRegistry.js';
import type { HighAvailabilityServices } from './HighAvailabilityServices.js';
import { type StandaloneHaConfig, StandaloneHaServices } from './standalone/StandaloneHaServices.js';
import { type ZooKeeperHaConfig, ZooKeeperHaServices } from './zookeeper/ZooKeeperHaServices.js';

/** Configuration of {@link createHighAvailabilityServices}. */
export type HighAvailabilityConfig =
  | { mode: 'embedded'; embedded?: { registry?: EmbeddedLeaderRegistry }; logger?: Logger }
  | { mode: 'standalone'; standalone: StandaloneHaConfig; logger?: Logger }
  | { mode: 'zookeeper'; zookeeper: ZooKeeperHaConfig; logger?: Logger };

/**
 * Creates the `HighAvailabilityServices` of `config.mode`:
 * - `embedded`: in memory, one process (the default for demos and unit tests);
 * - `standalone`: fixed addresses, no election;
 * - `zookeeper`: connects first, and rejects if ZooKeeper is not reachable within `connectionTimeout`.
 */
export async function createHighAvailabilityServices(
  config: HighAvailabilityConfig,
): Promise<HighAvailabilityServices> {
  const logger = config.logger ?? getDefaultLogger();
  switch (config.mode) {
    case 'embedded':
      return new EmbeddedHaServices({ registry: config.embedded?.registry, logger });
    case 'standalone':
      return new StandaloneHaServices(config.standalone, logger);
    case 'zookeeper':
      return ZooKeeperHaServices.create(config.zookeeper, logger);
    default:
      throw new TypeError(`Unknown high-availability mode ${JSON.stringify((config as { mode?: unknown }).mode)}.`);
  }
}
