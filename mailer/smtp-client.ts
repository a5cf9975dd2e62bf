/**
 * Sending one message through SMTP_URL with nodemailer, and saying in one line why a send
 * failed: the server's own reply when there is one ("535 Invalid username or password"),
 * otherwise what went wrong with the connection ("connect ECONNREFUSED 127.0.0.1:2525").
 * A new connection per message (no pool): alerts are rare, and a pooled connection that the
 * server dropped in between is one more way to fail.
 */
import { createTransport } from 'nodemailer';
import type { SmtpEndpoint } from './smtp-url.js';

export interface OutgoingMail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SentMail {
  /** The Message-ID header of the message, with its angle brackets. */
  readonly messageId: string;
  /** The server's final reply, such as "250 2.0.0 Ok: queued as 4F2A1". */
  readonly response: string;
  /** Recipients the server refused while it accepted others. */
  readonly rejected: readonly string[];
}

export interface SmtpSender {
  send(mail: OutgoingMail): Promise<SentMail>;
  close(): void;
}

export function createSmtpSender(endpoint: SmtpEndpoint): SmtpSender {
  const transport = createTransport(endpoint.transport);
  return {
    async send(mail) {
      const info = await transport.sendMail({ ...mail });
      return {
        messageId: info.messageId,
        response: info.response,
        rejected: info.rejected.map(String),
      };
    },
    close: () => transport.close(),
  };
}

/** Why a send failed, in one line. */
export function smtpFailureReason(error: unknown): string {
  const e = error as { message?: string; response?: string; code?: string };
  const reason = e.response ?? e.message ?? String(error);
  const oneLine = reason.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return e.code && !oneLine.includes(e.code) ? `${oneLine} (${e.code})` : oneLine;
}
