/**
 * Traces across processes: the gateway in this process (its spans in an InMemorySpanExporter),
 * a real 3-node cluster in child processes sending theirs over OTLP/HTTP to a receiver in this
 * test (test-support/otlp-receiver.ts). A write through the gateway is one trace from the
 * client's `traceparent` down to the append transaction; writes batched into one request to the
 * leader keep each its caller's trace.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { inSpan } from '../common/spans.js';
import { startTracing, type Tracing } from '../common/tracing.js';
import type { LocalCluster } from '../launcher/local-cluster.js';
import { freePortRange } from '../test-support/free-port-range.js';
import {
  gatewayCluster,
  gatewayLeader,
  gatewayUrlOf,
  startInProcessGateway,
} from '../test-support/gateway-stack.js';
import { type OtlpReceiver, type SpanRecord, startOtlpReceiver } from '../test-support/otlp-receiver.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import type { GatewayServer } from './gateway-server.js';

const TOKEN = 'tracing-test-token-0123456789';
const SECRET = 'tracing-test-secret-0123456789';

/** Tells the test each time the gateway's spans are exported. */
class NotifyingExporter extends InMemorySpanExporter {
  constructor(private readonly onExport: () => void) {
    super();
  }
  override export(spans: ReadableSpan[], done: Parameters<InMemorySpanExporter['export']>[1]): void {
    super.export(spans, done);
    this.onExport();
  }
}

let pg: TestPostgres;
let receiver: OtlpReceiver;
let tracing: Tracing;
let gateway: GatewayServer;
let cluster: LocalCluster;
let gatewayUrl: string;
const waiting = new Set<() => void>();
const changed = () => {
  for (const check of waiting) check();
};
const exporter = new NotifyingExporter(changed);

function allSpans(): SpanRecord[] {
  const own = exporter.getFinishedSpans().map(
    (s): SpanRecord => ({
      service: String(s.resource.attributes['service.name']),
      name: s.name,
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      parentSpanId: s.parentSpanContext?.spanId ?? '',
      attributes: s.attributes,
      links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    }),
  );
  return [...own, ...receiver.spans];
}

/** Resolves once `ready` holds of the spans recorded so far (checked as each export arrives). */
function spansWhen(
  ready: (spans: SpanRecord[]) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<SpanRecord[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(check);
      reject(new Error(`no ${what} within ${timeoutMs} ms; spans: ${describe(allSpans())}`));
    }, timeoutMs);
    const check = () => {
      const spans = allSpans();
      if (!ready(spans)) return;
      clearTimeout(timer);
      waiting.delete(check);
      resolve(spans);
    };
    waiting.add(check);
    check();
  });
}

const describe = (spans: SpanRecord[]) =>
  spans
    .map((s) => `${s.service}:${s.name} ${s.traceId.slice(0, 6)}/${s.spanId}<${s.parentSpanId}`)
    .join(', ');

/** The one span of `spans` under `parent` from `service` named `name`. */
function childOf(spans: SpanRecord[], parent: SpanRecord, service: string, name: string): SpanRecord {
  const found = spans.filter(
    (s) => s.parentSpanId === parent.spanId && s.service === service && s.name === name,
  );
  assert.equal(
    found.length,
    1,
    `one ${service} "${name}" under ${parent.service} "${parent.name}"; the trace: ${describe(spans)}`,
  );
  return found[0] as SpanRecord;
}

before(async () => {
  pg = await startTestPostgres();
  const databaseUrl = await pg.createDatabase('tracing');
  receiver = await startOtlpReceiver();
  receiver.onSpans(changed);
  const basePort = await freePortRange(14);
  gatewayUrl = gatewayUrlOf(basePort);
  tracing = await startTracing({ service: 'ensemble-gateway', endpoint: null, exporter });
  const stack = { basePort, secret: SECRET, apiToken: TOKEN };
  gateway = await startInProcessGateway(stack);
  cluster = gatewayCluster(stack, {
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-tracing-')),
    databaseUrl,
    logLevel: 'warn',
    // The nodes' batch processor sends within 20 ms instead of 5 s.
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '20' },
  });
  cluster.startAll();
  await gatewayLeader(gatewayUrl, 0, 60_000);
});

after(async () => {
  await gateway?.stop();
  await cluster?.stopAll();
  await tracing?.shutdown();
  await receiver?.close();
  await pg?.stop();
});

