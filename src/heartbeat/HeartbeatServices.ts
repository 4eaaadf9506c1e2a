/** `HeartbeatServices`: the configured factory of heartbeat managers. */

import type { MainThreadExecutor } from '../rpc/executors.js';
import { getDefaultLogger, type Logger } from '../rpc/logger.js';
import type { HeartbeatListener } from './HeartbeatListener.js';
import type { HeartbeatManager } from './HeartbeatManager.js';
import { HeartbeatManagerImpl } from './HeartbeatManagerImpl.js';
import { HeartbeatManagerSenderImpl } from './HeartbeatManagerSenderImpl.js';
import { FAILED_RPC_DETECTION_DISABLED } from './HeartbeatMonitor.js';
import { NoOpHeartbeatManager } from './NoOpHeartbeatManager.js';

/** Flink's `heartbeat.interval` default: 10 s. */
export const DEFAULT_HEARTBEAT_INTERVAL = 10_000;
/** Flink's `heartbeat.timeout` default: 50 s. */
export const DEFAULT_HEARTBEAT_TIMEOUT = 50_000;
/** Flink's `heartbeat.rpc-failure-threshold` default: 2. */
export const DEFAULT_FAILED_RPC_REQUESTS_UNTIL_UNREACHABLE = 2;
export { FAILED_RPC_DETECTION_DISABLED };

/** Node's timers fire at once for delays above 2^31 − 1 ms, so longer durations are refused rather than misread. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Options beyond Flink's three numbers. */
export interface HeartbeatServicesOptions {
  /**
   * Which rejections of a heartbeat RPC count towards `failedRpcRequestsUntilUnreachable`. Default: every
   * rejection. Flink counts only `RecipientUnreachableException` (so a slow peer whose asks time out is left to
   * the heartbeat timeout); pass `(e) => e instanceof RecipientUnreachableException` for exactly that.
   */
  readonly countsAsRpcFailure?: (error: unknown) => boolean;
}

/**
 * Creates heartbeat managers bound to an endpoint's main thread (Flink's `HeartbeatServices`).
 *
 * ```ts
 * const services = new HeartbeatServices(10_000, 50_000);
 * // in the endpoint's constructor or onStart:
 * this.taskManagerHeartbeats = services.createHeartbeatManagerSender<SlotReport, void>(
 *   this.resourceId, listener, this.getMainThreadExecutor());
 * // in onStop:
 * this.taskManagerHeartbeats.stop();
 * ```
 */
export class HeartbeatServices {
  private readonly countsAsRpcFailure: (error: unknown) => boolean;

  /**
   * @param heartbeatInterval milliseconds between two heartbeat requests of a sender; > 0
   * @param heartbeatTimeout milliseconds without heartbeat after which a target is reported; ≥ `heartbeatInterval`
   * @param failedRpcRequestsUntilUnreachable consecutive failed heartbeat RPCs after which a target is reported
   *   unreachable; > 0, or `-1` ({@link FAILED_RPC_DETECTION_DISABLED}) to rely on the timeout alone
   * @throws RangeError for values outside those ranges (or above 2^31 − 1 ms, which Node's timers cannot wait)
   */
  constructor(
    readonly heartbeatInterval: number = DEFAULT_HEARTBEAT_INTERVAL,
    readonly heartbeatTimeout: number = DEFAULT_HEARTBEAT_TIMEOUT,
    readonly failedRpcRequestsUntilUnreachable: number = DEFAULT_FAILED_RPC_REQUESTS_UNTIL_UNREACHABLE,
    options: HeartbeatServicesOptions = {},
  ) {
    if (!(heartbeatInterval > 0) || heartbeatInterval > MAX_DELAY_MS) {
      throw new RangeError(
        `The heartbeat interval must be larger than 0 and at most ${MAX_DELAY_MS} ms, but was ${heartbeatInterval}.`,
      );
    }
    if (!(heartbeatTimeout >= heartbeatInterval) || heartbeatTimeout > MAX_DELAY_MS) {
      throw new RangeError(
        `The heartbeat timeout must be at least the heartbeat interval (${heartbeatInterval} ms) and at most ` +
          `${MAX_DELAY_MS} ms, but was ${heartbeatTimeout}.`,
      );
    }
    const failed = failedRpcRequestsUntilUnreachable;
    if (!Number.isInteger(failed) || (failed <= 0 && failed !== FAILED_RPC_DETECTION_DISABLED)) {
      throw new RangeError(
        `The number of failed heartbeat RPC requests until unreachable must be a positive integer or ` +
          `${FAILED_RPC_DETECTION_DISABLED} (disabled), but was ${failed}.`,
      );
    }
    this.countsAsRpcFailure = options.countsAsRpcFailure ?? (() => true);
  }

  /** Services whose managers do nothing: for components that run without heartbeats. */
  static noOp(): HeartbeatServices {
    return new NoOpHeartbeatServices();
  }

  /**
   * A receiver: answers heartbeat requests of the targets it monitors and reports those that fall silent.
   * @param resourceId this component's id, sent with every heartbeat
   * @param listener callbacks, run in the main thread of `mainThreadExecutor`'s endpoint
   * @param mainThreadExecutor the owning endpoint's `getMainThreadExecutor()`
   * @param logger default: the process-wide logger
   */
  createHeartbeatManager<I, O>(
    resourceId: string,
    listener: HeartbeatListener<I, O>,
    mainThreadExecutor: MainThreadExecutor,
    logger?: Logger,
  ): HeartbeatManager<I, O> {
    return new HeartbeatManagerImpl(this.config(resourceId, listener, mainThreadExecutor, logger));
  }

  /**
   * A sender: a receiver that, in addition, requests a heartbeat from every monitored target every
   * `heartbeatInterval` (the first round right away). Parameters as {@link createHeartbeatManager}.
   */
  createHeartbeatManagerSender<I, O>(
    resourceId: string,
    listener: HeartbeatListener<I, O>,
    mainThreadExecutor: MainThreadExecutor,
    logger?: Logger,
  ): HeartbeatManager<I, O> {
    return new HeartbeatManagerSenderImpl(
      this.config(resourceId, listener, mainThreadExecutor, logger),
      this.heartbeatInterval,
    );
  }

  private config<I, O>(
    resourceId: string,
    listener: HeartbeatListener<I, O>,
    mainThreadExecutor: MainThreadExecutor,
    logger: Logger | undefined,
  ) {
    if (typeof resourceId !== 'string') throw new TypeError('resourceId must be a string.');
    if (listener == null) throw new TypeError('listener is required.');
    if (mainThreadExecutor == null) throw new TypeError('mainThreadExecutor is required.');
    return {
      resourceId,
      listener,
      mainThreadExecutor,
      logger: (logger ?? getDefaultLogger()).child({ component: 'heartbeat', resourceId }),
      heartbeatTimeout: this.heartbeatTimeout,
      failedRpcRequestsUntilUnreachable: this.failedRpcRequestsUntilUnreachable,
      countsAsRpcFailure: this.countsAsRpcFailure,
    };
  }
}

/** Flink's `NoOpHeartbeatServices`: every manager it creates is the {@link NoOpHeartbeatManager}. */
export class NoOpHeartbeatServices extends HeartbeatServices {
  override createHeartbeatManager<I, O>(): HeartbeatManager<I, O> {
    return NoOpHeartbeatManager.getInstance<I, O>();
  }

  override createHeartbeatManagerSender<I, O>(): HeartbeatManager<I, O> {
    return NoOpHeartbeatManager.getInstance<I, O>();
  }
}
