/**
 * The RPC metrics in a prom-client registry: what the runtime measures (client calls, server handling, mailboxes)
 * and the instruments it hands the transport (connections, bytes, rejected frames). One set per registry, so that
 * several services can report into the same one. Labels name gateways, methods and endpoint classes, never
 * endpoint ids or addresses (their number is unbounded).
 */

import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import { FencingTokenException, RecipientUnreachableException, RpcTimeoutException } from '../errors.js';
import type { MethodInfo } from '../gateway.js';

/** The outcome label of a client call. */
export type CallOutcome = 'ok' | 'error' | 'timeout' | 'unreachable' | 'fencing' | 'cancelled';

/** What the transport reports into; it gets this through `TransportHost.metrics` (null when metrics are off). */
export interface TransportMetrics {
  /** Connections by `direction` (`inbound`, `outbound`) and `state` (the transport's own state names). */
  readonly connections: Gauge<'direction' | 'state'>;
  /** Bytes read from sockets. */
  readonly bytesReceived: Counter;
  /** Bytes written to sockets. */
  readonly bytesSent: Counter;
  /** Frames refused, by `reason` (a short fixed word such as `too_large`, `malformed`, `over_budget`). */
  readonly framesRejected: Counter<'reason'>;
}

/** Latency buckets in seconds, from 50 µs (a local ask) to 30 s (beyond any sensible ask timeout). */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

type Labels = Readonly<Record<string, string>>;

/** One sample as the registry reads it. */
interface Sample {
  readonly metricName?: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/** What the registry reads from a metric when it is scraped. */
interface Scraped {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: Sample[];
}

/** One labelled count. */
export class CounterCell {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(): void {
    this.value++;
  }
}

/** One labelled histogram: a count per bucket (not cumulative), the sum and the count. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/**
 * A labelled metric kept as plain numbers per label set and handed to the registry only when it is scraped.
 * prom-client's own instruments validate and hash their labels on every update (about a microsecond each), too
 * much for a path that runs per call; these cost an add.
 */
abstract class CellMetric<C extends { labels: Labels }> {
  readonly aggregator = 'sum';
  protected readonly cells = new Map<string, C>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The cell of a label set (made on first use; callers keep it). */
  cell(labels: Labels): C {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = this.create(labels);
      this.cells.set(key, cell);
    }
    return cell;
  }

  protected abstract create(labels: Labels): C;
  abstract reset(): void;
  abstract get(): Promise<Scraped>;
}

