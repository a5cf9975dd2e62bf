/**
 * The OpenTelemetry SDK, imported by common/tracing.ts only when tracing is on: a Node tracer
 * provider whose spans are batched to the OTLP/HTTP exporter. The exporter reads the standard
 * variables itself (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
 * OTEL_EXPORTER_OTLP_HEADERS, …) and sends OTLP/JSON to `<endpoint>/v1/traces`; the batch
 * processor reads OTEL_BSP_* (OTEL_BSP_SCHEDULE_DELAY: how long spans wait, 5 s by default).
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export function registerTracerProvider(options: {
  readonly service: string;
  readonly attributes?: Readonly<Record<string, string>>;
  readonly exporter?: SpanExporter;
}): NodeTracerProvider {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ ...options.attributes, [ATTR_SERVICE_NAME]: options.service }),
    spanProcessors: [
      options.exporter
        ? new SimpleSpanProcessor(options.exporter)
        : new BatchSpanProcessor(new OTLPTraceExporter()),
    ],
  });
  // Also sets the AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  return provider;
}
