/** `HighAvailabilityServices` on ZooKeeper (Flink's `ZooKeeperLeaderElectionHaServices`): the production backend. */

import { getDefaultLogger, type Logger } from '../../rpc/logger.js';
import { AbstractHaServices } from '../AbstractHaServices.js';
import type { LeaderElectionDriverFactory, LeaderRetrievalDriverFactory } from '../drivers.js';
import type { LeaderElection } from '../LeaderElection.js';
import { ZooKeeperPaths } from './paths.js';
import { ZooKeeperConnection } from './ZooKeeperConnection.js';
import { ZooKeeperLeaderElectionDriver } from './ZooKeeperLeaderElectionDriver.js';
import { ZooKeeperLeaderGuardedStore } from './ZooKeeperLeaderGuardedStore.js';
import { ZooKeeperLeaderRetrievalDriver } from './ZooKeeperLeaderRetrievalDriver.js';

/** ZooKeeper settings; durations in milliseconds. */
export interface ZooKeeperHaConfig {
  /** `host:port[,host:port…]` of the ensemble (prefer `127.0.0.1` to `localhost`). */
  connectString: string;
  /** Parent of all clusters' nodes. Default `/flink`. */
  rootPath?: string;
  /** Separates clusters sharing an ensemble. Default `default`. */
  clusterId?: string;
  /**
   * Session timeout (default 60 000, as Flink): a dead process loses its leadership this long after its last
   * contact, which bounds failover time. The server clamps it to its configured min/max.
   */
  sessionTimeout?: number;
  /** How long creating the services may wait for the first connection (default 15 000, as Flink). */
  connectionTimeout?: number;
}

/** The defaults Flink uses. */
export const ZOOKEEPER_HA_DEFAULTS = {
  rootPath: '/flink',
  clusterId: 'default',
  sessionTimeout: 60_000,
  connectionTimeout: 15_000,
} as const;

/** Leader election and retrieval through one ZooKeeper session per instance (i.e. per process, usually). */
export class ZooKeeperHaServices extends AbstractHaServices {
  /** The driver behind each election these services created (set once the election starts). */
  private readonly driversByElection = new WeakMap<LeaderElection, DriverSlot>();
  /** Handed from {@link createElection} to the driver factory it calls synchronously. */
  private pendingDriverSlot: DriverSlot | null = null;

  private constructor(
    private readonly connection: ZooKeeperConnection,
    /** The paths of this cluster. */
    readonly paths: ZooKeeperPaths,
    logger: Logger,
  ) {
    super(logger);
  }

  /** Connects to ZooKeeper; rejects if it cannot within `connectionTimeout`. */
  static async create(config: ZooKeeperHaConfig, logger: Logger = getDefaultLogger()): Promise<ZooKeeperHaServices> {
    const paths = new ZooKeeperPaths(
      config.rootPath ?? ZOOKEEPER_HA_DEFAULTS.rootPath,
      config.clusterId ?? ZOOKEEPER_HA_DEFAULTS.clusterId,
    );
    const haLogger = logger.child({ ha: 'zookeeper', cluster: paths.clusterPath });
    const connection = await ZooKeeperConnection.connect({
      connectString: config.connectString,
      sessionTimeout: config.sessionTimeout ?? ZOOKEEPER_HA_DEFAULTS.sessionTimeout,
      connectionTimeout: config.connectionTimeout ?? ZOOKEEPER_HA_DEFAULTS.connectionTimeout,
      logger: haLogger,
    });
    return new ZooKeeperHaServices(connection, paths, haLogger);
  }

  /** The session timeout the server granted, in milliseconds. */
  getSessionTimeout(): number {
    return this.connection.getSessionTimeout();
  }

  /**
   * Reads and leader-guarded writes of nodes below this cluster's path, for state a leader keeps in ZooKeeper (job
   * graphs, checkpoint pointers, counters): every write is a transaction that checks `election`'s latch node, so it
   * fails once that election's leadership is gone. `election` must come from these services.
   */
  getLeaderGuardedStore(election: LeaderElection): ZooKeeperLeaderGuardedStore {
    const slot = this.driversByElection.get(election);
    if (slot === undefined) {
      throw new TypeError('The guarding leader election was not created by these ZooKeeper HA services.');
    }
    return new ZooKeeperLeaderGuardedStore(this.connection, this.paths.clusterPath, () => slot.driver);
  }

  protected override createElection(componentId: string): LeaderElection {
    const slot: DriverSlot = { driver: undefined };
    this.pendingDriverSlot = slot;
    try {
      const election = super.createElection(componentId);
      this.driversByElection.set(election, slot);
      return election;
    } finally {
      this.pendingDriverSlot = null;
    }
  }

  protected electionDriverFactory(componentId: string): LeaderElectionDriverFactory {
    const paths = this.paths.component(componentId);
    const logger = this.logger.child({ component: componentId });
    const slot = this.pendingDriverSlot;
    return (listener) => {
      const driver = new ZooKeeperLeaderElectionDriver(this.connection, paths, listener, logger);
      if (slot !== null) slot.driver = driver;
      return driver;
    };
  }

  protected retrievalDriverFactory(componentId: string): LeaderRetrievalDriverFactory {
    const path = this.paths.component(componentId).connectionInfo;
    const logger = this.logger.child({ component: componentId });
    return (listener) => new ZooKeeperLeaderRetrievalDriver(this.connection, path, listener, logger);
  }

  protected async closeBackend(cleanup: boolean): Promise<void> {
    if (cleanup) {
      await this.connection.removeRecursive(this.paths.clusterPath).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'Could not delete the cluster data in ZooKeeper.');
      });
    }
    await this.connection.close();
  }
}

interface DriverSlot {
  driver: ZooKeeperLeaderElectionDriver | undefined;
}
