/**
 * The RPC service of the actor runtime: the registry of its endpoints, the dispatcher of their mailboxes, the
 * deadline queue of asks, the shared scheduled executor, and (for a remote service) the transport.
 */

import { isValidEndpointId, parseRpcAddress, serviceAddressPrefix } from '../address.js';
import type { ResolvedRpcConfig } from '../config.js';
import {
  closedWhilePending,
  couldNotConnect,
  gatewayNotServed,
  type RpcConnectionException,
  RpcException,
  serviceStopped,
} from '../errors.js';
import type { ScheduledExecutor } from '../executors.js';
import { type FencedRpcGateway, type GatewayDescriptor, isGatewayDescriptor, type RpcGateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import type { RpcServer } from '../RpcServer.js';
import type { FencingTokenOf, RpcEndpoint, RpcService } from '../RpcService.js';
import { servesGateway } from '../servedGateways.js';
import { DeadlineQueue } from './DeadlineQueue.js';
import { Dispatcher } from './Dispatcher.js';
import { EndpointServer, type ServerHost } from './EndpointServer.js';
import type { MailboxSource, RpcMetrics } from './metrics.js';
import { Observability } from './observability.js';
import { createGatewayProxy, type InvocationContext, type RpcTarget } from './proxy.js';
import { TimerScheduledExecutor } from './TimerScheduledExecutor.js';
import type { Transport, TransportFactory } from './Transport.js';

/** What the service needs to know about its network presence (none for a local-only service). */
export interface ServiceNetworking {
  readonly transportFactory: TransportFactory;
}

/** Names of the live local-only services of this process, so that their addresses are unambiguous. */
const localSystemNames = new Set<string>();

function uniqueLocalName(base: string): string {
  let name = base;
  for (let i = 1; localSystemNames.has(name); i++) name = `${base}_${i}`;
  localSystemNames.add(name);
  return name;
}

export class ActorRpcService implements RpcService, ServerHost, MailboxSource {
  readonly dispatcher: Dispatcher;
  readonly context: InvocationContext;
  readonly logger: Logger;
  /** The service's metrics, or null without a `metrics` registry. */
  readonly metrics: RpcMetrics | null;
  hostname = 'localhost';
  private readonly servers = new Map<string, EndpointServer>();
  private readonly deadlines = new DeadlineQueue();
  private readonly executor: TimerScheduledExecutor;
  private prefix: string;
  private systemName: string;
  private transport: Transport | undefined;
  private closing: Promise<void> | undefined;
  private readonly termination: Promise<void>;
  private settleTermination!: { resolve: () => void; reject: (e: unknown) => void };

  constructor(
    readonly config: ResolvedRpcConfig,
    roundTrip: ((value: unknown) => unknown) | null = null,
  ) {
    this.logger = config.logger;
    const observability = Observability.of(config);
    this.metrics = observability?.metrics ?? null;
    this.metrics?.addMailboxSource(this);
    // Asks made before or during a run get their deadline stamped by it (see DeadlineQueue).
    this.dispatcher = new Dispatcher(config.throughput, config.timeSlice, (now) => this.deadlines.stamp(now));
    this.executor = new TimerScheduledExecutor(this.logger);
    this.context = {
      askTimeout: config.askTimeout,
      captureAskCallStack: config.captureAskCallStack,
      deadlines: this.deadlines,
      logger: this.logger,
      roundTrip: config.forceInvocationSerialization ? roundTrip : null,
      observability,
    };
    this.systemName = uniqueLocalName(config.componentName);
    this.prefix = serviceAddressPrefix('rpc', this.systemName);
    this.termination = new Promise<void>((resolve, reject) => {
      this.settleTermination = { resolve, reject };
    });
    this.termination.catch(() => {});
  }

  /** Binds the transport of a remote service; called once by the builder before the service is handed out. */
  async attachTransport(factory: TransportFactory): Promise<void> {
    localSystemNames.delete(this.systemName);
    this.systemName = this.config.componentName;
    this.transport = await factory(this);
    this.prefix = this.transport.addressPrefix;
    this.hostname = this.transport.hostname;
  }

  /** The system name used in this service's addresses. */
  getSystemName(): string {
    return this.systemName;
  }

  // ---- RpcService ------------------------------------------------------------------------------------------------

  getAddress(): string {
    return this.transport?.hostname ?? '';
  }

  getPort(): number {
    return this.transport?.port ?? -1;
  }

  getLogger(): Logger {
    return this.logger;
  }

  getAskTimeout(): number {
    return this.config.askTimeout;
  }

  getScheduledExecutor(): ScheduledExecutor {
    return this.executor;
  }

  startServer(endpoint: RpcEndpoint): RpcServer {
    if (this.closing !== undefined) throw serviceStopped();
    const id = endpoint.getEndpointId();
    if (!isValidEndpointId(id)) {
      throw new RpcException(
        `Could not create the RPC server for ${JSON.stringify(id)}: an endpoint id must be 1-255 characters of ` +
          "letters, digits and -_.:~+=,;!*'()$&@.",
      );
    }
    if (this.servers.has(id)) {
      throw new RpcException(`Could not create the RPC server for ${id}: an endpoint with this id is already running.`);
    }
    const server = new EndpointServer(endpoint, id, this.prefix + id, this);
    this.servers.set(id, server);
    return server;
  }

  stopServer(server: RpcServer): void {
    if (server instanceof EndpointServer && this.servers.get(server.endpointId) === server) {
      void server.terminate();
    } else {
      this.logger.debug({ server: String(server) }, 'RPC endpoint already stopped or from a different RPC service.');
    }
  }

  onServerTerminated(server: EndpointServer): void {
    if (this.servers.get(server.endpointId) === server) this.servers.delete(server.endpointId);
  }

  /** Asks made through this service that the deadline queue still holds: zero once all settled (diagnostics). */
  get pendingAskCount(): number {
    return this.deadlines.size;
  }

  /** `MailboxSource`: the mailbox size of every live endpoint, by endpoint class. */
  reportMailboxes(add: (endpointClass: string, size: number) => void): void {
    for (const server of this.servers.values()) add(server.endpoint.constructor.name, server.mailboxSize);
  }

  /** The live endpoint with this id, if any (used by the transport for inbound calls). */
  lookupServer(endpointId: string): EndpointServer | undefined {
    return this.servers.get(endpointId);
  }

  connect<G extends RpcGateway>(address: string, gateway: GatewayDescriptor<G>): Promise<G>;
  connect<G extends FencedRpcGateway<unknown>>(
    address: string,
    fencingToken: NoInfer<FencingTokenOf<G>>,
    gateway: GatewayDescriptor<G>,
  ): Promise<G>;
  connect(address: string, ...rest: unknown[]): Promise<RpcGateway> {
    const fenced = rest.length >= 2;
    const gateway = (fenced ? rest[1] : rest[0]) as GatewayDescriptor;
    const token = fenced ? rest[0] : undefined;
    if (this.closing !== undefined) return Promise.reject(serviceStopped());
    if (!isGatewayDescriptor(gateway)) {
      return Promise.reject(new TypeError('connect needs a gateway descriptor made by gateway(...).'));
    }
    if (fenced && (token === null || token === undefined)) {
      return Promise.reject(new TypeError('The fencing token must not be null or undefined.'));
    }
    if (typeof address === 'string' && address.startsWith(this.prefix)) {
      return this.connectLocal(address, gateway, token, fenced);
    }
    const parsed = typeof address === 'string' ? parseRpcAddress(address) : undefined;
    if (parsed === undefined || this.transport === undefined || parsed.protocol === 'rpc') {
      return Promise.reject(this.cannotConnect(address));
    }
    return this.transport
      .connect(address, parsed, gateway)
      .then((target) => this.proxy(gateway, target, token, fenced));
  }

  private connectLocal(
    address: string,
    gateway: GatewayDescriptor,
    token: unknown,
    fenced: boolean,
  ): Promise<RpcGateway> {
    const server = this.servers.get(address.slice(this.prefix.length));
    if (server === undefined) return Promise.reject(this.cannotConnect(address));
    if (!servesGateway(server.endpoint, gateway)) {
      return Promise.reject(gatewayNotServed(address, gateway.name));
    }
    return Promise.resolve(this.proxy(gateway, server, token, fenced));
  }

  /** Creates a proxy with this service's invocation settings. */
  proxy<G extends RpcGateway>(gateway: GatewayDescriptor<G>, target: RpcTarget, token: unknown, fenced: boolean): G {
    return createGatewayProxy(gateway, target, this.context, token, fenced);
  }

  private cannotConnect(address: unknown, cause?: unknown): RpcConnectionException {
    return couldNotConnect(String(address), cause);
  }

  closeAsync(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.termination;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.closeAsync();
  }

  getTerminationFuture(): Promise<void> {
    return this.termination;
  }

  private async shutdown(): Promise<void> {
    const results = await Promise.allSettled([...this.servers.values()].map((server) => server.terminate()));
    let failure: unknown;
    for (const result of results) if (result.status === 'rejected') failure ??= result.reason;
    try {
      await this.transport?.close();
    } catch (error) {
      failure ??= error;
    }
    this.executor.shutdown();
    this.deadlines.failAll(closedWhilePending);
    this.metrics?.removeMailboxSource(this);
    localSystemNames.delete(this.systemName);
    if (failure === undefined) this.settleTermination.resolve();
    else this.settleTermination.reject(failure);
  }

  toString(): string {
    return `RpcService(${this.prefix})`;
  }
}
