import { describe, expect, it } from 'vitest';
import {
  gateway,
  HandshakeException,
  RpcConnectionException,
  RpcEndpoint,
  RpcException,
  type RpcGateway,
  RpcTimeoutException,
} from '../../src/index.js';
import { HelloEndpoint, HelloGateway, localService, OtherGateway, sleep, useLocalService } from '../fixtures/hello.js';

const service = useLocalService({ askTimeout: 200 });

interface BaseGateway extends RpcGateway {
  base(): Promise<string>;
}
const BaseGateway = gateway<BaseGateway>('BaseGateway', { base: 'ask' });
interface DerivedGateway extends BaseGateway {
  derived(): Promise<string>;
}
const DerivedGateway = gateway<DerivedGateway, BaseGateway>(
  'DerivedGateway',
  { derived: 'ask' },
  { extends: [BaseGateway] },
);
interface SideGateway extends RpcGateway {
  side(): Promise<string>;
}
const SideGateway = gateway<SideGateway>('SideGateway', { side: 'ask' });

class MultiEndpoint extends RpcEndpoint implements DerivedGateway, SideGateway {
  static readonly gateways = [DerivedGateway, SideGateway];
  async base() {
    return 'base';
  }
  async derived() {
    return 'derived';
  }
  async side() {
    return 'side';
  }
}

interface ValuesGateway extends RpcGateway {
  identity<T>(value: T): Promise<T>;
  nothing(): Promise<null>;
  fail(message: string): Promise<void>;
  failLater(message: string): Promise<void>;
  plainValue(): Promise<number>;
  throwInTell(): void;
}
const ValuesGateway = gateway<ValuesGateway>('ValuesGateway', {
  identity: 'ask',
  nothing: 'ask',
  fail: 'ask',
  failLater: 'ask',
  plainValue: 'ask',
  throwInTell: 'tell',
});
class CodedError extends Error {
  code = 'E_CODED';
}
class ValuesEndpoint extends RpcEndpoint {
  static readonly gateways = [ValuesGateway];
  async identity<T>(value: T) {
    return value;
  }
  async nothing() {
    return null;
  }
  fail(message: string): Promise<void> {
    throw new CodedError(message, { cause: new Error('root cause') });
  }
  async failLater(message: string) {
    await sleep(1);
    throw new RangeError(message);
  }
  plainValue(): number {
    return 5;
  }
  throwInTell(): void {
    throw new Error('tell failure');
  }
}

describe('ask and tell through gateway proxies', () => {
  it('asks return the method result; tells return nothing at once and run in order with asks', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const gw = await service.connect(endpoint.getAddress(), HelloGateway);
    const told = gw.notify('first') as unknown;
    expect(told).toBeUndefined();
    await expect(gw.hello('second')).resolves.toBe('hello second');
    expect(endpoint.events).toEqual(['first']);
  });

  it('passes arguments and results by reference within a service (no serialization, no size limit)', async () => {
    const endpoint = new ValuesEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(ValuesGateway);
    const unserializable = { fn: () => 1, big: Buffer.alloc(32 * 1024 * 1024) };
    expect(await gw.identity(unserializable)).toBe(unserializable);
  });

  it('delivers null results, plain (non-Promise) return values and undefined', async () => {
    const endpoint = new ValuesEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(ValuesGateway);
    await expect(gw.nothing()).resolves.toBeNull();
    await expect(gw.plainValue()).resolves.toBe(5);
    await expect(gw.identity(undefined)).resolves.toBeUndefined();
  });

  it('propagates thrown and rejected errors with their class, message, cause and own fields', async () => {
    const endpoint = new ValuesEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(ValuesGateway);
    const thrown = await gw.fail('bad input').catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(CodedError);
    expect((thrown as CodedError).code).toBe('E_CODED');
    expect(((thrown as Error).cause as Error).message).toBe('root cause');
    await expect(gw.failLater('too late')).rejects.toThrow(RangeError);
  });

  it('logs a failing tell without affecting the caller or the endpoint', async () => {
    const endpoint = new ValuesEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(ValuesGateway);
    expect(() => gw.throwInTell()).not.toThrow();
    await expect(gw.plainValue()).resolves.toBe(5);
  });

  it('keeps the order of messages from one sender: tells, asks and runAsync share one FIFO mailbox', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const gw = await service.connect(endpoint.getAddress(), HelloGateway);
    const replies: Promise<string>[] = [];
    for (let i = 0; i < 100; i++) {
      gw.notify(`t${i}`);
      endpoint.runAsync(() => endpoint.events.push(`r${i}`));
      replies.push(
        gw.hello(`a${i}`).then((r) => {
          endpoint.events.push(r);
          return r;
        }),
      );
    }
    await Promise.all(replies);
    const expected: string[] = [];
    for (let i = 0; i < 100; i++) expected.push(`t${i}`, `r${i}`);
    expect(endpoint.events.filter((e) => !e.startsWith('hello'))).toEqual(expected);
    expect(endpoint.log).toEqual(Array.from({ length: 100 }, (_, i) => `hello a${i}`));
  });

  it('answers getAddress/getHostname in the proxy, even when the endpoint is not started', async () => {
    const endpoint = new HelloEndpoint(service);
    const gw = await service.connect(endpoint.getAddress(), HelloGateway);
    expect(gw.getAddress()).toBe(endpoint.getAddress());
    expect(gw.getHostname()).toBe('localhost');
    expect(String(gw)).toContain('HelloGateway');
  });

  it('a proxy is not thenable, and offers only the gateway methods', async () => {
    const endpoint = new HelloEndpoint(service);
    const gw = await service.connect(endpoint.getAddress(), HelloGateway);
    expect((gw as unknown as { then?: unknown }).then).toBeUndefined();
    expect((gw as unknown as { closeAsync?: unknown }).closeAsync).toBeUndefined();
    expect((gw as unknown as { events?: unknown }).events).toBeUndefined();
  });
});

