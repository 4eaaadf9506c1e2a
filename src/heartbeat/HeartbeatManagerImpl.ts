/** The receiving heartbeat manager: answers heartbeat requests and watches its targets for timeouts. */

import type { MainThreadExecutor } from '../rpc/executors.js';
import type { Logger } from '../rpc/logger.js';
import type { HeartbeatListener } from './HeartbeatListener.js';
import type { HeartbeatManager } from './HeartbeatManager.js';
import { HeartbeatMonitor } from './HeartbeatMonitor.js';
import type { HeartbeatTarget } from './HeartbeatTarget.js';

/** Everything a manager is built from (filled in by `HeartbeatServices`). */
export interface HeartbeatManagerConfig<I, O> {
  readonly resourceId: string;
  readonly listener: HeartbeatListener<I, O>;
  readonly mainThreadExecutor: MainThreadExecutor;
  readonly logger: Logger;
  readonly heartbeatTimeout: number;
  readonly failedRpcRequestsUntilUnreachable: number;
  /** Which rejections of a heartbeat RPC count as a failure (the others are ignored). */
  readonly countsAsRpcFailure: (error: unknown) => boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Flink's `HeartbeatManagerImpl`: the receiver side. It never sends on its own; it answers heartbeat requests of
 * the targets it monitors and reports those that stop sending.
 *
 * Threading: listener callbacks run in the owner's main thread. Timers run there by construction (they are
 * scheduled on the main-thread executor); RPC results are brought back through `execute`; and heartbeats handed
 * in from outside the main thread (e.g. after an `await`) are re-dispatched into it. The main-thread executor
 * never runs anything after the endpoint terminated, which is what keeps a dead endpoint's listener silent even
 * if `stop()` was never called.
 */
export class HeartbeatManagerImpl<I, O> implements HeartbeatManager<I, O> {
  protected readonly resourceId: string;
  protected readonly listener: HeartbeatListener<I, O>;
  protected readonly executor: MainThreadExecutor;
  protected readonly log: Logger;
  protected readonly targets = new Map<string, HeartbeatMonitor<O>>();
  protected stopped = false;

  constructor(private readonly config: HeartbeatManagerConfig<I, O>) {
    this.resourceId = config.resourceId;
    this.listener = config.listener;
    this.executor = config.mainThreadExecutor;
    this.log = config.logger;
  }

  monitorTarget(resourceId: string, target: HeartbeatTarget<O>): void {
    if (this.stopped) return;
    if (this.targets.has(resourceId)) {
      this.log.debug({ target: resourceId }, 'The target is already monitored; keeping the existing monitoring.');
      return;
    }
    const monitor = new HeartbeatMonitor<O>(
      resourceId,
      target,
      this.executor,
      {
        onTimeout: (id) => this.notify('notifyHeartbeatTimeout', id),
        onUnreachable: (id, failures) => {
          this.log.debug({ target: id, failures }, 'Heartbeat target unreachable: consecutive heartbeat RPCs failed.');
          this.notify('notifyTargetUnreachable', id);
        },
      },
      this.config.heartbeatTimeout,
      this.config.failedRpcRequestsUntilUnreachable,
    );
    this.targets.set(resourceId, monitor);
  }

  unmonitorTarget(resourceId: string): void {
    const monitor = this.targets.get(resourceId);
    if (monitor === undefined) return;
    this.targets.delete(resourceId);
    monitor.cancel();
  }

  stop(): void {
    this.stopped = true;
    for (const monitor of this.targets.values()) monitor.cancel();
    this.targets.clear();
  }

  getLastHeartbeatFrom(resourceId: string): number {
    return this.targets.get(resourceId)?.getLastHeartbeat() ?? -1;
  }

