/**
 * A check of the address lists a user types (--to, --from, ALERT_EMAIL, MAIL_FROM), with
 * nodemailer's own parser, so that a typo is refused with a clear line before any connection
 * instead of coming back as a server's 5xx or, worse, as a message to a wrong address.
 */
import addressparser from 'nodemailer/lib/addressparser';

const MAILBOX = /^[^\s@<>]+@[^\s@<>]+$/;

/** What is wrong with a list like `Ann <ann@example.com>, bob@example.com`, or null. */
export function addressListProblem(text: string): string | null {
  const parsed = addressparser(text, { flatten: true });
  if (parsed.length === 0) return 'must be an email address (or a comma-separated list of them)';
  const bad = parsed.find((a) => !MAILBOX.test(a.address));
  return bad ? `"${bad.address || bad.name}" is not an email address` : null;
}
