/**
 * Metrics and tracing of calls, on both sides: a probe per client call (its duration and outcome, its client span)
 * and the observation of each handled message (its mailbox latency, its server span and handling duration).
 *
 * A service without a `metrics` registry and without an OpenTelemetry SDK has no `Observability` at all: the hot
 * paths then pay one null check. Whether an SDK is installed is asked once, when the service starts.
 */

import {
  type Context,
  context,
  createTraceState,
  isValidSpanId,
  isValidTraceId,
  ProxyTracerProvider,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { ResolvedRpcConfig } from '../config.js';
import type { MethodInfo } from '../gateway.js';
import type { ReplySink, TraceCarrier } from './messages.js';
import type { MethodMetrics, RpcMetrics } from './metrics.js';
import { RpcMetrics as Metrics } from './metrics.js';
import type { CallProbe } from './PendingAsk.js';

/** The `rpc.system` attribute of every span. */
export const RPC_SYSTEM = 'flink_rpc';

/** The provider a fresh proxy falls back to: the no-op one, for comparison. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** The tracer of a service, or null when nothing would record its spans. */
function tracerOf(tracing: boolean | TracerProvider): Tracer | null {
  if (tracing === false) return null;
  let provider = tracing === true ? trace.getTracerProvider() : tracing;
  if (provider instanceof ProxyTracerProvider) provider = provider.getDelegate();
  if (provider === NOOP_PROVIDER) return null;
  return provider.getTracer('flink-rpc');
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_TRACESTATE = 8192;

/** The W3C `traceparent` of a span context. */
function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The trace context of a call made in this process: the span context itself, so that a local endpoint uses it as
 * is; the W3C strings are made only when the transport reads them.
 */
class SpanCarrier implements TraceCarrier {
  constructor(readonly spanContext: SpanContext) {}
  get traceparent(): string {
    return formatTraceparent(this.spanContext);
  }
  get tracestate(): string | undefined {
    return this.spanContext.traceState?.serialize() || undefined;
  }
}

/** The remote parent a carrier names, or undefined when it is missing or malformed (it may come from a peer). */
export function parentOf(carrier: TraceCarrier | undefined): SpanContext | undefined {
  if (carrier === undefined) return undefined;
  if (carrier instanceof SpanCarrier) return carrier.spanContext;
  const { traceparent, tracestate } = carrier;
  if (typeof traceparent !== 'string' || traceparent.length > 256) return undefined;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null || match[1] === 'ff' || (match[1] === '00' && match[5] !== undefined)) return undefined;
  const traceId = match[2]!;
  const spanId = match[3]!;
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) return undefined;
  const parent: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(match[4]!, 16) & 1, isRemote: true };
  if (typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE) {
    parent.traceState = createTraceState(tracestate);
  }
  return parent;
}

function recordFailure(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

function attributesOf(info: MethodInfo, kind: 'ask' | 'tell') {
  return {
    'rpc.system': RPC_SYSTEM,
    'rpc.service': info.gateway,
    'rpc.method': info.name,
    'flink_rpc.message.kind': kind,
  };
}

/** A client call in flight: its start, its method's instruments, its span. */
class ClientProbe implements CallProbe {
  constructor(
    private readonly metrics: MethodMetrics | null,
    private readonly span: Span | null,
    private readonly started: number,
  ) {}

  private finish(): void {
    if (this.metrics !== null) this.metrics.clientDuration.observe((performance.now() - this.started) / 1000);
  }

  succeeded(): void {
    this.finish();
    this.metrics?.ok.inc();
    this.span?.end();
  }

  failed(error: unknown): void {
    this.finish();
    this.metrics?.countFailure(error);
    if (this.span !== null) {
      recordFailure(this.span, error);
      this.span.end();
    }
  }

  timedOut(): void {
    this.finish();
    this.metrics?.timeout.inc();
    if (this.span !== null) {
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
      this.span.end();
    }
  }

  cancelled(_reason: unknown): void {
    this.finish();
    this.metrics?.cancelled.inc();
    if (this.span !== null) {
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: 'cancelled' });
      this.span.end();
    }
  }
}

/** The reply side of an observed ask: ends the server span and records the handling time, then answers. */
class ObservedReply implements ReplySink {
  constructor(
    private readonly reply: ReplySink,
    private readonly metrics: MethodMetrics | null,
    private readonly span: Span | null,
    private readonly started: number,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.reply.signal;
  }

  private finish(error: unknown, failed: boolean): void {
    if (this.metrics !== null) this.metrics.serverDuration.observe((performance.now() - this.started) / 1000);
    if (this.span !== null) {
      if (failed) recordFailure(this.span, error);
      this.span.end();
    }
  }

