/**
 * Write rehearsals: a follower keeps its write path warm, so that its first write as a new leader
 * does not pay for it. A Node process that has never run a mutation compiles its code on the first
 * one (V8 compiles functions lazily, zod compiles a schema on its first parse, Apollo plans the
 * document…): measured on this machine, a new leader's first write took 48–166 ms where the next
 * ones took 8–25 ms, and that first write is the one every client waits on after a failover or a
 * transfer. So, every REHEARSAL_INTERVAL_MS while it does not lead, a node sends itself the
 * writes the gateway sends, both ways the gateway sends them: in a signed batch to its own
 * /graphql/batch, and each alone to /graphql (the gateway sends a request alone when it is the
 * only one of its turn — a lone client's writes, the retried write after a failover — and that
 * route has its own layers: the first JSON body a process parses loads iconv-lite's tables, ≈ 25
 * ms). Each carries REHEARSAL_HEADER with its rehearsal mark (common/rehearsal-mark.ts) and runs
 * through every layer: GraphQL, the command handler, the group commit and `append_batch`, which
 * runs it — decision, insert, projection — under the rehearsal fence (term 0, never claimed),
 * without the fence lock, undoes it and refuses it (nodes/store/rehearsal-fence.ts). Nothing is
 * stored, and the fence keeper never hears of it.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError } from '../../api/errors.js';
import { GRAPHQL_PATH } from '../../api/graphql-server.js';
import {
  BATCH_CONTENT_TYPE,
  BATCH_PATH,
  decodeResponses,
  encodeRequests,
  signBatch,
} from '../../common/graphql-batch.js';
import { httpRequest } from '../../common/http-client.js';
import { IDEMPOTENCY_KEY_HEADER, REHEARSAL_HEADER, SIGNATURE_HEADER } from '../../common/http-headers.js';
import { rehearsalMark } from '../../common/rehearsal-mark.js';
import type { FenceAccess } from '../commands/fence-access.js';
import { REHEARSAL_FENCE, REHEARSAL_REFUSAL } from '../store/rehearsal-fence.js';

/**
 * Rehearsals in a row at start: a node just (re)started may lead within a second (a crash of
 * the leader, a rolling restart), and one run of a path compiles it but leaves V8's inline
 * caches and baseline code to the next few.
 */
const STARTUP_ROUNDS = 3;

/** How long one rehearsal request may take (the node is its own server: only a stall takes long). */
const SEND_TIMEOUT_MS = 5_000;

/** Often enough that V8 keeps the write path's code (it drops code left unrun for a while). */
export const REHEARSAL_INTERVAL_MS = 10_000;

/** The fence access of rehearsed writes: the rehearsal fence, and its refusal as the answer. */
export const rehearsalFence: FenceAccess = {
  withWriteFence: (write) => write(REHEARSAL_FENCE),
  fenceLost: () => ApiError.notLeader(null, REHEARSAL_REFUSAL),
};

/** The writes rehearsed: what the gateway forwards most (a task, the queue's listings). */
const REHEARSED = [
  {
    query:
      'mutation Rehearsal($title: String!) { createTask(input: { title: $title }) { id title status version } }',
    variables: { title: 'rehearsal' },
  },
  {
    query: 'mutation RehearsalListings($l: [ListingInput!]!) { upsertListings(inputs: $l) { id version } }',
    variables: {
      l: [
        {
          url: 'https://rehearsal.invalid/item',
          title: 'rehearsal',
          price: 1,
          currency: 'EUR',
          priceEur: 1,
          scrapedAt: '2026-01-01T00:00:00.000Z',
        },
      ],
    },
  },
];

export class WriteRehearsal {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly options: {
      readonly selfUrl: string;
      readonly apiToken: string;
      readonly clusterSecret: string;
      /** True while this node leads: a leader's write path is warm already. */
      readonly leads: () => boolean;
      readonly logger: Logger;
      readonly intervalMs?: number;
    },
  ) {}

  start(): void {
    const every = this.options.intervalMs ?? REHEARSAL_INTERVAL_MS;
    const tick = (rounds: number) => {
      if (this.timer === null) return; // stopped before the first tick ran
      if (!this.options.leads() && !this.running) {
        this.running = this.rounds(rounds).then(() => {
          this.running = null;
        });
      }
    };
    setImmediate(() => tick(STARTUP_ROUNDS));
    this.timer = setInterval(() => tick(1), every);
    this.timer.unref();
  }

  /** Rehearsals one after the other, while the node neither stops nor leads. */
  private async rounds(n: number): Promise<void> {
    for (let i = 0; i < n && this.timer !== null && !this.options.leads(); i++) await this.rehearse();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /**
   * One rehearsal: the writes sent in one batch, then each alone, every answer checked to be the
   * rehearsal's refusal. Resolves with the answers' bodies (none when the node could not be reached).
   */
  async rehearse(): Promise<string[]> {
    const { logger } = this.options;
    try {
      const answers = [...(await this.sendBatch()), ...(await this.sendAlone())];
      for (const text of answers) {
        // Anything but the refusal means the rehearsal no longer runs what the gateway's writes run.
        if (!text.includes(REHEARSAL_REFUSAL))
          logger.warn({ answer: text.slice(0, 300) }, 'a write rehearsal was not refused as expected');
      }
      return answers;
    } catch (error) {
      logger.debug({ err: (error as Error).message }, 'write rehearsal failed');
      return [];
    }
  }

  /** A rehearsed write's headers, as the gateway forwards a client's (its own key and mark). */
  private headers(): Record<string, string> {
    const key = `rehearsal:${randomUUID()}`;
    return {
      authorization: `Bearer ${this.options.apiToken}`,
      [IDEMPOTENCY_KEY_HEADER]: key,
      [REHEARSAL_HEADER]: rehearsalMark(this.options.clusterSecret, key),
    };
  }

  private async sendBatch(): Promise<string[]> {
    const { selfUrl, clusterSecret } = this.options;
    const body = encodeRequests(
      REHEARSED.map((request) => ({ headers: this.headers(), body: Buffer.from(JSON.stringify(request)) })),
    );
    const res = await httpRequest(`${selfUrl}${BATCH_PATH}`, {
      method: 'POST',
      headers: { 'content-type': BATCH_CONTENT_TYPE, [SIGNATURE_HEADER]: signBatch(clusterSecret, body) },
      body,
      timeoutMs: SEND_TIMEOUT_MS,
    });
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
    return decodeResponses(res.body, REHEARSED.length).map((a) => a.body.toString('utf8'));
  }

  private async sendAlone(): Promise<string[]> {
    const answers: string[] = [];
    for (const request of REHEARSED) {
      const res = await httpRequest(`${this.options.selfUrl}${GRAPHQL_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.headers() },
        body: JSON.stringify(request),
        timeoutMs: SEND_TIMEOUT_MS,
      });
      answers.push(res.body.toString('utf8'));
    }
    return answers;
  }
}
