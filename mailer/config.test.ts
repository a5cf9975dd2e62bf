import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../common/config.js';
import { addressListProblem } from './addresses.js';
import { alertConfigSchema, sendMailConfigSchema } from './config.js';
import { feedUrlOf } from './gateway-url.js';
import { parseSmtpUrl } from './smtp-url.js';

/** The configuration is refused with one line matching `expected`. */
function refused(env: Record<string, string>, expected: RegExp, schema = sendMailConfigSchema): string {
  let message = '';
  assert.throws(
    () => parseConfig(schema, env),
    (e: Error) => {
      message = e.message;
      assert.match(e.message, expected);
      assert.equal(e.message.includes('\n'), false);
      return true;
    },
  );
  return message;
}

test('smtp:// is plain with STARTTLS when offered, smtps:// is implicit TLS; default ports 587 and 465', () => {
  const plain = parseSmtpUrl('smtp://127.0.0.1:2525');
  assert.deepEqual(
    [plain.transport.host, plain.transport.port, plain.transport.secure, plain.transport.auth],
    ['127.0.0.1', 2525, false, undefined],
  );
  assert.equal(plain.transport.ignoreTLS, undefined, 'STARTTLS is used whenever the server offers it');
  assert.equal(plain.transport.tls?.rejectUnauthorized, true);
  assert.equal(plain.redacted, 'smtp://127.0.0.1:2525');

  const secure = parseSmtpUrl('smtps://mail%40example.com:p%3Ass%20w@mail.example.com', 'PEM');
  assert.deepEqual(
    [secure.transport.host, secure.transport.port, secure.transport.secure],
    ['mail.example.com', 465, true],
  );
  assert.deepEqual(secure.transport.auth, { user: 'mail@example.com', pass: 'p:ss w' }, 'percent-decoded');
  assert.equal(secure.transport.tls?.ca, 'PEM');
  assert.equal(secure.redacted, 'smtps://mail%40example.com:***@mail.example.com', 'no password in logs');

  assert.equal(parseSmtpUrl('smtp://user:pw@[::1]').transport.host, '::1');
  assert.equal(parseSmtpUrl('smtp://user:pw@[::1]').transport.port, 587);
});

test('a malformed SMTP_URL is one clear line naming the variable', () => {
  const cases: [string, RegExp][] = [
    ['not a url', /^SMTP_URL: must be smtp:\/\/\[user:password@\]host\[:port\] or smtps:/],
    ['http://127.0.0.1:2525', /^SMTP_URL: must start with smtp:\/\/ or smtps:\/\//],
    ['smtp://127.0.0.1:99999', /^SMTP_URL: must be smtp:\/\//],
    ['smtp://user@127.0.0.1', /^SMTP_URL: has a user but no password/],
    ['smtp://:pw@127.0.0.1', /^SMTP_URL: has a password but no user/],
    ['smtp://127.0.0.1/inbox', /^SMTP_URL: must not have a path/],
    ['smtp://127.0.0.1?tls=off', /^SMTP_URL: must not have a query/],
    ['smtp://u:%E0%A4%A@127.0.0.1', /^SMTP_URL: has a badly percent-encoded user or password/],
  ];
  for (const [url, expected] of cases) refused({ SMTP_URL: url }, expected);
  const line = refused({ SMTP_URL: 'smtp://ann:s3cret@mail.example.com/x' }, /must not have a path/);
  assert.match(line, /got "smtp:\/\/ann:\*\*\*@mail.example.com\/x"/);
  assert.equal(line.includes('s3cret'), false, 'the password is not echoed');
});

test('the CLI defaults to the local SMTP sink and a local sender; SMTP_TLS_CA is read as PEM', () => {
  const c = parseConfig(sendMailConfigSchema, {});
  assert.equal(c.smtp.redacted, 'smtp://127.0.0.1:2525');
  assert.equal(c.from, 'ensemble <ensemble@localhost>');

  const dir = mkdtempSync(join(tmpdir(), 'ensemble-mailer-config-'));
  const pem = join(dir, 'ca.pem');
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const withCa = parseConfig(sendMailConfigSchema, {
    SMTP_TLS_CA: pem,
    SMTP_URL: 'smtps://mail.example.com',
  });
  assert.match(String(withCa.smtp.transport.tls?.ca), /BEGIN CERTIFICATE/);

  writeFileSync(join(dir, 'junk.pem'), 'junk');
  refused(
    { SMTP_TLS_CA: join(dir, 'junk.pem') },
    /^SMTP_TLS_CA: must be a readable PEM file of CA certificates \(no PEM certificate in it\)/,
  );
  refused({ SMTP_TLS_CA: join(dir, 'missing.pem') }, /^SMTP_TLS_CA: must be a readable PEM file .*ENOENT/);
  refused({ MAIL_FROM: 'nobody' }, /^MAIL_FROM: "nobody" is not an email address/);
});

test('the alert service needs ALERT_EMAIL and derives the feed URL from GATEWAY_URL', () => {
  refused({}, /^ALERT_EMAIL: is required: whom to alert/, alertConfigSchema);
  const c = parseConfig(alertConfigSchema, { ALERT_EMAIL: 'Ops <ops@example.com>' });
  assert.deepEqual(
    [c.alertTo, c.gatewayUrl, c.feedUrl, c.dataDir],
    ['Ops <ops@example.com>', 'http://127.0.0.1:4000', 'ws://127.0.0.1:4000/graphql', '.data/mailer'],
  );
  refused(
    { ALERT_EMAIL: 'ops@example.com', GATEWAY_URL: 'ftp://x' },
    /^GATEWAY_URL: must be the gateway’s http\(s\):\/\/ URL/,
    alertConfigSchema,
  );
});

test('GATEWAY_URL → the GraphQL WebSocket URL', () => {
  assert.equal(feedUrlOf('http://127.0.0.1:4000'), 'ws://127.0.0.1:4000/graphql');
  assert.equal(feedUrlOf('http://127.0.0.1:4000/'), 'ws://127.0.0.1:4000/graphql');
  assert.equal(feedUrlOf('https://ensemble.example.com/graphql'), 'wss://ensemble.example.com/graphql');
  assert.equal(feedUrlOf('https://example.com/api/'), 'wss://example.com/api/graphql');
  assert.equal(feedUrlOf('ws://gateway:4000/graphql'), 'ws://gateway:4000/graphql');
  assert.equal(feedUrlOf('gateway:4000'), null);
  assert.equal(feedUrlOf('http://gateway:4000/?x=1'), null);
});

test('address lists: names, several addresses; a typo is refused', () => {
  assert.equal(addressListProblem('a@b'), null);
  assert.equal(addressListProblem('Ann <ann@example.com>, bob@example.com'), null);
  assert.match(String(addressListProblem('')), /must be an email address/);
  assert.match(String(addressListProblem('ann@example.com, bob')), /"bob" is not an email address/);
  assert.match(String(addressListProblem('ann at example.com')), /is not an email address/);
});
