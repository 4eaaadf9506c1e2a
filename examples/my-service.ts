/**
 * Seed 000 §4, runnable: MyService with an ask that reads (`getData`), an ask that writes asynchronously and comes
 * back to the main thread (`putData`), and a fire-and-forget notification (`notifyEvent`), called from another
 * RPC service over TCP.
 */

import { gateway, RpcEndpoint, type RpcGateway, type RpcService, RpcSystem } from '../src/index.js';

export interface Event {
  readonly name: string;
}

export interface MyServiceGateway extends RpcGateway {
  getData(key: string): Promise<string | undefined>;
  putData(key: string, value: string): Promise<void>;
  notifyEvent(event: Event): void;
}
export const MyServiceGateway = gateway<MyServiceGateway>('MyServiceGateway', {
  getData: 'ask',
  putData: 'ask',
  notifyEvent: 'tell',
});

/** Pretends to persist to an external store: resolves later, outside the main thread. */
function persistToStorage(_key: string, _value: string): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

export class MyService extends RpcEndpoint implements MyServiceGateway {
  static readonly gateways = [MyServiceGateway];
  // A plain Map: only the main thread touches it, so no locks and no concurrent map are needed.
  private readonly dataStore = new Map<string, string>();
  readonly events: string[] = [];

  constructor(
    rpcService: RpcService,
    private readonly log: (line: string) => void,
  ) {
    super(rpcService, 'MyService');
  }

  async getData(key: string): Promise<string | undefined> {
    return this.dataStore.get(key);
  }

  putData(key: string, value: string): Promise<void> {
    // Persist first, then update the state back in the main thread.
    return this.getMainThreadExecutor().thenApply(persistToStorage(key, value), () => {
      this.validateRunsInMainThread();
      this.dataStore.set(key, value);
    });
  }

  notifyEvent(event: Event): void {
    this.events.push(event.name);
    this.log(`event received in the main thread: ${event.name}`);
  }

  protected override async onStart(): Promise<void> {
    this.log(`MyService started at ${this.getAddress()}`);
  }

  protected override async onStop(): Promise<void> {
    this.log('MyService stopping');
  }
}

export async function main(log: (line: string) => void = console.log): Promise<string | undefined> {
  // Two services talking over loopback TCP, as two processes on two machines would (port '0': any free port).
  const rpcSystem = RpcSystem.load();
  const serverService = await rpcSystem.remoteServiceBuilder({}, 'localhost', '0').createAndStart();
  const clientService = await rpcSystem.remoteServiceBuilder({}, 'localhost', '0').createAndStart();
  try {
    const myService = new MyService(serverService, log);
    myService.start();
    const serviceAddress = myService.getAddress();
    log(`Service started at: ${serviceAddress}`);

    const gateway = await clientService.connect(serviceAddress, MyServiceGateway);
    await gateway.putData('key1', 'value1');
    const value = await gateway.getData('key1');
    log(`Retrieved value: ${value}`);
    gateway.notifyEvent({ name: 'test' });
    await gateway.getData('key1'); // tells and asks from one sender arrive in order: the event is handled by now
    await myService.closeAsync();
    return value;
  } finally {
    await clientService.closeAsync();
    await serverService.closeAsync();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
