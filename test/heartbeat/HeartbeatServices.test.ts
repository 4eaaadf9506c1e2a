import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_FAILED_RPC_REQUESTS_UNTIL_UNREACHABLE,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_TIMEOUT,
  FAILED_RPC_DETECTION_DISABLED,
  HeartbeatServices,
  NoOpHeartbeatManager,
} from '../../src/heartbeat/index.js';
import { FakeMainThreadExecutor, RecordingListener, recordingLogger, scriptedTarget } from './testUtils.js';

describe('HeartbeatServices', () => {
  it("defaults to Flink's interval (10 s), timeout (50 s) and RPC failure threshold (2)", () => {
    const services = new HeartbeatServices();
    expect(services.heartbeatInterval).toBe(10_000);
    expect(services.heartbeatTimeout).toBe(50_000);
    expect(services.failedRpcRequestsUntilUnreachable).toBe(2);
    expect([
      DEFAULT_HEARTBEAT_INTERVAL,
      DEFAULT_HEARTBEAT_TIMEOUT,
      DEFAULT_FAILED_RPC_REQUESTS_UNTIL_UNREACHABLE,
    ]).toEqual([10_000, 50_000, 2]);
  });

  it.each([0, -1, Number.NaN, 2 ** 31])('refuses the interval %s with a RangeError', (interval) => {
    expect(() => new HeartbeatServices(interval, 2 ** 31 - 1)).toThrow(RangeError);
    expect(() => new HeartbeatServices(interval, 2 ** 31 - 1)).toThrow(/heartbeat interval/);
  });

  it.each([
    [20, 19],
    [20, Number.NaN],
    [20, 2 ** 31],
  ])('refuses interval %s with timeout %s with a RangeError', (interval, timeout) => {
    expect(() => new HeartbeatServices(interval, timeout)).toThrow(RangeError);
    expect(() => new HeartbeatServices(interval, timeout)).toThrow(/heartbeat timeout must be at least/);
  });

  it('accepts a timeout equal to the interval', () => {
    expect(() => new HeartbeatServices(20, 20)).not.toThrow();
  });

  it.each([0, -2, 1.5, Number.NaN])('refuses %s failed RPC requests until unreachable', (failed) => {
    expect(() => new HeartbeatServices(20, 100, failed)).toThrow(RangeError);
    expect(() => new HeartbeatServices(20, 100, failed)).toThrow(/positive integer or -1/);
  });

  it('accepts -1 (disabled) failed RPC requests until unreachable', () => {
    expect(FAILED_RPC_DETECTION_DISABLED).toBe(-1);
    expect(new HeartbeatServices(20, 100, -1).failedRpcRequestsUntilUnreachable).toBe(-1);
  });
});

describe('HeartbeatServices.noOp()', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates managers that monitor, send and report nothing and leave no timers behind', async () => {
    const executor = new FakeMainThreadExecutor();
    const listener = new RecordingListener<string, string>(executor, () => 'payload');
    const services = HeartbeatServices.noOp();
    const sender = services.createHeartbeatManagerSender('me', listener, executor, recordingLogger());
    const receiver = services.createHeartbeatManager('me', listener, executor, recordingLogger());
    expect(sender).toBe(NoOpHeartbeatManager.getInstance());
    expect(receiver).toBe(NoOpHeartbeatManager.getInstance());

    const { target, calls } = scriptedTarget<string>();
    sender.monitorTarget('t', target);
    await expect(sender.receiveHeartbeat('t', 'x')).resolves.toBeUndefined();
    await expect(sender.requestHeartbeat('t', 'x')).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(calls).toEqual([]);
    expect(listener.events).toEqual([]);
    expect(listener.retrieved).toEqual([]);
    expect(sender.getLastHeartbeatFrom('t')).toBe(0);
    sender.unmonitorTarget('t');
    sender.stop();
  });
});
