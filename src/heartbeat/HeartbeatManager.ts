/** The heartbeat manager contract. */

import type { HeartbeatTarget } from './HeartbeatTarget.js';

/**
 * Monitors a set of heartbeat targets and reports timeouts and unreachable targets to its
 * {@link HeartbeatListener} (Flink's `HeartbeatManager`). A manager is itself the {@link HeartbeatTarget} of its
 * peers: the owning endpoint's heartbeat RPC methods hand incoming heartbeats to {@link receiveHeartbeat} and
 * {@link requestHeartbeat}.
 *
 * All methods may be called from anywhere (JavaScript has no data races); listener callbacks always run in the
 * owning endpoint's main thread.
 *
 * @typeParam I type of the payload of incoming heartbeats
 * @typeParam O type of the payload of outgoing heartbeats
 */
export interface HeartbeatManager<I, O> extends HeartbeatTarget<I> {
  /**
   * Starts monitoring `resourceId`: its heartbeat timeout starts now. Monitoring an id that is already monitored
   * **keeps the existing monitoring** (its target, timeout and failure count) and ignores `target`, as Flink does;
   * to replace a target, `unmonitorTarget` first. A no-op after `stop()`.
   */
  monitorTarget(resourceId: string, target: HeartbeatTarget<O>): void;

  /** Stops monitoring `resourceId`; nothing is reported for it afterwards. A no-op for an unknown id. */
  unmonitorTarget(resourceId: string): void;

  /**
   * Handles a heartbeat from `heartbeatOrigin`: resets its heartbeat timeout and reports `heartbeatPayload`.
   * Heartbeats from targets that are not monitored are ignored.
   * @returns an already resolved promise (a heartbeat is never refused), so an RPC method can return it
   */
  receiveHeartbeat(heartbeatOrigin: string, heartbeatPayload: I): Promise<void>;

  /**
   * Handles a heartbeat request from `requestOrigin`: like {@link receiveHeartbeat}, then answers with a heartbeat
   * carrying `retrievePayload(requestOrigin)` through the origin's target. Requests from targets that are not
   * monitored get no answer, so such a requester eventually times this component out.
   * @returns an already resolved promise (the answer is sent separately)
   */
  requestHeartbeat(requestOrigin: string, heartbeatPayload: I): Promise<void>;

  /**
   * When the last heartbeat from `resourceId` arrived (`Date.now()` milliseconds); `0` if it is monitored but no
   * heartbeat arrived yet, `-1` if it is not monitored.
   */
  getLastHeartbeatFrom(resourceId: string): number;

  /** Stops the manager: cancels every timer, forgets every target; later calls are no-ops. Idempotent. */
  stop(): void;
}
