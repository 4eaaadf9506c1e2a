/** The REST server's and the CLI's default logger: pino on stderr, as the rest of flink-rpc logs. */

import { pino } from 'pino';
import type { Logger } from '../../index.js';

let logger: Logger | undefined;

/** pino on stderr, level from `FLINK_RPC_LOG_LEVEL` (default `warn`). */
export function defaultRestLogger(): Logger {
  logger ??= pino(
    { name: 'flink-rpc', level: process.env.FLINK_RPC_LOG_LEVEL ?? 'warn' },
    pino.destination({ fd: 2, sync: true }),
  ) as unknown as Logger;
  return logger;
}
