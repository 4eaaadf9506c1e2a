/** A heartbeat manager that does nothing, for components whose heartbeats are disabled. */

import type { HeartbeatManager } from './HeartbeatManager.js';
import type { HeartbeatTarget } from './HeartbeatTarget.js';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Flink's `NoOpHeartbeatManager`: monitors nothing, reports nothing, sends nothing; heartbeats handed to it are
 * accepted and dropped. `getLastHeartbeatFrom` is `0` for every id ("never heard of, but not unknown"), as in Flink.
 */
export class NoOpHeartbeatManager<I = unknown, O = unknown> implements HeartbeatManager<I, O> {
  private static readonly INSTANCE = new NoOpHeartbeatManager<never, never>();

  /** The shared instance (the manager has no state). */
  static getInstance<I, O>(): NoOpHeartbeatManager<I, O> {
    return NoOpHeartbeatManager.INSTANCE as unknown as NoOpHeartbeatManager<I, O>;
  }

  monitorTarget(_resourceId: string, _target: HeartbeatTarget<O>): void {}
  unmonitorTarget(_resourceId: string): void {}
  receiveHeartbeat(_heartbeatOrigin: string, _heartbeatPayload: I): Promise<void> {
    return RESOLVED;
  }
  requestHeartbeat(_requestOrigin: string, _heartbeatPayload: I): Promise<void> {
    return RESOLVED;
  }
  getLastHeartbeatFrom(_resourceId: string): number {
    return 0;
  }
  stop(): void {}
}
