import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EndpointNotStartedException,
  FencedRpcEndpoint,
  type FencedRpcGateway,
  FencingTokenException,
  gateway,
  RpcException,
  type RpcService,
} from '../../src/index.js';
import { HelloEndpoint, HelloGateway, localService, sleep, TokenEndpoint, TokenGateway } from './fixtures.js';

let service: RpcService;
beforeEach(async () => {
  service = await localService({ askTimeout: 1000 });
});
afterEach(async () => {
  await service.closeAsync().catch(() => {});
});

describe('fencing', () => {
  it('executes calls that carry the endpoint token', async () => {
    const endpoint = new TokenEndpoint(service, 'session-1');
    endpoint.start();
    const gw = await service.connect(endpoint.getAddress(), 'session-1', TokenGateway);
    expect(gw.getFencingToken()).toBe('session-1');
    await expect(gw.whoAmI()).resolves.toBe('leader session-1');
  });

  it('fails asks with a stale token with FencingTokenException naming both tokens', async () => {
    const endpoint = new TokenEndpoint(service, 'new-leader');
    endpoint.start();
    const stale = await service.connect(endpoint.getAddress(), 'old-leader', TokenGateway);
    const error = await stale.whoAmI().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FencingTokenException);
    expect((error as Error).message).toContain('Fencing token mismatch');
    expect((error as Error).message).toContain('old-leader');
    expect((error as Error).message).toContain('new-leader');
  });

  it('silently drops tells with a wrong token', async () => {
    const endpoint = new TokenEndpoint(service, 'right');
    endpoint.start();
    const wrong = await service.connect(endpoint.getAddress(), 'wrong', TokenGateway);
    const right = await service.connect(endpoint.getAddress(), 'right', TokenGateway);
    wrong.poke('from wrong');
    right.poke('from right');
    await right.whoAmI();
    expect(endpoint.pokes).toEqual(['from right']);
  });

  it('refuses messages without a token (an unfenced gateway) and getFencingToken() on such a proxy throws', async () => {
    const endpoint = new TokenEndpoint(service, 'tok');
    endpoint.start();
    const unfenced = await service.connect(endpoint.getAddress(), TokenGateway);
    await expect(unfenced.whoAmI()).rejects.toBeInstanceOf(FencingTokenException);
    unfenced.poke('dropped');
    expect(() => unfenced.getFencingToken()).toThrow(/without specifying a fencing token/);
    await sleep(1);
    expect(endpoint.pokes).toEqual([]);
  });

  it('compares tokens by value, not identity', async () => {
    interface ObjGateway extends FencedRpcGateway<{ id: string; epoch: number }> {
      ping(): Promise<string>;
    }
    const ObjGateway = gateway<ObjGateway>('ObjGateway', { ping: 'ask' });
    class ObjEndpoint extends FencedRpcEndpoint<{ id: string; epoch: number }> {
      static readonly gateways = [ObjGateway];
      async ping() {
        return 'pong';
      }
    }
    const endpoint = new ObjEndpoint(service, { id: 'jm', epoch: 3 });
    endpoint.start();
    const same = await service.connect(endpoint.getAddress(), { id: 'jm', epoch: 3 }, ObjGateway);
    const other = await service.connect(endpoint.getAddress(), { id: 'jm', epoch: 4 }, ObjGateway);
    await expect(same.ping()).resolves.toBe('pong');
    await expect(other.ping()).rejects.toBeInstanceOf(FencingTokenException);
  });

  it('self gateway, runAsync and callAsync of the endpoint always pass', async () => {
    const endpoint = new TokenEndpoint(service, 'self');
    endpoint.start();
    const self = endpoint.getSelfGateway(TokenGateway);
    expect(self.getFencingToken()).toBe('self');
    await expect(self.whoAmI()).resolves.toBe('leader self');
    await expect(endpoint.callAsync(() => 'called', 1000)).resolves.toBe('called');
    await expect(endpoint.scheduleRunAsync(() => {}, 1).result).resolves.toBeUndefined();
  });

  it('checks the lifecycle before the token: a not-started fenced endpoint says "not started"', async () => {
    const endpoint = new TokenEndpoint(service, 'tok');
    const wrong = await service.connect(endpoint.getAddress(), 'wrong', TokenGateway);
    await expect(wrong.whoAmI()).rejects.toBeInstanceOf(EndpointNotStartedException);
  });

  it('connect succeeds with a wrong token (errors surface on calls), and fixes the token at construction', async () => {
    const endpoint = new TokenEndpoint(service, 'fixed');
    expect(endpoint.getFencingToken()).toBe('fixed');
    await expect(service.connect(endpoint.getAddress(), 'whatever', TokenGateway)).resolves.toBeDefined();
    expect(() => new TokenEndpoint(service, null as unknown as string)).toThrow(TypeError);
    expect(() => new TokenEndpoint(service, undefined as unknown as string)).toThrow(TypeError);
  });

  it('refuses a fenced message to an unfenced endpoint', async () => {
    const endpoint = new HelloEndpoint(service);
    endpoint.start();
    const fenced = (await service.connect(
      endpoint.getAddress(),
      'some-token',
      HelloGateway as never,
    )) as unknown as HelloGateway;
    await expect(fenced.hello('x')).rejects.toBeInstanceOf(RpcException);
    await expect(fenced.hello('x')).rejects.toThrow(/not fenced/);
  });
});
