/**
 * What observability costs: flink-rpc with tracing off, with its defaults (the tracing API without an SDK), with a
 * metrics Registry, and with a tracing SDK (see `observability.ts`), compared in interleaved rounds with tracing off,
 * locally (one process) and remotely (a server and a client process per variant).
 *
 *   npx tsx bench/observability-bench.ts [--quick] [--local-only | --remote-only]
 */

import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  flinkSystem,
  LOCAL_FULL,
  LOCAL_QUICK,
  LOCAL_WORKLOADS,
  type LocalRow,
  runLocalRounds,
} from './local-rounds.js';
import { OBSERVABILITY_VARIANTS, observabilitySetup, VARIANT_LABELS } from './observability.js';
import type { RemoteRow } from './remote/report.js';
import { runRemoteBench } from './remote/run.js';
import type { SystemSpec } from './remote/systems.js';

export interface ObservabilityOutcome {
  local: LocalRow[];
  /** Per variant: whether it recorded anything (metric families with values, spans ended), when it records. */
  inEffect: Record<string, string>;
  remote: RemoteRow[];
}

const LOCAL_ROWS = new Set(['ask, sequential', 'ask, 256 in flight', 'tell throughput']);

/** The flink-rpc variants as remote systems (one adapter, the variant in the environment); `flink-off` first. */
export const OBSERVABILITY_SYSTEMS: readonly SystemSpec[] = OBSERVABILITY_VARIANTS.map((variant) => ({
  id: `flink-${variant}`,
  label: VARIANT_LABELS[variant],
  dir: 'flink',
  env: { FLINK_RPC_BENCH_VARIANT: variant },
  notes: `FLINK_RPC_BENCH_VARIANT=${variant} (bench/observability.ts)`,
}));

export async function runObservabilityBench(
  options: { quick?: boolean; local?: boolean; remote?: boolean; log?: (line: string) => void } = {},
): Promise<ObservabilityOutcome> {
  const quick = options.quick ?? false;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const outcome: ObservabilityOutcome = { local: [], inEffect: {}, remote: [] };
  if (options.local ?? true) {
    log('observability: local rounds');
    const setups = OBSERVABILITY_VARIANTS.map((variant) => ({ variant, setup: observabilitySetup(variant) }));
    const systems = [];
    for (const { variant, setup } of setups) systems.push(await flinkSystem(VARIANT_LABELS[variant], setup.config));
    try {
      outcome.local = await runLocalRounds(
        systems,
        quick ? LOCAL_QUICK : LOCAL_FULL,
        LOCAL_WORKLOADS.filter((w) => LOCAL_ROWS.has(w.name)),
      );
      for (const { variant, setup } of setups) {
        const recorded = await setup.recorded();
        if (recorded === undefined) continue;
        const what = variant === 'metrics' ? 'metric families with values' : 'spans ended';
        outcome.inEffect[VARIANT_LABELS[variant]] =
          recorded > 0 ? `${recorded.toLocaleString('en-US')} ${what}` : `NOT IN EFFECT: 0 ${what}`;
      }
    } finally {
      for (const system of systems) await system.close();
    }
  }
  if (options.remote ?? true) {
    log('observability: remote rounds');
    const { rows } = await runRemoteBench({
      quick,
      systems: OBSERVABILITY_SYSTEMS,
      baseline: 'flink-off',
      workloads: ['echo1', 'echo256', 'tell'],
      targets: false,
      print: false,
      log,
      jsonPath: fileURLToPath(new URL('./results/observability-remote.json', import.meta.url)),
    });
    outcome.remote = rows;
  }
  return outcome;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { formatLocalRows } = await import('./local-rounds.js');
  const { formatTable } = await import('./remote/report.js');
  const args = process.argv.slice(2);
  const outcome = await runObservabilityBench({
    quick: args.includes('--quick'),
    local: !args.includes('--remote-only'),
    remote: !args.includes('--local-only'),
  });
  if (outcome.local.length > 0) console.log(formatLocalRows(outcome.local, 'tracing: false'));
  for (const [label, note] of Object.entries(outcome.inEffect)) console.log(`  ${label}: ${note}`);
  if (outcome.remote.length > 0) console.log(formatTable(outcome.remote, OBSERVABILITY_SYSTEMS, 'flink-off'));
}
