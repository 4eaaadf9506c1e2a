/**
 * The local benchmark in interleaved rounds: the workloads of `local.ts` (sequential asks, asks to an async method,
 * 256 asks in flight, tells) against the bare per-object microtask mailbox and flink-rpc variants, all in this
 * process, each workload measured in short windows, one per system per round, the systems taking turns (see
 * `rounds.ts`). Ratios to the first system are taken within each round and shown as median and lowest–highest.
 *
 *   npx tsx --expose-gc bench/local-rounds.ts [--quick]
 */

import { pathToFileURL } from 'node:url';
import { type RpcConfig, type RpcService, RpcSystem } from '../src/index.js';
import { BareMailbox, EchoEndpoint, EchoGateway, inFlight, sequential, type Target, tells } from './local.js';
import { formatRatio, median, roundOrder, roundRatios, roundSpread, type Spread, spread, textTable } from './rounds.js';

/** One system of a local comparison: a target to call, and how to release what it holds. */
export interface LocalSystem {
  name: string;
  target: Target;
  close(): Promise<void>;
}

export interface LocalWorkload {
  name: string;
  /** Runs for about `durationMs` against `target`; returns the operations done. */
  run(target: Target, durationMs: number): Promise<number>;
}

export const LOCAL_WORKLOADS: readonly LocalWorkload[] = [
  { name: 'ask, sequential', run: (t, ms) => sequential(t, ms) },
  { name: 'ask (async method), sequential', run: (t, ms) => sequential(t, ms, true) },
  { name: 'ask, 256 in flight', run: (t, ms) => inFlight(t, ms, 256) },
  { name: 'tell throughput', run: (t, ms) => tells(t, ms) },
];

export interface LocalRoundsTiming {
  /** Warm-up of each measurement, same shape as the window (ms). */
  warmupMs: number;
  /** Measured window (ms). */
  windowMs: number;
  rounds: number;
}

export const LOCAL_FULL: LocalRoundsTiming = { warmupMs: 100, windowMs: 250, rounds: 7 };
export const LOCAL_QUICK: LocalRoundsTiming = { warmupMs: 40, windowMs: 100, rounds: 3 };

export interface LocalRow {
  workload: string;
  system: string;
  /** Median over the rounds. */
  opsPerSec: number;
  /** Ops/s ÷ the first system's in the same round (undefined for the first system itself). */
  ratio?: Spread;
  /** Ops/s of every round, in round order. */
  perRound: number[];
}

/** A flink-rpc service with one started echo endpoint, as a local system. */
export async function flinkSystem(name: string, config: RpcConfig): Promise<LocalSystem> {
  const service: RpcService = await RpcSystem.load().localServiceBuilder(config).createAndStart();
  const endpoint = new EchoEndpoint(service);
  endpoint.start();
  return { name, target: endpoint.getSelfGateway(EchoGateway), close: () => service.closeAsync() };
}

export function bareSystem(): LocalSystem {
  return { name: 'bare mailbox', target: new BareMailbox(), close: async () => {} };
}

/** Measures every workload in interleaved rounds over `systems`; ratios are to `systems[0]`. */
export async function runLocalRounds(
  systems: readonly LocalSystem[],
  timing: LocalRoundsTiming,
  workloads: readonly LocalWorkload[] = LOCAL_WORKLOADS,
): Promise<LocalRow[]> {
  const rows: LocalRow[] = [];
  for (const workload of workloads) {
    const perRound = new Map<string, number[]>(systems.map((s) => [s.name, []]));
    for (let round = 0; round < timing.rounds; round++) {
      for (const system of roundOrder(systems, round)) {
        // One heap for all systems: without this, a system would pay for the garbage the previous one left.
        collectGarbage();
        await workload.run(system.target, timing.warmupMs);
        const started = performance.now();
        const ops = await workload.run(system.target, timing.windowMs);
        perRound.get(system.name)![round] = ops / ((performance.now() - started) / 1000);
      }
    }
    const baseline = perRound.get(systems[0]!.name)!;
    for (const system of systems) {
      const values = perRound.get(system.name)!;
      const row: LocalRow = {
        workload: workload.name,
        system: system.name,
        opsPerSec: Math.round(median(values) ?? 0),
        perRound: values.map(Math.round),
      };
      const ratio = system === systems[0] ? undefined : roundSpread(spread(roundRatios(values, baseline)));
      if (ratio !== undefined) row.ratio = ratio;
      rows.push(row);
    }
  }
  return rows;
}

/** A full collection when node runs with `--expose-gc` (as `npm run bench` does); else nothing. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export function formatLocalRows(rows: readonly LocalRow[], versus: string): string {
  const lines = [['workload', 'system', 'ops/s', `× ${versus} (lowest–highest)`]];
  for (const row of rows)
    lines.push([row.workload, row.system, Math.round(row.opsPerSec).toLocaleString('en-US'), formatRatio(row.ratio)]);
  return textTable(lines, [false, false, true, true]);
}

/** The local table of `npm run bench`: the bare mailbox, flink-rpc with its defaults, and with call stacks. */
export async function runLocalComparison(quick: boolean): Promise<LocalRow[]> {
  const systems = [
    bareSystem(),
    await flinkSystem('flink-rpc', {}),
    await flinkSystem('flink-rpc, captureAskCallStack', { captureAskCallStack: true }),
  ];
  try {
    return await runLocalRounds(systems, quick ? LOCAL_QUICK : LOCAL_FULL);
  } finally {
    for (const system of systems) await system.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runLocalComparison(process.argv.includes('--quick'));
  console.log(formatLocalRows(rows, 'bare mailbox'));
}
