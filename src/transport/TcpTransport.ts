/**
 * The TCP (and TLS) transport of a remote service: the server socket bound within the port range, the pool of
 * outbound connections (one per peer service, shared by every gateway and call to it), the inbound connections,
 * and one timer that drives pings, idle and handshake timeouts for all of them.
 *
 * Connections are directional: this service's calls to a peer travel on the connection this service opened, the
 * peer's calls to this service on the one the peer opened. Two services that call each other therefore hold two
 * connections, and there is no simultaneous-open race to settle. An inbound connection is never used for outbound
 * calls, because without TLS nothing proves that a peer is the service it would claim to be (see docs/PROTOCOL.md).
 */

import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { RemoteServiceOptions } from '../rpc/actor/ActorRpcSystem.js';
import type { TransportMetrics } from '../rpc/actor/metrics.js';
import type { RpcTarget } from '../rpc/actor/proxy.js';
import type { Transport, TransportHost } from '../rpc/actor/Transport.js';
import { formatHost, normalizeHost, type RpcAddress, serviceAddressPrefix } from '../rpc/address.js';
import type { ResolvedRpcConfig } from '../rpc/config.js';
import {
  couldNotConnect,
  gatewayNotServed,
  HandshakeException,
  RpcConnectionException,
  RpcException,
  serviceClosed,
  serviceStopped,
} from '../rpc/errors.js';
import type { GatewayDescriptor } from '../rpc/gateway.js';
import type { Logger } from '../rpc/logger.js';
import { ClientConnection, type ConnectionPool, RemoteTarget } from './ClientConnection.js';
import type { Connection, ConnectionContext } from './Connection.js';
import {
  createFrameCodec,
  type FrameCodec,
  HANDSHAKE_GATEWAY_NOT_SERVED,
  HANDSHAKE_OK,
  HANDSHAKE_UNKNOWN_ENDPOINT,
  HANDSHAKE_UNKNOWN_SYSTEM,
  MAX_NAME_LENGTH,
} from './frames.js';
import { parsePortRange } from './ports.js';
import { ServerConnection } from './ServerConnection.js';
import { clientTlsOptions, peerCertificateProblem, serverTlsOptions, validateTlsConfig } from './tls.js';

/** How long sockets of a closing service may take to finish before they are destroyed. */
const CLOSE_GRACE_MS = 250;

/** Errors of `listen` after which the next port of the range is tried (Flink: a BindException). */
const PORT_TAKEN = new Set(['EADDRINUSE', 'EACCES']);

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

/** The liveness timer's period: fine enough for the smallest of the timeouts it serves, never busier than 5 ms. */
function tickPeriod(config: ResolvedRpcConfig): number {
  const smallest = Math.min(config.pingInterval, config.idleTimeout, config.handshakeTimeout);
  return Math.max(5, Math.min(1000, Math.floor(smallest / 4)));
}

/** What a transport holds right now (tests and diagnostics). */
export interface TransportStats {
  /** Open outbound connections (one per peer service). */
  readonly outbound: number;
  /** Open inbound connections. */
  readonly inbound: number;
  /** Asks and handshakes of this service awaiting an answer from peers. */
  readonly pendingRequests: number;
  /** Asks of peers delivered to this service's endpoints and not answered yet. */
  readonly inboundAsks: number;
  /** Of those, the asks whose method takes a signal (what a CANCEL can abort). */
  readonly cancellableAsks: number;
}

