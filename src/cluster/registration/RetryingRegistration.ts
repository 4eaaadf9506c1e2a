/**
 * Registration at a leader with Flink's retry pattern: connect with the leader's fencing token, register, and keep
 * trying — timeouts grow, errors and refusals wait — until the leader accepts, rejects for good, or the caller
 * cancels (because the leader changed or it shuts down).
 */

import {
  type FencedRpcGateway,
  type GatewayDescriptor,
  type Logger,
  type RpcService,
  RpcTimeoutException,
  type ScheduledTask,
} from '../../index.js';
import type { RegistrationResponse } from '../types.js';

/** Flink's `cluster.registration.*` options, in milliseconds. */
export interface RetryingRegistrationOptions {
  /** The timeout of the first registration attempt; doubled after every timeout (Flink: 100). */
  initialRegistrationTimeout: number;
  /** The ceiling of the doubled timeout (Flink: 30 000). */
  maxRegistrationTimeout: number;
  /** The pause after an error other than a timeout, before starting over (Flink: 10 000). */
  errorDelay: number;
  /** The pause after the leader answered with a Failure (Flink: 30 000). */
  refusedRegistrationDelay: number;
}

/** Flink's defaults. */
export const DEFAULT_REGISTRATION_OPTIONS: RetryingRegistrationOptions = Object.freeze({
  initialRegistrationTimeout: 100,
  maxRegistrationTimeout: 30_000,
  errorDelay: 10_000,
  refusedRegistrationDelay: 30_000,
});

/** Why a registration ended without success: a final Rejection by the leader, or `cancel()`. */
export class RegistrationRejectedException extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'RegistrationRejectedException';
  }
}

/** The registration was cancelled before it succeeded. */
export class RegistrationCancelledException extends Error {
  constructor(targetName: string) {
    super(`Registration at ${targetName} was cancelled.`);
    this.name = 'RegistrationCancelledException';
  }
}

export interface RetryingRegistrationArgs<G extends FencedRpcGateway<F>, F, S> {
  rpcService: RpcService;
  /** For logs and error messages (e.g. "ResourceManager"). */
  targetName: string;
  targetAddress: string;
  /** The leader session id the target was announced with. */
  fencingToken: F;
  gateway: GatewayDescriptor<G>;
  options: RetryingRegistrationOptions;
  logger?: Logger;
  /** One registration call; must reject with `RpcTimeoutException` when `timeoutMs` passed without answer. */
  invoke: (gateway: G, timeoutMs: number) => Promise<RegistrationResponse<S>>;
}

function isTimeout(error: unknown): boolean {
  return error instanceof RpcTimeoutException || (error instanceof Error && error.name === 'RpcTimeoutException');
}

/**
 * One registration at one leader (Flink's `RetryingRegistration`). A timeout retries at once with the timeout
 * doubled from `initialRegistrationTimeout` up to `maxRegistrationTimeout`; any other error (including a failed
 * connect) waits `errorDelay` and starts over from the connect; a Failure answer waits `refusedRegistrationDelay`;
 * a Rejection is final. `cancel()` stops everything: no timer and no call is left behind.
 *
 * Callers keep the instance of their current attempt and ignore results of instances they replaced.
 */
export class RetryingRegistration<G extends FencedRpcGateway<F>, F, S> {
  /** Resolves with the gateway and the success once registered; rejects on a Rejection or when cancelled. */
  readonly result: Promise<{ gateway: G; success: S }>;

  private resolveResult!: (value: { gateway: G; success: S }) => void;
  private rejectResult!: (error: Error) => void;
  private canceled = false;
  private settled = false;
  private started = false;
  private timer: ScheduledTask<void> | undefined;
  private readonly logger: Logger;
  private readonly options: RetryingRegistrationOptions;

