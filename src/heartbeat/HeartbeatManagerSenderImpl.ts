/** The sending heartbeat manager: a receiver that also requests heartbeats from its targets every interval. */

import type { ScheduledTask } from '../rpc/executors.js';
import { type HeartbeatManagerConfig, HeartbeatManagerImpl } from './HeartbeatManagerImpl.js';

/**
 * Flink's `HeartbeatManagerSenderImpl`: every `heartbeatInterval` it sends `requestHeartbeat` (with the listener's
 * payload) to every monitored target, which answers with `receiveHeartbeat`. The first round runs right after
 * creation. Rounds are chained one-shot timers on the main-thread executor rather than a fixed-rate timer: the
 * main-thread executor does not offer one, and a chain that checks `stopped` before re-arming cannot outlive
 * `stop()` or the endpoint.
 */
export class HeartbeatManagerSenderImpl<I, O> extends HeartbeatManagerImpl<I, O> {
  private nextRound: ScheduledTask<void> | undefined;

  constructor(
    config: HeartbeatManagerConfig<I, O>,
    private readonly heartbeatInterval: number,
  ) {
    super(config);
    this.nextRound = this.executor.schedule(() => this.runRound(), 0);
  }

  override stop(): void {
    this.nextRound?.cancel();
    this.nextRound = undefined;
    super.stop();
  }

  private runRound(): void {
    if (this.stopped) return;
    // Re-arm first, so a failure below can never end the heartbeat loop.
    this.nextRound = this.executor.schedule(() => this.runRound(), this.heartbeatInterval);
    this.log.debug({ targets: this.targets.size }, 'Requesting heartbeats.');
    // A snapshot: listener callbacks may (un)monitor targets while we iterate. Timed-out targets that are still
    // monitored keep being asked, as in Flink: the owner decides when to give up on them (by unmonitoring).
    for (const monitor of [...this.targets.values()]) {
      if (this.stopped || this.targets.get(monitor.resourceId) !== monitor) continue;
      const payload = this.retrievePayload(monitor.resourceId);
      if (payload.ok) this.sendRpc(monitor, 'requestHeartbeat', payload.value);
    }
  }
}
