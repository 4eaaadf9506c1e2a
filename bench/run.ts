/**
 * `npm run bench`: the local benchmark (endpoint asks/tells against a bare microtask mailbox), then the remote one
 * (flink-rpc against a raw TCP baseline, grpc-js and birpc, client and server in separate processes).
 * Tables go to stdout; JSON to `bench/results/local.json` and `bench/results/latest.json`.
 *
 *   npm run bench [-- --quick] [-- --local-only | --remote-only] [-- --only=raw,flink]
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatLocalTable, runLocalBench } from './local.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');

if (!args.includes('--remote-only')) {
  console.log('\n## Local RPC (one process): flink-rpc vs a bare per-object microtask mailbox\n');
  const local = await runLocalBench(quick);
  console.log(formatLocalTable(local));
  const path = fileURLToPath(new URL('./results/local.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(
    path,
    `${JSON.stringify(
      { date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, quick, results: local },
      null,
      2,
    )}\n`,
  );
  console.log(`\n(written to ${path})`);
}

if (!args.includes('--local-only')) {
  console.log('\n## Remote RPC (separate processes, loopback TCP)\n');
  const { runRemoteBench } = await import('./remote/run.js');
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  await runRemoteBench({ quick, ...(only ? { only } : {}) });
}