export class TcpTransport implements Transport, ConnectionContext, ConnectionPool {
  readonly config: ResolvedRpcConfig;
  readonly log: Logger;
  readonly codec: FrameCodec;
  readonly metrics: TransportMetrics | null;
  readonly systemName: string;
  readonly tickMs: number;
  tick = 0;
  addressPrefix = '';
  hostname = '';
  port = 0;
  private readonly clients = new Map<string, ClientConnection>();
  private readonly inbound = new Set<ServerConnection>();
  /** Every accepted socket, also those still in their TLS handshake (so that close can end them). */
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  private constructor(readonly host: TransportHost) {
    this.config = host.config;
    this.log = host.logger;
    this.codec = createFrameCodec();
    this.metrics = host.metrics;
    this.systemName = host.getSystemName();
    this.tickMs = tickPeriod(this.config);
    const tls = this.config.tls;
    if (tls !== undefined) {
      validateTlsConfig(tls);
      const server = createTlsServer(serverTlsOptions(tls, this.config.handshakeTimeout), (socket) =>
        this.accept(socket),
      );
      server.on('tlsClientError', (error, socket) => {
        this.log.warn(
          { remote: `${socket.remoteAddress}:${socket.remotePort}`, err: error },
          `Refused a TLS connection from ${socket.remoteAddress}:${socket.remotePort}: ${error.message}`,
        );
      });
      this.server = server;
    } else {
      this.server = createNetServer((socket) => this.accept(socket));
    }
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Binds a transport within the port range of `options` and starts its liveness timer. */
  static async create(host: TransportHost, options: RemoteServiceOptions): Promise<TcpTransport> {
    const transport = new TcpTransport(host);
    await transport.bind(options);
    transport.timer = setInterval(() => transport.onTick(), transport.tickMs);
    transport.timer.unref();
    return transport;
  }

  private async bind(options: RemoteServiceOptions): Promise<void> {
    const ports = parsePortRange(options.externalPortRange);
    const external = normalizeHost(options.externalAddress ?? '') || '127.0.0.1';
    // No bind address: every interface, IPv4 and IPv6 where the host has it (Flink binds the wildcard address).
    const bindHost = options.bindAddress === undefined ? undefined : normalizeHost(options.bindAddress);
    let lastError: unknown;
    for (const port of ports) {
      const bindPort = options.bindPort ?? port;
      try {
        await listen(this.server, bindPort, bindHost);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== undefined && PORT_TAKEN.has(code)) {
          this.log.debug({ port: bindPort, code }, 'Port not available, trying the next one of the range.');
          lastError = error;
          continue;
        }
        throw new RpcException(
          `Could not bind the RPC service to ${formatHost(bindHost ?? '0.0.0.0')}:${bindPort}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const bound = this.server.address();
      const boundPort = typeof bound === 'object' && bound !== null ? bound.port : bindPort;
      this.port = port === 0 ? boundPort : port;
      this.hostname = external;
      this.addressPrefix = serviceAddressPrefix(
        this.config.tls === undefined ? 'rpc.tcp' : 'rpc.ssl.tcp',
        this.systemName,
        external,
        this.port,
      );
      this.log.info({ address: this.addressPrefix, bound }, 'RPC service listening.');
      // Errors of a listening server (say, EMFILE on accept) are logged; they must not crash the process.
      this.server.on('error', (error) => this.log.error({ err: error }, 'The RPC server socket failed.'));
      return;
    }
    throw new RpcException(`Could not start RpcService on any port in port range ${options.externalPortRange}`, {
      cause: lastError,
    });
  }

  // ---- outbound -----------------------------------------------------------------------------------------------------

  async connect(address: string, parsed: RpcAddress, gateway: GatewayDescriptor): Promise<RpcTarget> {
    if (this.closing !== undefined) throw serviceStopped();
    const wantsTls = parsed.protocol === 'rpc.ssl.tcp';
    if (wantsTls !== (this.config.tls !== undefined)) {
      throw couldNotConnect(
        address,
        undefined,
        wantsTls
          ? 'The address needs TLS (rpc.ssl.tcp), but this RPC service has no TLS configured.'
          : 'This RPC service uses TLS; the address does not (rpc.tcp).',
      );
    }
    if (parsed.endpointId.length === 0 || parsed.endpointId.length > MAX_NAME_LENGTH) {
      throw couldNotConnect(address, undefined, 'The address names no valid endpoint id.');
    }
    const host = normalizeHost(parsed.host!);
    const port = parsed.port!;
    const key = `${formatHost(host)}:${port}`;
    const connection = this.connectionTo(key, host, port);
    if (connection === null) throw serviceStopped();
    try {
      await connection.ready;
    } catch (error) {
      if (error instanceof HandshakeException) throw error;
      throw couldNotConnect(address, error);
    }
    let status: unknown;
    try {
      status = await connection.handshake(
        parsed.system,
        parsed.endpointId,
        gateway.name,
        address,
        this.config.askTimeout,
      );
    } catch (error) {
      throw couldNotConnect(address, error);
    }
    switch (status) {
      case HANDSHAKE_OK:
        return new RemoteTarget(address, host, this, key, port, parsed.system, parsed.endpointId);
      case HANDSHAKE_UNKNOWN_SYSTEM:
        throw couldNotConnect(address, undefined, `The RPC service at ${key} is not named ${parsed.system}.`);
      case HANDSHAKE_UNKNOWN_ENDPOINT:
        throw couldNotConnect(address, undefined, `No endpoint ${parsed.endpointId} is running there.`);
      case HANDSHAKE_GATEWAY_NOT_SERVED:
        throw gatewayNotServed(address, gateway.name);
      default:
        throw couldNotConnect(address, undefined, `Unexpected handshake answer ${String(status)}.`);
    }
  }

  connectionTo(key: string, host: string, port: number): ClientConnection | null {
    if (this.closing !== undefined) return null;
    const existing = this.clients.get(key);
    if (existing !== undefined && !existing.closed) return existing;
    const tls = this.config.tls;
    let socket: Socket;
    if (tls === undefined) {
      socket = netConnect({ host, port });
    } else {
      socket = tlsConnect(clientTlsOptions(tls, host, port));
    }
    const connection = new ClientConnection(this, socket, key, key);
    if (tls !== undefined) {
      socket.once('secureConnect', () => {
        const problem = peerCertificateProblem(socket as TLSSocket, tls);
        if (problem !== null) connection.close(new RpcConnectionException(`TLS with ${key} refused: ${problem}.`));
      });
    }
    this.clients.set(key, connection);
    return connection;
  }

  // ---- inbound ------------------------------------------------------------------------------------------------------

  private accept(socket: Socket): void {
    const remote = `${formatHost(socket.remoteAddress ?? 'unknown')}:${socket.remotePort}`;
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    const tls = this.config.tls;
    if (tls !== undefined) {
      const problem = peerCertificateProblem(socket as TLSSocket, tls);
      if (problem !== null) {
        this.log.warn({ remote }, `Refused a TLS connection from ${remote}: ${problem}.`);
        socket.destroy();
        return;
      }
    }
    // From here on the connection handles the socket's errors, timeouts and closing.
    this.inbound.add(new ServerConnection(this, socket, remote));
  }

  // ---- ConnectionContext ----------------------------------------------------------------------------------------------

  onClosed(connection: Connection): void {
    if (connection instanceof ClientConnection) {
      if (this.clients.get(connection.key) === connection) this.clients.delete(connection.key);
    } else {
      this.inbound.delete(connection as ServerConnection);
    }
  }

  private onTick(): void {
    const tick = ++this.tick;
    for (const connection of this.clients.values()) connection.check(tick);
    for (const connection of this.inbound) connection.check(tick);
  }

  /** Open connections, for tests and diagnostics. */
  stats(): TransportStats {
    let pendingRequests = 0;
    for (const connection of this.clients.values()) pendingRequests += connection.pendingRequests;
    let inboundAsks = 0;
    let cancellableAsks = 0;
    for (const connection of this.inbound) {
      inboundAsks += connection.pendingAsks;
      cancellableAsks += connection.cancellableAsks;
    }
    return {
      outbound: this.clients.size,
      inbound: this.inbound.size,
      pendingRequests,
      inboundAsks,
      cancellableAsks,
    };
  }

  // ---- closing ------------------------------------------------------------------------------------------------------

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    const reason = serviceClosed();
    const settled: Promise<void>[] = [];
    for (const connection of [...this.clients.values()]) {
      settled.push(connection.whenSettled());
      connection.close(reason);
    }
    for (const connection of [...this.inbound]) {
      settled.push(connection.whenSettled());
      connection.close(reason, true);
    }
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const straggler = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, CLOSE_GRACE_MS);
    straggler.unref();
    await Promise.all([serverClosed, ...settled]);
    clearTimeout(straggler);
  }
}