  succeed(value: unknown): void {
    this.finish(undefined, false);
    this.reply.succeed(value);
  }

  fail(error: unknown): void {
    this.finish(error, true);
    this.reply.fail(error);
  }
}

/** What a handled message needs while it runs: its reply side (observed) and the context to run it in. */
export interface ServerObservation {
  readonly reply: ReplySink | null;
  /** Runs the method in the server span's context, so that calls it makes are children of that span. */
  run<T>(fn: () => T): T;
  /** For a tell: the method returned (or its promise settled). */
  done(error: unknown, failed: boolean): void;
}

class ServerCall implements ServerObservation {
  reply: ReplySink | null = null;
  constructor(
    private readonly metrics: MethodMetrics | null,
    private readonly span: Span | null,
    private readonly ctx: Context | null,
    private readonly started: number,
  ) {}

  run<T>(fn: () => T): T {
    return this.ctx === null ? fn() : context.with(this.ctx, fn);
  }

  done(error: unknown, failed: boolean): void {
    if (this.metrics !== null) this.metrics.serverDuration.observe((performance.now() - this.started) / 1000);
    if (this.span !== null) {
      if (failed) recordFailure(this.span, error);
      this.span.end();
    }
  }
}

/** The metrics and the tracer of one service. */
export class Observability {
  private constructor(
    readonly metrics: RpcMetrics | null,
    private readonly tracer: Tracer | null,
  ) {}

  /** The observability a configuration asks for, or null when there is nothing to measure or trace. */
  static of(config: Pick<ResolvedRpcConfig, 'metrics' | 'tracing'>): Observability | null {
    const metrics = config.metrics === undefined ? null : Metrics.of(config.metrics);
    const tracer = tracerOf(config.tracing);
    return metrics === null && tracer === null ? null : new Observability(metrics, tracer);
  }

  /** Starts observing an ask; returns its probe and sets the trace context it travels with. */
  startAsk(info: MethodInfo, envelope: { traceContext: TraceCarrier | undefined }): CallProbe {
    const metrics = this.metrics === null ? null : this.metrics.method(info);
    let span: Span | null = null;
    if (this.tracer !== null) {
      span = this.tracer.startSpan(
        `${info.gateway}/${info.name}`,
        { kind: SpanKind.CLIENT, attributes: attributesOf(info, 'ask') },
        context.active(),
      );
      envelope.traceContext = new SpanCarrier(span.spanContext());
    }
    return new ClientProbe(metrics, span, metrics === null ? 0 : performance.now());
  }

  /** Counts an ask refused before it was sent (an invalid argument, an already-aborted signal). */
  refusedAsk(info: MethodInfo, error: unknown, cancelled: boolean): void {
    if (this.metrics === null) return;
    const metrics = this.metrics.method(info);
    if (cancelled) metrics.cancelled.inc();
    else metrics.countFailure(error);
  }

  /** Observes a tell being sent: a client span that ends at once, and its count. */
  sendTell(info: MethodInfo, envelope: { traceContext: TraceCarrier | undefined }, send: () => void): void {
    let span: Span | null = null;
    if (this.tracer !== null) {
      span = this.tracer.startSpan(
        `${info.gateway}/${info.name}`,
        { kind: SpanKind.CLIENT, attributes: attributesOf(info, 'tell') },
        context.active(),
      );
      envelope.traceContext = new SpanCarrier(span.spanContext());
    }
    const metrics = this.metrics === null ? null : this.metrics.method(info);
    try {
      send();
    } catch (error) {
      metrics?.countFailure(error);
      if (span !== null) {
        recordFailure(span, error);
        span.end();
      }
      throw error;
    }
    metrics?.ok.inc();
    span?.end();
  }

  /** Starts observing the handling of an ask or tell at an endpoint. */
  startServer(info: MethodInfo, carrier: TraceCarrier | undefined, reply: ReplySink | null): ServerObservation {
    const metrics = this.metrics === null ? null : this.metrics.method(info);
    let span: Span | null = null;
    let ctx: Context | null = null;
    if (this.tracer !== null) {
      const parent = parentOf(carrier);
      const parentContext = parent === undefined ? context.active() : trace.setSpanContext(context.active(), parent);
      span = this.tracer.startSpan(
        `${info.gateway}/${info.name}`,
        { kind: SpanKind.SERVER, attributes: attributesOf(info, reply === null ? 'tell' : 'ask') },
        parentContext,
      );
      ctx = trace.setSpan(parentContext, span);
    }
    const started = metrics === null ? 0 : performance.now();
    const call = new ServerCall(metrics, span, ctx, started);
    if (reply !== null) call.reply = new ObservedReply(reply, metrics, span, started);
    return call;
  }
}
