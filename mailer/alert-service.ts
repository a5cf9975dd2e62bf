/**
 * One email to ALERT_EMAIL per leader change, and only one: a change is accepted only if its
 * term is above every term already alerted or queued, and is written to the state file before
 * anything is sent; after the server accepted the mail, the state moves on, atomically. So a
 * restart neither repeats an alert nor loses one, and a change that arrives while SMTP is down
 * is kept and sent once SMTP answers again (retried with backoff, whatever the failure: with a
 * single recipient, a refusal is a setting to fix, and the alert must still go out after).
 * The one window left: a crash after the server's 250 and before the state is written re-sends
 * that one alert on restart (at least once, never silently lost).
 */
import type { Logger } from 'pino';
import type { AlertState, AlertStateFile } from './alert-state.js';
import { Backoff, pause } from './backoff.js';
import { leaderAlertMail } from './leader-alert-mail.js';
import type { LeaderChange } from './leader-change.js';
import { type SmtpSender, smtpFailureReason } from './smtp-client.js';

export interface AlertServiceOptions {
  readonly stateFile: AlertStateFile;
  readonly sender: SmtpSender;
  readonly from: string;
  readonly to: string;
  /** The gateway's http URL, linked from the mail. */
  readonly gatewayUrl: string;
  readonly logger: Logger;
  readonly retry?: Backoff;
  /** At most this many unsent alerts are kept; beyond, the oldest are dropped (default 100). */
  readonly maxPending?: number;
  /** The state cannot be written: the service cannot keep its promise, and must stop. */
  readonly onFatal: (error: Error) => void;
}

export class AlertService {
  private state: AlertState = { lastAlerted: null, pending: [] };
  private readonly stopping = new AbortController();
  private readonly retry: Backoff;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly options: AlertServiceOptions) {
    this.retry = options.retry ?? new Backoff(1_000, 60_000);
  }

  /** Loads the state (throws if it is damaged) and starts sending what is pending. */
  start(): void {
    this.state = this.options.stateFile.load();
    this.options.logger.info(
      { alertedTerm: this.alertedTerm, pending: this.state.pending.map((c) => c.term) },
      'alert service ready',
    );
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.running;
  }

  get alertedTerm(): number {
    return this.state.lastAlerted?.term ?? 0;
  }

  /** A leader change from the feed: queued for its alert unless its term was seen already. */
  offer(change: LeaderChange): void {
    const { logger } = this.options;
    const fields = { term: change.term, leader: change.leader.id, source: change.source };
    if (change.term <= this.alertedTerm) {
      logger.info({ ...fields, alertedTerm: this.alertedTerm }, 'leader change already alerted');
      return;
    }
    if (change.term <= (this.state.pending.at(-1)?.term ?? 0)) {
      logger.info(fields, 'leader change already queued');
      return;
    }
    const max = this.options.maxPending ?? 100;
    const pending = [...this.state.pending, change];
    const dropped = pending.splice(0, Math.max(0, pending.length - max));
    if (dropped.length > 0)
      logger.warn({ dropped: dropped.map((c) => c.term) }, 'too many unsent alerts; dropped the oldest');
    if (!this.save({ ...this.state, pending })) return;
    logger.info(fields, 'leader change queued for alert');
    this.wake?.();
  }

  private async run(): Promise<void> {
    const { sender, logger, from, to, gatewayUrl } = this.options;
    while (!this.stopping.signal.aborted) {
      const next = this.state.pending[0];
      if (!next) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      const mail = leaderAlertMail(next, this.state.lastAlerted, gatewayUrl);
      try {
        const sent = await sender.send({ from, to, ...mail });
        this.retry.reset();
        if (!this.save({ lastAlerted: next, pending: this.state.pending.slice(1) })) return;
        logger.info(
          { term: next.term, leader: next.leader.id, to, messageId: sent.messageId, response: sent.response },
          'alert sent',
        );
      } catch (error) {
        const retryInMs = this.retry.next();
        logger.warn(
          { term: next.term, reason: smtpFailureReason(error), retryInMs },
          'alert not sent; retrying',
        );
        await pause(retryInMs, this.stopping.signal);
      }
    }
  }

  private save(state: AlertState): boolean {
    try {
      this.options.stateFile.save(state);
      this.state = state;
      return true;
    } catch (error) {
      this.stopping.abort();
      this.options.onFatal(error as Error);
      return false;
    }
  }
}