  receiveHeartbeat(heartbeatOrigin: string, heartbeatPayload: I): Promise<void> {
    this.inMainThread(() => {
      if (this.stopped) return;
      const monitor = this.targets.get(heartbeatOrigin);
      if (monitor === undefined) {
        this.log.debug({ origin: heartbeatOrigin }, 'Ignoring a heartbeat from a target that is not monitored.');
        return;
      }
      monitor.reportHeartbeat();
      this.reportPayload(heartbeatOrigin, heartbeatPayload);
    });
    return RESOLVED;
  }

  requestHeartbeat(requestOrigin: string, heartbeatPayload: I): Promise<void> {
    this.inMainThread(() => {
      if (this.stopped) return;
      const monitor = this.targets.get(requestOrigin);
      if (monitor === undefined) {
        this.log.debug({ origin: requestOrigin }, 'Ignoring a heartbeat request from a target that is not monitored.');
        return;
      }
      monitor.reportHeartbeat();
      this.reportPayload(requestOrigin, heartbeatPayload);
      const payload = this.retrievePayload(requestOrigin);
      if (payload.ok) this.sendRpc(monitor, 'receiveHeartbeat', payload.value);
    });
    return RESOLVED;
  }

  /**
   * Calls `method` on the monitor's target and feeds the outcome back into that monitor, in the main thread. The
   * outcome goes to the monitor instance that sent it, not to whatever is monitored under the id by then, so a
   * late answer of a replaced target cannot count for its successor.
   */
  protected sendRpc(monitor: HeartbeatMonitor<O>, method: 'receiveHeartbeat' | 'requestHeartbeat', payload: O): void {
    let rpc: Promise<void>;
    try {
      rpc = Promise.resolve(monitor.target[method](this.resourceId, payload));
    } catch (error) {
      rpc = Promise.reject(error); // a target that throws synchronously failed just the same
    }
    rpc
      .then(
        () => this.executor.execute(() => monitor.reportRpcSuccess()),
        (error: unknown) =>
          this.executor.execute(() => {
            if (!monitor.isRunning()) return;
            if (!this.config.countsAsRpcFailure(error)) {
              this.log.debug(
                { target: monitor.resourceId, err: error },
                `Heartbeat RPC ${method} failed (not counted).`,
              );
              return;
            }
            this.log.debug({ target: monitor.resourceId, err: error }, `Heartbeat RPC ${method} failed.`);
            monitor.reportRpcFailure();
          }),
      )
      // Only reached if the executor itself refused the task; the outcome then no longer matters.
      .catch((error: unknown) => this.log.debug({ err: error }, 'Could not hand a heartbeat RPC outcome over.'));
  }

  protected retrievePayload(resourceId: string): { ok: true; value: O } | { ok: false } {
    try {
      return { ok: true, value: this.listener.retrievePayload(resourceId) };
    } catch (error) {
      this.log.error(
        { target: resourceId, err: error },
        'HeartbeatListener.retrievePayload failed; heartbeat skipped.',
      );
      return { ok: false };
    }
  }

  private reportPayload(resourceId: string, payload: I): void {
    // Flink skips null payloads; `undefined` is JavaScript's other "nothing" (and what a `void` payload is).
    if (payload === undefined || payload === null) return;
    try {
      this.listener.reportPayload(resourceId, payload);
    } catch (error) {
      this.log.error({ origin: resourceId, err: error }, 'HeartbeatListener.reportPayload failed.');
    }
  }

  private notify(callback: 'notifyHeartbeatTimeout' | 'notifyTargetUnreachable', resourceId: string): void {
    if (this.stopped) return;
    try {
      this.listener[callback](resourceId);
    } catch (error) {
      this.log.error({ target: resourceId, err: error }, `HeartbeatListener.${callback} failed.`);
    }
  }

  /** Runs `task` now if we are in the main thread, else as a main-thread task (never after termination). */
  protected inMainThread(task: () => void): void {
    if (this.isInMainThread()) task();
    else this.executor.execute(task);
  }

  private isInMainThread(): boolean {
    try {
      this.executor.assertRunningInMainThread();
      return true;
    } catch {
      return false;
    }
  }
}
