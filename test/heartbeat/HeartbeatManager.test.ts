/**
 * The heartbeat protocol between a sender and a receiver, on fake timers: timeouts, unreachable targets, payloads.
 * Interval 20 ms and timeout 100 ms, as a test configuration would use; fake time makes the bounds exact.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HeartbeatManager, HeartbeatServices } from '../../src/heartbeat/index.js';
import { RecipientUnreachableException, RpcTimeoutException } from '../../src/rpc/errors.js';
import { FakeMainThreadExecutor, LinkTarget, RecordingListener, recordingLogger, scriptedTarget } from './testUtils.js';

const INTERVAL = 20;
const TIMEOUT = 100;

interface Payload {
  from: string;
  seq: number;
}

/** A sender ('jm') and a receiver ('tm') monitoring each other through links that behave like RPCs. */
function senderAndReceiver(services = new HeartbeatServices(INTERVAL, TIMEOUT)) {
  const senderExecutor = new FakeMainThreadExecutor('jm');
  const receiverExecutor = new FakeMainThreadExecutor('tm');
  let seq = 0;
  const senderListener = new RecordingListener<Payload, Payload>(senderExecutor, () => ({ from: 'jm', seq: ++seq }));
  const receiverListener = new RecordingListener<Payload, Payload>(receiverExecutor, () => ({
    from: 'tm',
    seq: ++seq,
  }));
  const sender = services.createHeartbeatManagerSender('jm', senderListener, senderExecutor, recordingLogger());
  const receiver = services.createHeartbeatManager('tm', receiverListener, receiverExecutor, recordingLogger());
  const toReceiver = new LinkTarget(receiver, receiverExecutor);
  const toSender = new LinkTarget(sender, senderExecutor);
  senderExecutor.runInMainThread(() => sender.monitorTarget('tm', toReceiver));
  receiverExecutor.runInMainThread(() => receiver.monitorTarget('jm', toSender));
  return { sender, receiver, senderListener, receiverListener, senderExecutor, receiverExecutor, toReceiver, toSender };
}

