/**
 * The seam between the actor runtime and a network transport. The runtime asks the transport to reach remote
 * endpoints (returning an `RpcTarget` that proxies deliver envelopes to) and lends it the service's endpoints for
 * inbound calls.
 */

import type { RpcAddress } from '../address.js';
import type { ResolvedRpcConfig } from '../config.js';
import type { GatewayDescriptor } from '../gateway.js';
import type { Logger } from '../logger.js';
import type { EndpointServer } from './EndpointServer.js';
import type { TransportMetrics } from './metrics.js';
import type { InvocationContext, RpcTarget } from './proxy.js';

/** What a transport gets from the service that owns it. */
export interface TransportHost {
  readonly config: ResolvedRpcConfig;
  readonly logger: Logger;
  readonly context: InvocationContext;
  /**
   * Where the transport reports connections, bytes and rejected frames; null when the service has no `metrics`
   * registry (then the transport measures nothing).
   */
  readonly metrics: TransportMetrics | null;
  /** The service's name in addresses. */
  getSystemName(): string;
  /** The live endpoint with this id, for inbound calls and handshakes. */
  lookupServer(endpointId: string): EndpointServer | undefined;
}

/** A bound network transport of one service. */
export interface Transport {
  /** `rpc.tcp://<system>@<host>:<port>/` (or `rpc.ssl.tcp://…`). */
  readonly addressPrefix: string;
  /** The external host name of the service. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /**
   * Opens or reuses the connection to the service at `address`, handshakes for `gateway` and returns the target.
   * Rejects with `RpcConnectionException` or `HandshakeException`.
   */
  connect(address: string, parsed: RpcAddress, gateway: GatewayDescriptor): Promise<RpcTarget>;
  /** Closes the server socket and every connection; pending asks on them fail. */
  close(): Promise<void>;
}

/** Creates and binds a transport for a service. */
export type TransportFactory = (host: TransportHost) => Promise<Transport>;
