/**
 * The chaos suite's clients: concurrent users of the gateway creating tasks and updating them
 * with expected versions, and a publisher on the `listings` queue. Every operation's outcome is
 * recorded as the client saw it (history.ts). An operation whose outcome is unknown is retried
 * with the same idempotency key, as a careful client would: that is what must not double it.
 */

import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { IDEMPOTENCY_KEY_HEADER } from '../common/http-headers.js';
import type { Prng } from '../nodes/election/simulation/prng.js';
import { graphql } from '../schema/generated/index.js';
import type { Outcome, QueueMessage, TaskOperation } from './history.js';

const CREATE = graphql(`mutation ChaosCreateTask($title: String!, $key: String) {
  createTask(input: { title: $title }, idempotencyKey: $key) { id version } }`);
const UPDATE = graphql(`mutation ChaosUpdateTask($id: ID!, $title: String!, $expected: Int) {
  updateTask(id: $id, input: { title: $title }, expectedVersion: $expected) { id version } }`);
const READ = graphql(`query ChaosReadTask($id: ID!) { task(id: $id) { version } }`);

/** Refusals that mean "not done and never will be": retrying cannot change them. */
const DEFINITE = new Set([
  'BAD_USER_INPUT',
  'CONFLICT',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'GRAPHQL_VALIDATION_FAILED',
]);

interface Attempt {
  readonly outcome: Outcome;
  readonly code?: string;
  readonly data?: Record<string, { id: string; version: number } | null>;
  /** Nothing was sent (the connection was refused): this attempt cannot have had an effect. */
  readonly notSent?: boolean;
}

export interface GatewayClientOptions {
  readonly gatewayUrl: string;
  readonly token: string;
  readonly requestTimeoutMs: number;
}

