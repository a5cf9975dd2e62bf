/**
 * `npm run mail -- --to ADDR --subject S --text T [--html H] [--from F]`: sends one email
 * through SMTP_URL and prints its Message-ID and the server's reply, so that a user can check
 * the SMTP settings the alert service will use, and a script can send a mail. Exit codes:
 * 0 sent, 1 not sent (the reason, the server's when it gave one, on one line), 2 wrong flags
 * or configuration.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../common/config.js';
import { addressListProblem } from './addresses.js';
import { sendMailConfigSchema } from './config.js';
import { createSmtpSender, smtpFailureReason } from './smtp-client.js';

const USAGE =
  'usage: npm run mail -- --to ADDR[,ADDR…] --subject S --text T [--html H] [--from F]  (SMTP_URL, SMTP_TLS_CA, MAIL_FROM from the environment)';

function usageError(problem: string): never {
  process.stderr.write(`mail: ${problem}\n${USAGE}\n`);
  process.exit(2);
}

function readFlags() {
  try {
    return parseArgs({
      options: {
        to: { type: 'string' },
        subject: { type: 'string' },
        text: { type: 'string' },
        html: { type: 'string' },
        from: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    // parseArgs explains itself ("Unknown option '--tp'", "Option '--to <value>' argument missing").
    return usageError((error as Error).message.split('\n')[0] as string);
  }
}

const flags = readFlags();
if (flags.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const missing = (['to', 'subject', 'text'] as const).filter((name) => !flags[name]?.trim());
if (missing.length > 0) usageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
for (const name of ['to', 'from'] as const) {
  const value = flags[name];
  const problem = value === undefined ? null : addressListProblem(value);
  if (problem) usageError(`--${name}: ${problem}`);
}

const config = loadConfigOrExit('mail', sendMailConfigSchema);
const sender = createSmtpSender(config.smtp);
try {
  const sent = await sender.send({
    from: flags.from ?? config.from,
    to: flags.to as string,
    subject: flags.subject as string,
    text: flags.text as string,
    ...(flags.html ? { html: flags.html } : {}),
  });
  process.stdout.write(`message id: ${sent.messageId}\nserver reply: ${sent.response}\n`);
  if (sent.rejected.length > 0) {
    process.stderr.write(`mail: the server refused these recipients: ${sent.rejected.join(', ')}\n`);
  }
  process.exitCode = 0;
} catch (error) {
  process.stderr.write(`mail: not sent via ${config.smtp.redacted}: ${smtpFailureReason(error)}\n`);
  process.exitCode = 1;
} finally {
  sender.close();
}