test('a write through the gateway is one trace: gateway, routing, node, GraphQL, append, transaction', async () => {
  // The client's own trace: everything continues it.
  const traceId = randomBytes(16).toString('hex');
  const clientSpanId = randomBytes(8).toString('hex');
  const res = await fetch(`${gatewayUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${TOKEN}`,
      traceparent: `00-${traceId}-${clientSpanId}-01`,
    },
    body: JSON.stringify({
      query: 'mutation TracedCreate($t: String!) { createTask(input: { title: $t }) { id } }',
      variables: { t: 'traced' },
    }),
  });
  const body = (await res.json()) as { errors?: unknown };
  assert.equal(res.status, 200);
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));

  const trace = (spans: SpanRecord[]) => spans.filter((s) => s.traceId === traceId);
  const spans = trace(
    await spansWhen(
      (all) =>
        trace(all).some((s) => s.name === 'append_batch') &&
        trace(all).some((s) => s.parentSpanId === clientSpanId),
      "the write's spans from the gateway and the leader",
    ),
  );
  const received = spans.find((s) => s.parentSpanId === clientSpanId) as SpanRecord;
  assert.equal(`${received.service} ${received.name}`, 'ensemble-gateway POST /graphql');
  const route = childOf(spans, received, 'ensemble-gateway', 'route write');
  // The leader it went to (an election on a starved machine may have moved it since `before`).
  const leaderId = route.attributes['ensemble.leader.id'];
  assert.ok(cluster.ids.includes(String(leaderId)), `a node of the cluster: ${String(leaderId)}`);
  const sent = childOf(spans, route, 'ensemble-gateway', 'POST /graphql');
  const served = childOf(spans, sent, 'ensemble-node', 'POST /graphql');
  assert.equal(served.nodeId, leaderId, 'the leader served it');
  const executed = childOf(spans, served, 'ensemble-node', 'graphql mutation TracedCreate');
  assert.equal(executed.attributes['graphql.operation.type'], 'mutation');
  const append = childOf(spans, executed, 'ensemble-node', 'append');
  assert.equal(append.attributes['ensemble.append.outcome'], 'appended');
  const transaction = childOf(spans, append, 'ensemble-node', 'append_batch');
  assert.equal(transaction.attributes['db.operation.name'], 'append_batch');
});

/** The transaction that wrote `append`: its child, or linked to it. */
const transactionOf = (spans: SpanRecord[], append: SpanRecord) =>
  spans.find(
    (s) =>
      s.name === 'append_batch' &&
      (s.parentSpanId === append.spanId || s.links.some((l) => l.spanId === append.spanId)),
  );

/** Four writes sent in one turn (so the gateway's batcher sends them together), each in its own trace. */
async function batchedRound(round: number) {
  const batchesBefore = (await gateway.metrics.batches.get()).values[0]?.value ?? 0;
  const callers = await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      inSpan(`caller ${i}`, { root: true }, async (span) => {
        await gateway.commands.createTask({ title: `batched ${round}.${i}` });
        return span.spanContext();
      }),
    ),
  );
  const batchesAfter = (await gateway.metrics.batches.get()).values[0]?.value ?? 0;
  assert.ok(batchesAfter > batchesBefore, 'the writes went in a batch');
  assert.equal(new Set(callers.map((c) => c.traceId)).size, 4, 'four traces');
  const spans = await spansWhen(
    (all) =>
      callers.every((c) =>
        all.some((a) => a.traceId === c.traceId && a.name === 'append' && transactionOf(all, a)),
      ),
    "every caller's append and its transaction",
  );
  return { callers, spans };
}

test('writes batched into one request to the leader keep each its own caller’s trace', async () => {
  // A leader change during a round (an election on a starved machine) sends its writes again,
  // one by one to the new leader: such a round shows routing, not batching, and is run again.
  for (let round = 1; ; round++) {
    const { callers, spans } = await batchedRound(round);
    const routes = callers.map((caller) => {
      const trace = spans.filter((s) => s.traceId === caller.traceId);
      const root = trace.find((s) => s.spanId === caller.spanId) as SpanRecord;
      return { trace, route: childOf(trace, root, 'ensemble-gateway', 'route write') };
    });
    if (routes.some(({ route }) => route.attributes['ensemble.attempts'] !== 1) && round < 5) continue;
    for (const { trace, route } of routes) {
      const sent = childOf(trace, route, 'ensemble-gateway', 'POST /graphql');
      // The batch's frame carried this caller's traceparent: the node's execution continues it.
      const executed = childOf(trace, sent, 'ensemble-node', 'graphql mutation CreateTask');
      assert.ok(Number(executed.attributes['ensemble.batch.size']) >= 2, 'executed from a batch');
      const append = childOf(trace, executed, 'ensemble-node', 'append');
      // One transaction may write several callers' appends: it is under the first, linked to the rest.
      assert.ok(
        transactionOf(spans, append),
        `a transaction under or linked to the append of ${route.traceId}`,
      );
    }
    return;
  }
});