  constructor(private readonly args: RetryingRegistrationArgs<G, F, S>) {
    this.options = validateOptions(args.options);
    this.logger = (args.logger ?? args.rpcService.getLogger()).child({
      registration: args.targetName,
      address: args.targetAddress,
    });
    this.result = new Promise((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // Callers that drop an outdated attempt never look at its result: its rejection must not go unhandled.
    this.result.catch(() => {});
  }

  /** Starts connecting and registering. A second call, or a call after `cancel()`, does nothing. */
  startRegistration(): void {
    if (this.started || this.canceled) return;
    this.started = true;
    this.connectAndRegister();
  }

  /** Stops retrying; the result rejects with {@link RegistrationCancelledException} unless it settled already. */
  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.settle(() => this.rejectResult(new RegistrationCancelledException(this.args.targetName)));
  }

  isCanceled(): boolean {
    return this.canceled;
  }

  private connectAndRegister(): void {
    if (this.canceled) return;
    const { rpcService, targetAddress, fencingToken, gateway } = this.args;
    let connecting: Promise<G>;
    try {
      connecting = rpcService.connect<G>(targetAddress, fencingToken as never, gateway);
    } catch (error) {
      connecting = Promise.reject(error);
    }
    connecting.then(
      (connected) => this.register(connected, 1, this.options.initialRegistrationTimeout),
      (error: unknown) => {
        if (this.canceled) return;
        this.logger.info(
          { err: error, delayMs: this.options.errorDelay },
          `Could not connect to ${this.args.targetName}; retrying later.`,
        );
        this.later(() => this.connectAndRegister(), this.options.errorDelay);
      },
    );
  }

  private register(connected: G, attempt: number, timeoutMs: number): void {
    if (this.canceled) return;
    this.logger.debug({ attempt, timeoutMs }, `Registration attempt at ${this.args.targetName}.`);
    let call: Promise<RegistrationResponse<S>>;
    try {
      call = Promise.resolve(this.args.invoke(connected, timeoutMs));
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (response) => {
        if (this.canceled) return;
        this.onResponse(connected, response);
      },
      (error: unknown) => {
        if (this.canceled) return;
        if (isTimeout(error)) {
          const next = Math.min(timeoutMs * 2, this.options.maxRegistrationTimeout);
          this.logger.debug({ attempt, nextTimeoutMs: next }, `Registration at ${this.args.targetName} timed out.`);
          this.register(connected, attempt + 1, next);
          return;
        }
        this.logger.warn(
          { err: error, delayMs: this.options.errorDelay },
          `Registration at ${this.args.targetName} failed due to an error; starting over later.`,
        );
        this.later(() => this.connectAndRegister(), this.options.errorDelay);
      },
    );
  }

  private onResponse(connected: G, response: RegistrationResponse<S>): void {
    switch (response?.kind) {
      case 'success':
        this.logger.debug(`Registration at ${this.args.targetName} was successful.`);
        this.settle(() => this.resolveResult({ gateway: connected, success: response.value }));
        return;
      case 'rejection':
        this.logger.info({ reason: response.reason }, `Registration at ${this.args.targetName} was rejected.`);
        this.settle(() =>
          this.rejectResult(
            new RegistrationRejectedException(
              `Registration at ${this.args.targetName} was rejected: ${response.reason}`,
              response.reason,
            ),
          ),
        );
        return;
      case 'failure':
        this.logger.info(
          { reason: response.reason, delayMs: this.options.refusedRegistrationDelay },
          `Registration at ${this.args.targetName} was refused; retrying later.`,
        );
        this.later(
          () => this.register(connected, 1, this.options.initialRegistrationTimeout),
          this.options.refusedRegistrationDelay,
        );
        return;
      default:
        this.logger.warn({ response }, `Malformed registration response from ${this.args.targetName}.`);
        this.later(() => this.connectAndRegister(), this.options.errorDelay);
    }
  }

  private later(task: () => void, delayMs: number): void {
    if (this.canceled) return;
    this.timer = this.args.rpcService.getScheduledExecutor().schedule(() => {
      this.timer = undefined;
      task();
    }, delayMs);
  }

  private settle(action: () => void): void {
    if (this.settled) return;
    this.settled = true;
    action();
  }
}

function validateOptions(options: RetryingRegistrationOptions): RetryingRegistrationOptions {
  for (const key of [
    'initialRegistrationTimeout',
    'maxRegistrationTimeout',
    'errorDelay',
    'refusedRegistrationDelay',
  ] as const) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`Registration option ${key} must be a non-negative number of milliseconds, was ${value}.`);
    }
  }
  if (options.initialRegistrationTimeout <= 0) {
    throw new RangeError('Registration option initialRegistrationTimeout must be larger than 0.');
  }
  if (options.maxRegistrationTimeout < options.initialRegistrationTimeout) {
    throw new RangeError('Registration option maxRegistrationTimeout must be at least initialRegistrationTimeout.');
  }
  return { ...options };
}
