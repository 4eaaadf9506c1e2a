/**
 * Heartbeats (Flink's `org.apache.flink.runtime.heartbeat`): application-level liveness between endpoints.
 * Exposed as `flink-rpc/heartbeat`.
 */

export type { HeartbeatListener } from './HeartbeatListener.js';
export type { HeartbeatManager } from './HeartbeatManager.js';
export {
  DEFAULT_FAILED_RPC_REQUESTS_UNTIL_UNREACHABLE,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_TIMEOUT,
  FAILED_RPC_DETECTION_DISABLED,
  HeartbeatServices,
  type HeartbeatServicesOptions,
  NoOpHeartbeatServices,
} from './HeartbeatServices.js';
export type { HeartbeatTarget } from './HeartbeatTarget.js';
export { NoOpHeartbeatManager } from './NoOpHeartbeatManager.js';
