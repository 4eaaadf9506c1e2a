/** The owner's side of a heartbeat manager: how it learns about timeouts and payloads. */

/**
 * Callbacks of a heartbeat manager (Flink's `HeartbeatListener`). **Every callback runs in the main thread of the
 * endpoint that owns the manager**, so it may touch that endpoint's state freely; none runs after the manager was
 * stopped or the endpoint terminated. An exception thrown by a callback is logged and otherwise ignored.
 *
 * @typeParam I type of the payload of incoming heartbeats
 * @typeParam O type of the payload of outgoing heartbeats
 */
export interface HeartbeatListener<I, O> {
  /**
   * No heartbeat came from `resourceId` for the heartbeat timeout. Called once per monitoring: the target stays
   * monitored (heartbeats still update `getLastHeartbeatFrom`) but is never reported again until it is unmonitored
   * and monitored anew — the usual reaction is to disconnect it and call `unmonitorTarget`.
   */
  notifyHeartbeatTimeout(resourceId: string): void;

  /**
   * `failedRpcRequestsUntilUnreachable` heartbeat RPCs to `resourceId` failed in a row. Called once per
   * monitoring, and the heartbeat timeout of that target is cancelled (the target is considered gone).
   */
  notifyTargetUnreachable(resourceId: string): void;

  /**
   * A heartbeat (or heartbeat request) from the monitored target `resourceId` carried `payload`. Not called for
   * `undefined`/`null` payloads, nor for heartbeats from targets that are not monitored.
   */
  reportPayload(resourceId: string, payload: I): void;

  /** The payload of the next heartbeat (or heartbeat request) sent to `resourceId`. */
  retrievePayload(resourceId: string): O;
}
