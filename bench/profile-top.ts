/**
 * The functions that took the most CPU in V8 CPU profiles (`.cpuprofile`, as written by `--cpu-prof`, e.g. by
 * `npm run bench:profile`): self time per function, summed over the profile, heaviest first, with its share of the
 * busy (not idle) time. Startup (module loading, tsx) is part of it; it weighs less the more rounds were run.
 *
 *   npx tsx bench/profile-top.ts <file.cpuprofile | directory> [--top=30] [--filter=src/]
 *
 * With a directory, each profile under it is summarised in turn (the bench writes a directory per process and a
 * file per thread: the main thread's is the busy one; the other is tsx's module loader).
 * `--filter` keeps only functions whose source URL contains the text (e.g. `src/` for flink-rpc's own code).
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time per function (µs), from the samples and their time deltas. */
export function selfTimes(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const times = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]!);
    if (node === undefined) continue;
    // A sample's time is the gap to the next one.
    const us = deltas[i + 1] ?? 0;
    const key = describe(node);
    times.set(key, (times.get(key) ?? 0) + us);
  }
  return times;
}

function describe(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName === '' ? '(anonymous)' : functionName;
  if (url === '') return name;
  const short = url.replace(/^file:\/\//, '').replace(/^.*?\/(src|bench|node_modules)\//, '$1/');
  return `${name}  ${short}:${lineNumber + 1}`;
}

function summarize(path: string, top: number, filter: string | undefined): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const times = selfTimes(profile);
  // A process of the benchmark waits while the other systems are measured: shares are of the time it was busy.
  const idle = times.get('(idle)') ?? 0;
  times.delete('(idle)');
  const total = [...times.values()].reduce((a, b) => a + b, 0);
  const rows = [...times.entries()]
    .filter(([key]) => filter === undefined || key.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  const lines = [`${path}: ${(total / 1000).toFixed(0)} ms busy (${(idle / 1000).toFixed(0)} ms idle)`];
  for (const [key, us] of rows) {
    lines.push(`  ${(us / 1000).toFixed(1).padStart(8)} ms  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
  }
  return lines.join('\n');
}

const args = process.argv.slice(2);
const target = args.find((a) => !a.startsWith('--'));
if (target === undefined) {
  console.error('usage: profile-top.ts <file.cpuprofile | directory> [--top=30] [--filter=src/]');
  process.exit(2);
}
const top = Number(args.find((a) => a.startsWith('--top='))?.slice('--top='.length) ?? 30);
const filter = args.find((a) => a.startsWith('--filter='))?.slice('--filter='.length);
/** Every `.cpuprofile` under `path` (the bench writes a directory per process, a file per thread). */
function profilesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => {
      const child = join(path, name);
      if (statSync(child).isDirectory()) return profilesUnder(child);
      return name.endsWith('.cpuprofile') ? [child] : [];
    });
}
const files = profilesUnder(target);
for (const file of files) console.log(`${summarize(file, top, filter)}\n`);
