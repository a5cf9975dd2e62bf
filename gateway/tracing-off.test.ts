/**
 * Tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset) costs nothing: a gateway serves a read and a
 * write without loading any OpenTelemetry module but the API, whose tracer records nothing. A
 * module hook sees every module this process resolves, so the project's modules are imported
 * dynamically, after it is in place. The last test turns tracing on and sees the SDK load (the
 * hook would notice it).
 */
import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';
import { test } from 'node:test';

const resolved: string[] = [];
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    resolved.push(result.url);
    return result;
  },
});
const openTelemetryBeyondTheApi = () =>
  resolved.filter((url) => url.includes('/@opentelemetry/') && !url.includes('/@opentelemetry/api/'));

test('unset, no OpenTelemetry SDK is loaded and no span is recorded, through a read and a write', async () => {
  const { parseConfig } = await import('../common/config.js');
  const { createLogger } = await import('../common/logger.js');
  const { startTracing, tracingOn } = await import('../common/tracing.js');
  const { freePort } = await import('../test-support/postgres.js');
  const { gatewayConfigSchema } = await import('./config.js');
  const { startGatewayServer } = await import('./gateway-server.js');
  const { trace } = await import('@opentelemetry/api');

  const url = `http://127.0.0.1:${await freePort()}`;
  const config = parseConfig(gatewayConfigSchema, {
    GATEWAY_URL: url,
    NODE_URLS: `http://127.0.0.1:${await freePort()}`,
    CLUSTER_SECRET: 'tracing-off-secret-0123456789',
    API_TOKEN: 'tracing-off-token-0123456789',
    LEADER_WAIT_MS: '100',
  });
  assert.equal(config.otlpEndpoint, null);
  const tracing = await startTracing({ service: 'ensemble-gateway', endpoint: config.otlpEndpoint });
  assert.equal(tracing.on, false);
  assert.equal(tracingOn(), false);
  const gateway = await startGatewayServer(config, createLogger('gateway', 'silent'));
  try {
    const post = (query: string) =>
      fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer tracing-off-token-0123456789',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        },
        body: JSON.stringify({ query }),
      });
    // A read forwarded to a node (down: refused), a write waiting for a leader (none), the gateway's own field.
    assert.equal((await post('{ tasks { edges { cursor } } }')).status, 503);
    assert.equal((await post('mutation { createTask(input: { title: "t" }) { id } }')).status, 503);
    assert.equal((await post('{ cluster { term } }')).status, 200);
  } finally {
    await gateway.stop();
  }
  assert.deepEqual(openTelemetryBeyondTheApi(), []);
  assert.ok(
    resolved.some((u) => u.includes('/@opentelemetry/api/')),
    'the API is loaded (the code calls it)',
  );
  const span = trace.getTracer('check').startSpan('check');
  assert.equal(span.isRecording(), false, 'the global tracer is the no-op');
  span.end();
});

test('set, the SDK is loaded and spans are recorded (so the check above can fail)', async () => {
  const { startTracing, tracingOn } = await import('../common/tracing.js');
  const { trace } = await import('@opentelemetry/api');
  const tracing = await startTracing({ service: 'ensemble-gateway', endpoint: 'http://127.0.0.1:9' });
  try {
    assert.equal(tracingOn(), true);
    assert.ok(openTelemetryBeyondTheApi().some((u) => u.includes('/@opentelemetry/sdk-trace-node/')));
    // Not ended: nothing is sent to the (closed) endpoint.
    assert.equal(trace.getTracer('check').startSpan('check').isRecording(), true);
  } finally {
    await tracing.shutdown();
  }
});
