/**
 * Restart strategies (Flink's RestartBackoffTimeStrategy family), with the semantics and defaults of Flink 1.19 and
 * later (unchanged in 2.x, `RestartStrategyOptions`):
 * - no strategy configured: `exponential-delay` when the job checkpoints, `none` otherwise;
 * - `fixed-delay`: `attempts` 1, `delay` 1 s;
 * - `exponential-delay`: `initial-backoff` 1 s, `max-backoff` 1 min, `backoff-multiplier` 1.5,
 *   `reset-backoff-threshold` 1 h, `jitter-factor` 0.1, `attempts-before-reset-backoff` unlimited.
 * Durations are milliseconds.
 */

import type { RestartStrategyConfig } from '../types.js';

/** What a JobMaster consults when its job fails (Flink's RestartBackoffTimeStrategy). */
export interface RestartBackoffTimeStrategy {
  /**
   * Records a failure that happened at `timestamp` (ms since the epoch). Returns whether it counts as a new restart
   * attempt: exponential-delay merges failures that arrive while a restart is still pending into that restart.
   */
  notifyFailure(cause: Error, timestamp: number): boolean;
  /** Whether the job may restart after the failures recorded so far. */
  canRestart(): boolean;
  /** How long to wait before restarting, in milliseconds (call after {@link notifyFailure}). */
  getBackoffTime(): number;
}

/** Flink's defaults (1.19+ and 2.x). */
export const RESTART_STRATEGY_DEFAULTS = {
  fixedDelay: { attempts: 1, delay: 1_000 },
  exponentialDelay: {
    initialBackoff: 1_000,
    maxBackoff: 60_000,
    backoffMultiplier: 1.5,
    resetBackoffThreshold: 3_600_000,
    jitterFactor: 0.1,
    attempts: 2_147_483_647,
  },
} as const;

/** Hooks for tests: a clock and a random source. */
export interface RestartStrategyEnvironment {
  /** Current time in ms (default `Date.now`). */
  readonly now?: () => number;
  /** A uniform random number in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
}

/** Never restarts. */
class NoRestartBackoffTimeStrategy implements RestartBackoffTimeStrategy {
  notifyFailure(): boolean {
    return true;
  }

  canRestart(): boolean {
    return false;
  }

  getBackoffTime(): number {
    return 0;
  }

  toString(): string {
    return 'NoRestartBackoffTimeStrategy';
  }
}

/** Restarts `attempts` times, waiting `delay` ms before each restart. */
class FixedDelayRestartBackoffTimeStrategy implements RestartBackoffTimeStrategy {
  private failures = 0;

  constructor(
    private readonly attempts: number,
    private readonly delay: number,
  ) {}

  notifyFailure(): boolean {
    this.failures += 1;
    return true;
  }

  canRestart(): boolean {
    return this.failures <= this.attempts;
  }

  getBackoffTime(): number {
    return this.delay;
  }

  toString(): string {
    return `FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=${this.attempts}, backoffTimeMS=${this.delay})`;
  }
}

/**
 * Waits `initialBackoff × multiplier^(attempt-1)` (with ± jitter, capped at `maxBackoff`) before each restart. A
 * failure that arrives while a restart is still pending joins it. After `resetBackoffThreshold` without a failure past
 * the last restart, the backoff and the attempt count start over; `attempts` bounds restarts between two resets.
 */
class ExponentialDelayRestartBackoffTimeStrategy implements RestartBackoffTimeStrategy {
  private attempt = 0;
  /** When the pending (or last) restart happens; -Infinity before the first failure. */
  private nextRestartTimestamp = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: Required<Omit<Extract<RestartStrategyConfig, { type: 'exponential-delay' }>, 'type'>>,
    private readonly now: () => number,
    private readonly random: () => number,
  ) {}

  notifyFailure(_cause: Error, timestamp: number): boolean {
    if (timestamp <= this.nextRestartTimestamp) return false;
    if (timestamp - this.nextRestartTimestamp >= this.options.resetBackoffThreshold) this.attempt = 0;
    this.nextRestartTimestamp = timestamp + this.backoffOfCurrentAttempt();
    this.attempt += 1;
    return true;
  }

  canRestart(): boolean {
    return this.attempt <= this.options.attempts;
  }

  getBackoffTime(): number {
    if (this.nextRestartTimestamp === Number.NEGATIVE_INFINITY) {
      throw new Error('getBackoffTime() called before notifyFailure().');
    }
    return Math.max(0, this.nextRestartTimestamp - this.now());
  }

  private backoffOfCurrentAttempt(): number {
    const { initialBackoff, maxBackoff, backoffMultiplier, jitterFactor } = this.options;
    const base = Math.floor(initialBackoff * backoffMultiplier ** this.attempt);
    const spread = Math.floor(base * jitterFactor);
    // A whole number in [-spread, spread].
    const jitter = spread === 0 ? 0 : Math.floor(this.random() * (2 * spread + 1)) - spread;
    return Math.max(initialBackoff, Math.min(base + jitter, maxBackoff));
  }

