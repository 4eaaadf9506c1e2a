/**
 * Fencing: a JobMaster is created with the leader session id as its fencing token. A client holding the old
 * leader's token is refused once leadership moved; a client with the current token gets through.
 */

import {
  FencedRpcEndpoint,
  type FencedRpcGateway,
  FencingTokenException,
  gateway,
  type RpcService,
  RpcSystem,
} from '../src/index.js';

export interface JobMasterGateway extends FencedRpcGateway<string> {
  cancelJob(jobId: string): Promise<string>;
}
export const JobMasterGateway = gateway<JobMasterGateway>('JobMasterGateway', { cancelJob: 'ask' });

export class JobMaster extends FencedRpcEndpoint<string> implements JobMasterGateway {
  static readonly gateways = [JobMasterGateway];
  constructor(rpcService: RpcService, leaderSessionId: string) {
    super(rpcService, leaderSessionId, 'jobmaster');
  }
  async cancelJob(jobId: string): Promise<string> {
    return `job ${jobId} cancelled by leader session ${this.getFencingToken()}`;
  }
}

export async function main(log: (line: string) => void = console.log): Promise<{ fenced: boolean; accepted: string }> {
  const rpcService = await RpcSystem.load().localServiceBuilder({}).createAndStart();
  try {
    // Leader 1 is elected and a client connects with its session id.
    const firstSession = crypto.randomUUID();
    const first = new JobMaster(rpcService, firstSession);
    first.start();
    const staleClient = await rpcService.connect(first.getAddress(), firstSession, JobMasterGateway);
    log(await staleClient.cancelJob('job-1'));

    // Leadership moves: the old JobMaster stops, a new one runs under a new session id at the same address.
    await first.closeAsync();
    const secondSession = crypto.randomUUID();
    const second = new JobMaster(rpcService, secondSession);
    second.start();

    // A client that missed the leader change reconnects to the address with the old session id: fenced out ...
    const staleAgain = await rpcService.connect(second.getAddress(), firstSession, JobMasterGateway);
    let fenced = false;
    try {
      await staleAgain.cancelJob('job-1');
    } catch (error) {
      fenced = error instanceof FencingTokenException;
      log(`stale token refused: ${(error as Error).name}`);
    }
    // ... and a client that retrieved the new leader's token gets through.
    const freshClient = await rpcService.connect(second.getAddress(), secondSession, JobMasterGateway);
    const accepted = await freshClient.cancelJob('job-1');
    log(accepted);
    return { fenced, accepted };
  } finally {
    await rpcService.closeAsync();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
