/**
 * The common life of a benchmark server process: start, announce `ServerInfo` as one JSON line on stdout, and die
 * with the harness. The harness keeps our stdin open; when it exits for any reason (even SIGKILL) the pipe closes
 * and so do we, so no server outlives a run.
 */

import type { ServerInfo } from './types.js';

export function serverMain(start: () => Promise<ServerInfo>): void {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
  start().then(
    (info) => {
      process.stdout.write(`${JSON.stringify({ ...info, pid: process.pid })}\n`);
    },
    (error: unknown) => {
      // The harness reads this line as the reason the system is not available.
      process.stdout.write(`${JSON.stringify({ error: describeError(error) })}\n`);
      process.exit(1);
    },
  );
}

/** `Name: message (cause: …)` on one line. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let text = `${error.name}: ${error.message}`;
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 3; depth++) {
    text += cause instanceof Error ? ` (cause: ${cause.name}: ${cause.message})` : ` (cause: ${String(cause)})`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text.replace(/\s+/g, ' ');
}
