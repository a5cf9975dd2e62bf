/**
 * The mailer's spans when tracing is on: each alert sent is a trace of its own (`send alert`,
 * with the SMTP server's message id), so a slow or failing SMTP server shows in the trace viewer
 * beside the cluster's writes.
 */
import { SpanKind } from '@opentelemetry/api';
import { inSpan } from '../common/spans.js';
import type { SmtpSender } from './smtp-client.js';

export function tracedSender(sender: SmtpSender): SmtpSender {
  return {
    send: (mail) =>
      inSpan('send alert', { kind: SpanKind.CLIENT, root: true }, async (span) => {
        const sent = await sender.send(mail);
        span.setAttribute('ensemble.mail.message_id', sent.messageId);
        return sent;
      }),
    close: () => sender.close(),
  };
}
