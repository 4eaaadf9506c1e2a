/**
 * The scale rows: many endpoints in one service and many pending asks, locally and over one connection, each in
 * processes of their own run with `--expose-gc` (memory is measured as heap in use after full collections).
 *
 *   npx tsx bench/scale/run.ts [--quick]
 */

import { pathToFileURL } from 'node:url';
import { installCleanupHandlers, startChild, stopChild } from '../remote/processes.js';
import type { ServerInfo } from '../remote/types.js';
import { formatRatio, textTable } from '../rounds.js';
import type { RemotePendingResult } from './hold-client.js';
import type { LocalScaleResult } from './local.js';

export interface ScaleOptions {
  quick?: boolean;
  log?: (line: string) => void;
}

export interface ScaleOutcome {
  local?: LocalScaleResult;
  localError?: string;
  remote?: RemotePendingResult;
  remoteError?: string;
}

const HERE = new URL('./', import.meta.url).pathname;
const GC = ['--expose-gc'];

export async function runScaleBench(options: ScaleOptions = {}): Promise<ScaleOutcome> {
  const quick = options.quick ?? false;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const endpoints = 10_000;
  const pending = quick ? 100_000 : 1_000_000;
  const outcome: ScaleOutcome = {};
  const removeHandlers = installCleanupHandlers();
  try {
    log(
      `scale: ${endpoints.toLocaleString('en-US')} endpoints and ${pending.toLocaleString('en-US')} pending asks, local`,
    );
    const local = await oneLine<LocalScaleResult>(
      startChild(`${HERE}local.ts`, [String(endpoints), String(pending), quick ? '150' : '300', quick ? '3' : '5'], {
        nodeArgs: GC,
      }),
      600_000,
    );
    if ('error' in local) outcome.localError = local.error;
    else outcome.local = local.result;

    log(`scale: ${pending.toLocaleString('en-US')} pending asks over one connection`);
    const server = startChild(`${HERE}hold-server.ts`, [], { nodeArgs: GC });
    try {
      const info = await oneLine<ServerInfo>(server, 60_000, true);
      if ('error' in info) outcome.remoteError = `server: ${info.error}`;
      else {
        const remote = await oneLine<RemotePendingResult>(
          startChild(`${HERE}hold-client.ts`, [JSON.stringify(info.result), String(pending)], { nodeArgs: GC }),
          600_000,
        );
        if ('error' in remote) outcome.remoteError = remote.error;
        else outcome.remote = remote.result;
      }
    } finally {
      await stopChild(server.process);
    }
  } finally {
    removeHandlers();
  }
  return outcome;
}

/**
 * The first JSON line of a child: `{"result": …}` or `{"error": …}`, or a bare announcement when `bare` (servers).
 * The child is stopped afterwards unless it is a server still needed.
 */
async function oneLine<T>(
  child: ReturnType<typeof startChild>,
  timeoutMs: number,
  bare = false,
): Promise<{ result: T } | { error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const answer = await new Promise<{ result: T } | { error: string }>((resolve) => {
    timer = setTimeout(() => resolve({ error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    child.lines((line) => {
      try {
        const parsed = JSON.parse(line) as { result?: T; error?: string; held?: number };
        if (parsed.error !== undefined)
          resolve({ error: parsed.held === undefined ? parsed.error : `${parsed.error} (held: ${parsed.held})` });
        else if (bare) resolve({ result: parsed as T });
        else if (parsed.result !== undefined) resolve({ result: parsed.result });
      } catch {
        // stray output
      }
    });
    void child.exited.then((code) =>
      resolve({ error: `exited with ${code}: ${child.stderrTail().split('\n').slice(-3).join(' ')}` }),
    );
  });
  clearTimeout(timer);
  if (!bare) await stopChild(child.process, 1_000);
  return answer;
}

const n = (value: number) => value.toLocaleString('en-US');

export function formatScale(outcome: ScaleOutcome): string {
  const rows: string[][] = [['row', 'figure', 'notes']];
  const local = outcome.local;
  if (local !== undefined) {
    rows.push(
      [
        `${n(local.endpoints)} endpoints in one service: start`,
        `${n(local.startMs)} ms`,
        'create + start, until each answered an ask',
      ],
      ['  heap per endpoint', `${n(local.bytesPerEndpoint)} B`, ''],
      [
        '  asks spread over all, 256 in flight',
        `${n(local.spreadAsksPerSec)}/s`,
        `${formatRatio(local.spreadRatio)} of the same asks to one endpoint (${n(local.oneEndpointAsksPerSec)}/s)`,
      ],
      ['  stop all', `${n(local.stopMs)} ms`, ''],
      [
        `${n(local.pendingAsks)} pending asks, local: issue until all held`,
        `${n(local.pendingIssueMs)} ms`,
        'one endpoint holds them unanswered',
      ],
      [
        '  heap per pending ask (caller + callee)',
        `${n(local.bytesPerPendingAsk)} B`,
        `floor of the same pattern with bare promises: ${n(local.floorBytesPerPendingAsk)} B`,
      ],
      ['  answer all, until every caller has its reply', `${n(local.releaseMs)} ms`, ''],
    );
  } else rows.push(['local scale rows', 'error', outcome.localError ?? '']);
  const remote = outcome.remote;
  if (remote !== undefined) {
    rows.push(
      [
        `${n(remote.pendingAsks)} pending asks over one connection: issue until all held`,
        `${n(remote.issueMs)} ms`,
        "the server's held() asks travel behind them",
      ],
      ['  client heap per pending ask', `${n(remote.clientBytesPerPendingAsk)} B`, ''],
      ['  server heap per pending ask', `${n(remote.serverBytesPerPendingAsk)} B`, ''],
      ['  answer all, until every caller has its reply', `${n(remote.releaseMs)} ms`, ''],
    );
  } else rows.push(['pending asks over one connection', 'failed', outcome.remoteError ?? '']);
  return textTable(rows, [false, true, false]);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outcome = await runScaleBench({ quick: process.argv.includes('--quick') });
  console.log(formatScale(outcome));
}
