/** The logger contract (a subset of pino's) and the default logger. */

import { pino } from 'pino';

/** What the RPC system logs with: any pino-compatible logger. */
export interface Logger {
  debug(obj: unknown, msg?: string, ...args: unknown[]): void;
  info(obj: unknown, msg?: string, ...args: unknown[]): void;
  warn(obj: unknown, msg?: string, ...args: unknown[]): void;
  error(obj: unknown, msg?: string, ...args: unknown[]): void;
  child(bindings: Record<string, unknown>): Logger;
}

let defaultLogger: Logger | undefined;

/** The process-wide default logger: pino on stderr, level from `FLINK_RPC_LOG_LEVEL` (default `warn`). */
export function getDefaultLogger(): Logger {
  defaultLogger ??= pino(
    { name: 'flink-rpc', level: process.env.FLINK_RPC_LOG_LEVEL ?? 'warn' },
    pino.destination({ fd: 2, sync: true }),
  ) as unknown as Logger;
  return defaultLogger;
}