const managers: HeartbeatManager<unknown, unknown>[] = [];
function track<T extends { sender: HeartbeatManager<any, any>; receiver: HeartbeatManager<any, any> }>(setup: T): T {
  managers.push(setup.sender, setup.receiver);
  return setup;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(async () => {
  for (const manager of managers.splice(0)) manager.stop();
  // Drains what is in flight; a timer chain that survived stop() would make this throw (it aborts after 10 000).
  await vi.runAllTimersAsync();
  expect(vi.getTimerCount()).toBe(0); // nothing left running
  vi.useRealTimers();
});

describe('heartbeat timeout', () => {
  it('is never reported while the target keeps answering', async () => {
    const { senderListener, receiverListener, toReceiver } = track(senderAndReceiver());
    await vi.advanceTimersByTimeAsync(20 * TIMEOUT);
    expect(senderListener.of('timeout')).toEqual([]);
    expect(receiverListener.of('timeout')).toEqual([]);
    expect(toReceiver.calls).toBeGreaterThanOrEqual((20 * TIMEOUT) / INTERVAL);
  });

  it('reports a target that stops answering once, within timeout + one interval, and not before the timeout', async () => {
    const { sender, senderListener, toReceiver } = track(senderAndReceiver());
    await vi.advanceTimersByTimeAsync(5 * TIMEOUT + 7); // in the middle of an interval
    const lastHeartbeat = sender.getLastHeartbeatFrom('tm');
    expect(lastHeartbeat).toBeGreaterThan(5 * TIMEOUT + 7 - INTERVAL);

    toReceiver.cut(); // the receiver stops answering: requests hang
    const stoppedAt = Date.now();
    await vi.advanceTimersByTimeAsync(lastHeartbeat + TIMEOUT - 1 - Date.now());
    expect(senderListener.of('timeout')).toEqual([]); // not before the timeout

    await vi.advanceTimersByTimeAsync(stoppedAt + TIMEOUT + INTERVAL - Date.now());
    const timeouts = senderListener.of('timeout');
    expect(timeouts.map((e) => e.id)).toEqual(['tm']);
    const at = timeouts[0]!.at;
    expect(at - lastHeartbeat).toBeGreaterThanOrEqual(TIMEOUT);
    expect(at - stoppedAt).toBeLessThanOrEqual(TIMEOUT + INTERVAL);

    await vi.advanceTimersByTimeAsync(10 * TIMEOUT);
    expect(senderListener.of('timeout')).toHaveLength(1); // once per monitoring
    expect(senderListener.violations).toEqual([]);
  });

  it('is reported by the receiver when the sender stops requesting heartbeats', async () => {
    const { sender, receiver, receiverListener } = track(senderAndReceiver());
    await vi.advanceTimersByTimeAsync(3 * TIMEOUT + 7);
    sender.stop();
    await vi.advanceTimersByTimeAsync(1); // requests already sent are still delivered
    const lastRequest = receiver.getLastHeartbeatFrom('jm');
    expect(lastRequest).toBeGreaterThan(3 * TIMEOUT + 7 - INTERVAL);
    await vi.advanceTimersByTimeAsync(TIMEOUT + INTERVAL);
    expect(receiverListener.of('timeout')).toEqual([{ kind: 'timeout', id: 'jm', at: lastRequest + TIMEOUT }]);
    expect(receiverListener.violations).toEqual([]);
  });

  it('is not reset by successful heartbeat RPCs without an answering heartbeat (as in Flink)', async () => {
    // A target that accepts our requests but no longer monitors us never answers them: it must still time out.
    const executor = new FakeMainThreadExecutor();
    const listener = new RecordingListener<string, string>(executor, () => 'ping');
    const sender = new HeartbeatServices(INTERVAL, TIMEOUT).createHeartbeatManagerSender(
      'jm',
      listener,
      executor,
      recordingLogger(),
    );
    managers.push(sender);
    const { target, calls } = scriptedTarget<string>(); // every RPC succeeds
    executor.runInMainThread(() => sender.monitorTarget('tm', target));

    await vi.advanceTimersByTimeAsync(TIMEOUT - 1);
    expect(listener.of('timeout')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.of('timeout')).toEqual([{ kind: 'timeout', id: 'tm', at: TIMEOUT }]);
    expect(calls.length).toBeGreaterThanOrEqual(TIMEOUT / INTERVAL);
    expect(listener.of('unreachable')).toEqual([]);
  });

  it('restarts with every received heartbeat', async () => {
    const executor = new FakeMainThreadExecutor();
    const listener = new RecordingListener<string, string>(executor);
    const receiver = new HeartbeatServices(INTERVAL, TIMEOUT).createHeartbeatManager(
      'tm',
      listener,
      executor,
      recordingLogger(),
    );
    managers.push(receiver);
    executor.runInMainThread(() => receiver.monitorTarget('jm', scriptedTarget<string>().target));
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(TIMEOUT - 1);
      executor.runInMainThread(() => receiver.receiveHeartbeat('jm', 'beat'));
    }
    expect(listener.of('timeout')).toEqual([]);
    const last = Date.now();
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(listener.of('timeout')).toEqual([{ kind: 'timeout', id: 'jm', at: last + TIMEOUT }]);
  });
});

