/**
 * Sends writes to the leader and sees them through a failover. Every write carries an
 * idempotency key (the client's `Idempotency-Key`, else one made here), so sending it again is
 * safe whatever happened to the first attempt: a node that stored it answers with the first
 * result. When the leader is unreachable or answers NOT_LEADER, the router waits for the registry
 * to learn of a newer leader — bounded by LEADER_WAIT_MS, after which the client gets NO_LEADER —
 * and sends the same request there. When the leader answers SERVICE_UNAVAILABLE (a database
 * failover caught the write: its outcome is unknown), the same request goes to it again — or to a
 * newer leader — within the same bound; the node holds it until its database has a writable
 * primary again (up to a second each time), so the resend is the wait.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type HttpResponse, HttpUnreachableError } from '../../common/http-client.js';
import { IDEMPOTENCY_KEY_HEADER } from '../../common/http-headers.js';
import { tracingOn } from '../../common/tracing.js';
import type { GatewayMetrics } from '../metrics.js';
import { type Campaign, campaignKey, type KnownLeader, type LeaderRegistry } from './leader-registry.js';
import { type NodeTransport, plainTransport } from './node-batcher.js';
import type { NodeDirectory } from './node-directory.js';
import { NoLeaderError } from './routing-errors.js';
import { routeSpan } from './traced-routing.js';

/** While the leader is unreachable and no newer one is known, look again this often. */
const RECHECK_MS = 100;
/**
 * A request is sent at most this many times to leaders that refused it or were deposed while it
 * was in flight (each failure waits for a newer leader first).
 */
const MAX_ATTEMPTS = 12;
/**
 * Two sends of a write refused SERVICE_UNAVAILABLE are at least this far apart, but for the first
 * resend. A node holds a write while its database has no writable primary, so a resend usually
 * waits there; a refusal that came back sooner (the write's connection broke under it) is resent
 * at once — the node then holds it while it looks for the primary, and answers the moment one
 * takes writes — and only if that too comes back at once, at most this often (no tight loop).
 */
const DATABASE_RESEND_MS = 100;
/**
 * The longest a write waits for a campaigning node's answer. The node holds it at most through
 * one campaign round (≤ 1 s) and, elected, waits for its fence claim at most 1 s: a node that
 * answers nothing by then (paused, cut off) is given up, as a leader would be only after the node
 * timeout (15 s), and the write goes on with its key.
 */
const CAMPAIGN_ANSWER_MS = 3_000;

export interface RoutedResponse extends HttpResponse {
  readonly leader: KnownLeader;
  readonly attempts: number;
}

export class LeaderRouter {
  constructor(
    private readonly options: {
      readonly registry: LeaderRegistry;
      readonly directory: NodeDirectory;
      readonly leaderWaitMs: number;
      readonly nodeTimeoutMs: number;
      readonly metrics: GatewayMetrics;
      readonly logger: Logger;
      /** How requests travel (the gateway batches them); one by one when not given. */
      readonly transport?: NodeTransport;
    },
  ) {}

  /** The headers a forwarded write carries: the client's key, or a fresh one. */
  static withKey(headers: Record<string, string>): Record<string, string> {
    // Only when the client sent none: an empty one is the client's mistake, for the node to refuse.
    return headers[IDEMPOTENCY_KEY_HEADER] !== undefined
      ? headers
      : { ...headers, [IDEMPOTENCY_KEY_HEADER]: randomUUID() };
  }

