/**
 * Local (single-process) benchmark: self-gateway asks, sequential and 256 in flight, and tell throughput, against a
 * bare baseline — a plain per-object microtask mailbox with a Promise per ask — in the same run, reported as ratios.
 *
 * Run: `npx tsx bench/local.ts [--quick]`
 */

import { gateway, RpcEndpoint, type RpcGateway, type RpcService, RpcSystem } from '../src/index.js';

export interface LocalResult {
  readonly workload: string;
  readonly system: string;
  readonly opsPerSec: number;
  readonly ratioToBaseline: number | null;
}

export interface EchoGateway extends RpcGateway {
  echo(value: number): Promise<number>;
  echoAsync(value: number): Promise<number>;
  tell(value: number): void;
  count(): Promise<number>;
}
export const EchoGateway = gateway<EchoGateway>('BenchEchoGateway', {
  echo: 'ask',
  echoAsync: 'ask',
  tell: 'tell',
  count: 'ask',
});

export class EchoEndpoint extends RpcEndpoint {
  static readonly gateways = [EchoGateway];
  private received = 0;
  /** Returns a plain value: the reply goes out within the same turn. */
  echo(value: number): number {
    return value;
  }
  /** Returns a promise, like most real RPC methods: the reply goes out when it settles. */
  echoAsync(value: number): Promise<number> {
    return Promise.resolve(value);
  }
  tell(_value: number): void {
    this.received++;
  }
  async count(): Promise<number> {
    return this.received;
  }
}

/** The bare baseline: one queue per object, drained in a microtask, a Promise per ask. Nothing else. */
export class BareMailbox {
  private queue: (() => void)[] = [];
  private scheduled = false;
  received = 0;
  private readonly drain = (): void => {
    const queue = this.queue;
    this.queue = [];
    this.scheduled = false;
    for (const task of queue) task();
  };
  private post(task: () => void): void {
    this.queue.push(task);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.drain);
    }
  }
  echo(value: number): Promise<number> {
    return new Promise((resolve) => this.post(() => resolve(value)));
  }
  echoAsync(value: number): Promise<number> {
    return new Promise((resolve) => this.post(() => void Promise.resolve(value).then(resolve)));
  }
  tell(_value: number): void {
    this.post(() => {
      this.received++;
    });
  }
  count(): Promise<number> {
    return new Promise((resolve) => this.post(() => resolve(this.received)));
  }
}

export type Target = Pick<EchoGateway, 'echo' | 'echoAsync' | 'tell' | 'count'>;

export async function sequential(target: Target, durationMs: number, asyncMethod = false): Promise<number> {
  let ops = 0;
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    if (asyncMethod) for (let i = 0; i < 1000; i++) await target.echoAsync(i);
    else for (let i = 0; i < 1000; i++) await target.echo(i);
    ops += 1000;
  }
  return ops;
}

export async function inFlight(target: Target, durationMs: number, concurrency: number): Promise<number> {
  let ops = 0;
  const end = performance.now() + durationMs;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) await target.echo(i);
      ops += 100;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return ops;
}

export async function tells(target: Target, durationMs: number): Promise<number> {
  const before = await target.count();
  const end = performance.now() + durationMs;
  let sent = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 10_000; i++) target.tell(i);
    sent += 10_000;
    // Let the mailbox drain so the queue does not grow without bound.
    await target.count();
  }
  const after = await target.count();
  if (after - before !== sent) throw new Error(`tells lost: sent ${sent}, received ${after - before}`);
  return sent;
}

async function measure(run: () => Promise<number>): Promise<number> {
  await run(); // warm-up with the same shape
  const started = performance.now();
  const ops = await run();
  return ops / ((performance.now() - started) / 1000);
}

export async function runLocalBench(quick = false): Promise<LocalResult[]> {
  const duration = quick ? 300 : 1500;
  const service: RpcService = await RpcSystem.load().localServiceBuilder({}).createAndStart();
  const tracedService: RpcService = await RpcSystem.load()
    .localServiceBuilder({ captureAskCallStack: true })
    .createAndStart();
  try {
    const endpoint = new EchoEndpoint(service);
    endpoint.start();
    const self = endpoint.getSelfGateway(EchoGateway);
    const tracedEndpoint = new EchoEndpoint(tracedService);
    tracedEndpoint.start();
    const traced = tracedEndpoint.getSelfGateway(EchoGateway);
    const bare = new BareMailbox();

    const workloads: [string, (t: Target) => Promise<number>][] = [
      ['ask, sequential', (t) => sequential(t, duration)],
      ['ask (async method), sequential', (t) => sequential(t, duration, true)],
      ['ask, 256 in flight', (t) => inFlight(t, duration, 256)],
      ['tell throughput', (t) => tells(t, duration)],
    ];
    const results: LocalResult[] = [];
    for (const [workload, run] of workloads) {
      const baseline = await measure(() => run(bare));
      results.push({ workload, system: 'bare mailbox (baseline)', opsPerSec: baseline, ratioToBaseline: 1 });
      const flink = await measure(() => run(self));
      results.push({ workload, system: 'flink-rpc', opsPerSec: flink, ratioToBaseline: flink / baseline });
      const withStack = await measure(() => run(traced));
      results.push({
        workload,
        system: 'flink-rpc, captureAskCallStack',
        opsPerSec: withStack,
        ratioToBaseline: withStack / baseline,
      });
    }
    return results;
  } finally {
    await service.closeAsync();
    await tracedService.closeAsync();
  }
}

export function formatLocalTable(results: readonly LocalResult[]): string {
  const lines = [
    '| workload | system | ops/s | × baseline |',
    '|---|---|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.workload} | ${r.system} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${
          r.ratioToBaseline === null ? '' : r.ratioToBaseline.toFixed(2)
        } |`,
    ),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runLocalBench(process.argv.includes('--quick'));
  console.log(formatLocalTable(results));
  console.log(JSON.stringify(results));
}
