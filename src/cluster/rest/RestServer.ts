/**
 * The JobManager's REST server: Flink's REST paths and JSON names over the current Dispatcher leader, the dashboard's
 * static files at `/`, and Prometheus metrics at `/metrics`. It reaches the Dispatcher through leader retrieval, so the
 * REST server of a standby JobManager answers as well as the leader's.
 *
 * Built on node:http: a dozen fixed routes need no framework, and node:http gives direct control over the limits
 * that protect the process (request, header and keep-alive timeouts, header size, body size).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { type HighAvailabilityServices, LeaderGatewayRetriever } from '../../ha/index.js';
import type { Logger, RpcService } from '../../index.js';
import { DispatcherGateway } from '../gateways.js';
import { ClusterMetrics } from '../metrics/ClusterMetrics.js';
import { toRestHandlerException } from './errors.js';
import { registerHandlers } from './handlers.js';
import { sendErrors } from './http.js';
import { Router, splitPath } from './router.js';
import { loadStaticAssets, type StaticAsset } from './static.js';

/** Options of {@link startRestServer}; durations in milliseconds. */
export interface RestServerOptions {
  /** The JobManager's RPC service (the REST server connects to the Dispatcher leader through it). */
  readonly rpcService: RpcService;
  /** Where the Dispatcher leader is found. */
  readonly haServices: HighAvailabilityServices;
  /** Flink's `rest.port`; 0 picks a free port. Default 8081. */
  readonly port?: number;
  /** Flink's `rest.bind-address`. Default `127.0.0.1` (loopback only: pass `0.0.0.0` to expose it). */
  readonly address?: string;
  /** Flink's `web.refresh-interval`: how often the dashboard polls. Default 3 000. */
  readonly refreshIntervalMs?: number;
  /** Largest accepted request body (Flink's `rest.server.max-content-length`). Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Time for a client to send a whole request. Default 30 000. */
  readonly requestTimeoutMs?: number;
  /** Time for a client to send the request headers. Default 10 000. */
  readonly headersTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open. Default 5 000. */
  readonly keepAliveTimeoutMs?: number;
  /**
   * More prom-client registries whose metrics `/metrics` also serves, e.g. the one given to the RPC service as
   * `RpcConfig.metrics` (the RPC layer's call, mailbox and connection metrics).
   */
  readonly metricRegistries?: readonly Registry[];
  /** Open connections at most; more are closed at once (a flood of idle sockets cannot exhaust the process). Default 1 000. */
  readonly maxConnections?: number;
  /** How long a request waits for a Dispatcher leader before it is answered 503. Default 2 000. */
  readonly leaderTimeoutMs?: number;
  /** Timeout of a job submission at the Dispatcher. Default 30 000. */
  readonly submitTimeoutMs?: number;
  /** Default: the RPC service's logger. */
  readonly logger?: Logger;
}

/** A running REST server. */
export interface RestServerHandle {
  /** The bound port (useful with `port: 0`). */
  readonly port: number;
  readonly address: string;
  /** `http://address:port`, the base of every REST path and the dashboard. */
  readonly url: string;
  /** Stops accepting, closes open connections and the leader retrieval. Idempotent. */
  close(): Promise<void>;
}

/** Starts the REST server and resolves once it listens. */
export async function startRestServer(options: RestServerOptions): Promise<RestServerHandle> {
  const logger = (options.logger ?? options.rpcService.getLogger()).child({ component: 'rest' });
  const dispatcher = new LeaderGatewayRetriever(options.rpcService, DispatcherGateway, { logger });
  await dispatcher.start(options.haServices.getDispatcherLeaderRetriever());
  const leaderTimeoutMs = options.leaderTimeoutMs ?? 2_000;

  const router = new Router();
  registerHandlers(router, {
    getDispatcher: () => dispatcher.getGateway(leaderTimeoutMs),
    metrics: new ClusterMetrics(options.metricRegistries ?? []),
    refreshIntervalMs: options.refreshIntervalMs ?? 3_000,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    submitTimeoutMs: options.submitTimeoutMs ?? 30_000,
  });
  const assets = loadStaticAssets();

  const server = createServer(
    {
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      // How often Node checks the two timeouts above; its default (30 s) would make them coarse.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor((options.headersTimeoutMs ?? 10_000) / 4))),
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => {
      handleRequest(router, assets, req, res).catch((error: unknown) => {
        logger.error({ err: error }, 'Unexpected failure while answering a REST request.');
        sendErrors(res, 500, ['Internal server error.']);
      });
    },
  );
  server.maxConnections = options.maxConnections ?? 1_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, logger));

  try {
    await listen(server, options.port ?? 8081, options.address ?? '127.0.0.1');
  } catch (error) {
    await dispatcher.close();
    throw error;
  }
  // After start, a server error (e.g. out of file descriptors on accept) is logged; it must not end the process.
  server.on('error', (error) => logger.error({ err: error }, 'REST server error.'));
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : (options.port ?? 8081);
  const address = options.address ?? '127.0.0.1';
  const host = address.includes(':') ? `[${address}]` : address;
  logger.info({ port, address }, 'REST server listening.');

  let closing: Promise<void> | undefined;
  return {
    port,
    address,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await dispatcher.close();
      })();
      return closing;
    },
  };
}

async function handleRequest(
  router: Router,
  assets: ReadonlyMap<string, StaticAsset>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let url: URL;
  let segments: string[];
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
    segments = splitPath(url.pathname);
  } catch {
    sendErrors(res, 400, [`Malformed request path: ${String(req.url).slice(0, 200)}`]);
    return;
  }
  const method = req.method ?? 'GET';
  const asset = assets.get(url.pathname);
  if (asset !== undefined) {
    if (method !== 'GET' && method !== 'HEAD') {
      sendErrors(res, 405, [`Method ${method} is not allowed for ${url.pathname}.`], { Allow: 'GET, HEAD' });
      return;
    }
    res.writeHead(200, {
      'Content-Type': asset.contentType,
      'Content-Length': asset.body.length,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(asset.body);
    return;
  }
  const match = router.match(method, segments);
  if (match.kind === 'not-found') {
    sendErrors(res, 404, [`Not found: ${url.pathname}`]);
    return;
  }
  if (match.kind === 'method-not-allowed') {
    sendErrors(res, 405, [`Method ${method} is not allowed for ${url.pathname}.`], {
      Allow: match.allowed.join(', '),
    });
    return;
  }
  try {
    await match.handler({ req, res, url, params: match.params });
  } catch (error) {
    const failure = toRestHandlerException(error);
    sendErrors(res, failure.status, [failure.message], failure.headers);
    if (failure.headers.Connection === 'close') {
      // A body past the limit is still arriving: give the answer a moment to leave, then drop the connection.
      const socket = req.socket;
      res.once('finish', () => setTimeout(() => socket.destroy(), 1_000).unref());
    }
  }
}

/** Answers what Node's HTTP parser refused (timeouts, oversized headers, garbage) with Flink's error shape. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  logger.debug({ err: error }, 'REST client error.');
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'The request was not received in time.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
        : [400, 'Bad Request', `Malformed HTTP request (${error.code ?? error.message}).`];
  const body = JSON.stringify({ errors: [message] });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function listen(server: Server, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
