import { describe, expect, it } from 'vitest';
import {
  RecipientUnreachableException,
  RpcEndpoint,
  RpcException,
  RpcTimeoutException,
  TaskCancelledError,
} from '../../src/index.js';
import { HelloEndpoint, HelloGateway, sleep, useLocalService } from '../fixtures/hello.js';

const service = useLocalService();

/** Counts concurrent entries: a second entry before the first left would mean two "threads" in one mailbox. */
class Exclusive extends RpcEndpoint {
  inside = 0;
  maxInside = 0;
  enter(): void {
    this.validateRunsInMainThread();
    this.inside++;
    this.maxInside = Math.max(this.maxInside, this.inside);
    for (let i = 0; i < 1000; i++) Math.sqrt(i);
    this.inside--;
  }
}

describe('the main thread', () => {
  it('runs RPCs, runAsync, callAsync, scheduled runs and executor tasks inside the endpoint turn', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    await gw.hello('a');
    gw.notify('b');
    const seen: boolean[] = [];
    endpoint.runAsync(() => seen.push(endpoint.isMainThreadNow()));
    seen.push(await endpoint.callAsync(() => endpoint.isMainThreadNow(), 1000));
    await endpoint.scheduleRunAsync(() => seen.push(endpoint.isMainThreadNow()), 5).result;
    const executor = endpoint.getMainThreadExecutor();
    executor.execute(() => seen.push(endpoint.isMainThreadNow()));
    seen.push(await executor.schedule(() => endpoint.isMainThreadNow(), 1).result);
    expect(seen).toEqual([true, true, true, true, true]);
    expect(endpoint.inMainThread).toEqual([true, true]);
  });

  it('rejects validateRunsInMainThread outside the turn: plain code, timers, after await, another endpoint', async () => {
    const a = new HelloEndpoint(service);
    const b = new HelloEndpoint(service);
    a.start();
    b.start();
    expect(() => a.validateRunsInMainThread()).toThrow(RpcException);
    expect(() => a.validateRunsInMainThread()).toThrow(/Violation of main thread constraint/);
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(a.isMainThreadNow()).toBe(false);
        resolve();
      }, 1),
    );
    const afterAwait = await a.callAsync(async () => {
      await sleep(1);
      return a.isMainThreadNow();
    }, 1000);
    expect(afterAwait).toBe(false);
    expect(await b.callAsync(() => a.isMainThreadNow(), 1000)).toBe(false);
    expect(() => a.getMainThreadExecutor().assertRunningInMainThread()).toThrow(RpcException);
  });

  it('never runs two messages of one endpoint at once', async () => {
    const endpoint = new Exclusive(service);
    endpoint.start();
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      endpoint.runAsync(() => endpoint.enter());
      work.push(endpoint.callAsync(() => endpoint.enter(), 5000));
    }
    await Promise.all(work);
    expect(endpoint.maxInside).toBe(1);
  });

  it('does not wait for a promise returned by a method: the mailbox moves on', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    const slow = gw.slowEcho('slow', 5000);
    await expect(gw.hello('meanwhile')).resolves.toBe('hello meanwhile');
    endpoint.release!();
    await expect(slow).resolves.toBe('slow');
  });

  it('brings async code back to the main thread with thenApply, and never after termination', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const executor = endpoint.getMainThreadExecutor();
    const value = await executor.thenApply(
      sleep(2).then(() => 21),
      (v) => {
        endpoint.validateRunsInMainThread();
        return v * 2;
      },
    );
    expect(value).toBe(42);
    await expect(
      executor.thenApply(
        Promise.reject(new Error('source failed')),
        () => 'unused',
        (e) => {
          endpoint.validateRunsInMainThread();
          return (e as Error).message;
        },
      ),
    ).resolves.toBe('source failed');
    let ran = false;
    const late = executor.thenApply(sleep(30), () => {
      ran = true;
    });
    await endpoint.closeAsync();
    await expect(late).rejects.toBeInstanceOf(RecipientUnreachableException);
    expect(ran).toBe(false);
  });
});