describe('unreachable targets', () => {
  /** A sender monitoring one scripted target; one heartbeat round per `step()`. */
  function senderWith(services: HeartbeatServices, answer: (call: number) => Promise<void>) {
    const executor = new FakeMainThreadExecutor();
    const listener = new RecordingListener<string, string>(executor, () => 'ping');
    const sender = services.createHeartbeatManagerSender('jm', listener, executor, recordingLogger());
    managers.push(sender);
    const { target, calls } = scriptedTarget<string>(answer);
    executor.runInMainThread(() => sender.monitorTarget('tm', target));
    return { listener, calls, executor, sender };
  }

  it('reports a target whose heartbeat RPCs fail N times in a row, exactly at the N-th failure', async () => {
    const { listener, calls } = senderWith(new HeartbeatServices(INTERVAL, 1000, 3), () =>
      Promise.reject(new RecipientUnreachableException('gone')),
    );
    await vi.advanceTimersByTimeAsync(1); // round 1 at t=0
    await vi.advanceTimersByTimeAsync(INTERVAL); // round 2
    expect(calls).toHaveLength(2);
    expect(listener.of('unreachable')).toEqual([]);

    await vi.advanceTimersByTimeAsync(INTERVAL); // round 3: the third failure in a row
    expect(calls).toHaveLength(3);
    expect(calls[2]!.at - calls[0]!.at).toBe(2 * INTERVAL);
    const unreachable = listener.of('unreachable');
    expect(unreachable.map((e) => e.id)).toEqual(['tm']);
    // Right after the third failure came back, before another round.
    expect(unreachable[0]!.at).toBeGreaterThanOrEqual(calls[2]!.at);
    expect(unreachable[0]!.at).toBeLessThan(calls[2]!.at + INTERVAL);

    // Reported once, and the timeout of an unreachable target is cancelled: no second report of any kind.
    await vi.advanceTimersByTimeAsync(3000);
    expect(listener.events.filter((e) => e.kind !== 'payload')).toHaveLength(1);
    expect(listener.violations).toEqual([]);
  });

  it('does not report a target whose N-1 failures are followed by a success (a success resets the count)', async () => {
    const N = 3;
    // fail, fail, succeed, fail, fail, succeed, …: never N failures in a row, 2/3 of all calls failing.
    const { listener, calls } = senderWith(new HeartbeatServices(INTERVAL, 100_000, N), (call) =>
      call % N === 0 ? Promise.resolve() : Promise.reject(new Error('connection refused')),
    );
    await vi.advanceTimersByTimeAsync(30 * INTERVAL);
    expect(calls.length).toBeGreaterThanOrEqual(30);
    expect(listener.of('unreachable')).toEqual([]);
  });

  it('counts a target that throws synchronously as a failed RPC', async () => {
    const { listener } = senderWith(new HeartbeatServices(INTERVAL, 1000, 2), () => {
      throw new Error('no connection');
    });
    await vi.advanceTimersByTimeAsync(INTERVAL + 1);
    expect(listener.of('unreachable').map((e) => e.id)).toEqual(['tm']);
  });

  it('never reports unreachable with -1 (disabled): the timeout still catches the target', async () => {
    const { listener } = senderWith(new HeartbeatServices(INTERVAL, TIMEOUT, -1), () =>
      Promise.reject(new RecipientUnreachableException('gone')),
    );
    await vi.advanceTimersByTimeAsync(3 * TIMEOUT);
    expect(listener.of('unreachable')).toEqual([]);
    expect(listener.of('timeout')).toEqual([{ kind: 'timeout', id: 'tm', at: TIMEOUT }]);
  });

  it('counts only the rejections that countsAsRpcFailure accepts', async () => {
    const services = new HeartbeatServices(INTERVAL, 100_000, 2, {
      countsAsRpcFailure: (e) => e instanceof RecipientUnreachableException,
    });
    const { listener, calls } = senderWith(services, (call) =>
      Promise.reject(call <= 5 ? new RpcTimeoutException('slow') : new RecipientUnreachableException('gone')),
    );
    await vi.advanceTimersByTimeAsync(4 * INTERVAL + 1); // 5 timeouts: not counted
    expect(calls).toHaveLength(5);
    expect(listener.of('unreachable')).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 * INTERVAL); // 2 unreachable in a row
    expect(calls).toHaveLength(7);
    const unreachable = listener.of('unreachable');
    expect(unreachable.map((e) => e.id)).toEqual(['tm']);
    expect(unreachable[0]!.at).toBeGreaterThanOrEqual(calls[6]!.at);
  });

  it('counts the failed answers of a receiver too', async () => {
    const executor = new FakeMainThreadExecutor();
    const listener = new RecordingListener<string, string>(executor, () => 'pong');
    const receiver = new HeartbeatServices(INTERVAL, 1000, 2).createHeartbeatManager(
      'tm',
      listener,
      executor,
      recordingLogger(),
    );
    managers.push(receiver);
    const { target, calls } = scriptedTarget<string>(() => Promise.reject(new Error('connection reset')));
    executor.runInMainThread(() => receiver.monitorTarget('jm', target));

    executor.runInMainThread(() => receiver.requestHeartbeat('jm', 'ping'));
    await vi.advanceTimersByTimeAsync(0);
    expect(listener.of('unreachable')).toEqual([]);
    executor.runInMainThread(() => receiver.requestHeartbeat('jm', 'ping'));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => [c.method, c.origin, c.payload])).toEqual([
      ['receiveHeartbeat', 'tm', 'pong'],
      ['receiveHeartbeat', 'tm', 'pong'],
    ]);
    expect(listener.of('unreachable').map((e) => e.id)).toEqual(['jm']);
  });

  it('attributes a late RPC outcome to the monitoring that sent it, not to a re-monitored successor', async () => {
    const rejects: ((e: unknown) => void)[] = [];
    const { listener, executor, sender } = senderWith(new HeartbeatServices(INTERVAL, 100_000, 1), () => {
      return new Promise<void>((_, reject) => rejects.push(reject));
    });
    await vi.advanceTimersByTimeAsync(1); // one request in flight to the first 'tm'
    expect(rejects).toHaveLength(1);
    executor.runInMainThread(() => {
      sender.unmonitorTarget('tm');
      sender.monitorTarget('tm', scriptedTarget<string>().target); // a new 'tm' that answers fine
    });
    rejects[0]!(new RecipientUnreachableException('the old tm is gone'));
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(listener.of('unreachable')).toEqual([]);
  });
});

