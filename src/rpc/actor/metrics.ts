/**
 * The RPC metrics in a prom-client registry: what the runtime measures (client calls, server handling, mailboxes)
 * and the instruments it hands the transport (connections, bytes, rejected frames). One set per registry, so that
 * several services can report into the same one. Labels name gateways, methods and endpoint classes, never
 * endpoint ids or addresses (their number is unbounded).
 */

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
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

/** The instruments of one method, bound to its labels once (a labelled lookup per call would cost a hash). */
export class MethodMetrics {
  readonly ok: Counter.Internal;
  readonly error: Counter.Internal;
  readonly timeout: Counter.Internal;
  readonly unreachable: Counter.Internal;
  readonly fencing: Counter.Internal;
  readonly cancelled: Counter.Internal;
  readonly clientDuration: Histogram.Internal<'gateway' | 'method'>;
  readonly serverDuration: Histogram.Internal<'gateway' | 'method'>;

  constructor(metrics: RpcMetrics, info: MethodInfo) {
    const labels = { gateway: info.gateway, method: info.name };
    const calls = metrics.clientCalls;
    this.ok = calls.labels({ ...labels, outcome: 'ok' });
    this.error = calls.labels({ ...labels, outcome: 'error' });
    this.timeout = calls.labels({ ...labels, outcome: 'timeout' });
    this.unreachable = calls.labels({ ...labels, outcome: 'unreachable' });
    this.fencing = calls.labels({ ...labels, outcome: 'fencing' });
    this.cancelled = calls.labels({ ...labels, outcome: 'cancelled' });
    this.clientDuration = metrics.clientDuration.labels(labels);
    this.serverDuration = metrics.serverDuration.labels(labels);
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
  readonly clientCalls: Counter<'gateway' | 'method' | 'outcome'>;
  readonly clientDuration: Histogram<'gateway' | 'method'>;
  readonly serverDuration: Histogram<'gateway' | 'method'>;
  readonly mailboxSize: Gauge<'endpoint_class'>;
  readonly mailboxLatency: Histogram<'endpoint_class'>;
  readonly connections: Gauge<'direction' | 'state'>;
  readonly bytesReceived: Counter;
  readonly bytesSent: Counter;
  readonly framesRejected: Counter<'reason'>;
  private readonly methods = new WeakMap<MethodInfo, MethodMetrics>();
  private readonly classes = new Map<string, Histogram.Internal<'endpoint_class'>>();
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
    this.clientCalls = new Counter({
      name: 'flink_rpc_client_calls_total',
      help: 'RPC calls made through gateway proxies (asks and tells), by gateway, method and outcome.',
      labelNames: ['gateway', 'method', 'outcome'],
      registers,
    });
    this.clientDuration = new Histogram({
      name: 'flink_rpc_client_call_duration_seconds',
      help: 'Time from an ask to its answer (or failure) at the caller, by gateway and method.',
      labelNames: ['gateway', 'method'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.serverDuration = new Histogram({
      name: 'flink_rpc_server_handling_duration_seconds',
      help: 'Time an endpoint takes to handle a call, from the start of its method to its result, by gateway and method.',
      labelNames: ['gateway', 'method'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
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
    this.mailboxLatency = new Histogram({
      name: 'flink_rpc_mailbox_latency_seconds',
      help: 'Time a message waits in its mailbox, from enqueue to the start of its handling, by endpoint class.',
      labelNames: ['endpoint_class'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
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
  mailboxLatencyOf(endpointClass: string): Histogram.Internal<'endpoint_class'> {
    let histogram = this.classes.get(endpointClass);
    if (histogram === undefined) {
      histogram = this.mailboxLatency.labels({ endpoint_class: endpointClass });
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
