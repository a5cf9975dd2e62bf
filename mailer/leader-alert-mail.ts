/**
 * The email a human gets on a leader change: the subject says who leads now and in which term,
 * so a list of alerts reads as the cluster's history; the body adds the leader's URL, when it
 * happened, who led before, and where to look.
 */
import type { LeaderChange } from './leader-change.js';

export interface LeaderAlertMail {
  readonly subject: string;
  readonly text: string;
  /** For mail filters and for tests: the term and leader, machine-readable. */
  readonly headers: Readonly<Record<string, string>>;
}

const utc = (iso: string) => {
  const t = Date.parse(iso);
  return Number.isNaN(t)
    ? iso
    : `${new Date(t)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, '')} UTC`;
};

export function leaderAlertMail(
  change: LeaderChange,
  previous: LeaderChange | null,
  gatewayUrl: string,
): LeaderAlertMail {
  const { leader, term } = change;
  const when =
    change.source === 'catch-up'
      ? `${utc(change.at)} (noticed when the mailer connected to the gateway; the change itself came earlier)`
      : utc(change.at);
  const before = previous
    ? `${previous.leader.id} (${previous.leader.url || 'URL unknown'}), term ${previous.term}`
    : 'not known to the mailer (this is its first alert)';
  const lines = [
    `${leader.id} is now the leader of the ensemble cluster, in term ${term}.`,
    '',
    `  New leader:       ${leader.id}`,
    `  Its URL:          ${leader.url || 'not known yet'}`,
    `  Term:             ${term}`,
    `  Time:             ${when}`,
    `  Previous leader:  ${before}`,
    '',
    'Writes now go to the new leader; the gateway forwards them there by itself.',
    'If leaders change often, a node may be crashing or the network between nodes may be',
    `unreliable. The live cluster page: ${gatewayUrl}/`,
    '',
    '— the ensemble mailer (one alert per term)',
  ];
  return {
    subject: `[ensemble] New leader: ${leader.id} (term ${term})`,
    text: `${lines.join('\n')}\n`,
    headers: { 'X-Ensemble-Term': String(term), 'X-Ensemble-Leader': leader.id },
  };
}
