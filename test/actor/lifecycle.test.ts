import { describe, expect, it } from 'vitest';
import {
  EndpointNotStartedException,
  RecipientUnreachableException,
  RpcEndpoint,
  RpcException,
} from '../../src/index.js';
import { HelloEndpoint, HelloGateway, localService, sleep, useLocalService } from '../fixtures/hello.js';

const service = useLocalService();

class Recording extends RpcEndpoint {
  readonly calls: string[] = [];
  onStartError: unknown;
  onStopResult: () => Promise<void> = async () => {};
  protected override async onStart(): Promise<void> {
    this.calls.push(`onStart running=${this.isRunning()}`);
    if (this.onStartError !== undefined) throw this.onStartError;
  }
  protected override onStop(): Promise<void> {
    this.validateRunsInMainThread();
    this.calls.push(`onStop running=${this.isRunning()}`);
    return this.onStopResult();
  }
}

describe('endpoint lifecycle: created → started → terminating → terminated', () => {
  it('registers at construction: the address is connectable before start, but asks fail as "not started"', async () => {
    const endpoint = new HelloEndpoint(service, 'hello');
    expect(endpoint.getAddress()).toBe('rpc://flink/hello');
    const gw = await service.connect(endpoint.getAddress(), HelloGateway);
    const error = await gw.hello('early').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointNotStartedException);
    expect(error).toBeInstanceOf(RpcException);
    expect((error as Error).message).toContain('has not been started yet');
    expect((error as Error).name).toBe('EndpointNotStartedException');
    endpoint.start();
    await expect(gw.hello('later')).resolves.toBe('hello later');
  });

  it('drops tells, runAsync and scheduled runs sent before start instead of queueing them', async () => {
    const endpoint = new HelloEndpoint(service);
    const gw = endpoint.getSelfGateway(HelloGateway);
    gw.notify('too early');
    let ran = false;
    endpoint.runAsync(() => {
      ran = true;
    });
    await expect(endpoint.callAsync(() => 1, 1000)).rejects.toBeInstanceOf(EndpointNotStartedException);
    endpoint.start();
    gw.notify('in time');
    await gw.hello('sync');
    expect(endpoint.events).toEqual(['in time']);
    expect(ran).toBe(false);
  });

  it('runs onStart exactly once, in the main thread, with isRunning() already true', async () => {
    const endpoint = new Recording(service);
    endpoint.start();
    endpoint.start();
    await endpoint.callAsync(() => undefined, 1000);
    expect(endpoint.calls).toEqual(['onStart running=true']);
  });

  it('terminates with "Could not start RpcEndpoint <id>." when onStart fails, without calling onStop', async () => {
    const endpoint = new Recording(service, 'broken');
    endpoint.onStartError = new Error('boom');
    endpoint.start();
    const error = await endpoint.getTerminationFuture().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcException);
    expect((error as Error).message).toBe('Could not start RpcEndpoint broken.');
    expect(((error as Error).cause as Error).message).toBe('boom');
    expect(endpoint.calls).toEqual(['onStart running=true']);
  });

  it('runs onStop once, in the main thread, and completes termination only when its promise settles', async () => {
    const endpoint = new Recording(service);
    let finishStop!: () => void;
    endpoint.onStopResult = () => new Promise<void>((resolve) => (finishStop = resolve));
    endpoint.start();
    let terminated = false;
    const first = endpoint.closeAsync().then(() => (terminated = true));
    const second = endpoint.closeAsync();
    expect(second).toBe(endpoint.getTerminationFuture());
    await sleep(20);
    expect(terminated).toBe(false);
    expect(endpoint.calls).toEqual(['onStart running=true', 'onStop running=true']);
    finishStop();
    await first;
    expect(terminated).toBe(true);
    expect(endpoint.calls.filter((c) => c.startsWith('onStop'))).toHaveLength(1);
  });

  it('still serves RPCs while onStop is pending, then fails queued and later asks promptly', async () => {
    const endpoint = new (class extends HelloEndpoint {
      finish!: () => void;
      protected override onStop(): Promise<void> {
        return new Promise((resolve) => (this.finish = resolve));
      }
    })(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    const termination = endpoint.closeAsync();
    await expect(gw.hello('while stopping')).resolves.toBe('hello while stopping');
    endpoint.finish();
    await termination;
    const started = Date.now();
    const error = await gw.hello('after').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecipientUnreachableException);
    expect((error as Error).message).toContain(endpoint.getAddress());
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails the termination future with the error of onStop', async () => {
    const endpoint = new Recording(service);
    endpoint.onStopResult = async () => {
      throw new Error('stop failed');
    };
    endpoint.start();
    await expect(endpoint.closeAsync()).rejects.toThrow('stop failed');
  });

  it('wraps a synchronous throw of onStop as "Failure while stopping RpcEndpoint <id>."', async () => {
    const endpoint = new (class extends RpcEndpoint {
      protected override onStop(): Promise<void> {
        throw new Error('sync');
      }
    })(service, 'sync-stop');
    endpoint.start();
    const error = await endpoint.closeAsync().catch((e: unknown) => e);
    expect((error as Error).message).toBe('Failure while stopping RpcEndpoint sync-stop.');
    expect(((error as Error).cause as Error).message).toBe('sync');
  });

  it('closes a never-started endpoint without calling onStop', async () => {
    const endpoint = new Recording(service);
    await endpoint.closeAsync();
    expect(endpoint.calls).toEqual([]);
  });

  it('fails asks that are pending on an async method when the endpoint terminates, not at their timeout', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const gw = endpoint.getSelfGateway(HelloGateway);
    const pending = gw.slowEcho('never', 60_000).catch((e: unknown) => e);
    await sleep(5);
    const started = Date.now();
    await endpoint.closeAsync();
    expect(await pending).toBeInstanceOf(RecipientUnreachableException);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('supports await using', async () => {
    let terminated: Promise<void> | undefined;
    {
      await using endpoint = new HelloEndpoint(service);
      endpoint.start();
      terminated = endpoint.getTerminationFuture();
    }
    await expect(terminated).resolves.toBeUndefined();
  });

  it('gives endpoints a random UUID id by default and builds the address from it', () => {
    const a = new HelloEndpoint(service);
    const b = new HelloEndpoint(service);
    expect(a.getEndpointId()).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.getEndpointId()).not.toBe(b.getEndpointId());
    expect(a.getAddress()).toBe(`rpc://flink/${a.getEndpointId()}`);
    expect(a.getHostname()).toBe('localhost');
    expect(a.getRpcService()).toBe(service);
  });

  it('refuses a live duplicate id and an invalid id, and allows reuse after termination', async () => {
    const first = new HelloEndpoint(service, 'dup');
    expect(() => new HelloEndpoint(service, 'dup')).toThrow(/already running/);
    expect(() => new HelloEndpoint(service, 'bad/id')).toThrow(RpcException);
    expect(() => new HelloEndpoint(service, '')).toThrow(RpcException);
    first.start();
    await first.closeAsync();
    const second = new HelloEndpoint(service, 'dup');
    expect(second.getAddress()).toBe(first.getAddress());
    second.start();
    const gw = await service.connect(second.getAddress(), HelloGateway);
    await expect(gw.hello('again')).resolves.toBe('hello again');
  });

  it('lets termination callbacks create new endpoints (termination never completes inside a mailbox turn)', async () => {
    const endpoint = new HelloEndpoint(service, 'phoenix');
    endpoint.start();
    const reborn = endpoint.closeAsync().then(() => {
      const next = new HelloEndpoint(service, 'phoenix');
      next.start();
      return next.getSelfGateway(HelloGateway).hello('reborn');
    });
    await expect(reborn).resolves.toBe('hello reborn');
  });

  it('isolates a failing endpoint: its neighbours and the service go on', async () => {
    const failing = new Recording(service);
    failing.onStartError = new Error('bad');
    const healthy = new HelloEndpoint(service);
    failing.start();
    healthy.start();
    await expect(failing.getTerminationFuture()).rejects.toThrow(RpcException);
    await expect(healthy.getSelfGateway(HelloGateway).hello('still')).resolves.toBe('hello still');
    const late = new HelloEndpoint(service);
    late.start();
    await expect(late.getSelfGateway(HelloGateway).hello('new')).resolves.toBe('hello new');
  });

  it('ignores start() after close was requested', async () => {
    const endpoint = new Recording(service);
    endpoint.start();
    const done = endpoint.closeAsync();
    endpoint.start();
    await done;
    expect(endpoint.calls).toEqual(['onStart running=true', 'onStop running=true']);
  });
});

describe('gateways bound to a terminated endpoint', () => {
  it('stay bound to it: after the id is reused, an old proxy reaches nobody (as a Pekko ActorRef would)', async () => {
    const service = await localService();
    try {
      const first = new HelloEndpoint(service, 'reused');
      first.start();
      const old = await service.connect(first.getAddress(), HelloGateway);
      await first.closeAsync();
      const second = new HelloEndpoint(service, 'reused');
      second.start();
      await expect(old.hello('x')).rejects.toBeInstanceOf(RecipientUnreachableException);
      const fresh = await service.connect(second.getAddress(), HelloGateway);
      await expect(fresh.hello('x')).resolves.toBe('hello x');
    } finally {
      await service.closeAsync();
    }
  });
});
