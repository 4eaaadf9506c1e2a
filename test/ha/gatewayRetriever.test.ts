import { afterEach, describe, expect, it } from 'vitest';
import {
  EmbeddedHaServices,
  type LeaderContender,
  LeaderGatewayRetriever,
  LeaderGatewayUnavailableException,
} from '../../src/ha/index.js';
import {
  FencingTokenException,
  type GatewayDescriptor,
  RpcConnectionException,
  type RpcService,
  RpcSystem,
} from '../../src/index.js';
import { LeaderEndpoint, LeaderGateway } from './fixtures/leaderGateway.js';
import { eventually, type RecordingListener } from './support/recorders.js';

/** An RpcService whose connects the test settles by hand. */
class ManualConnectService {
  readonly calls: { address: string; token: unknown; resolve(g: LeaderGateway): void; reject(e: Error): void }[] = [];

  connect(address: string, token: unknown, _gateway: GatewayDescriptor<LeaderGateway>): Promise<LeaderGateway> {
    return new Promise((resolve, reject) => this.calls.push({ address, token, resolve, reject }));
  }

  asRpcService(): RpcService {
    return this as unknown as RpcService;
  }
}

function fakeGateway(address: string, token: string): LeaderGateway {
  return {
    getAddress: () => address,
    getHostname: () => 'localhost',
    getFencingToken: () => token,
    whoAmI: async () => ({ name: address, sessionId: token }),
  };
}

/** A retrieval service driven by the test. */
function manualRetrieval() {
  let listener: RecordingListener | { notifyLeaderAddress(a: string | null, s: string | null): void } | undefined;
  return {
    service: {
      async start(l: { notifyLeaderAddress(a: string | null, s: string | null): void }) {
        listener = l;
      },
      async stop() {},
    },
    announce(address: string | null, sessionId: string | null) {
      listener?.notifyLeaderAddress(address, sessionId);
    },
  };
}

describe('LeaderGatewayRetriever', () => {
  it('connects with the session id as fencing token and discards a connect overtaken by a newer leader', async () => {
    const rpc = new ManualConnectService();
    const retrieval = manualRetrieval();
    const retriever = new LeaderGatewayRetriever(rpc.asRpcService(), LeaderGateway);
    await retriever.start(retrieval.service);
    const pending = retriever.getGateway();

    retrieval.announce('rpc://a', 'sa');
    retrieval.announce('rpc://b', 'sb');
    expect(rpc.calls.map((c) => [c.address, c.token])).toEqual([
      ['rpc://a', 'sa'],
      ['rpc://b', 'sb'],
    ]);
    // The newer connect finishes first; the older one must not replace it.
    rpc.calls[1]!.resolve(fakeGateway('rpc://b', 'sb'));
    await expect(pending).resolves.toMatchObject({ getFencingToken: expect.any(Function) });
    expect((await pending).getFencingToken()).toBe('sb');
    rpc.calls[0]!.resolve(fakeGateway('rpc://a', 'sa'));
    await new Promise((r) => setTimeout(r, 10));
    expect(retriever.getNow()?.getFencingToken()).toBe('sb');
    await retriever.close();
  });

  it('retries a failed connect to the current leader, and drops the gateway when the leader goes', async () => {
    const rpc = new ManualConnectService();
    const retrieval = manualRetrieval();
    const retriever = new LeaderGatewayRetriever(rpc.asRpcService(), LeaderGateway, { retryDelayMs: 5 });
    const changes: (string | null)[] = [];
    retriever.onChange((gateway) => changes.push(gateway?.getFencingToken() ?? null));
    await retriever.start(retrieval.service);
    retrieval.announce('rpc://a', 'sa');
    rpc.calls[0]!.reject(new RpcConnectionException('not yet'));
    await eventually('a retry', () => rpc.calls.length === 2);
    rpc.calls[1]!.resolve(fakeGateway('rpc://a', 'sa'));
    await expect(retriever.getGateway(1_000)).resolves.toBeDefined();
    retrieval.announce(null, null);
    expect(retriever.getNow()).toBeNull();
    expect(changes).toEqual(['sa', null]);
    await expect(retriever.getGateway(20)).rejects.toBeInstanceOf(LeaderGatewayUnavailableException);
    const waiting = retriever.getGateway();
    await retriever.close();
    await expect(waiting).rejects.toThrow(/closed/);
    await expect(retriever.getGateway()).rejects.toThrow(/closed/);
  });
});

describe('embedded HA with local RPC', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('follows the leader through a handover; the old session id is fenced out', async () => {
    const rpcService = await RpcSystem.load().localServiceBuilder().createAndStart();
    cleanups.push(() => rpcService.closeAsync());
    const ha = new EmbeddedHaServices();
    cleanups.push(() => ha.close());

    const contender = (name: string) => {
      const election = ha.getDispatcherLeaderElection();
      let endpoint: LeaderEndpoint | undefined;
      const c: LeaderContender = {
        grantLeadership(sessionId) {
          endpoint = new LeaderEndpoint(rpcService, sessionId, name);
          endpoint.start();
          void election.confirmLeadership(sessionId, endpoint.getAddress());
        },
        revokeLeadership() {
          void endpoint?.closeAsync();
        },
        handleError() {},
      };
      return { election, start: () => election.startLeaderElection(c) };
    };
    const a = contender('a');
    const b = contender('b');
    await a.start();
    await b.start();

    const retriever = new LeaderGatewayRetriever(rpcService, LeaderGateway);
    cleanups.push(() => retriever.close());
    await retriever.start(ha.getDispatcherLeaderRetriever());
    const first = await retriever.getGateway(5_000);
    const leaderA = await first.whoAmI();
    expect(leaderA.name).toBe('a');

    await a.election.close();
    const second = await eventually('the gateway to b', () => {
      const g = retriever.getNow();
      return g !== null && g.getFencingToken() !== leaderA.sessionId ? g : undefined;
    });
    const leaderB = await second.whoAmI();
    expect(leaderB.name).toBe('b');
    expect(leaderB.sessionId).not.toBe(leaderA.sessionId);

    const stale = await rpcService.connect<LeaderGateway>(second.getAddress(), leaderA.sessionId, LeaderGateway);
    await expect(stale.whoAmI()).rejects.toBeInstanceOf(FencingTokenException);
  });
});
