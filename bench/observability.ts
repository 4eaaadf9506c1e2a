/**
 * The observability variants of flink-rpc that the benchmark compares, and how each is set up, shared by the local
 * rows (one process) and the remote ones (the flink-rpc adapter reads `FLINK_RPC_BENCH_VARIANT`):
 *
 * - `off`: `tracing: false`, no `metrics` — the floor every other variant is compared with;
 * - `default`: the defaults — tracing on through `@opentelemetry/api`, but no SDK installed, so the API is a no-op;
 * - `metrics`: a prom-client `Registry` as `metrics` (tracing off, to see the metrics alone);
 * - `tracing-sdk`: an OpenTelemetry SDK as an application would set it up: a `BasicTracerProvider` with a
 *   `BatchSpanProcessor` whose exporter drops the spans (so no I/O is measured), and the
 *   `AsyncLocalStorageContextManager` as the global context manager; the default sampler records every call (the
 *   worst case). The provider is handed over as `tracing: provider` rather than registered globally, so that the
 *   other variants in the same process keep seeing no SDK.
 *
 * Each variant also says afterwards whether it was in effect (metrics registered, spans ended), so a runtime that
 * ignores an option shows as "not in effect" instead of as a free feature.
 */

import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import type { RpcConfig } from '../src/index.js';

export const OBSERVABILITY_VARIANTS = ['off', 'default', 'metrics', 'tracing-sdk'] as const;
export type ObservabilityVariant = (typeof OBSERVABILITY_VARIANTS)[number];

export const VARIANT_LABELS: Record<ObservabilityVariant, string> = {
  off: 'flink-rpc, tracing: false',
  default: 'flink-rpc, defaults (tracing API, no SDK)',
  metrics: 'flink-rpc, metrics: Registry',
  'tracing-sdk': 'flink-rpc, tracing with an SDK',
};

/** A variant's service options and a probe of whether it took effect. */
export interface VariantSetup {
  config: RpcConfig;
  /** What the variant recorded so far: metric families or ended spans; undefined for variants that record nothing. */
  recorded(): Promise<number | undefined>;
}

let spansEnded = 0;
let sdk: BasicTracerProvider | undefined;

/** Sets up the tracing SDK, once per process (as an application does at startup). */
function tracingSdk(): BasicTracerProvider {
  if (sdk !== undefined) return sdk;
  const exporter = {
    export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
      spansEnded += spans.length;
      done({ code: 0 });
    },
    shutdown: async (): Promise<void> => {},
  };
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65_536, scheduledDelayMillis: 200 })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  sdk = provider;
  return provider;
}

/** The options of `variant`. */
export function observabilitySetup(variant: ObservabilityVariant): VariantSetup {
  switch (variant) {
    case 'off':
      return { config: { tracing: false }, recorded: async () => undefined };
    case 'default':
      return { config: {}, recorded: async () => undefined };
    case 'metrics': {
      const registry = new Registry();
      return {
        config: { tracing: false, metrics: registry },
        recorded: async () => (await registry.getMetricsAsJSON()).filter((m) => m.values.length > 0).length,
      };
    }
    case 'tracing-sdk': {
      const provider = tracingSdk();
      return {
        config: { tracing: provider },
        recorded: async () => {
          await provider.forceFlush();
          return spansEnded;
        },
      };
    }
  }
}

export function isObservabilityVariant(value: string | undefined): value is ObservabilityVariant {
  return (OBSERVABILITY_VARIANTS as readonly string[]).includes(value ?? '');
}