/** One GraphQL request through the gateway, classified. */
export async function request(
  options: GatewayClientOptions,
  query: string,
  variables: Record<string, unknown>,
  idempotencyKey?: string,
): Promise<Attempt> {
  let res: Response;
  try {
    res = await fetch(`${options.gatewayUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${options.token}`,
        ...(idempotencyKey ? { [IDEMPOTENCY_KEY_HEADER]: idempotencyKey } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(options.requestTimeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return { outcome: 'error', code: 'ECONNREFUSED', notSent: true };
    return { outcome: 'unknown', code: (error as Error).name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK' };
  }
  let body: { data?: Attempt['data']; errors?: Array<{ extensions?: { code?: string } }> };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    return { outcome: 'unknown', code: `HTTP_${res.status}` };
  }
  const code = body.errors?.[0]?.extensions?.code;
  if (!code && body.data) return { outcome: 'ok', data: body.data };
  if (code && DEFINITE.has(code)) return { outcome: 'error', code };
  return { outcome: 'unknown', code: code ?? `HTTP_${res.status}` };
}

/**
 * Runs `attempt` until it is acknowledged or definitely refused, at most `tries` times. The
 * result is `ok` if any attempt was; `error` only if no attempt can have had an effect.
 */
async function settle(
  op: TaskOperation,
  tries: number,
  attempt: () => Promise<Attempt>,
  stopped: () => boolean,
): Promise<Attempt | undefined> {
  let maybeApplied = false;
  for (let i = 0; i < tries; i++) {
    op.attempts = i + 1;
    const a = await attempt();
    op.code = a.code;
    if (a.outcome === 'ok') {
      op.outcome = 'ok';
      return a;
    }
    if (a.outcome === 'error' && !a.notSent) {
      op.outcome = maybeApplied ? 'unknown' : 'error';
      return a;
    }
    if (a.outcome === 'unknown') maybeApplied = true;
    op.outcome = maybeApplied ? 'unknown' : 'error';
    if (stopped()) return a;
    await new Promise((r) => setTimeout(r, 100 * (i + 1)));
  }
  return undefined;
}

export class TaskClients {
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly options: GatewayClientOptions & {
      readonly clients: number;
      readonly random: Prng;
      readonly runId: string;
      readonly operations: TaskOperation[];
    },
  ) {}

  start(): void {
    this.loops = Array.from({ length: this.options.clients }, (_, i) => this.client(i));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  /** One write acknowledged through the gateway (the nemesis's recovery probe), recorded too. */
  async probe(n: number, deadline: number): Promise<boolean> {
    const title = `${this.options.runId} probe ${n}`;
    const op = this.record({ kind: 'createTask', client: -1, title });
    while (Date.now() < deadline) {
      const a = await settle(
        op,
        1,
        () => request(this.options, CREATE.toString(), { title, key: title }),
        () => true,
      );
      if (a?.outcome === 'ok') {
        op.endedAt = Date.now();
        return true;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    op.endedAt = Date.now();
    return false;
  }

  private record(
    o: Pick<TaskOperation, 'kind' | 'client' | 'title' | 'taskId' | 'expectedVersion'>,
  ): TaskOperation {
    const op: TaskOperation = { ...o, outcome: 'unknown', attempts: 0, startedAt: Date.now() };
    this.options.operations.push(op);
    return op;
  }

  private async client(client: number): Promise<void> {
    const { random, runId } = this.options;
    const tasks: Array<{ id: string; version: number }> = [];
    for (let n = 0; !this.stopping; n++) {
      const title = `${runId} c${client} op${n}`;
      const task = tasks.length > 0 && random.next() < 0.65 ? random.pick(tasks) : undefined;
      if (!task) {
        const op = this.record({ kind: 'createTask', client, title });
        const a = await settle(
          op,
          5,
          () => request(this.options, CREATE.toString(), { title, key: title }),
          () => this.stopping,
        );
        const created = a?.outcome === 'ok' ? a.data?.createTask : undefined;
        if (created) {
          op.result = { id: created.id, version: created.version };
          tasks.push({ ...op.result });
        }
        op.endedAt = Date.now();
        continue;
      }
      const op = this.record({
        kind: 'updateTask',
        client,
        title,
        taskId: task.id,
        expectedVersion: task.version,
      });
      const a = await settle(
        op,
        5,
        () => request(this.options, UPDATE.toString(), { id: task.id, title, expected: task.version }, title),
        () => this.stopping,
      );
      const updated = a?.outcome === 'ok' ? a.data?.updateTask : undefined;
      if (updated) {
        op.result = { id: updated.id, version: updated.version };
        task.version = updated.version;
      } else {
        // Refused or unknown: learn the version the log now holds before writing this task again.
        const read = await request(this.options, READ.toString(), { id: task.id });
        const version = read.outcome === 'ok' ? read.data?.task?.version : undefined;
        if (version !== undefined) task.version = version;
        else tasks.splice(tasks.indexOf(task), 1);
      }
      op.endedAt = Date.now();
    }
  }
}

/**
 * Publishes listings to the `listings` queue with publisher confirms; every seventh message twice
 * with the same messageId (what a redelivery looks like to the consumer). A message whose
 * connection dies before its confirm is `unknown`; the publisher then reconnects.
 */
export class ListingPublisher {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private connection: ChannelModel | null = null;

  constructor(
    private readonly options: {
      readonly url: string;
      readonly queue: string;
      readonly runId: string;
      readonly intervalMs: number;
      readonly messages: QueueMessage[];
    },
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.connection?.close().catch(() => {});
  }

  private async run(): Promise<void> {
    let channel: ConfirmChannel | null = null;
    for (let i = 0; !this.stopping; ) {
      if (!channel) {
        channel = await this.connect();
        if (!channel) {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
      }
      const slug = this.options.runId.replace(/\W+/g, '-');
      const copies = i % 7 === 3 ? 2 : 1;
      const message: QueueMessage = {
        messageId: `${slug}-m${i}`,
        url: `https://chaos.example/${slug}/${i}`,
        copies,
        outcome: 'unknown',
      };
      this.options.messages.push(message);
      const body = Buffer.from(
        JSON.stringify({
          title: `Chaos item ${i}`,
          url: message.url,
          price: 100 + i,
          currency: 'MDL',
          priceEur: Math.round(((100 + i) / 19.5) * 100) / 100,
          scrapedAt: new Date().toISOString(),
        }),
      );
      try {
        for (let c = 0; c < copies; c++)
          channel.sendToQueue(this.options.queue, body, { persistent: true, messageId: message.messageId });
        await channel.waitForConfirms();
        message.outcome = 'ok';
      } catch {
        channel = null; // the broker went away: unknown, reconnect
      }
      i++;
      await new Promise((r) => setTimeout(r, this.options.intervalMs));
    }
  }

  private async connect(): Promise<ConfirmChannel | null> {
    try {
      await this.connection?.close().catch(() => {});
      const connection = await amqp.connect(this.options.url);
      connection.on('error', () => {});
      this.connection = connection;
      const channel = await connection.createConfirmChannel();
      channel.on('error', () => {});
      await channel.assertQueue(this.options.queue, { durable: true });
      return channel;
    } catch {
      return null;
    }
  }
}