describe('gateway inheritance and self gateways', () => {
  it('serves every declared gateway and its parents, through self gateways and connect', async () => {
    const endpoint = new MultiEndpoint(service);
    endpoint.start();
    await expect(endpoint.getSelfGateway(DerivedGateway).derived()).resolves.toBe('derived');
    await expect(endpoint.getSelfGateway(DerivedGateway).base()).resolves.toBe('base');
    await expect(endpoint.getSelfGateway(BaseGateway).base()).resolves.toBe('base');
    await expect(endpoint.getSelfGateway(SideGateway).side()).resolves.toBe('side');
    const viaConnect = await service.connect(endpoint.getAddress(), BaseGateway);
    await expect(viaConnect.base()).resolves.toBe('base');
    expect(endpoint.getSelfGateway(SideGateway)).toBe(endpoint.getSelfGateway(SideGateway));
  });

  it('refuses a self gateway the endpoint does not implement', () => {
    const endpoint = new MultiEndpoint(service);
    expect(() => endpoint.getSelfGateway(HelloGateway)).toThrow(
      'RpcEndpoint does not implement the RpcGateway interface of type HelloGateway.',
    );
  });

  it('an endpoint without declared gateways serves those whose methods it implements', async () => {
    const endpoint = new (class extends RpcEndpoint {
      async other() {
        return 3;
      }
    })(service);
    endpoint.start();
    await expect(endpoint.getSelfGateway(OtherGateway).other()).resolves.toBe(3);
    expect(() => endpoint.getSelfGateway(HelloGateway)).toThrow(RpcException);
  });
});

describe('connect within a service', () => {
  it('fails with RpcConnectionException naming the address for an unknown endpoint or a malformed address', async () => {
    const unknown = 'rpc://flink/nobody';
    const error = await service.connect(unknown, HelloGateway).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect((error as Error).message).toBe(`Could not connect to rpc endpoint under address ${unknown}.`);
    await expect(service.connect('not an address', HelloGateway)).rejects.toBeInstanceOf(RpcConnectionException);
  });

  it('fails with HandshakeException when the endpoint does not serve the gateway', async () => {
    const endpoint = new HelloEndpoint(service);
    const error = await service.connect(endpoint.getAddress(), OtherGateway).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeException);
    expect(error).toBeInstanceOf(RpcConnectionException);
    expect((error as Error).message).toContain('does not support the gateway OtherGateway');
  });

  it('fails for an address of another local-only service (local services are not reachable from outside)', async () => {
    const other = await localService();
    try {
      const endpoint = new HelloEndpoint(other);
      expect(endpoint.getAddress()).not.toMatch(/^rpc:\/\/flink\//);
      await expect(service.connect(endpoint.getAddress(), HelloGateway)).rejects.toBeInstanceOf(RpcConnectionException);
    } finally {
      await other.closeAsync();
    }
  });
});

