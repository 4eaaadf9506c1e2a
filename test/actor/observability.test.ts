import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FencingTokenException,
  gateway,
  RecipientUnreachableException,
  RpcEndpoint,
  type RpcGateway,
  type RpcService,
  RpcTimeoutException,
} from '../../src/index.js';
import { LeaderEndpoint, LeaderGateway } from '../fixtures/fenced.js';
import { localService, sleep } from '../fixtures/hello.js';

interface ShopGateway extends RpcGateway {
  price(item: string): Promise<number>;
  hang(signal?: AbortSignal): Promise<void>;
  slow(timeoutMs: number): Promise<void>;
  record(event: string): void;
  relay(item: string): Promise<number>;
}
const ShopGateway = gateway<ShopGateway>('ShopGateway', {
  price: 'ask',
  hang: { signalArg: 0 },
  slow: { timeoutArg: 0 },
  record: 'tell',
  relay: 'ask',
});

class ShopEndpoint extends RpcEndpoint implements ShopGateway {
  static readonly gateways = [ShopGateway];
  readonly events: string[] = [];
  next: ShopGateway | undefined;
  async price(item: string): Promise<number> {
    if (item === 'unknown') throw new Error(`no price for ${item}`);
    return item.length;
  }
  hang(): Promise<void> {
    return new Promise(() => {});
  }
  slow(): Promise<void> {
    return new Promise(() => {});
  }
  record(event: string): void {
    this.events.push(event);
  }
  async relay(item: string): Promise<number> {
    return (await this.next!.price(item)) * 10;
  }
}

const services: RpcService[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.closeAsync();
});

async function serviceWith(config: object): Promise<RpcService> {
  const service = await localService(config);
  services.push(service);
  return service;
}

function started(service: RpcService): { endpoint: ShopEndpoint; gw: ShopGateway } {
  const endpoint = new ShopEndpoint(service);
  endpoint.start();
  return { endpoint, gw: endpoint.getSelfGateway(ShopGateway) };
}

async function values(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  expect(metric, name).toBeDefined();
  return (await metric!.get()).values;
}

describe('metrics (prom-client)', () => {
  it('counts client calls by outcome and records call, handling and mailbox times, with no ids as labels', async () => {
    const registry = new Registry();
    const service = await serviceWith({ metrics: registry });
    const { endpoint, gw } = started(service);
    await gw.price('tea');
    await gw.price('coffee');
    await expect(gw.price('unknown')).rejects.toThrow('no price');
    await expect(gw.slow(5)).rejects.toBeInstanceOf(RpcTimeoutException);
    const controller = new AbortController();
    const hanging = gw.hang(controller.signal);
    controller.abort();
    await expect(hanging).rejects.toMatchObject({ name: 'AbortError' });
    gw.record('seen');
    const gone = started(service);
    await gone.endpoint.closeAsync();
    await expect(gone.gw.price('tea')).rejects.toBeInstanceOf(RecipientUnreachableException);
    const leader = new LeaderEndpoint(service, 'token-a');
    leader.start();
    const wrongToken = await service.connect(leader.getAddress(), 'token-b', LeaderGateway);
    await expect(wrongToken.whoAmI()).rejects.toBeInstanceOf(FencingTokenException);
    await sleep(1);
    expect(endpoint.events).toEqual(['seen']);

    const calls = await values(registry, 'flink_rpc_client_calls_total');
    const count = (gatewayName: string, method: string, outcome: string) =>
      calls.find((v) => v.labels.gateway === gatewayName && v.labels.method === method && v.labels.outcome === outcome)
        ?.value ?? 0;
    expect(count('ShopGateway', 'price', 'ok')).toBe(2);
    expect(count('ShopGateway', 'price', 'error')).toBe(1);
    expect(count('ShopGateway', 'price', 'unreachable')).toBe(1);
    expect(count('ShopGateway', 'slow', 'timeout')).toBe(1);
    expect(count('ShopGateway', 'hang', 'cancelled')).toBe(1);
    expect(count('ShopGateway', 'record', 'ok')).toBe(1);
    expect(count('LeaderGateway', 'whoAmI', 'fencing')).toBe(1);

    const durations = await values(registry, 'flink_rpc_client_call_duration_seconds');
    const priceCount = durations.find(
      (v) =>
        (v as { metricName?: string }).metricName === 'flink_rpc_client_call_duration_seconds_count' &&
        v.labels.method === 'price',
    );
    expect(priceCount?.value).toBe(4);
    const handling = await values(registry, 'flink_rpc_server_handling_duration_seconds');
    const handled = handling.find(
      (v) =>
        (v as { metricName?: string }).metricName === 'flink_rpc_server_handling_duration_seconds_count' &&
        v.labels.method === 'price',
    );
    // The call to the terminated endpoint never reached it.
    expect(handled?.value).toBe(3);
    const latency = await values(registry, 'flink_rpc_mailbox_latency_seconds');
    const shopLatency = latency.find(
      (v) =>
        (v as { metricName?: string }).metricName === 'flink_rpc_mailbox_latency_seconds_count' &&
        v.labels.endpoint_class === 'ShopEndpoint',
    );
    expect(shopLatency?.value).toBeGreaterThanOrEqual(7);

    const text = await registry.metrics();
    expect(text).not.toContain(endpoint.getEndpointId());
    expect(text).not.toContain('rpc://');
  });

  it('reports the mailbox size per endpoint class, and services may share one registry', async () => {
    const registry = new Registry();
    const first = await serviceWith({ metrics: registry });
    const second = await serviceWith({ metrics: registry });
    const a = started(first);
    const b = started(second);
    await sleep(1);
    for (let i = 0; i < 3; i++) a.gw.record('a');
    for (let i = 0; i < 4; i++) b.gw.record('b');
    // Read while the seven tells are still queued (the registry collects synchronously when asked).
    const sizes = registry.getSingleMetric('flink_rpc_mailbox_size')!.get();
    const shop = (await sizes).values.find((v) => v.labels.endpoint_class === 'ShopEndpoint');
    expect(shop?.value).toBe(7);
    await sleep(1);
    const after = (await registry.getSingleMetric('flink_rpc_mailbox_size')!.get()).values;
    expect(after.find((v) => v.labels.endpoint_class === 'ShopEndpoint')?.value).toBe(0);
  });

  it('refuses something that is not a registry', async () => {
    await expect(localService({ metrics: {} })).rejects.toThrow(/metrics must be a prom-client Registry/);
  });
});

