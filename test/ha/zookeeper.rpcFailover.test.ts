/**
 * The failover acceptance with real RPC: three contender processes, each with a remote RpcService and, while it
 * leads, a fenced endpoint whose token is its leader session id. This process (the fourth) follows the leader with a
 * LeaderGatewayRetriever over TCP. After a SIGKILL of the leader, the retriever reconnects to the successor with the
 * new session id, and the old session id is refused with FencingTokenException by the successor's endpoint.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LeaderGatewayRetriever, ZooKeeperHaServices } from '../../src/ha/index.js';
import { FencingTokenException, RpcException, type RpcService, RpcSystem } from '../../src/index.js';
import { startZooKeeper, type ZooKeeperTestServer } from '../support/zookeeper.js';
import { LeaderGateway } from './fixtures/leaderGateway.js';
import { ContenderProcess, killAllContenders } from './support/contenderProcess.js';
import { eventually } from './support/recorders.js';
import { newClusterId, TEST_SESSION_TIMEOUT_MS } from './support/zookeeperCluster.js';

let server: ZooKeeperTestServer;
let observer: ZooKeeperHaServices | undefined;
let rpcService: RpcService | undefined;
let retriever: LeaderGatewayRetriever<LeaderGateway> | undefined;

beforeAll(async () => {
  server = await startZooKeeper();
});

afterEach(async () => {
  await killAllContenders();
  await retriever?.close();
  await observer?.close();
  await rpcService?.closeAsync();
});

afterAll(async () => {
  await killAllContenders();
  await server?.stop();
});

describe('ZooKeeper failover with RPC and fencing', () => {
  it('SIGKILL of the leader: the gateway follows the new leader and the old token is fenced out', async () => {
    const clusterId = newClusterId('rpc-failover');
    const options = { connectString: server.connectString, clusterId, sessionTimeout: TEST_SESSION_TIMEOUT_MS };
    const contenders = ['p1', 'p2', 'p3'].map((name) => new ContenderProcess(name, { ...options, rpc: true }));
    await Promise.all(contenders.map((c) => c.waitFor('ready')));

    rpcService = await RpcSystem.load().remoteServiceBuilder({ askTimeout: 5_000 }, '127.0.0.1', '0').createAndStart();
    observer = await ZooKeeperHaServices.create({ ...options, connectionTimeout: 10_000 });
    retriever = new LeaderGatewayRetriever(rpcService, LeaderGateway);
    await retriever.start(observer.getDispatcherLeaderRetriever());

    const oldGateway = await retriever.getGateway(10_000);
    const oldLeader = await oldGateway.whoAmI();
    expect(oldGateway.getFencingToken()).toBe(oldLeader.sessionId);
    const victim = contenders.find((c) => c.name === oldLeader.name)!;
    expect(victim.confirmedSession()).toBe(oldLeader.sessionId);

    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await victim.exited;
    const survivors = contenders.filter((c) => c !== victim);
    const granted = await eventually(
      'a grant after the kill',
      () => survivors.map((c) => c.find('granted', killedAt)).find((m) => m !== undefined),
      TEST_SESSION_TIMEOUT_MS + 5_000,
    );
    console.log(`[rpc-failover] new leader ${granted.name} after ${granted.at - killedAt} ms`);
    expect(granted.at - killedAt).toBeLessThan(TEST_SESSION_TIMEOUT_MS + 1_000);

    // The retriever in this process moves to the successor, fenced with the successor's session id.
    const newGateway = await eventually('a gateway to the new leader', () => {
      const gateway = retriever!.getNow();
      return gateway !== null && gateway.getFencingToken() === granted.sessionId ? gateway : undefined;
    });
    expect(retriever.getLeader()?.sessionId).toBe(granted.sessionId);
    await expect(newGateway.whoAmI()).resolves.toEqual({ name: granted.name, sessionId: granted.sessionId });

    // The old leader's gateway is dead, and its token is worthless at the endpoint that follows the new leader.
    await expect(oldGateway.whoAmI()).rejects.toBeInstanceOf(RpcException);
    const stale = await rpcService.connect<LeaderGateway>(newGateway.getAddress(), oldLeader.sessionId, LeaderGateway);
    const refusal = await stale.whoAmI().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(FencingTokenException);
    expect((refusal as Error).name).toBe('FencingTokenException');
    for (const c of survivors) expect(c.errors()).toEqual([]);
  }, 60_000);
});
