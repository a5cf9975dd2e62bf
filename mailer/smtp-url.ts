/**
 * SMTP_URL, read into nodemailer's transport options. Parsed here rather than handed to
 * nodemailer as a string so that a wrong URL is one clear line at start (nodemailer would take
 * almost anything and fail later, at the first message), and so that the security choices are
 * visible: `smtp://` upgrades with STARTTLS whenever the server offers it, `smtps://` is TLS
 * from the first byte, and certificates are always verified, against the system's CAs or the
 * private CA given as SMTP_TLS_CA.
 */
import type { SMTPTransportOptions } from 'nodemailer/lib/smtp-transport';

export const SMTP_URL_FORM = 'smtp://[user:password@]host[:port] or smtps://[user:password@]host[:port]';

export class SmtpUrlError extends Error {}

export interface SmtpEndpoint {
  /** The options for nodemailer.createTransport. */
  readonly transport: SMTPTransportOptions;
  /** The URL without its password, for logs. */
  readonly redacted: string;
}

/** Parse an SMTP URL; `ca` is the PEM of a private CA to trust besides the system's. */
export function parseSmtpUrl(text: string, ca?: string | Buffer): SmtpEndpoint {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new SmtpUrlError(`must be ${SMTP_URL_FORM}`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new SmtpUrlError(`must start with smtp:// or smtps:// (${SMTP_URL_FORM})`);
  }
  if (!url.hostname) throw new SmtpUrlError(`has no host (${SMTP_URL_FORM})`);
  if (url.pathname !== '' && url.pathname !== '/') throw new SmtpUrlError('must not have a path');
  if (url.search || url.hash) throw new SmtpUrlError('must not have a query or a fragment');
  if (url.username && !url.password) throw new SmtpUrlError('has a user but no password (user:password@)');
  if (url.password && !url.username) throw new SmtpUrlError('has a password but no user (user:password@)');

  const implicitTls = url.protocol === 'smtps:';
  // 587 (submission, STARTTLS) and 465 (submissions, implicit TLS): nodemailer's defaults too.
  const port = url.port ? Number(url.port) : implicitTls ? 465 : 587;
  // new URL keeps brackets around an IPv6 host; sockets want the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let auth: { user: string; pass: string } | undefined;
  try {
    auth = url.username
      ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
      : undefined;
  } catch {
    throw new SmtpUrlError('has a badly percent-encoded user or password');
  }
  return {
    transport: {
      host,
      port,
      secure: implicitTls,
      ...(auth ? { auth } : {}),
      tls: { minVersion: 'TLSv1.2', rejectUnauthorized: true, ...(ca ? { ca } : {}) },
      // Fail within seconds, so that a retry (or the user) learns early that the server is away.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    },
    redacted: `${url.protocol}//${auth ? `${url.username}:***@` : ''}${url.host}`,
  };
}
