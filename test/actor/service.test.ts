import { describe, expect, it } from 'vitest';
import {
  gateway,
  RecipientUnreachableException,
  RpcEndpoint,
  RpcException,
  type RpcGateway,
  RpcLoaderException,
  RpcSystem,
} from '../../src/index.js';
import { HelloEndpoint, HelloGateway, localService, sleep } from '../fixtures/hello.js';

describe('RpcSystem', () => {
  it('loads the built-in actor runtime and builds local services with address "" and port -1', async () => {
    const system = RpcSystem.load();
    const service = await system.localServiceBuilder({}).createAndStart();
    expect(service.getAddress()).toBe('');
    expect(service.getPort()).toBe(-1);
    expect(service.getAskTimeout()).toBe(10_000);
    await service.closeAsync();
  });

  it('prefers the loader with the lowest priority number and skips loaders that throw', async () => {
    let asked = 0;
    RpcSystem.registerLoader({
      name: 'broken-first',
      priority: -10,
      loadRpcSystem: () => {
        asked++;
        throw new Error('not on this machine');
      },
    });
    try {
      const system = RpcSystem.load();
      expect(asked).toBe(1);
      const service = await system.localServiceBuilder().createAndStart();
      await service.closeAsync();
    } finally {
      RpcSystem.unregisterLoader('broken-first');
    }
  });

  it('fails with RpcLoaderException "Could not load RpcSystem." when no loader succeeds', async () => {
    const { ActorRpcSystem } = await import('../../src/rpc/actor/ActorRpcSystem.js');
    RpcSystem.unregisterLoader('actor');
    try {
      expect(() => RpcSystem.load()).toThrow(RpcLoaderException);
      expect(() => RpcSystem.load()).toThrow('Could not load RpcSystem.');
    } finally {
      RpcSystem.registerLoader({ name: 'actor', priority: 100, loadRpcSystem: (c) => new ActorRpcSystem(c) });
    }
  });

  it('rejects invalid configuration with a message naming the option', async () => {
    await expect(RpcSystem.load().localServiceBuilder({ askTimeout: -5 }).createAndStart()).rejects.toThrow(
      /askTimeout/,
    );
    await expect(RpcSystem.load().localServiceBuilder({ throughput: 0 }).createAndStart()).rejects.toThrow(
      /throughput/,
    );
    await expect(RpcSystem.load().localServiceBuilder({ timeSlice: -1 }).createAndStart()).rejects.toThrow(/timeSlice/);
    await expect(
      RpcSystem.load()
        .localServiceBuilder({ tracing: 'yes' as unknown as boolean })
        .createAndStart(),
    ).rejects.toThrow(/tracing must be a boolean or an OpenTelemetry TracerProvider/);
    expect(() => RpcSystem.load().remoteServiceBuilder({}, 'localhost', '0').withBindPort(70000)).toThrow(
      'Invalid port number: 70000',
    );
  });
});

describe('RpcService lifecycle', () => {
  it('closeAsync terminates every endpoint, waits for their onStop, then refuses new endpoints and connects', async () => {
    const service = await localService();
    const stopped: string[] = [];
    let releaseStop!: () => void;
    class Slow extends RpcEndpoint {
      protected override onStop(): Promise<void> {
        return new Promise((resolve) => {
          releaseStop = () => {
            stopped.push(this.getEndpointId());
            resolve();
          };
        });
      }
    }
    const a = new Slow(service, 'a');
    const b = new HelloEndpoint(service, 'b');
    a.start();
    b.start();
    let closed = false;
    const closing = service.closeAsync().then(() => (closed = true));
    expect(service.closeAsync()).toBe(service.getTerminationFuture());
    await b.getTerminationFuture();
    await sleep(10);
    expect(closed).toBe(false);
    releaseStop();
    await closing;
    expect(stopped).toEqual(['a']);
    expect(() => new HelloEndpoint(service)).toThrow('RpcService is stopped');
    await expect(service.connect(b.getAddress(), HelloGateway)).rejects.toThrow('RpcService is stopped');
    service.stopServer(a as never); // no-op
  });

  it('completes its termination with the error of an endpoint that failed while stopping', async () => {
    const service = await localService();
    const failing = new (class extends RpcEndpoint {
      protected override async onStop(): Promise<void> {
        throw new Error('stop failure');
      }
    })(service);
    const fine = new HelloEndpoint(service);
    failing.start();
    fine.start();
    await expect(service.closeAsync()).rejects.toThrow('stop failure');
    await expect(fine.getTerminationFuture()).resolves.toBeUndefined();
  });

  it('fails asks still pending when the service closes', async () => {
    const service = await localService();
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const pending = endpoint.getSelfGateway(HelloGateway).slowEcho('x', 60_000);
    await sleep(1);
    await service.closeAsync();
    await expect(pending).rejects.toBeInstanceOf(RecipientUnreachableException);
  });

  it('stopServer of another service or an unknown server is a no-op', async () => {
    const one = await localService();
    const two = await localService();
    const endpoint = new HelloEndpoint(one);
    endpoint.start();
    two.stopServer((endpoint as unknown as { rpcServer: never }).rpcServer);
    await expect(endpoint.getSelfGateway(HelloGateway).hello('alive')).resolves.toBe('hello alive');
    await Promise.all([one.closeAsync(), two.closeAsync()]);
  });

  it('supports await using', async () => {
    let endpoint: HelloEndpoint;
    {
      await using service = await localService();
      endpoint = new HelloEndpoint(service);
      endpoint.start();
    }
    await expect(endpoint.getTerminationFuture()).resolves.toBeUndefined();
  });
});

