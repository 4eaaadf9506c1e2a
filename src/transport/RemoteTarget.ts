/**
 * What a gateway proxy to a remote endpoint delivers to. It is bound to the peer service, not to one socket: each
 * call takes the peer's current connection from the pool, so after the connection died the next call dials again
 * and a gateway keeps working once the peer is back at the same address.
 */

import { ASK, type Envelope } from '../rpc/actor/messages.js';
import type { PendingAsk } from '../rpc/actor/PendingAsk.js';
import type { RpcTarget } from '../rpc/actor/proxy.js';
import { RpcException, recipientUnreachable, serviceClosed } from '../rpc/errors.js';
import type { MethodInfo } from '../rpc/gateway.js';
import type { ClientConnection } from './ClientConnection.js';

/** Where the target gets connections from (the transport's pool). */
export interface ConnectionPool {
  /** The open (or opening) connection to the peer service `key`, dialled if there is none; null once closed. */
  connectionTo(key: string, host: string, port: number): ClientConnection | null;
}

export class RemoteTarget implements RpcTarget {
  readonly inProcess = false;
  private connection: ClientConnection | null = null;
  /** Route numbers of this endpoint's methods on `connection` (they are per connection). */
  private readonly routes = new Map<MethodInfo, number>();
  /** The last method called and its route: most gateways call one method in a row (no map lookup then). */
  private lastMethod: MethodInfo | null = null;
  private lastRoute = -1;

  constructor(
    readonly address: string,
    readonly hostname: string,
    private readonly pool: ConnectionPool,
    private readonly key: string,
    private readonly port: number,
    private readonly system: string,
    private readonly endpointId: string,
  ) {}

  deliver(envelope: Envelope): void {
    let connection = this.connection;
    if (connection === null || connection.closed) {
      connection = this.pool.connectionTo(this.key, this.hostname, this.port);
      if (connection === null) {
        const error = recipientUnreachable(envelope.describe(), this.address, serviceClosed());
        if (envelope.kind === ASK) (envelope as PendingAsk).fail(error);
        return;
      }
      this.connection = connection;
      this.routes.clear();
      this.lastMethod = null;
    }
    const method = envelope.method!;
    let route = method === this.lastMethod ? this.lastRoute : this.routes.get(method);
    if (route === undefined) {
      route = connection.route(this.system, this.endpointId, method);
      if (route < 0) {
        const error = new RpcException(
          `Cannot call ${method.qualifiedName} on ${this.address}: too many distinct remote methods on one connection.`,
        );
        if (envelope.kind === ASK) (envelope as PendingAsk).fail(error);
        else throw error;
        return;
      }
      this.routes.set(method, route);
    }
    this.lastMethod = method;
    this.lastRoute = route;
    if (envelope.kind === ASK) connection.ask(envelope as PendingAsk, route);
    else connection.tell(envelope, route);
  }

  toString(): string {
    return `RemoteTarget(${this.address})`;
  }
}
