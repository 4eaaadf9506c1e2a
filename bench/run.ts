/**
 * `npm run bench`: every table of the benchmark, each measured in interleaved rounds (see `rounds.ts`):
 *
 * 1. local — flink-rpc asks and tells in one process against a bare per-object microtask mailbox;
 * 2. remote — flink-rpc against a raw TCP baseline, grpc-js and birpc, client and server in separate processes;
 * 3. scale — 10 000 endpoints in one service; 1 000 000 pending asks locally and over one connection, with the heap
 *    per pending ask on each side;
 * 4. observability — tracing off, the defaults (tracing API without an SDK), a metrics Registry, a tracing SDK.
 *
 *   npm run bench                                  # everything, a few minutes on 2 cores
 *   npm run bench -- --quick                       # short windows, 3 rounds, 100 000 pending asks: a smoke test
 *   npm run bench -- --sections=local,remote       # some sections (local, remote, scale, observability)
 *   npm run bench -- --only=flink,echo1            # remote rows: systems and/or workloads (raw always runs)
 *   npm run bench -- --only=echo1 --cpu-prof       # remote echo ×1, raw and flink-rpc, a CPU profile per process
 *   npm run bench -- --rounds=9                    # more rounds per row
 *
 * Tables go to stdout; JSON to `bench/results/` (`local.json`, `latest.json` for remote, `scale.json`,
 * `observability.json`, `observability-remote.json`).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatLocalRows, runLocalComparison } from './local-rounds.js';
import { OBSERVABILITY_SYSTEMS, runObservabilityBench } from './observability-bench.js';
import { formatTable } from './remote/report.js';
import { parseRemoteArgs, runRemoteBench } from './remote/run.js';
import { machineLoad } from './rounds.js';
import { formatScale, runScaleBench } from './scale/run.js';

const SECTIONS = ['local', 'remote', 'scale', 'observability'] as const;
type Section = (typeof SECTIONS)[number];

const args = normalize(process.argv.slice(2));
const quick = args.includes('--quick');
const sections = chooseSections(args);
const remoteArgs = parseRemoteArgs(
  args.filter((a) => a === '--quick' || /^--(only|rounds|window)=/.test(a) || a === '--cpu-prof'),
);
const started = performance.now();

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const writeJson = (name: string, body: object): void =>
  writeFileSync(
    `${resultsDir}${name}`,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cpuCount: os.cpus().length, loadAverage: os.loadavg(), quick, ...body }, null, 2)}\n`,
  );

if (sections.includes('local')) {
  console.log('\n## Local RPC (one process): flink-rpc against a bare per-object microtask mailbox\n');
  const rows = await runLocalComparison(quick);
  console.log(
    `ops/s: median over the rounds; ratio: median of the per-round ratios to the bare mailbox (lowest–highest); ${machineLoad()}`,
  );
  console.log(formatLocalRows(rows, 'bare mailbox'));
  writeJson('local.json', { rows });
}

if (sections.includes('remote')) {
  console.log('\n## Remote RPC (separate processes, loopback TCP)\n');
  await runRemoteBench(remoteArgs);
  if (remoteArgs.nodeArgs !== undefined) {
    const dir = remoteArgs.nodeArgs.find((a) => a.startsWith('--cpu-prof-dir='))?.slice('--cpu-prof-dir='.length);
    console.log(`\nCPU profiles (a directory per process, e.g. flink-client/, flink-server/): ${dir}`);
    console.log(`summary: npx tsx bench/profile-top.ts ${dir} --filter=src/`);
  }
}

if (sections.includes('scale')) {
  console.log('\n## Scale (own processes, --expose-gc; memory = heap in use after full collections)\n');
  const outcome = await runScaleBench({ quick });
  console.log(formatScale(outcome));
  writeJson('scale.json', { ...outcome });
}

if (sections.includes('observability')) {
  console.log('\n## Observability overhead (interleaved against tracing: false)\n');
  const outcome = await runObservabilityBench({ quick });
  console.log('local (one process):');
  console.log(formatLocalRows(outcome.local, 'tracing: false'));
  for (const [label, note] of Object.entries(outcome.inEffect)) console.log(`  ${label}: ${note}`);
  console.log('\nremote (a server and a client process per variant):');
  console.log(formatTable(outcome.remote, OBSERVABILITY_SYSTEMS, 'flink-off'));
  writeJson('observability.json', { ...outcome });
}

console.log(`\nbench: ${Math.round((performance.now() - started) / 1000)} s, ${machineLoad()}`);
// Child processes are gone; lingering handles (e.g. a tracing SDK's timer) must not keep the run alive.
process.exit(0);

/** `--only x` as `--only=x`, `--sections x` as `--sections=x`. */
function normalize(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (['--only', '--sections', '--rounds', '--window'].includes(arg) && argv[i + 1] !== undefined)
      out.push(`${arg}=${argv[++i]}`);
    else out.push(arg);
  }
  return out;
}

function chooseSections(argv: readonly string[]): Section[] {
  const known = new Set(['--quick', '--local-only', '--remote-only', '--cpu-prof']);
  const unknownArgs = argv.filter((a) => !known.has(a) && !/^--(only|rounds|window|sections)=/.test(a));
  if (unknownArgs.length > 0) throw new Error(`unknown argument(s) ${unknownArgs.join(' ')}; see bench/run.ts`);
  const listed = argv.find((a) => a.startsWith('--sections='));
  if (listed !== undefined) {
    const names = listed.slice('--sections='.length).split(',').filter(Boolean);
    const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
    if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
    return names as Section[];
  }
  if (argv.includes('--local-only')) return ['local'];
  // Remote options on their own (a profile, a subset of rows) mean the remote section only.
  if (argv.includes('--remote-only') || argv.includes('--cpu-prof') || argv.some((a) => a.startsWith('--only=')))
    return ['remote'];
  return [...SECTIONS];
}
