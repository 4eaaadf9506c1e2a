import { describe, expect, it } from 'vitest';
import { createRestartStrategy, RESTART_STRATEGY_DEFAULTS } from '../../src/cluster/restart/restartStrategies.js';
import type { RestartStrategyConfig } from '../../src/cluster/types.js';

const boom = new Error('boom');

/** A strategy on a manual clock with jitter fixed at its midpoint (no jitter) unless `random` is given. */
function onClock(config: RestartStrategyConfig | undefined, checkpointing = true, random = () => 0.5) {
  let now = 1_000_000;
  const strategy = createRestartStrategy(config, checkpointing, { now: () => now, random });
  return {
    strategy,
    fail(): boolean {
      return strategy.notifyFailure(boom, now);
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('restart strategies', () => {
  it('defaults to no restart without checkpointing, as Flink', () => {
    const { strategy, fail } = onClock(undefined, false);
    fail();
    expect(strategy.canRestart()).toBe(false);
  });

  it('defaults to exponential-delay with checkpointing: 1 s, ×1.5 per attempt, capped at 1 min, unlimited', () => {
    const { strategy, fail, advance } = onClock(undefined, true);
    const backoffs: number[] = [];
    for (let i = 0; i < 14; i++) {
      expect(fail()).toBe(true);
      expect(strategy.canRestart()).toBe(true);
      const backoff = strategy.getBackoffTime();
      backoffs.push(backoff);
      advance(backoff + 1); // fails again right after the restart
    }
    expect(backoffs.slice(0, 5)).toEqual([1_000, 1_500, 2_250, 3_375, 5_062]);
    expect(backoffs.at(-1)).toBe(RESTART_STRATEGY_DEFAULTS.exponentialDelay.maxBackoff);
  });

  it('exponential-delay merges failures that arrive while a restart is pending into that restart', () => {
    const { strategy, fail, advance } = onClock({ type: 'exponential-delay', initialBackoff: 100, attempts: 1 });
    expect(fail()).toBe(true);
    advance(50);
    expect(fail()).toBe(false); // a second task failing for the same cause
    expect(strategy.canRestart()).toBe(true);
    expect(strategy.getBackoffTime()).toBe(50);
    advance(51);
    expect(fail()).toBe(true);
    expect(strategy.canRestart()).toBe(false); // the second real attempt exceeds attempts = 1
  });

  it('exponential-delay starts over after running longer than reset-backoff-threshold without a failure', () => {
    const { strategy, fail, advance } = onClock({
      type: 'exponential-delay',
      initialBackoff: 10,
      backoffMultiplier: 2,
      resetBackoffThreshold: 1_000,
      attempts: 2,
    });
    fail();
    advance(11);
    fail();
    expect(strategy.getBackoffTime()).toBe(20);
    advance(21 + 1_000);
    fail();
    expect(strategy.getBackoffTime()).toBe(10);
    expect(strategy.canRestart()).toBe(true);
  });

  it('exponential-delay jitters within ±jitter-factor of the backoff, never below the initial backoff', () => {
    const low = onClock({ type: 'exponential-delay', initialBackoff: 1_000, backoffMultiplier: 2 }, true, () => 0);
    low.fail();
    expect(low.strategy.getBackoffTime()).toBe(1_000); // 900 would be below the initial backoff
    low.advance(1_001);
    low.fail();
    expect(low.strategy.getBackoffTime()).toBe(1_800);
    const high = onClock({ type: 'exponential-delay', initialBackoff: 1_000 }, true, () => 0.999_999);
    high.fail();
    expect(high.strategy.getBackoffTime()).toBe(1_100);
  });

  it('fixed-delay restarts `attempts` times with `delay` between, defaults 1 attempt and 1 s', () => {
    const defaults = onClock({ type: 'fixed-delay' });
    defaults.fail();
    expect(defaults.strategy.canRestart()).toBe(true);
    expect(defaults.strategy.getBackoffTime()).toBe(1_000);
    defaults.fail();
    expect(defaults.strategy.canRestart()).toBe(false);

    const three = onClock({ type: 'fixed-delay', attempts: 3, delay: 20 });
    for (let i = 0; i < 3; i++) {
      three.fail();
      expect(three.strategy.canRestart()).toBe(true);
      expect(three.strategy.getBackoffTime()).toBe(20);
    }
    three.fail();
    expect(three.strategy.canRestart()).toBe(false);
  });

  it('none never restarts, also with checkpointing', () => {
    const { strategy, fail } = onClock({ type: 'none' }, true);
    fail();
    expect(strategy.canRestart()).toBe(false);
  });

  it('refuses invalid configurations with a message naming the option', () => {
    const refuse = (config: unknown) => () => createRestartStrategy(config as RestartStrategyConfig, true);
    expect(refuse({ type: 'sometimes' })).toThrow(/restartStrategy\.type must be one of/);
    expect(refuse({ type: 'fixed-delay', attempts: -1 })).toThrow('restartStrategy.attempts must be an integer >= 0');
    expect(refuse({ type: 'fixed-delay', delay: 'soon' })).toThrow(/restartStrategy\.delay must be/);
    expect(refuse({ type: 'exponential-delay', backoffMultiplier: 1 })).toThrow(
      'restartStrategy.backoffMultiplier must be greater than 1',
    );
    expect(refuse({ type: 'exponential-delay', jitterFactor: 2 })).toThrow(/jitterFactor must be between 0 and 1/);
    expect(refuse({ type: 'exponential-delay', initialBackoff: 5_000, maxBackoff: 10 })).toThrow(
      /cannot be higher than restartStrategy\.maxBackoff/,
    );
    expect(refuse({ type: 'none', attempts: 3 })).toThrow(/unknown option "attempts"/);
    expect(refuse('fixed-delay')).toThrow(/must be an object/);
  });
});
