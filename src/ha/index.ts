/**
 * `flink-rpc/ha`: service discovery. Leader election and retrieval per component, with embedded (in memory),
 * standalone (fixed addresses) and ZooKeeper backends, and a helper that keeps a fenced gateway to the leader.
 */

export { AbstractHaServices } from './AbstractHaServices.js';
export { createHighAvailabilityServices, type HighAvailabilityConfig } from './createHighAvailabilityServices.js';
export { DefaultLeaderElection } from './DefaultLeaderElection.js';
export { DefaultLeaderRetrievalService } from './DefaultLeaderRetrievalService.js';
export type {
  LeaderElectionDriver,
  LeaderElectionDriverFactory,
  LeaderElectionDriverListener,
  LeaderRetrievalDriver,
  LeaderRetrievalDriverFactory,
  LeaderRetrievalDriverListener,
} from './drivers.js';
export { EmbeddedHaServices, type EmbeddedHaServicesOptions } from './embedded/EmbeddedHaServices.js';
export { EmbeddedComponentElection, EmbeddedLeaderRegistry } from './embedded/EmbeddedLeaderRegistry.js';
export { LeaderElectionException, LeaderRetrievalException } from './errors.js';
export { ComponentIds, type HighAvailabilityServices } from './HighAvailabilityServices.js';
export type { LeaderContender, LeaderElection } from './LeaderElection.js';
export {
  type LeaderGatewayListener,
  LeaderGatewayRetriever,
  type LeaderGatewayRetrieverOptions,
  LeaderGatewayUnavailableException,
} from './LeaderGatewayRetriever.js';
export type { LeaderInformation } from './LeaderInformation.js';
export type { LeaderRetrievalListener, LeaderRetrievalService } from './LeaderRetrieval.js';
export { DEFAULT_LEADER_SESSION_ID } from './standalone/drivers.js';
export { type StandaloneHaConfig, StandaloneHaServices } from './standalone/StandaloneHaServices.js';
export { ZooKeeperPaths } from './zookeeper/paths.js';
export { ZooKeeperNotConnectedException, ZooKeeperTimeoutException } from './zookeeper/ZooKeeperConnection.js';
export { ZOOKEEPER_HA_DEFAULTS, type ZooKeeperHaConfig, ZooKeeperHaServices } from './zookeeper/ZooKeeperHaServices.js';
export type {
  GuardedCommitResult,
  GuardedOperation,
  ZooKeeperLeaderGuardedStore,
  ZooKeeperNode,
} from './zookeeper/ZooKeeperLeaderGuardedStore.js';