describe('runAsync, callAsync and scheduled runs', () => {
  it('logs and swallows an exception thrown by runAsync: the endpoint keeps running', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    endpoint.runAsync(() => {
      throw new Error('oops');
    });
    await expect(endpoint.getSelfGateway(HelloGateway).hello('fine')).resolves.toBe('hello fine');
  });

  it('callAsync returns the value (or the async value), and fails with the thrown error', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    await expect(endpoint.callAsync(() => 7, 1000)).resolves.toBe(7);
    await expect(endpoint.callAsync(() => null, 1000)).resolves.toBeNull();
    await expect(endpoint.callAsync(async () => 'later', 1000)).resolves.toBe('later');
    await expect(
      endpoint.callAsync(() => {
        throw new TypeError('nope');
      }, 1000),
    ).rejects.toThrow(TypeError);
  });

  it('callAsync times out with RpcTimeoutException when the callable does not finish in time', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const error = await endpoint.callAsync(() => sleep(200), 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcTimeoutException);
    expect((error as Error).message).toContain('callAsync');
    expect((error as Error).message).toContain(endpoint.getAddress());
  });

  it('scheduleRunAsync runs no earlier than the delay, validates its arguments, and can be cancelled', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const start = performance.now();
    let at = 0;
    await endpoint.scheduleRunAsync(() => (at = performance.now()), 30).result;
    expect(at - start).toBeGreaterThanOrEqual(29);
    expect(() => endpoint.scheduleRunAsync(() => {}, -1)).toThrow(/delay must be zero or greater/);
    expect(() => endpoint.scheduleRunAsync(null as unknown as () => void, 1)).toThrow(TypeError);
    let ran = false;
    const handle = endpoint.scheduleRunAsync(() => (ran = true), 10);
    expect(handle.cancel()).toBe(true);
    expect(handle.cancelled).toBe(true);
    expect(handle.cancel()).toBe(false);
    await sleep(30);
    expect(ran).toBe(false);
    await expect(handle.result).rejects.toBeInstanceOf(TaskCancelledError);
    await expect(handle.result).rejects.toThrow(/cancelled/);
  });

  it('a delayed run is queued behind messages already queued when it becomes due', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const order: string[] = [];
    endpoint.scheduleRunAsync(() => order.push('scheduled'), 0);
    endpoint.runAsync(() => order.push('queued'));
    await sleep(10);
    expect(order).toEqual(['queued', 'scheduled']);
  });

  it('never fires scheduled runs or main-thread-executor tasks after termination', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    let fired = 0;
    const scheduled = endpoint.scheduleRunAsync(() => fired++, 20);
    const viaExecutor = endpoint.getMainThreadExecutor().schedule(() => fired++, 20);
    await endpoint.closeAsync();
    await sleep(40);
    expect(fired).toBe(0);
    await expect(scheduled.result).rejects.toBeInstanceOf(RecipientUnreachableException);
    await expect(viaExecutor.result).rejects.toBeInstanceOf(RecipientUnreachableException);
    endpoint.runAsync(() => fired++);
    endpoint.getMainThreadExecutor().execute(() => fired++);
    await sleep(5);
    expect(fired).toBe(0);
    await expect(endpoint.callAsync(() => 1, 100)).rejects.toBeInstanceOf(RecipientUnreachableException);
  });

  it('main-thread executor: schedule returns the callable value; periodic scheduling is not supported', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const executor = endpoint.getMainThreadExecutor();
    await expect(executor.schedule(() => 'v', 1).result).resolves.toBe('v');
    expect(() => executor.scheduleAtFixedRate(() => {}, 0, 10)).toThrow(/Not implemented/);
    expect(() => executor.scheduleWithFixedDelay(() => {}, 0, 10)).toThrow(/Not implemented/);
    const cancelled = executor.schedule(() => 'never', 20);
    cancelled.cancel();
    await expect(cancelled.result).rejects.toBeInstanceOf(TaskCancelledError);
  });
});