class CellCounter extends CellMetric<CounterCell> {
  constructor(name: string, help: string, registry: Registry) {
    super(name, help, 'counter', registry);
  }
  protected create(labels: Labels): CounterCell {
    return new CounterCell(labels);
  }
  reset(): void {
    for (const cell of this.cells.values()) cell.value = 0;
  }
  async get(): Promise<Scraped> {
    const values = [...this.cells.values()].map((cell) => ({ labels: { ...cell.labels }, value: cell.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

class CellHistogram extends CellMetric<HistogramCell> {
  constructor(
    name: string,
    help: string,
    registry: Registry,
    private readonly bounds: readonly number[],
  ) {
    super(name, help, 'histogram', registry);
  }
  protected create(labels: Labels): HistogramCell {
    return new HistogramCell(labels, this.bounds);
  }
  reset(): void {
    for (const cell of this.cells.values()) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
  async get(): Promise<Scraped> {
    const values: Sample[] = [];
    for (const cell of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += cell.counts[i]!;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...cell.labels, le: this.bounds[i]! },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...cell.labels, le: '+Inf' }, value: cell.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...cell.labels }, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...cell.labels }, value: cell.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** The instruments of one method, bound to its labels once (a labelled lookup per call would cost a hash). */
export class MethodMetrics {
  readonly ok: CounterCell;
  readonly error: CounterCell;
  readonly timeout: CounterCell;
  readonly unreachable: CounterCell;
  readonly fencing: CounterCell;
  readonly cancelled: CounterCell;
  readonly clientDuration: HistogramCell;
  readonly serverDuration: HistogramCell;

  constructor(metrics: RpcMetrics, info: MethodInfo) {
    const labels = { gateway: info.gateway, method: info.name };
    const calls = metrics.clientCalls;
    this.ok = calls.cell({ ...labels, outcome: 'ok' });
    this.error = calls.cell({ ...labels, outcome: 'error' });
    this.timeout = calls.cell({ ...labels, outcome: 'timeout' });
    this.unreachable = calls.cell({ ...labels, outcome: 'unreachable' });
    this.fencing = calls.cell({ ...labels, outcome: 'fencing' });
    this.cancelled = calls.cell({ ...labels, outcome: 'cancelled' });
    this.clientDuration = metrics.clientDuration.cell(labels);
    this.serverDuration = metrics.serverDuration.cell(labels);
  }

  /** Counts a failed client call under the outcome its error stands for. */
  countFailure(error: unknown): void {
    if (error instanceof RpcTimeoutException) this.timeout.inc();
    else if (error instanceof RecipientUnreachableException) this.unreachable.inc();
    else if (error instanceof FencingTokenException) this.fencing.inc();
    else this.error.inc();
  }
}

/** Something that holds mailboxes: asked for their sizes when the registry is scraped. */
export interface MailboxSource {
  /** Calls `add(endpointClass, queuedMessages)` for each of its mailboxes. */
  reportMailboxes(add: (endpointClass: string, size: number) => void): void;
}

const byRegistry = new WeakMap<Registry, RpcMetrics>();

/** The RPC metrics of one registry. */
export class RpcMetrics implements TransportMetrics {
  readonly clientCalls: CellMetric<CounterCell>;
  readonly clientDuration: CellMetric<HistogramCell>;
  readonly serverDuration: CellMetric<HistogramCell>;
  readonly mailboxSize: Gauge<'endpoint_class'>;
  readonly mailboxLatency: CellMetric<HistogramCell>;
  readonly connections: Gauge<'direction' | 'state'>;
  readonly bytesReceived: Counter;
  readonly bytesSent: Counter;
  readonly framesRejected: Counter<'reason'>;
  private readonly methods = new WeakMap<MethodInfo, MethodMetrics>();
  private readonly classes = new Map<string, HistogramCell>();
  private readonly sources = new Set<MailboxSource>();

  /** The metrics registered in `registry`, created on first use. */
  static of(registry: Registry): RpcMetrics {
    let metrics = byRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new RpcMetrics(registry);
      byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.clientCalls = new CellCounter(
      'flink_rpc_client_calls_total',
      'RPC calls made through gateway proxies (asks and tells), by gateway, method and outcome.',
      registry,
    );
    this.clientDuration = new CellHistogram(
      'flink_rpc_client_call_duration_seconds',
      'Time from an ask to its answer (or failure) at the caller, by gateway and method.',
      registry,
      LATENCY_BUCKETS,
    );
    this.serverDuration = new CellHistogram(
      'flink_rpc_server_handling_duration_seconds',
      'Time an endpoint takes to handle a call, from the start of its method to its result, by gateway and method.',
      registry,
      LATENCY_BUCKETS,
    );
    const sources = this.sources;
    this.mailboxSize = new Gauge({
      name: 'flink_rpc_mailbox_size',
      help: 'Messages queued in the mailboxes of endpoints, by endpoint class.',
      labelNames: ['endpoint_class'],
      registers,
      collect() {
        this.reset();
        const sizes = new Map<string, number>();
        for (const source of sources) {
          source.reportMailboxes((cls, size) => sizes.set(cls, (sizes.get(cls) ?? 0) + size));
        }
        for (const [cls, size] of sizes) this.set({ endpoint_class: cls }, size);
      },
    });
    this.mailboxLatency = new CellHistogram(
      'flink_rpc_mailbox_latency_seconds',
      'Time a message waits in its mailbox, from enqueue to the start of its handling, by endpoint class.',
      registry,
      LATENCY_BUCKETS,
    );
    this.connections = new Gauge({
      name: 'flink_rpc_transport_connections',
      help: 'Network connections, by direction and state.',
      labelNames: ['direction', 'state'],
      registers,
    });
    this.bytesReceived = new Counter({
      name: 'flink_rpc_transport_received_bytes_total',
      help: 'Bytes received over RPC connections.',
      registers,
    });
    this.bytesSent = new Counter({
      name: 'flink_rpc_transport_sent_bytes_total',
      help: 'Bytes sent over RPC connections.',
      registers,
    });
    this.framesRejected = new Counter({
      name: 'flink_rpc_transport_frames_rejected_total',
      help: 'Frames refused by the transport, by reason.',
      labelNames: ['reason'],
      registers,
    });
  }

  /** The instruments of `info`. */
  method(info: MethodInfo): MethodMetrics {
    let metrics = this.methods.get(info);
    if (metrics === undefined) {
      metrics = new MethodMetrics(this, info);
      this.methods.set(info, metrics);
    }
    return metrics;
  }

  /** The mailbox latency histogram of an endpoint class. */
  mailboxLatencyOf(endpointClass: string): HistogramCell {
    let histogram = this.classes.get(endpointClass);
    if (histogram === undefined) {
      histogram = this.mailboxLatency.cell({ endpoint_class: endpointClass });
      this.classes.set(endpointClass, histogram);
    }
    return histogram;
  }

  addMailboxSource(source: MailboxSource): void {
    this.sources.add(source);
  }

  removeMailboxSource(source: MailboxSource): void {
    this.sources.delete(source);
  }
}
