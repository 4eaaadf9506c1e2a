/**
 * The client process of one system: `node --import tsx bench/remote/client-main.ts <system> <serverInfo> <timing>`.
 * It connects through `bench/remote/<system>/client.ts`, runs every workload and reports on stdout, one JSON line
 * per event ({@link ClientEvent}). Clients get a fresh process per system so that no system inherits another's heap,
 * JIT state or leftover sockets, and a crashing adapter cannot take the harness down.
 */

import { cpuMeter } from './cpu.js';
import { describeError } from './server-support.js';
import type { BenchTiming, ConnectFn, Result, ServerInfo } from './types.js';
import { workloadName, workloadSteps } from './workloads.js';

export type ClientEvent =
  | { kind: 'result'; result: Omit<Result, 'system'> }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'done' };

function emit(event: ClientEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function withBudget<T>(promise: Promise<T>, budgetMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${budgetMs} ms`)), budgetMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  const [system, serverJson, timingJson, concurrencyJson] = process.argv.slice(2);
  if (!system || !serverJson || !timingJson || !concurrencyJson)
    throw new Error('usage: client-main.ts <system> <serverInfo> <timing> <concurrency>');
  const server = JSON.parse(serverJson) as ServerInfo;
  const timing = JSON.parse(timingJson) as BenchTiming;
  const echoConcurrency = JSON.parse(concurrencyJson) as number[];

  let client: Awaited<ReturnType<ConnectFn>>;
  try {
    const adapter = (await import(`./${system}/client.ts`)) as { connect: ConnectFn };
    client = await withBudget(adapter.connect(server), 15_000, 'connect');
  } catch (error) {
    emit({ kind: 'unavailable', reason: describeError(error) });
    process.exit(0);
  }

  const cpu = cpuMeter(server.pid);
  for (const step of workloadSteps(timing, echoConcurrency)) {
    const { workload, concurrency } = step;
    try {
      const measured = await withBudget(step.run(client, cpu), step.budgetMs, workloadName(workload, concurrency));
      emit({ kind: 'result', result: { status: 'ok', ...measured } });
    } catch (error) {
      emit({ kind: 'result', result: { status: 'error', error: describeError(error), workload, concurrency } });
      // After a timeout the connection may be wedged with calls in flight: further numbers would mean nothing.
      if (/did not finish within/.test(String(error))) break;
    }
  }
  await withBudget(client.close(), 5_000, 'close').catch(() => {});
  emit({ kind: 'done' });
  process.exit(0);
}

// Die with the harness, whatever happens to it (its end of our stdin closes).
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

main().catch((error: unknown) => {
  emit({ kind: 'unavailable', reason: describeError(error) });
  process.exit(1);
});
