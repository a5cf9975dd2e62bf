/**
 * Whether the database still answers this node, and what follows when it does not: a probe
 * (the Node-table report) every second — soon again after a failure —, plus whatever else
 * reports a failure or a success (the fence claims). Failing for DATABASE_LOSS_MS makes the node
 * ineligible, so it stops leading and standing; the first success makes it eligible again.
 *
 * A failover in progress (a standby answers, no host is writable yet) is the same for every
 * node: stepping down then helps nobody and costs an election and a fence claim once the new
 * primary is up. Such failures depose the node only after `failoverMs` (DATABASE_FAILOVER_MS),
 * which should exceed the failover manager's own time to promote a standby.
 */
import type { Logger } from 'pino';
import type { ElectionService } from '../election/election-service.js';
import { isFailoverInProgress } from '../store/primary-lost.js';

const PROBE_INTERVAL_MS = 1_000;
/**
 * After a failed probe, the next one this soon: the database's return (a failover's new primary)
 * lets this node stand again at once, not up to a probe interval later. (A probe during a
 * failover itself waits for the new primary, up to PRIMARY_WAIT_MS.)
 */
const FAILING_PROBE_AFTER_MS = 100;
/**
 * How long the database may keep failing this node (probes, fence claims) before it stops
 * leading and standing: a leader that cannot write would otherwise hold leadership — heartbeats
 * keep flowing over UDP — while a node that can write waits behind it forever.
 */
const DATABASE_LOSS_MS = 3_000;
/** A probe still unanswered after this long counts as a failure (a dead link hangs, not fails). */
const PROBE_TIMEOUT_MS = 2_000;

export class DatabaseWatch {
  /** Since when the database has failed this node without a success in between, or null. */
  private failingSince: number | null = null;
  /** False while the database is out of reach: the election keeps this node from leading. */
  private standing = true;
  /** When the probe in flight was sent, or null. */
  private probeSentAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly options: {
      readonly election: Pick<ElectionService, 'setEligible'>;
      /** A query that proves the database answers. */
      readonly probe: () => Promise<void>;
      /** How long a failover in progress may fail this node before it stops leading and standing. */
      readonly failoverMs: number;
      readonly nodeId: string;
      readonly logger: Logger;
    },
  ) {}

  /** Probes now (resolving once answered or failed), then every second. */
  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * For /healthz: `standing` is false while this node is kept from leading; `failingForMs`
   * counts from the first failure unanswered by a success, 0 when none.
   */
  health(): { standing: boolean; failingForMs: number } {
    const since = this.failingSince;
    return {
      standing: this.standing,
      failingForMs: since === null ? 0 : Math.round(performance.now() - since),
    };
  }

  failed(error: Error): void {
    const now = performance.now();
    this.failingSince ??= now;
    const limit = isFailoverInProgress(error)
      ? Math.max(DATABASE_LOSS_MS, this.options.failoverMs)
      : DATABASE_LOSS_MS;
    if (this.stopped || !this.standing || now - this.failingSince < limit) return;
    this.standing = false;
    this.options.logger.warn(
      { node: this.options.nodeId, err: error.message },
      `the database has failed this node for ${(limit / 1_000).toFixed(1)} s: not leading nor standing until it answers again`,
    );
    this.options.election.setEligible(false);
  }

  reached(): void {
    this.failingSince = null;
    if (this.stopped || this.standing) return;
    this.standing = true;
    this.options.logger.info(
      { node: this.options.nodeId },
      'the database answers again: standing for leader again',
    );
    this.options.election.setEligible(true);
  }

  private async probe(): Promise<void> {
    if (this.probeSentAt !== null) {
      if (performance.now() - this.probeSentAt >= PROBE_TIMEOUT_MS)
        this.failed(new Error(`the database has not answered for ${PROBE_TIMEOUT_MS} ms`));
      return;
    }
    this.probeSentAt = performance.now();
    try {
      await this.options.probe();
      this.reached();
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'cannot report to the Node table');
      this.failed(error as Error);
      setTimeout(() => {
        if (!this.stopped) void this.probe();
      }, FAILING_PROBE_AFTER_MS).unref();
    } finally {
      this.probeSentAt = null;
    }
  }
}
