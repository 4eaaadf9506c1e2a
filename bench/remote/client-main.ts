/**
 * The client process of one system: `node --import tsx bench/remote/client-main.ts <system> <serverInfo> <timing>
 * <concurrency>`. It connects through `bench/remote/<system>/client.ts`, says `ready`, then runs one workload per
 * line it reads on stdin (`{"step":"echo256"}`) and answers each with one JSON line on stdout ({@link ClientEvent}).
 * The process lives for the whole run, so that the harness can interleave the systems round by round without paying
 * a process start per measurement; each system still has its own process, so no system inherits another's heap, JIT
 * state or leftover sockets, and a crashing adapter cannot take the harness down.
 */

import { createInterface } from 'node:readline';
import { cpuMeter } from './cpu.js';
import { describeError } from './server-support.js';
import type { BenchTiming, ConnectFn, Result, ServerInfo } from './types.js';
import { workloadName, workloadSteps } from './workloads.js';

export type ClientEvent =
  | { kind: 'ready' }
  | { kind: 'result'; step: string; result: Omit<Result, 'system'> }
  | { kind: 'unavailable'; reason: string };

/** A command of the harness: run one workload step. */
export interface ClientCommand {
  step: string;
}

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
  const steps = new Map(workloadSteps(timing, echoConcurrency).map((step) => [step.key, step]));
  // One command at a time, in order: the harness waits for each answer, but a queue keeps this true regardless.
  let queue = Promise.resolve();
  const runStep = async (key: string): Promise<void> => {
    const step = steps.get(key);
    if (step === undefined) {
      emit({ kind: 'unavailable', reason: `unknown step ${key}` });
      return;
    }
    const { workload, concurrency } = step;
    // Start each measurement with a clean heap (the harness runs clients with --expose-gc), so that it does not pay
    // for the garbage of the one before.
    (globalThis as { gc?: () => void }).gc?.();
    try {
      const measured = await withBudget(step.run(client, cpu), step.budgetMs, workloadName(workload, concurrency));
      emit({ kind: 'result', step: key, result: { status: 'ok', ...measured } });
    } catch (error) {
      emit({
        kind: 'result',
        step: key,
        result: { status: 'error', error: describeError(error), workload, concurrency },
      });
      // After a timeout the connection may be wedged with calls in flight: further numbers would mean nothing, so
      // the process ends and the harness reports the system's remaining measurements as errors.
      if (/did not finish within/.test(String(error))) process.exit(3);
    }
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    let command: ClientCommand;
    try {
      command = JSON.parse(line) as ClientCommand;
    } catch {
      return;
    }
    queue = queue.then(() => runStep(command.step));
  });
  // Die with the harness, whatever happens to it (its end of our stdin closes).
  process.stdin.on('end', () => {
    void queue.then(() => withBudget(client.close(), 5_000, 'close').catch(() => {})).finally(() => process.exit(0));
  });
  emit({ kind: 'ready' });
}

process.stdin.on('error', () => process.exit(0));

main().catch((error: unknown) => {
  emit({ kind: 'unavailable', reason: describeError(error) });
  process.exit(1);
});
