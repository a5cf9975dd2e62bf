/**
 * OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. Off, nothing but
 * `@opentelemetry/api` is ever loaded: its tracer is a no-op, and the hot paths do not even call
 * it (they ask `tracingOn()` first). On, the SDK (tracing-sdk.ts) is imported once at start and
 * registered as the global tracer provider, with the W3C trace-context propagator and
 * AsyncLocalStorage as the context manager — spans are made by hand (common/spans.ts), so no
 * require hook or `--import` loader is needed under ESM.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

let on = false;

/** Whether this process records spans (startTracing was called with an endpoint or an exporter). */
export function tracingOn(): boolean {
  return on;
}

export interface Tracing {
  readonly on: boolean;
  /** Sends the spans still buffered, then stops recording (at the process's stop). */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { on: false, shutdown: async () => {} };

export async function startTracing(options: {
  /** `service.name` of this process's spans: ensemble-gateway, ensemble-node, … */
  readonly service: string;
  /** The validated OTEL_EXPORTER_OTLP_ENDPOINT; null or undefined: tracing stays off. */
  readonly endpoint: string | null | undefined;
  /** More resource attributes (a node's id). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Spans go here instead of OTLP, each as it ends (tests: an InMemorySpanExporter). */
  readonly exporter?: SpanExporter;
}): Promise<Tracing> {
  if (!options.endpoint && !options.exporter) return OFF;
  if (on) throw new Error('startTracing: tracing is already started in this process');
  const { registerTracerProvider } = await import('./tracing-sdk.js');
  const provider = registerTracerProvider(options);
  on = true;
  return {
    on: true,
    async shutdown() {
      on = false;
      await provider.shutdown();
    },
  };
}