describe('payloads', () => {
  it("flow both ways: the sender's payload reaches the receiver, the receiver's answer comes back", async () => {
    const { senderListener, receiverListener } = track(senderAndReceiver());
    await vi.advanceTimersByTimeAsync(5 * INTERVAL + 1);

    // Everything the sender retrieved for 'tm' reached the receiver as a report from 'jm', in order.
    const sent = receiverListener.events.filter((e) => e.kind === 'payload');
    expect(sent.length).toBeGreaterThanOrEqual(5);
    expect(new Set(sent.map((e) => e.id))).toEqual(new Set(['jm']));
    expect(sent.map((e) => (e.kind === 'payload' ? (e.payload as Payload).from : ''))).toEqual(sent.map(() => 'jm'));

    const answers = senderListener.events.filter((e) => e.kind === 'payload');
    expect(answers.length).toBeGreaterThanOrEqual(5);
    expect(new Set(answers.map((e) => e.id))).toEqual(new Set(['tm']));
    expect(answers.every((e) => e.kind === 'payload' && (e.payload as Payload).from === 'tm')).toBe(true);

    // Retrieval asks for the payload of the right peer.
    expect(new Set(senderListener.retrieved)).toEqual(new Set(['tm']));
    expect(new Set(receiverListener.retrieved)).toEqual(new Set(['jm']));
    // Each request carried a fresh payload: sequence numbers strictly increase.
    const seqs = sent.map((e) => (e.kind === 'payload' ? (e.payload as Payload).seq : 0));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('does not report undefined or null payloads, but still counts them as heartbeats', async () => {
    const executor = new FakeMainThreadExecutor();
    const listener = new RecordingListener<string | null | undefined, string>(executor);
    const receiver = new HeartbeatServices(INTERVAL, TIMEOUT).createHeartbeatManager(
      'tm',
      listener,
      executor,
      recordingLogger(),
    );
    managers.push(receiver);
    executor.runInMainThread(() => receiver.monitorTarget('jm', scriptedTarget<string>().target));
    await vi.advanceTimersByTimeAsync(10);
    executor.runInMainThread(() => receiver.receiveHeartbeat('jm', undefined));
    executor.runInMainThread(() => receiver.receiveHeartbeat('jm', null));
    expect(listener.events).toEqual([]);
    expect(receiver.getLastHeartbeatFrom('jm')).toBe(10);
  });

  it('ignores heartbeats and requests from targets that are not monitored', async () => {
    const executor = new FakeMainThreadExecutor();
    const listener = new RecordingListener<string, string>(executor, () => 'pong');
    const receiver = new HeartbeatServices(INTERVAL, TIMEOUT).createHeartbeatManager(
      'tm',
      listener,
      executor,
      recordingLogger(),
    );
    managers.push(receiver);
    executor.runInMainThread(() => {
      receiver.receiveHeartbeat('stranger', 'hello');
      receiver.requestHeartbeat('stranger', 'hello');
    });
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(listener.events).toEqual([]);
    expect(listener.retrieved).toEqual([]);
    expect(receiver.getLastHeartbeatFrom('stranger')).toBe(-1);
  });
});

describe('requests', () => {
  it('go to every monitored target every interval, the first round right away, from our resource id', async () => {
    const executor = new FakeMainThreadExecutor();
    const listener = new RecordingListener<string, string>(executor, (id) => `for ${id}`);
    const sender = new HeartbeatServices(INTERVAL, TIMEOUT).createHeartbeatManagerSender(
      'rm',
      listener,
      executor,
      recordingLogger(),
    );
    managers.push(sender);
    const a = scriptedTarget<string>();
    const b = scriptedTarget<string>();
    executor.runInMainThread(() => {
      sender.monitorTarget('a', a.target);
      sender.monitorTarget('b', b.target);
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(a.calls).toEqual([{ method: 'requestHeartbeat', origin: 'rm', payload: 'for a', at: 0 }]);
    expect(b.calls).toEqual([{ method: 'requestHeartbeat', origin: 'rm', payload: 'for b', at: 0 }]);
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(a.calls).toHaveLength(6);
    expect(b.calls).toHaveLength(6);
  });
});