describe('ask timeouts', () => {
  it('fails an unanswered ask after askTimeout with RpcTimeoutException naming method and recipient', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    const started = performance.now();
    const slow = (gw as unknown as { slowEcho(v: string, t: number): Promise<string> }).slowEcho;
    const error = await slow.call(gw, 'x', 50).catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
    expect(error).toBeInstanceOf(RpcTimeoutException);
    expect((error as Error).message).toContain('Invocation of [HelloGateway.slowEcho]');
    expect((error as Error).message).toContain(`at recipient [${endpoint.getAddress()}]`);
    expect((error as Error).message).toContain('timed out after 50 ms');
  });

  it('uses the timeoutArg argument as the per-call timeout and still passes it to the method', async () => {
    const endpoint = new (class extends HelloEndpoint {
      seen: unknown[] = [];
      override slowEcho(value: string, ...rest: unknown[]): Promise<string> {
        this.seen.push(rest[0]);
        return super.slowEcho(value);
      }
    })(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    const started = performance.now();
    await expect(gw.slowEcho('x', 20)).rejects.toBeInstanceOf(RpcTimeoutException);
    expect(performance.now() - started).toBeLessThan(180);
    expect(endpoint.seen).toEqual([20]);
    const answered = gw.slowEcho('y', 1000);
    await sleep(250); // longer than the default askTimeout of this service
    endpoint.release!();
    await expect(answered).resolves.toBe('y');
  });

  it('rejects a timeout argument that is not a non-negative number', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    await expect(gw.slowEcho('x', -1)).rejects.toThrow(/must be a non-negative number/);
    await expect(gw.slowEcho('x', 'soon' as unknown as number)).rejects.toThrow(RpcException);
  });

  it('names the awaiting caller functions in the timeout stack by default (async stack traces)', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    async function awaitsTheAsk(): Promise<string> {
      return await gw.slowEcho('x', 1);
    }
    async function callsTheCaller(): Promise<string> {
      return await awaitsTheAsk();
    }
    const error = (await callsTheCaller().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RpcTimeoutException);
    expect(error.message).toContain('HelloGateway.slowEcho');
    expect(error.stack).toMatch(/^RpcTimeoutException: Invocation of \[HelloGateway\.slowEcho\]/);
    // V8 writes `at async awaitsTheAsk (…)`; vitest's source-mapped stacks drop the `async`.
    expect(error.stack).toMatch(/\n\s+at (async )?awaitsTheAsk \(.*invocation\.test\.ts:\d+:\d+\)/);
    expect(error.stack).toMatch(/\n\s+at (async )?callsTheCaller \(/);
    // callAsync too.
    async function awaitsACall(): Promise<void> {
      await endpoint.callAsync(() => new Promise<void>(() => {}), 1);
    }
    const callError = (await awaitsACall().catch((e: unknown) => e)) as Error;
    expect(callError).toBeInstanceOf(RpcTimeoutException);
    expect(callError.stack).toMatch(/\n\s+at (async )?awaitsACall \(/);
  });

  it("shows the caller's synchronous stack in the timeout when captureAskCallStack is on", async () => {
    function callsSynchronously(gw: HelloGateway): Promise<string> {
      return gw.slowEcho('x', 1);
    }
    const traced = await localService({ captureAskCallStack: true });
    try {
      const endpoint = new HelloEndpoint(traced);
      endpoint.start();
      const error = (await callsSynchronously(endpoint.getSelfGateway(HelloGateway)).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(RpcTimeoutException);
      expect(error.stack).toMatch(/\n\s+at callsSynchronously \(.*invocation\.test\.ts/);
    } finally {
      await traced.closeAsync();
    }
    // Without it, a function that did not await is not on the stack (only awaiting ones are).
    const other = new HelloEndpoint(service);
    other.start();
    const bare = (await callsSynchronously(other.getSelfGateway(HelloGateway)).catch((e: unknown) => e)) as Error;
    expect(bare).toBeInstanceOf(RpcTimeoutException);
    expect(bare.stack).not.toContain('callsSynchronously');
  });

  it('many concurrent asks with different timeouts each expire on their own deadline', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    const outcomes = await Promise.all(
      [40, 10, 30, 20].map((t) => {
        const started = performance.now();
        return gw.slowEcho('x', t).catch(() => performance.now() - started);
      }),
    );
    for (const [i, elapsed] of outcomes.entries()) {
      expect(elapsed).toBeGreaterThanOrEqual([40, 10, 30, 20][i]! - 1);
    }
  });

  it('never expires an ask early, also when made inside a mailbox turn or after a long synchronous stretch', async () => {
    const endpoint = new HelloEndpoint(service);
    const caller = new HelloEndpoint(service);
    endpoint.start();
    caller.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {}
    };
    const elapsed: number[] = [];
    const measure = () => {
      const started = performance.now();
      return gw.slowEcho('x', 20).catch(() => elapsed.push(performance.now() - started));
    };
    const inTurn = caller.callAsync(() => {
      busy(15);
      const pending = measure();
      busy(15);
      return pending;
    }, 5000);
    busy(15);
    const afterBusy = measure();
    busy(15);
    await Promise.all([inTurn, afterBusy]);
    expect(elapsed).toHaveLength(2);
    for (const ms of elapsed) expect(ms).toBeGreaterThanOrEqual(20);
  });
});
