/**
 * CPU time per operation, of the client and the server process together. On a shared machine throughput says as
 * much about the neighbours as about the system under test; CPU time per call is far less sensitive to them (a
 * descheduled process burns none), so it is the number to compare when the throughput columns are noisy.
 *
 * The client's own time comes from `process.cpuUsage()`; the server's from `/proc/<pid>/stat` (Linux; elsewhere
 * the server part, and so the total, is left out). Both count every thread of the process (GC, libuv pool).
 */

import { readFileSync } from 'node:fs';
import type { Result } from './types.js';

export interface CpuSnapshot {
  /** Client process CPU time (user + system), µs. */
  client: number;
  /** Server process CPU time, µs; undefined when it cannot be read. */
  server: number | undefined;
}

export type CpuMeter = () => CpuSnapshot;

/** Linux reports utime/stime in clock ticks of USER_HZ, which is 100 on every mainstream configuration. */
const TICKS_PER_SECOND = 100;

function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is field 3, utime field 14, stime field 15 (man 5 proc).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

export function cpuMeter(serverPid: number | undefined): CpuMeter {
  return () => {
    const usage = process.cpuUsage();
    return { client: usage.user + usage.system, server: serverPid === undefined ? undefined : processCpuUs(serverPid) };
  };
}

type CpuFields = Pick<Result, 'cpuUsPerOp' | 'clientCpuUsPerOp' | 'serverCpuUsPerOp'>;

export function cpuPerOp(before: CpuSnapshot, after: CpuSnapshot, ops: number): CpuFields {
  if (ops <= 0) return {};
  const round = (us: number) => Math.round((us / ops) * 100) / 100;
  const client = round(after.client - before.client);
  if (before.server === undefined || after.server === undefined) return { clientCpuUsPerOp: client };
  const server = round(after.server - before.server);
  return { cpuUsPerOp: Math.round((client + server) * 100) / 100, clientCpuUsPerOp: client, serverCpuUsPerOp: server };
}
