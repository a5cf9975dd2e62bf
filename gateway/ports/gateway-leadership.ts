/**
 * transferLeadership on the gateway: sent to the leader as it is known, and answered once the
 * leader named in the answer (which holds the write fence by then) has announced itself here, so
 * that the next write goes to it. Not through the LeaderRouter: that router resends a request to
 * a newer leader when one is announced while it is in flight, which is exactly what a transfer
 * brings about, and the new leader would be asked to hand over in turn.
 */
import { ApiError } from '../../api/errors.js';
import type { LeaderChangeDto, Leadership } from '../../api/ports.js';
import { HttpUnreachableError } from '../../common/http-client.js';
import { graphql } from '../../schema/generated/index.js';
import type { KnownLeader, LeaderRegistry } from '../routing/leader-registry.js';
import { type NodeTransport, plainTransport } from '../routing/node-batcher.js';
import { runRemote } from './remote-graphql.js';

/** A node answers a transfer within an election timeout plus the new leader's fence claim. */
const TRANSFER_ANSWER_MS = 10_000;
/** A leader that answers NOT_LEADER (deposed meanwhile) is asked again after its successor. */
const MAX_ATTEMPTS = 3;

const TRANSFER = graphql(
  `mutation GatewayTransferLeadership($to: ID) { transferLeadership(to: $to) { term at leader { id url role term lastSeenAt } } }`,
);

export class GatewayLeadership implements Leadership {
  constructor(
    private readonly options: {
      readonly registry: LeaderRegistry;
      readonly apiToken: string;
      /** How long to wait for a leader to be known, and for the new one's announcement. */
      readonly leaderWaitMs: number;
      readonly transport?: NodeTransport;
    },
  ) {}

  async transferLeadership(to?: string): Promise<LeaderChangeDto> {
    const { registry, leaderWaitMs } = this.options;
    let leader = registry.current() ?? (await registry.newerThan(null, Date.now() + leaderWaitMs));
    for (let attempt = 1; ; attempt++) {
      if (!leader) throw ApiError.noLeader();
      try {
        const change = await this.ask(leader, to);
        return await this.announced(change.term, change.leader.id);
      } catch (error) {
        const deposed = error instanceof ApiError && error.code === 'NOT_LEADER';
        if (!(deposed || error instanceof HttpUnreachableError) || attempt >= MAX_ATTEMPTS) {
          if (error instanceof HttpUnreachableError)
            throw ApiError.noLeader(`the leader is unreachable: ${error.message}`);
          throw error;
        }
        leader = await registry.newerThan(leader, Date.now() + leaderWaitMs);
      }
    }
  }

  private async ask(leader: KnownLeader, to: string | undefined) {
    const transport = this.options.transport ?? plainTransport;
    const data = await runRemote(
      {
        send: (body, headers) => transport.send(leader.url, body, headers, { timeoutMs: TRANSFER_ANSWER_MS }),
      },
      {
        query: TRANSFER,
        variables: { to: to ?? null },
        headers: { authorization: `Bearer ${this.options.apiToken}` },
      },
    );
    return data.transferLeadership;
  }

  /** The change as this gateway knows it, once `leader` (or a later one) announced term `term`. */
  private async announced(term: number, leader: string): Promise<LeaderChangeDto> {
    const { registry, leaderWaitMs } = this.options;
    const deadline = Date.now() + leaderWaitMs;
    let known = registry.current();
    while (!known || known.term < term) {
      known = await registry.newerThan(known, deadline);
      if (!known) {
        throw ApiError.transferTimeout(
          `${leader} leads term ${term}, but its announcement did not reach the gateway within ${leaderWaitMs} ms`,
        );
      }
    }
    return {
      term: known.term,
      leader: { id: known.id, url: known.url, role: 'LEADER', term: known.term, lastSeenAt: known.at },
      at: known.at,
    };
  }
}
