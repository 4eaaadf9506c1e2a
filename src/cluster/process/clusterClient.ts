/**
 * A client of a multi-process cluster: its own RpcService on loopback (any free port), the HA services of the
 * configured backend, and a gateway to whichever Dispatcher leads — followed across JobManager failovers.
 */

import { type HighAvailabilityServices, LeaderGatewayRetriever } from '../../ha/index.js';
import type { Logger, RpcService } from '../../index.js';
import type { Configuration } from '../config/Configuration.js';
import { ClusterOptions as O } from '../config/options.js';
import { DispatcherGateway } from '../gateways.js';
import { closeAll, createProcessHaServices, startRemoteRpcService } from './processServices.js';

/** A connection to a cluster's Dispatcher leader. */
export interface ClusterClient {
  readonly rpcService: RpcService;
  readonly haServices: HighAvailabilityServices;
  /** The current Dispatcher leader's gateway; waits up to `timeoutMs` for one. */
  getDispatcher(timeoutMs?: number): Promise<DispatcherGateway>;
  close(): Promise<void>;
}

/** Connects to the cluster `configuration` describes (its HA settings and JobManager address). */
export async function connectToCluster(configuration: Configuration, logger?: Logger): Promise<ClusterClient> {
  const host = configuration.get(O.taskManagerHost);
  const rpcService = await startRemoteRpcService(configuration, host, '0', undefined, logger);
  let haServices: HighAvailabilityServices | undefined;
  let retriever: LeaderGatewayRetriever<DispatcherGateway> | undefined;
  try {
    haServices = await createProcessHaServices(configuration, 'client', logger ?? rpcService.getLogger());
    retriever = new LeaderGatewayRetriever(rpcService, DispatcherGateway, logger === undefined ? {} : { logger });
    await retriever.start(haServices.getDispatcherLeaderRetriever());
  } catch (error) {
    await closeAll([() => retriever?.close(), () => haServices?.close(), () => rpcService.closeAsync()]).catch(
      () => {},
    );
    throw error;
  }
  const services = haServices;
  const gateways = retriever;
  let closing: Promise<void> | undefined;
  return {
    rpcService,
    haServices: services,
    getDispatcher: (timeoutMs = 30_000) => gateways.getGateway(timeoutMs),
    close: () => {
      closing ??= closeAll([() => gateways.close(), () => services.close(), () => rpcService.closeAsync()]);
      return closing;
    },
  };
}
