/** The per-target state of a heartbeat manager: timeout timer, RPC failure count, last heartbeat. Internal. */

import type { MainThreadExecutor, ScheduledTask } from '../rpc/executors.js';
import type { HeartbeatTarget } from './HeartbeatTarget.js';

/** `-1`: never report a target unreachable because of failed heartbeat RPCs (Flink's `FAILED_RPC_DETECTION_DISABLED`). */
export const FAILED_RPC_DETECTION_DISABLED = -1;

/** What a monitor reports to; the manager guards these with logging, and they run in the main thread. */
export interface MonitorCallbacks {
  onTimeout(resourceId: string): void;
  onUnreachable(resourceId: string, consecutiveFailures: number): void;
}

type MonitorState = 'running' | 'timedOut' | 'unreachable' | 'cancelled';

/**
 * Watches one heartbeat target (Flink's `DefaultHeartbeatMonitor`): every heartbeat restarts a timer of
 * `heartbeatTimeout`; when it elapses the monitor reports a timeout, once. Consecutive failed heartbeat RPCs are
 * counted and reported, once, when they reach the threshold. Only a `running` monitor reports anything, so at
 * most one of timeout / unreachable is ever reported, and nothing after `cancel()`.
 */
export class HeartbeatMonitor<O> {
  private state: MonitorState = 'running';
  private timeoutTask: ScheduledTask<void> | undefined;
  /**
   * Identifies the current timer. A timer that already fired may sit in the mailbox when it is reset or
   * cancelled; comparing generations makes such a stale run a no-op instead of relying on `cancel()` winning.
   */
  private timerGeneration = 0;
  private consecutiveRpcFailures = 0;
  private lastHeartbeat = 0;

  constructor(
    readonly resourceId: string,
    readonly target: HeartbeatTarget<O>,
    private readonly executor: MainThreadExecutor,
    private readonly callbacks: MonitorCallbacks,
    private readonly heartbeatTimeout: number,
    private readonly failedRpcRequestsUntilUnreachable: number,
  ) {
    this.resetTimeout();
  }

  /** `Date.now()` of the last heartbeat, `0` if none arrived yet. */
  getLastHeartbeat(): number {
    return this.lastHeartbeat;
  }

  isRunning(): boolean {
    return this.state === 'running';
  }

  /** A heartbeat arrived: remember when, and restart the timeout. */
  reportHeartbeat(): void {
    this.lastHeartbeat = Date.now();
    this.resetTimeout();
  }

  /**
   * A heartbeat RPC to the target succeeded. This resets only the failure count, not the timeout (as in Flink): a
   * target that accepts our requests but no longer monitors us never answers them, and must still time out.
   */
  reportRpcSuccess(): void {
    this.consecutiveRpcFailures = 0;
  }

  /** A heartbeat RPC to the target failed; reports the target unreachable when the threshold is reached. */
  reportRpcFailure(): void {
    this.consecutiveRpcFailures++;
    const threshold = this.failedRpcRequestsUntilUnreachable;
    if (threshold === FAILED_RPC_DETECTION_DISABLED || this.consecutiveRpcFailures < threshold) return;
    if (this.state !== 'running') return;
    this.state = 'unreachable';
    this.cancelTimeout();
    this.callbacks.onUnreachable(this.resourceId, this.consecutiveRpcFailures);
  }

  /** Stops the monitor for good: no timeout or unreachable report afterwards. */
  cancel(): void {
    if (this.state === 'running') this.state = 'cancelled';
    this.cancelTimeout();
  }

  private resetTimeout(): void {
    if (this.state !== 'running') return;
    this.cancelTimeout();
    const generation = this.timerGeneration;
    this.timeoutTask = this.executor.schedule(() => this.onTimerFired(generation), this.heartbeatTimeout);
  }

  private cancelTimeout(): void {
    this.timerGeneration++;
    this.timeoutTask?.cancel();
    this.timeoutTask = undefined;
  }

  private onTimerFired(generation: number): void {
    if (generation !== this.timerGeneration || this.state !== 'running') return;
    this.state = 'timedOut';
    this.timeoutTask = undefined;
    this.callbacks.onTimeout(this.resourceId);
  }
}
