/**
 * The transferLeadership mutation on a node, and the graceful shutdown's first step: the leader
 * asks the election to hand over (TimeoutNow, nodes/election/) and, once the election hears of
 * the new leader, waits for that leader's claim of the write fence, looking at each change of
 * the log; its writes go on under its fence until that claim (FenceKeeper.handOver). A follower refuses with
 * NOT_LEADER naming the leader (as it refuses every write): the gateway sends the mutation to the
 * leader.
 */
import type { Logger } from 'pino';
import { ApiError } from '../../api/errors.js';
import type { LeaderChangeDto, Leadership } from '../../api/ports.js';
import type { ElectionService, TransferOutcome } from '../election/election-service.js';
import type { Fence } from '../store/event-store.js';
import type { FenceKeeper } from './fence-keeper.js';
import type { PeerUrls } from './peer-urls.js';

/**
 * The old leader looks whether the new one has claimed the fence at each change of the log (the
 * claim appends `LeaderElected`), and at least this often (a notification can be lost).
 */
const FENCE_RECHECK_MS = 100;
/** How long the new leader may take to claim the fence once elected before TRANSFER_TIMEOUT. */
export const FENCE_WAIT_MS = 3_000;

export class LeadershipHandover implements Leadership {
  constructor(
    private readonly options: {
      readonly election: Pick<ElectionService, 'status' | 'transferLeadership'>;
      readonly keeper: Pick<FenceKeeper, 'handOver'>;
      readonly fence: { current(): Promise<Fence | null> };
      /** Resolves at the log's next change, or after `limitMs` (EventFeed.nextChange). */
      readonly logChanged: (limitMs: number) => Promise<void>;
      readonly urls: Pick<PeerUrls, 'lookup'>;
      readonly voters: readonly string[];
      readonly electionTimeoutMs: { readonly min: number; readonly max: number };
      readonly logger: Logger;
    },
  ) {}

  async transferLeadership(to?: string): Promise<LeaderChangeDto> {
    const { election, keeper, voters } = this.options;
    const s = election.status();
    if (to !== undefined && !voters.includes(to)) {
      throw ApiError.badUserInput(`\`to\`: no node ${to} in this cluster (its nodes: ${voters.join(', ')})`, {
        argument: 'to',
      });
    }
    if (to === s.id && s.role === 'leader') {
      throw ApiError.badUserInput(`\`to\`: ${to} is the leader already`, { argument: 'to' });
    }
    if (s.role !== 'leader') throw await this.notLeader(s.leader);
    // Up to the successor's claim, this node's writes go on under its fence (FenceKeeper.handOver).
    return keeper.handOver(async () => {
      const outcome = await election.transferLeadership(to);
      if (outcome.kind !== 'completed') throw await this.refusal(outcome);
      return this.fenceClaimed(outcome.leader, outcome.term);
    });
  }

  /** The new leader, once the fence names it (or a later leader) for `term` or later. */
  private async fenceClaimed(leader: string, term: number): Promise<LeaderChangeDto> {
    const deadline = Date.now() + FENCE_WAIT_MS;
    for (;;) {
      // Armed before the read, so that a claim committed while it runs is not missed.
      const changed = this.options.logChanged(FENCE_RECHECK_MS);
      const fence = await this.options.fence.current().catch(() => null);
      if (fence && fence.term >= term) {
        const at = new Date();
        const url = await this.options.urls.lookup(fence.nodeId);
        return {
          term: fence.term,
          leader: { id: fence.nodeId, url, role: 'LEADER', term: fence.term, lastSeenAt: at },
          at,
        };
      }
      if (Date.now() >= deadline) {
        throw ApiError.transferTimeout(
          `${leader} won term ${term} but has not claimed the write fence within ${FENCE_WAIT_MS} ms`,
        );
      }
      await changed;
    }
  }

  private async notLeader(leader: string | null): Promise<ApiError> {
    if (leader === null)
      return ApiError.noLeader('no leader is known to hand leadership over; retry shortly');
    const url = await this.options.urls.lookup(leader);
    return ApiError.notLeader(
      { id: leader, url },
      `this node is not the leader; ask the leader ${leader} at ${url} (or the gateway) to transfer`,
    );
  }

  private async refusal(outcome: Exclude<TransferOutcome, { kind: 'completed' }>): Promise<ApiError> {
    const { min } = this.options.electionTimeoutMs;
    switch (outcome.kind) {
      case 'aborted':
        return ApiError.transferTimeout(
          `no new leader within an election timeout (${min} ms): ${outcome.target} did not take over, and this node leads on`,
        );
      case 'unresolved':
        return ApiError.transferTimeout(`this node stepped down, but no new leader was heard of in time`);
      case 'refused':
        switch (outcome.reason) {
          case 'not leader':
            return this.notLeader(outcome.leader);
          case 'transfer in progress':
            return ApiError.conflict('a leadership transfer is already running');
          case 'no follower recently heard from':
            return ApiError.badUserInput(
              `no healthy follower to hand over to: none was heard from within an election timeout (${min} ms)`,
            );
          case 'target not recently heard from':
            return ApiError.badUserInput(
              '`to`: that follower is not healthy: it was not heard from within an election timeout',
              { argument: 'to' },
            );
          case 'unknown target':
          case 'target is this node':
            return ApiError.badUserInput(`\`to\`: ${outcome.reason}`, { argument: 'to' });
        }
    }
  }
}
