/**
 * Threading and lifecycle of heartbeat managers: callbacks in the main thread, nothing after stop / unmonitor /
 * endpoint termination, (un)monitoring edge cases, misbehaving listeners.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HeartbeatManager, HeartbeatServices } from '../../src/heartbeat/index.js';
import { RecipientUnreachableException } from '../../src/rpc/errors.js';
import { FakeMainThreadExecutor, LinkTarget, RecordingListener, recordingLogger, scriptedTarget } from './testUtils.js';

const INTERVAL = 20;
const TIMEOUT = 100;
const services = new HeartbeatServices(INTERVAL, TIMEOUT, 2);
const managers: HeartbeatManager<any, any>[] = [];

function sender(executor = new FakeMainThreadExecutor('jm'), payload: (id: string) => string = (id) => `to ${id}`) {
  const listener = new RecordingListener<string, string>(executor, payload);
  const logger = recordingLogger();
  const manager = services.createHeartbeatManagerSender('jm', listener, executor, logger);
  managers.push(manager);
  return { manager, listener, executor, logger };
}

function receiver(executor = new FakeMainThreadExecutor('tm')) {
  const listener = new RecordingListener<string, string>(executor, (id) => `to ${id}`);
  const manager = services.createHeartbeatManager('tm', listener, executor, recordingLogger());
  managers.push(manager);
  return { manager, listener, executor };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(async () => {
  for (const manager of managers.splice(0)) manager.stop();
  await vi.runAllTimersAsync();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('main thread', () => {
  it('the recording listener notices a callback outside the main thread (so the checks below mean something)', () => {
    const executor = new FakeMainThreadExecutor();
    const listener = new RecordingListener<string, string>(executor);
    listener.reportPayload('x', 'y');
    executor.runInMainThread(() => listener.reportPayload('x', 'y'));
    expect(listener.violations).toEqual(['reportPayload']);
  });

  it('runs every callback of sender and receiver in its own main thread', async () => {
    const s = sender();
    const r = receiver();
    const toReceiver = new LinkTarget(r.manager, r.executor);
    s.executor.runInMainThread(() => s.manager.monitorTarget('tm', toReceiver));
    r.executor.runInMainThread(() => r.manager.monitorTarget('jm', new LinkTarget(s.manager, s.executor)));
    await vi.advanceTimersByTimeAsync(3 * TIMEOUT);
    toReceiver.cut(); // → timeouts on both sides
    await vi.advanceTimersByTimeAsync(3 * TIMEOUT);

    for (const side of [s, r]) {
      expect(side.listener.of('payload').length).toBeGreaterThan(0);
      expect(side.listener.retrieved.length).toBeGreaterThan(0);
      expect(side.listener.of('timeout')).toHaveLength(1);
      expect(side.listener.violations).toEqual([]);
    }
  });

  it('runs unreachable notifications in the main thread although RPC outcomes arrive outside it', async () => {
    const s = sender();
    s.executor.runInMainThread(() =>
      s.manager.monitorTarget('tm', scriptedTarget<string>(() => Promise.reject(new Error('refused'))).target),
    );
    await vi.advanceTimersByTimeAsync(2 * INTERVAL);
    expect(s.listener.of('unreachable')).toHaveLength(1);
    expect(s.listener.violations).toEqual([]);
  });

  it('moves heartbeats handed in outside the main thread (e.g. after an await) into it', async () => {
    const r = receiver();
    const { target, calls } = scriptedTarget<string>();
    r.executor.runInMainThread(() => r.manager.monitorTarget('jm', target));
    await vi.advanceTimersByTimeAsync(5);
    r.manager.receiveHeartbeat('jm', 'beat'); // not in the main thread
    r.manager.requestHeartbeat('jm', 'request');
    await vi.advanceTimersByTimeAsync(1);
    expect(r.listener.payloads()).toEqual(['beat', 'request']);
    expect(r.listener.retrieved).toEqual(['jm']);
    expect(calls.map((c) => [c.method, c.payload])).toEqual([['receiveHeartbeat', 'to jm']]);
    expect(r.listener.violations).toEqual([]);
  });
});

describe('stop', () => {
  it('silences the manager: no callbacks, no requests, no timers — even for RPC outcomes still in flight', async () => {
    const s = sender();
    const rejects: ((e: unknown) => void)[] = [];
    const { target, calls } = scriptedTarget<string>(() => new Promise<void>((_, reject) => rejects.push(reject)));
    s.executor.runInMainThread(() => s.manager.monitorTarget('tm', target));
    await vi.advanceTimersByTimeAsync(INTERVAL + 1); // two requests in flight
    expect(calls).toHaveLength(2);

    s.executor.runInMainThread(() => s.manager.stop());
    for (const reject of rejects) reject(new RecipientUnreachableException('gone'));
    await vi.advanceTimersByTimeAsync(10 * TIMEOUT);

    expect(calls).toHaveLength(2);
    expect(s.listener.events).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    expect(s.manager.getLastHeartbeatFrom('tm')).toBe(-1);
  });

  it('is idempotent, and monitoring after stop is a no-op', async () => {
    const s = sender();
    s.manager.stop();
    s.manager.stop();
    const { target, calls } = scriptedTarget<string>();
    s.manager.monitorTarget('tm', target);
    await vi.advanceTimersByTimeAsync(2 * TIMEOUT);
    expect(calls).toEqual([]);
    expect(s.listener.events).toEqual([]);
    expect(s.manager.getLastHeartbeatFrom('tm')).toBe(-1);
  });

  it('ignores heartbeats that arrive after stop', async () => {
    const r = receiver();
    const { target, calls } = scriptedTarget<string>();
    r.executor.runInMainThread(() => r.manager.monitorTarget('jm', target));
    r.manager.stop();
    r.executor.runInMainThread(() => {
      r.manager.receiveHeartbeat('jm', 'late');
      r.manager.requestHeartbeat('jm', 'late');
    });
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(r.listener.events).toEqual([]);
    expect(calls).toEqual([]);
  });
});

describe('endpoint termination', () => {
  it('silences the manager even if stop() was never called', async () => {
    const s = sender();
    const { target, calls } = scriptedTarget<string>(() => Promise.reject(new Error('refused')));
    const quiet = scriptedTarget<string>(() => new Promise<void>(() => {}));
    s.executor.runInMainThread(() => {
      s.manager.monitorTarget('failing', target);
      s.manager.monitorTarget('silent', quiet.target);
    });
    await vi.advanceTimersByTimeAsync(0); // first round: one failure in flight per target
    s.executor.terminate();
    await vi.advanceTimersByTimeAsync(10 * TIMEOUT);

    expect(s.listener.events).toEqual([]); // neither unreachable nor timeout
    expect(calls).toHaveLength(1); // and no further rounds
    expect(quiet.calls).toHaveLength(1);
    s.manager.stop(); // what onStop would do; releases the (inert) timers
  });
});

describe('monitorTarget / unmonitorTarget', () => {
  it('unmonitor cancels the timeout and the requests of that target only', async () => {
    const s = sender();
    const a = scriptedTarget<string>();
    const b = scriptedTarget<string>();
    s.executor.runInMainThread(() => {
      s.manager.monitorTarget('a', a.target);
      s.manager.monitorTarget('b', b.target);
    });
    await vi.advanceTimersByTimeAsync(TIMEOUT / 2);
    s.executor.runInMainThread(() => s.manager.unmonitorTarget('a'));
    const requestsToA = a.calls.length;
    await vi.advanceTimersByTimeAsync(3 * TIMEOUT);

    expect(a.calls).toHaveLength(requestsToA);
    expect(s.listener.of('timeout').map((e) => e.id)).toEqual(['b']); // b answers no heartbeats: it times out
    expect(s.manager.getLastHeartbeatFrom('a')).toBe(-1);
  });

  it('unmonitor of an unknown id is a no-op', async () => {
    const s = sender();
    const a = scriptedTarget<string>();
    s.executor.runInMainThread(() => s.manager.monitorTarget('a', a.target));
    expect(() => s.executor.runInMainThread(() => s.manager.unmonitorTarget('nobody'))).not.toThrow();
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(s.listener.of('timeout').map((e) => e.id)).toEqual(['a']);
  });

  it('monitoring an id again keeps the existing monitoring (target and running timeout), as Flink', async () => {
    const s = sender();
    const first = scriptedTarget<string>();
    const second = scriptedTarget<string>();
    s.executor.runInMainThread(() => s.manager.monitorTarget('tm', first.target));
    await vi.advanceTimersByTimeAsync(TIMEOUT / 2);
    s.executor.runInMainThread(() => s.manager.monitorTarget('tm', second.target));
    await vi.advanceTimersByTimeAsync(TIMEOUT / 2);

    expect(second.calls).toEqual([]);
    expect(first.calls.length).toBeGreaterThanOrEqual(TIMEOUT / INTERVAL);
    // The timeout still counts from the first monitorTarget.
    expect(s.listener.of('timeout')).toEqual([{ kind: 'timeout', id: 'tm', at: TIMEOUT }]);
  });

  it('a target can be monitored again after unmonitor, with a fresh timeout', async () => {
    const s = sender();
    s.executor.runInMainThread(() => s.manager.monitorTarget('tm', scriptedTarget<string>().target));
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(s.listener.of('timeout')).toHaveLength(1);
    s.executor.runInMainThread(() => {
      s.manager.unmonitorTarget('tm');
      s.manager.monitorTarget('tm', scriptedTarget<string>().target);
    });
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(s.listener.of('timeout').map((e) => e.at)).toEqual([TIMEOUT, 2 * TIMEOUT]);
  });

  it('getLastHeartbeatFrom: -1 for unknown ids, 0 before the first heartbeat, then its Date.now()', async () => {
    const r = receiver();
    expect(r.manager.getLastHeartbeatFrom('jm')).toBe(-1);
    r.executor.runInMainThread(() => r.manager.monitorTarget('jm', scriptedTarget<string>().target));
    expect(r.manager.getLastHeartbeatFrom('jm')).toBe(0);
    await vi.advanceTimersByTimeAsync(42);
    r.executor.runInMainThread(() => r.manager.receiveHeartbeat('jm', 'beat'));
    expect(r.manager.getLastHeartbeatFrom('jm')).toBe(42);
  });
});

describe('misbehaving listeners', () => {
  it('a throwing retrievePayload skips that target only; the loop goes on and the error is logged', async () => {
    const s = sender(undefined, (id) => {
      if (id === 'bad') throw new Error('no payload');
      return `to ${id}`;
    });
    const bad = scriptedTarget<string>();
    const good = scriptedTarget<string>();
    s.executor.runInMainThread(() => {
      s.manager.monitorTarget('bad', bad.target);
      s.manager.monitorTarget('good', good.target);
    });
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(bad.calls).toEqual([]);
    expect(good.calls).toHaveLength(4);
    expect(s.logger.errors).toContain('HeartbeatListener.retrievePayload failed; heartbeat skipped.');
  });

  it('a throwing notifyHeartbeatTimeout is logged and does not disturb other targets', async () => {
    const executor = new FakeMainThreadExecutor();
    const logger = recordingLogger();
    const timedOut: string[] = [];
    const manager = services.createHeartbeatManagerSender<string, string>(
      'jm',
      {
        notifyHeartbeatTimeout: (id) => {
          timedOut.push(id);
          throw new Error('listener bug');
        },
        notifyTargetUnreachable: () => {},
        reportPayload: () => {},
        retrievePayload: () => 'p',
      },
      executor,
      logger,
    );
    managers.push(manager);
    executor.runInMainThread(() => {
      manager.monitorTarget('a', scriptedTarget<string>().target);
      manager.monitorTarget('b', scriptedTarget<string>().target);
    });
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(timedOut).toEqual(['a', 'b']);
    expect(logger.errors).toEqual([
      'HeartbeatListener.notifyHeartbeatTimeout failed.',
      'HeartbeatListener.notifyHeartbeatTimeout failed.',
    ]);
  });

  it('a listener may unmonitor targets from within its callbacks', async () => {
    const executor = new FakeMainThreadExecutor();
    let manager!: HeartbeatManager<string, string>;
    const retrieved: string[] = [];
    manager = services.createHeartbeatManagerSender<string, string>(
      'jm',
      {
        notifyHeartbeatTimeout: (id) => manager.unmonitorTarget(id),
        notifyTargetUnreachable: (id) => manager.unmonitorTarget(id),
        reportPayload: () => {},
        retrievePayload: (id) => {
          retrieved.push(id);
          if (id === 'a') manager.unmonitorTarget('b'); // b must not be asked in this very round
          return 'p';
        },
      },
      executor,
      recordingLogger(),
    );
    managers.push(manager);
    const b = scriptedTarget<string>();
    executor.runInMainThread(() => {
      manager.monitorTarget('a', scriptedTarget<string>().target);
      manager.monitorTarget('b', b.target);
    });
    await vi.advanceTimersByTimeAsync(2 * TIMEOUT);
    expect(b.calls).toEqual([]);
    expect(retrieved.every((id) => id === 'a')).toBe(true);
    expect(manager.getLastHeartbeatFrom('a')).toBe(-1); // unmonitored by its own timeout callback
  });
});
