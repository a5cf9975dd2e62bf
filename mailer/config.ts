/**
 * The mailer's configuration, from the environment: where to send (SMTP_URL, SMTP_TLS_CA,
 * MAIL_FROM), and for the alert service whom to alert, which feed to follow and where to
 * remember what was already sent. See mailer/README.md.
 */
import { z } from 'zod';
import { logLevel, otlpEndpoint, pemCaFile } from '../common/config.js';
import { addressListProblem } from './addresses.js';
import { feedUrlOf } from './gateway-url.js';
import { parseSmtpUrl, SmtpUrlError } from './smtp-url.js';

/** npm start's SMTP sink. */
export const DEFAULT_SMTP_URL = 'smtp://127.0.0.1:2525';
export const DEFAULT_MAIL_FROM = 'ensemble <ensemble@localhost>';

export const addressList = (what: string) =>
  z.string({ message: `is required: ${what}` }).superRefine((text, ctx) => {
    const problem = addressListProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const smtpFields = {
  SMTP_URL: z.string().default(DEFAULT_SMTP_URL),
  SMTP_TLS_CA: pemCaFile.optional(),
  MAIL_FROM: addressList('the sender').default(DEFAULT_MAIL_FROM),
};

type SmtpFields = { SMTP_URL: string; SMTP_TLS_CA?: string | undefined; MAIL_FROM: string };

/** SMTP_URL needs SMTP_TLS_CA, so it is read once both are. */
function smtpOf(c: SmtpFields, ctx: z.RefinementCtx) {
  try {
    return { smtp: parseSmtpUrl(c.SMTP_URL, c.SMTP_TLS_CA), from: c.MAIL_FROM };
  } catch (error) {
    if (!(error instanceof SmtpUrlError)) throw error;
    ctx.addIssue({ code: 'custom', path: ['SMTP_URL'], message: error.message });
    return z.NEVER;
  }
}

/** `npm run mail`. */
export const sendMailConfigSchema = z.object(smtpFields).transform(smtpOf);

/** The alert service. */
export const alertConfigSchema = z
  .object({
    ...smtpFields,
    ALERT_EMAIL: addressList('whom to alert on a leader change, such as ops@example.com'),
    GATEWAY_URL: z.string().default('http://127.0.0.1:4000'),
    DATA_DIR: z.string().min(1).default('.data/mailer'),
    LOG_LEVEL: logLevel,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
  })
  .transform((c, ctx) => {
    const feed = feedUrlOf(c.GATEWAY_URL);
    if (!feed) {
      ctx.addIssue({
        code: 'custom',
        path: ['GATEWAY_URL'],
        message: 'must be the gateway’s http(s):// URL (or its ws(s):// GraphQL URL)',
      });
      return z.NEVER;
    }
    return {
      ...smtpOf(c, ctx),
      alertTo: c.ALERT_EMAIL,
      gatewayUrl: c.GATEWAY_URL.replace(/\/+$/, ''),
      feedUrl: feed,
      dataDir: c.DATA_DIR,
      logLevel: c.LOG_LEVEL,
      /** Where traces go (OTLP/HTTP); null: tracing is off. */
      otlpEndpoint: c.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
    };
  });
