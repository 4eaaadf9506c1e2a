import { describe, expect, it } from 'vitest';
import {
  EndpointNotStartedException,
  FencedRpcEndpoint,
  type FencedRpcGateway,
  FencingTokenException,
  gateway,
  RpcException,
} from '../../src/index.js';
import { LeaderEndpoint, LeaderGateway } from '../fixtures/fenced.js';
import { HelloEndpoint, HelloGateway, sleep, useLocalService } from '../fixtures/hello.js';

const service = useLocalService({ askTimeout: 1000 });

describe('fencing', () => {
  it('executes calls that carry the endpoint token', async () => {
    const endpoint = new LeaderEndpoint(service, 'session-1');
    endpoint.start();
    const gw = await service.connect(endpoint.getAddress(), 'session-1', LeaderGateway);
    expect(gw.getFencingToken()).toBe('session-1');
    await expect(gw.whoAmI()).resolves.toBe('leader session-1');
  });

  it('fails asks with a stale token with FencingTokenException naming both tokens', async () => {
    const endpoint = new LeaderEndpoint(service, 'new-leader');
    endpoint.start();
    const stale = await service.connect(endpoint.getAddress(), 'old-leader', LeaderGateway);
    const error = await stale.whoAmI().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FencingTokenException);
    expect((error as Error).message).toContain('Fencing token mismatch');
    expect((error as Error).message).toContain('old-leader');
    expect((error as Error).message).toContain('new-leader');
  });

  it('silently drops tells with a wrong token', async () => {
    const endpoint = new LeaderEndpoint(service, 'right');
    endpoint.start();
    const wrong = await service.connect(endpoint.getAddress(), 'wrong', LeaderGateway);
    const right = await service.connect(endpoint.getAddress(), 'right', LeaderGateway);
    wrong.poke('from wrong');
    right.poke('from right');
    await right.whoAmI();
    expect(endpoint.poked).toEqual(['from right']);
  });

  it('refuses messages without a token (an unfenced gateway) and getFencingToken() on such a proxy throws', async () => {
    const endpoint = new LeaderEndpoint(service, 'tok');
    endpoint.start();
    const unfenced = await service.connect(endpoint.getAddress(), LeaderGateway);
    await expect(unfenced.whoAmI()).rejects.toBeInstanceOf(FencingTokenException);
    unfenced.poke('dropped');
    expect(() => unfenced.getFencingToken()).toThrow(/without specifying a fencing token/);
    await sleep(1);
    expect(endpoint.poked).toEqual([]);
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
    const endpoint = new LeaderEndpoint(service, 'self');
    endpoint.start();
    const self = endpoint.getSelfGateway(LeaderGateway);
    expect(self.getFencingToken()).toBe('self');
    await expect(self.whoAmI()).resolves.toBe('leader self');
    await expect(endpoint.callAsync(() => 'called', 1000)).resolves.toBe('called');
    await expect(endpoint.scheduleRunAsync(() => {}, 1).result).resolves.toBeUndefined();
  });

  it('checks the lifecycle before the token: a not-started fenced endpoint says "not started"', async () => {
    const endpoint = new LeaderEndpoint(service, 'tok');
    const wrong = await service.connect(endpoint.getAddress(), 'wrong', LeaderGateway);
    await expect(wrong.whoAmI()).rejects.toBeInstanceOf(EndpointNotStartedException);
  });

  it('connect succeeds with a wrong token (errors surface on calls), and fixes the token at construction', async () => {
    const endpoint = new LeaderEndpoint(service, 'fixed');
    expect(endpoint.getFencingToken()).toBe('fixed');
    await expect(service.connect(endpoint.getAddress(), 'whatever', LeaderGateway)).resolves.toBeDefined();
    expect(() => new LeaderEndpoint(service, null as unknown as string)).toThrow(TypeError);
    expect(() => new LeaderEndpoint(service, undefined as unknown as string)).toThrow(TypeError);
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
