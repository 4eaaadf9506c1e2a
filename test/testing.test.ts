import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RpcEndpoint, RpcException } from '../src/index.js';
import { createTestingGateway, TestingRpcService } from '../src/testing/index.js';
import { HelloGateway } from './fixtures/hello.js';

/** The component under test: asks its "peer" through whatever the service connects it to. */
class Greeter extends RpcEndpoint {
  async greetVia(address: string): Promise<string> {
    const peer = await this.getRpcService().connect(address, HelloGateway);
    return peer.hello('from greeter');
  }
}

let service: TestingRpcService;
beforeEach(async () => {
  service = await TestingRpcService.create({ askTimeout: 500 });
});
afterEach(async () => {
  await service.closeAsync();
});

describe('flink-rpc/testing', () => {
  it('lets a test register a fake gateway that an endpoint under test reaches through connect', async () => {
    const greeted: string[] = [];
    service.registerGateway(
      'rpc://peer/hello',
      createTestingGateway(
        HelloGateway,
        {
          hello: async (name) => {
            greeted.push(name);
            return 'fake reply';
          },
        },
        'rpc://peer/hello',
      ),
    );
    const greeter = new Greeter(service);
    greeter.start();
    await expect(greeter.callAsync(() => greeter.greetVia('rpc://peer/hello'), 1000)).resolves.toBe('fake reply');
    expect(greeted).toEqual(['from greeter']);
    expect(service.getConnectHistory()).toEqual(['rpc://peer/hello']);
  });

  it('fakes reject unimplemented asks clearly and ignore unimplemented tells', async () => {
    const fake = createTestingGateway(HelloGateway);
    await expect(fake.hello('x')).rejects.toThrow(RpcException);
    await expect(fake.hello('x')).rejects.toThrow('HelloGateway.hello is not implemented by this testing gateway.');
    expect(() => fake.notify('x')).not.toThrow();
    expect(fake.getAddress()).toBe('rpc://testing/HelloGateway');
  });

  it('real endpoints keep working on a testing service, and unregistered addresses fail as usual', async () => {
    const greeter = new Greeter(service, 'greeter');
    greeter.start();
    expect(greeter.getRpcService()).toBe(service);
    service.registerGateway('rpc://peer/gone', createTestingGateway(HelloGateway));
    expect(service.unregisterGateway('rpc://peer/gone')).toBe(true);
    await expect(service.connect('rpc://peer/gone', HelloGateway)).rejects.toThrow(/Could not connect/);
  });
});