  toString(): string {
    return `ExponentialDelayRestartBackoffTimeStrategy(${JSON.stringify(this.options)}, attempt=${this.attempt})`;
  }
}

/**
 * The problems of a restart strategy configuration, each a sentence naming the option (empty when valid). Used at job
 * submission, so that a bad strategy is refused before the job runs.
 */
export function restartStrategyProblems(config: unknown): string[] {
  if (config === undefined) return [];
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    return ['restartStrategy must be an object with a "type".'];
  }
  const record = config as Record<string, unknown>;
  const problems: string[] = [];
  const allowed = (keys: string[]) => {
    for (const key of Object.keys(record)) {
      if (key !== 'type' && !keys.includes(key)) {
        problems.push(`restartStrategy has an unknown option "${key}" for type "${String(record.type)}".`);
      }
    }
  };
  const check = (key: string, ok: (value: number) => boolean, rule: string) => {
    const value = record[key];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
      problems.push(`restartStrategy.${key} must be ${rule}, got ${JSON.stringify(value)}.`);
    }
  };
  const integerAtLeast = (min: number) => (value: number) => Number.isInteger(value) && value >= min;
  switch (record.type) {
    case 'none':
      allowed([]);
      break;
    case 'fixed-delay':
      allowed(['attempts', 'delay']);
      check('attempts', integerAtLeast(0), 'an integer >= 0');
      check('delay', integerAtLeast(0), 'a whole number of milliseconds >= 0');
      break;
    case 'exponential-delay': {
      allowed([
        'initialBackoff',
        'maxBackoff',
        'backoffMultiplier',
        'resetBackoffThreshold',
        'jitterFactor',
        'attempts',
      ]);
      check('initialBackoff', integerAtLeast(1), 'a whole number of milliseconds >= 1');
      check('maxBackoff', integerAtLeast(1), 'a whole number of milliseconds >= 1');
      check('backoffMultiplier', (value) => value > 1, 'greater than 1');
      check('resetBackoffThreshold', integerAtLeast(1), 'a whole number of milliseconds >= 1');
      check('jitterFactor', (value) => value >= 0 && value <= 1, 'between 0 and 1');
      check('attempts', integerAtLeast(1), 'an integer >= 1');
      const defaults = RESTART_STRATEGY_DEFAULTS.exponentialDelay;
      const initial = typeof record.initialBackoff === 'number' ? record.initialBackoff : defaults.initialBackoff;
      const max = typeof record.maxBackoff === 'number' ? record.maxBackoff : defaults.maxBackoff;
      if (problems.length === 0 && initial > max) {
        problems.push(
          `restartStrategy.initialBackoff (${initial} ms) cannot be higher than restartStrategy.maxBackoff (${max} ms).`,
        );
      }
      break;
    }
    default:
      problems.push(
        `restartStrategy.type must be one of "none", "fixed-delay", "exponential-delay", got ${JSON.stringify(record.type)}.`,
      );
  }
  return problems;
}

/**
 * The restart strategy of a job: `config` as given in its job graph (or the cluster configuration), else Flink's
 * default — exponential-delay when `checkpointingEnabled`, none otherwise. Throws a RangeError naming the option for
 * an invalid configuration. Each call returns a fresh strategy (its attempt count starts at zero).
 */
export function createRestartStrategy(
  config: RestartStrategyConfig | undefined,
  checkpointingEnabled: boolean,
  environment: RestartStrategyEnvironment = {},
): RestartBackoffTimeStrategy {
  const problems = restartStrategyProblems(config);
  if (problems.length > 0) throw new RangeError(problems.join(' '));
  const effective: RestartStrategyConfig =
    config ?? (checkpointingEnabled ? { type: 'exponential-delay' } : { type: 'none' });
  switch (effective.type) {
    case 'none':
      return new NoRestartBackoffTimeStrategy();
    case 'fixed-delay':
      return new FixedDelayRestartBackoffTimeStrategy(
        effective.attempts ?? RESTART_STRATEGY_DEFAULTS.fixedDelay.attempts,
        effective.delay ?? RESTART_STRATEGY_DEFAULTS.fixedDelay.delay,
      );
    case 'exponential-delay': {
      const defaults = RESTART_STRATEGY_DEFAULTS.exponentialDelay;
      return new ExponentialDelayRestartBackoffTimeStrategy(
        {
          initialBackoff: effective.initialBackoff ?? defaults.initialBackoff,
          maxBackoff: effective.maxBackoff ?? defaults.maxBackoff,
          backoffMultiplier: effective.backoffMultiplier ?? defaults.backoffMultiplier,
          resetBackoffThreshold: effective.resetBackoffThreshold ?? defaults.resetBackoffThreshold,
          jitterFactor: effective.jitterFactor ?? defaults.jitterFactor,
          attempts: effective.attempts ?? defaults.attempts,
        },
        environment.now ?? Date.now,
        environment.random ?? Math.random,
      );
    }
  }
}