  /** POST a GraphQL request (JSON or multipart, as `headers` say) to the leader's /graphql. */
  send(
    body: Buffer | string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<RoutedResponse> {
    if (!tracingOn()) return this.route(body, headers, signal);
    return routeSpan(
      'write',
      () => this.route(body, headers, signal),
      (span, res) =>
        span.setAttributes({
          'ensemble.leader.id': res.leader.id,
          'ensemble.leader.term': res.leader.term,
          'ensemble.attempts': res.attempts,
        }),
    );
  }

  private async route(
    body: Buffer | string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<RoutedResponse> {
    const { registry, leaderWaitMs, metrics } = this.options;
    const keyed = LeaderRouter.withKey(headers);
    let target: KnownLeader | Campaign | null =
      registry.current() ?? (await registry.newerThan(null, Date.now() + leaderWaitMs, signal));
    /** The last leader the write went to: what a newer leader is newer than. */
    let leader: KnownLeader | null = target;
    /** How that leader failed the write (a campaign that does not take it sends it back, or not). */
    let leaderFailure: string | null = null;
    /** Campaigns the write already went to (campaignKey): each is tried once. */
    const tried = new Set<string>();
    let waitingSince = Date.now();
    let sent = 0;
    /** Database refusals resent so far: the first goes at once, the next ones DATABASE_RESEND_MS apart. */
    let databaseResends = 0;
    for (let attempt = 1; ; attempt++) {
      if (!target) throw new NoLeaderError(leaderWaitMs);
      let failure: string;
      let refused: HttpResponse | null = null;
      const sentAt = Date.now();
      const to: KnownLeader | Campaign = target;
      const campaign = isCampaign(to);
      if (campaign) {
        tried.add(campaignKey(to));
        this.options.logger.debug({ node: to.id, term: to.term }, 'write sent to a node campaigning');
      }
      // A newer leader announced while this attempt is in flight: the one it went to is deposed
      // and (paused, cut off) may not answer before its timeout. Its fence refuses the write now
      // (an announcement follows the new leader's fence claim), and a write it stored before is
      // answered from the idempotency key: send it to the new leader at once. A campaigning node
      // holds the write until its campaign ends: only another node's win makes it moot.
      const deposed = new AbortController();
      const stopWatching = registry.onChange((next) => {
        if (campaign ? next.id !== to.id : next.term > to.term) deposed.abort();
      });
      try {
        const res = await (this.options.transport ?? plainTransport).send(to.url, body, keyed, {
          timeoutMs: campaign
            ? Math.min(this.options.nodeTimeoutMs, CAMPAIGN_ANSWER_MS)
            : this.options.nodeTimeoutMs,
          signal: signal ? AbortSignal.any([signal, deposed.signal]) : deposed.signal,
        });
        const refusal = refusalOf(res);
        if (refusal === null) {
          if (campaign) metrics.campaignWrites.inc({ outcome: 'taken' });
          return { ...res, leader: this.answeredBy(to), attempts: attempt };
        }
        failure = refusal === 'NOT_LEADER' ? 'not_leader' : 'database';
        refused = res;
      } catch (error) {
        if (!(error instanceof HttpUnreachableError) || signal?.aborted) throw error;
        if (deposed.signal.aborted) failure = 'deposed';
        else {
          this.options.directory.markUnhealthy(to.url, error.reason);
          failure = 'unreachable';
        }
      } finally {
        stopWatching();
      }
      // Looking again at a leader that did not answer, while no newer one is known, is bounded by
      // the wait for a leader, not by the attempts: an election with a split vote or two outlasts
      // MAX_ATTEMPTS rechecks, and the write must then go to its winner, not fail. So is a
      // database failover: it lasts as long as the failover manager takes.
      if (campaign) metrics.campaignWrites.inc({ outcome: failure === 'not_leader' ? 'refused' : failure });
      if (failure === 'not_leader' || failure === 'deposed') sent++;
      if (sent >= MAX_ATTEMPTS) throw new NoLeaderError(Date.now() - waitingSince);
      metrics.retries.inc({ reason: failure });
      this.options.logger.debug({ node: to.id, term: to.term, failure, attempt }, 'write retried');
      const failed: KnownLeader | null = isCampaign(to) ? leader : to;
      if (!campaign) leaderFailure = failure;
      const deadline = waitingSince + leaderWaitMs;
      // A leader that failed the write (but for its database) may be gone: its successor's
      // campaign can hold the write meanwhile, so that the write is there when the election ends.
      // Not a campaign whose node fails its health checks.
      const campaigns = { tried, usable: (c: Campaign) => this.options.directory.isHealthy(c.url) };
      // Unreachable: the leader may come back (a blip) or be replaced; look again shortly. So
      // after a campaign that did not take the write, if the leader had been unreachable (the
      // campaign may have lost to it). Database: the same leader again once its node held the
      // write (or a newer leader) — a campaign's node that answers so has won and is claiming.
      // NOT_LEADER or deposed: it has certainly lost the lead; only a newer leader helps.
      let next: KnownLeader | Campaign | null;
      if (failure === 'database') {
        const soon = databaseResends++ === 0 ? Date.now() : sentAt + DATABASE_RESEND_MS;
        next =
          (await registry.newerThan(failed, Math.min(deadline, soon), signal)) ??
          (Date.now() < deadline ? (campaign ? to : registry.current()) : null);
      } else if (failure === 'unreachable' || (campaign && leaderFailure === 'unreachable')) {
        next =
          (await registry.newerThan(
            failed,
            Math.min(deadline, Date.now() + RECHECK_MS),
            signal,
            campaigns,
          )) ?? (Date.now() < deadline ? registry.current() : null);
      } else {
        next = await registry.newerThan(failed, deadline, signal, campaigns);
      }
      // Out of time on a database that did not come back: the client gets the node's own answer
      // (SERVICE_UNAVAILABLE, retry with the same key), not NO_LEADER.
      if (!next && refused && failure === 'database')
        return { ...refused, leader: this.answeredBy(to), attempts: attempt };
      if (next && !isCampaign(next)) {
        if (next !== leader) waitingSince = Date.now();
        leader = next;
      }
      target = next;
    }
  }

  /** The leader a write's answer came from: a campaign's node once it leads (or as it was). */
  private answeredBy(to: KnownLeader | Campaign): KnownLeader {
    if (!isCampaign(to)) return to;
    const now = this.options.registry.current();
    return now?.id === to.id ? now : { id: to.id, url: to.url, term: to.term, at: new Date() };
  }
}

function isCampaign(t: KnownLeader | Campaign): t is Campaign {
  return 'campaign' in t;
}

/**
 * The node's refusals the router acts on: NOT_LEADER (it does not, or no longer, hold the write
 * fence) and SERVICE_UNAVAILABLE (a database failover caught the write; safe to resend with its
 * key); null for any other answer, which goes to the client as it is.
 */
function refusalOf(res: HttpResponse): 'NOT_LEADER' | 'SERVICE_UNAVAILABLE' | null {
  // Most answers are neither: look for the codes in the bytes before parsing anything.
  if (!res.body.includes('"NOT_LEADER"') && !res.body.includes('"SERVICE_UNAVAILABLE"')) return null;
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as {
      errors?: Array<{ extensions?: { code?: unknown } }>;
    };
    const codes = new Set(parsed.errors?.map((e) => e.extensions?.code));
    if (codes.has('NOT_LEADER')) return 'NOT_LEADER';
    if (codes.has('SERVICE_UNAVAILABLE')) return 'SERVICE_UNAVAILABLE';
    return null;
  } catch {
    return null;
  }
}