describe('tracing (OpenTelemetry)', () => {
  function tracing(): { provider: BasicTracerProvider; exporter: InMemorySpanExporter } {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    return { provider, exporter };
  }

  function named(spans: ReadableSpan[], name: string, kind: SpanKind): ReadableSpan[] {
    return spans.filter((s) => s.name === name && s.kind === kind);
  }

  it('a client span per ask and tell, a server span per handled call, in one trace, with RPC attributes', async () => {
    const { provider, exporter } = tracing();
    const service = await serviceWith({ tracing: provider });
    const { gw } = started(service);
    await gw.price('tea');
    await expect(gw.price('unknown')).rejects.toThrow();
    gw.record('x');
    await sleep(1);
    const spans = exporter.getFinishedSpans();
    const clients = named(spans, 'ShopGateway/price', SpanKind.CLIENT);
    const servers = named(spans, 'ShopGateway/price', SpanKind.SERVER);
    expect(clients).toHaveLength(2);
    expect(servers).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      expect(servers[i]!.spanContext().traceId).toBe(clients[i]!.spanContext().traceId);
      expect(servers[i]!.parentSpanContext?.spanId).toBe(clients[i]!.spanContext().spanId);
    }
    expect(clients[0]!.attributes).toMatchObject({
      'rpc.system': 'flink_rpc',
      'rpc.service': 'ShopGateway',
      'rpc.method': 'price',
    });
    expect(clients[1]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(servers[1]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(servers[1]!.events.some((e) => e.name === 'exception')).toBe(true);
    expect(named(spans, 'ShopGateway/record', SpanKind.CLIENT)).toHaveLength(1);
    expect(named(spans, 'ShopGateway/record', SpanKind.SERVER)).toHaveLength(1);
  });

  it('calls made by an endpoint method are children of its server span (with a context manager)', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const { provider, exporter } = tracing();
      const service = await serviceWith({ tracing: provider });
      const front = started(service);
      const back = started(service);
      front.endpoint.next = back.gw;
      await expect(front.gw.relay('tea')).resolves.toBe(30);
      const spans = exporter.getFinishedSpans();
      const relayServer = named(spans, 'ShopGateway/relay', SpanKind.SERVER)[0]!;
      const priceClient = named(spans, 'ShopGateway/price', SpanKind.CLIENT)[0]!;
      const priceServer = named(spans, 'ShopGateway/price', SpanKind.SERVER)[0]!;
      expect(priceClient.parentSpanContext?.spanId).toBe(relayServer.spanContext().spanId);
      expect(priceServer.parentSpanContext?.spanId).toBe(priceClient.spanContext().spanId);
      expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    } finally {
      context.disable();
    }
  });

  it('uses the global provider an application registered before the service started, and nothing without one', async () => {
    const bare = await serviceWith({});
    expect((bare as unknown as { context: { observability: unknown } }).context.observability).toBeNull();
    const { provider, exporter } = tracing();
    trace.setGlobalTracerProvider(provider);
    try {
      const service = await serviceWith({});
      await started(service).gw.price('tea');
      expect(named(exporter.getFinishedSpans(), 'ShopGateway/price', SpanKind.SERVER)).toHaveLength(1);
      const off = await serviceWith({ tracing: false });
      await started(off).gw.price('tea');
      expect(exporter.getFinishedSpans()).toHaveLength(2);
    } finally {
      trace.disable();
    }
  });
});
