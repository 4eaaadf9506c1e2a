/** The REST handlers: Flink's paths, each a thin translation to one Dispatcher call. */

import { createRequire } from 'node:module';
import type { DispatcherGateway } from '../gateways.js';
import { type ClusterMetrics, PROMETHEUS_CONTENT_TYPE } from '../metrics/ClusterMetrics.js';
import type { JobGraph } from '../types.js';
import { RestHandlerException } from './errors.js';
import { readJsonBody, sendJson } from './http.js';
import type { RequestContext, Router } from './router.js';

export interface HandlerDependencies {
  /** The Dispatcher leader's gateway; rejects when there is none within the leader timeout. */
  getDispatcher(): Promise<DispatcherGateway>;
  readonly metrics: ClusterMetrics;
  readonly refreshIntervalMs: number;
  readonly maxBodyBytes: number;
  readonly submitTimeoutMs: number;
}

/** Job ids are path segments in the HA backends: letters, digits, `_`, `.` and `-`. */
const ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

const VERSION = readVersion();

export function registerHandlers(router: Router, deps: HandlerDependencies): void {
  const json =
    (answer: (context: RequestContext, dispatcher: DispatcherGateway) => Promise<unknown>) =>
    async (context: RequestContext): Promise<void> => {
      const dispatcher = await deps.getDispatcher();
      sendJson(context.res, 200, await answer(context, dispatcher));
    };

  router
    .add('GET', '/config', ({ res }) => {
      sendJson(res, 200, {
        'refresh-interval': deps.refreshIntervalMs,
        'timezone-name': Intl.DateTimeFormat().resolvedOptions().timeZone,
        'timezone-offset': -new Date().getTimezoneOffset() * 60_000,
        'flink-version': VERSION,
        'flink-revision': 'flink-rpc',
        features: { 'web-submit': false, 'web-cancel': true, 'web-history': false },
      });
    })
    .add(
      'GET',
      '/overview',
      json((_, dispatcher) => dispatcher.requestClusterOverview()),
    )
    .add(
      'GET',
      '/jobs',
      json(async (_, dispatcher) => ({
        jobs: (await dispatcher.listJobs()).map((job) => ({ id: job.jid, status: job.state })),
      })),
    )
    .add(
      'GET',
      '/jobs/overview',
      json(async (_, dispatcher) => ({ jobs: await dispatcher.listJobs() })),
    )
    .add('POST', '/jobs', async ({ req, res }) => {
      const graph = await readJsonBody(req, deps.maxBodyBytes);
      if (graph === null || typeof graph !== 'object' || Array.isArray(graph)) {
        throw new RestHandlerException(400, 'The request body must be a job graph: a JSON object.');
      }
      const dispatcher = await deps.getDispatcher();
      const jobid = await dispatcher.submitJob(graph as JobGraph, deps.submitTimeoutMs);
      sendJson(res, 202, { jobid });
    })
    .add(
      'GET',
      '/jobs/:jobid',
      json(({ params }, dispatcher) => dispatcher.requestJob(jobId(params))),
    )
    .add('PATCH', '/jobs/:jobid', async ({ url, params, res }) => {
      const mode = url.searchParams.get('mode');
      if (mode === null) throw new RestHandlerException(400, "Missing query parameter 'mode' (expected mode=cancel).");
      if (mode !== 'cancel') {
        throw new RestHandlerException(400, `Unsupported mode '${mode}': only mode=cancel is supported.`);
      }
      const id = jobId(params);
      const dispatcher = await deps.getDispatcher();
      await dispatcher.cancelJob(id);
      sendJson(res, 202, {});
    })
    .add(
      'GET',
      '/jobs/:jobid/checkpoints',
      json(({ params }, dispatcher) => dispatcher.requestCheckpointStats(jobId(params))),
    )
    .add(
      'GET',
      '/jobs/:jobid/exceptions',
      json(({ params }, dispatcher) => dispatcher.requestJobExceptions(jobId(params))),
    )
    .add(
      'GET',
      '/taskmanagers',
      json(async (_, dispatcher) => ({ taskmanagers: await dispatcher.requestTaskManagers() })),
    )
    .add(
      'GET',
      '/taskmanagers/:taskmanagerid',
      json(({ params }, dispatcher) => dispatcher.requestTaskManager(idParam(params, 'taskmanagerid', 'TaskManager'))),
    )
    .add('GET', '/metrics', async ({ res }) => {
      const text = await deps.metrics.scrape(await deps.getDispatcher());
      if (res.headersSent || res.destroyed) return;
      res.writeHead(200, {
        'Content-Type': PROMETHEUS_CONTENT_TYPE,
        'Content-Length': Buffer.byteLength(text),
        'Cache-Control': 'no-store',
      });
      res.end(text);
    });
}

function jobId(params: Readonly<Record<string, string>>): string {
  return idParam(params, 'jobid', 'job');
}

function idParam(params: Readonly<Record<string, string>>, name: string, what: string): string {
  const value = params[name] ?? '';
  if (!ID_PATTERN.test(value)) {
    throw new RestHandlerException(
      400,
      `Invalid ${what} id ${JSON.stringify(value.slice(0, 140))}: use 1 to 128 letters, digits, '_', '.' and '-'.`,
    );
  }
  return value;
}

function readVersion(): string {
  try {
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version?: string };
    return `flink-rpc ${pkg.version ?? ''}`.trim();
  } catch {
    return 'flink-rpc';
  }
}