describe('the scheduled executor of a service', () => {
  it('execute runs soon, outside every main thread; schedule runs after the delay and yields the value', async () => {
    const service = await localService();
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const executor = service.getScheduledExecutor();
    const inMain = await new Promise<boolean>((resolve) => executor.execute(() => resolve(endpoint.isMainThreadNow())));
    expect(inMain).toBe(false);
    const started = performance.now();
    await expect(executor.schedule(() => 'value', 20).result).resolves.toBe('value');
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
    await service.closeAsync();
  });

  it('runs periodic tasks repeatedly until cancelled, and stops a task that throws', async () => {
    const service = await localService();
    const executor = service.getScheduledExecutor();
    let rate = 0;
    let delay = 0;
    const started = performance.now();
    const atRate = executor.scheduleAtFixedRate(() => rate++, 0, 10);
    const withDelay = executor.scheduleWithFixedDelay(() => delay++, 0, 10);
    await sleep(75);
    atRate.cancel();
    withDelay.cancel();
    const [r, d] = [rate, delay];
    expect(r).toBeGreaterThanOrEqual(3);
    expect(d).toBeGreaterThanOrEqual(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual((r - 1) * 10);
    await sleep(30);
    expect([rate, delay]).toEqual([r, d]);
    let runs = 0;
    const failing = executor.scheduleAtFixedRate(
      () => {
        runs++;
        throw new Error('stop me');
      },
      0,
      5,
    );
    await expect(failing.result).rejects.toThrow('stop me');
    await sleep(20);
    expect(runs).toBe(1);
    expect(() => executor.schedule(() => {}, -1)).toThrow(RangeError);
    expect(() => executor.scheduleAtFixedRate(() => {}, 0, 0)).toThrow(RangeError);
    await service.closeAsync();
  });

  it('cancels pending tasks and refuses new ones when the service closes', async () => {
    const service = await localService();
    const executor = service.getScheduledExecutor();
    let ran = false;
    const task = executor.schedule(() => (ran = true), 20);
    await service.closeAsync();
    await sleep(30);
    expect(ran).toBe(false);
    expect(task.cancelled).toBe(true);
    await expect(executor.schedule(() => 1, 0).result).rejects.toBeInstanceOf(RpcException);
  });
});

describe('fairness between endpoints', () => {
  it('a flooded endpoint does not starve its neighbours (bounded batch per turn)', async () => {
    const service = await localService({ throughput: 15 });
    const busy = new HelloEndpoint(service);
    const quiet = new HelloEndpoint(service);
    busy.start();
    quiet.start();
    await busy.callAsync(() => undefined, 1000);
    await quiet.callAsync(() => undefined, 1000);
    const order: string[] = [];
    for (let i = 0; i < 1000; i++) busy.runAsync(() => order.push('busy'));
    quiet.runAsync(() => order.push('quiet'));
    await quiet.callAsync(() => undefined, 5000);
    await busy.callAsync(() => undefined, 5000);
    expect(order.indexOf('quiet')).toBeLessThanOrEqual(15);
    await service.closeAsync();
  });

  it("a neighbour's caller gets its reply within about one batch of a busy endpoint, not after its backlog", async () => {
    interface SpinGateway extends RpcGateway {
      spin(ms: number): Promise<number>;
    }
    const SpinGateway = gateway<SpinGateway>('FairnessSpinGateway', { spin: 'ask' });
    let handled = 0;
    class SpinEndpoint extends RpcEndpoint implements SpinGateway {
      static readonly gateways = [SpinGateway];
      async spin(ms: number): Promise<number> {
        const end = performance.now() + ms;
        while (performance.now() < end) {
          // Busy work in the main thread, as a CPU-heavy RPC method does.
        }
        return ++handled;
      }
    }
    const throughput = 15;
    const service = await localService({ throughput });
    const busy = new SpinEndpoint(service);
    const quiet = new HelloEndpoint(service);
    busy.start();
    quiet.start();
    const busyGateway = busy.getSelfGateway(SpinGateway);
    const quietGateway = quiet.getSelfGateway(HelloGateway);
    await busyGateway.spin(0);
    await quietGateway.hello('warm-up');
    handled = 0;
    const backlog = Array.from({ length: 200 }, () => busyGateway.spin(2));
    const started = performance.now();
    await quietGateway.hello('neighbour');
    const latency = performance.now() - started;
    const handledWhenAnswered = handled;
    await Promise.all(backlog);
    const backlogTime = performance.now() - started;
    // One batch is 15 asks (30 ms); the whole backlog is 200 (400 ms). Slack: two batches.
    expect(handledWhenAnswered).toBeLessThanOrEqual(2 * throughput);
    expect(latency).toBeLessThan(backlogTime / 2);
    await service.closeAsync();
  });

  it('yields to the event loop while mailboxes are busy, so timers and I/O are not starved', async () => {
    const service = await localService();
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    let processed = 0;
    const keepBusy = (): void => {
      processed++;
      if (processed < 200_000) endpoint.runAsync(keepBusy);
    };
    endpoint.runAsync(keepBusy);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    expect(processed).toBeLessThan(200_000);
    await service.closeAsync();
  });
});
