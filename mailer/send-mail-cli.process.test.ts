/**
 * `npm run mail` as a user runs it (the compiled CLI in its own process) against the real SMTP
 * sink: plain, STARTTLS with a login and a private CA, implicit TLS; the failures a user meets
 * (wrong password, untrusted certificate, no server, wrong flags, a bad SMTP_URL) with their exit
 * codes and one-line reasons. Every wait is on an event: the process's exit, the sink's message.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ReceivedMail, type SmtpSink, startSmtpSink } from '../launcher/smtp-sink.js';
import { readEml } from '../test-support/eml.js';
import { freePort } from '../test-support/postgres.js';
import { makeSelfSignedCertificate, type TestCertificate } from '../test-support/tls-cert.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), 'send-mail-cli.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function mail(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = { ...process.env };
  for (const name of ['SMTP_URL', 'SMTP_TLS_CA', 'MAIL_FROM']) delete clean[name];
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

const sent = (r: Run) => {
  assert.equal(r.code, 0, r.stderr);
  const m = /^message id: (<[^>]+>)\nserver reply: (250 .+)\n$/.exec(r.stdout);
  assert.ok(m, `unexpected output: ${r.stdout}`);
  return { messageId: m[1] as string, reply: m[2] as string };
};

/** The reason of a failed run: exit 1 and one line on stderr. */
const failed = (r: Run) => {
  assert.equal(r.code, 1, `expected a failure, got ${r.code}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  return r.stderr;
};

const tempDir = () => mkdtempSync(join(tmpdir(), 'ensemble-mail-cli-'));
const LOGIN = { user: 'alerts@example.com', password: 'correct horse:battery' };

let cert: TestCertificate;
let plain: SmtpSink;
let starttls: SmtpSink;
let implicit: SmtpSink;
let plainAuth: SmtpSink;
let starttlsOpen: SmtpSink;
const received: ReceivedMail[] = [];

before(async () => {
  cert = makeSelfSignedCertificate();
  plain = await startSmtpSink({ dir: tempDir(), port: 0 });
  starttls = await startSmtpSink({ dir: tempDir(), port: 0, auth: LOGIN, tls: cert });
  implicit = await startSmtpSink({ dir: tempDir(), port: 0, auth: LOGIN, tls: { ...cert, implicit: true } });
  plainAuth = await startSmtpSink({ dir: tempDir(), port: 0, auth: LOGIN });
  starttlsOpen = await startSmtpSink({ dir: tempDir(), port: 0, tls: cert });
  for (const sink of [plain, starttls, implicit, plainAuth, starttlsOpen])
    sink.onMessage((m) => received.push(m));
});

after(async () => {
  await Promise.all([plain, starttls, implicit, plainAuth, starttlsOpen].map((sink) => sink?.stop()));
});

describe('npm run mail', { timeout: 60_000 }, () => {
  test('plain SMTP: the message arrives with its From, To, Subject and body', async () => {
    const next = plain.nextMessage();
    const r = await mail(
      [
        '--to',
        'Ann Example <ann@example.com>, bob@example.com',
        '--from',
        'Ops <ops@example.com>',
        '--subject',
        'Disk almost full – nœud n2',
        '--text',
        'Line one.\nLine two: ünïcode.',
      ],
      { SMTP_URL: plain.url },
    );
    const { messageId, reply } = sent(r);
    const got = await next;
    assert.match(reply, /^250 Message kept as /);
    assert.deepEqual(
      [got.envelopeFrom, got.envelopeTo],
      ['ops@example.com', ['ann@example.com', 'bob@example.com']],
    );
    assert.deepEqual([got.secure, got.user], [false, null]);
    const read = readEml(got.file);
    assert.equal(read.headers.get('from'), 'Ops <ops@example.com>');
    assert.equal(read.headers.get('to'), 'Ann Example <ann@example.com>, bob@example.com');
    assert.equal(read.headers.get('subject'), 'Disk almost full – nœud n2');
    assert.equal(read.headers.get('message-id'), messageId);
    assert.equal(read.text?.replace(/\r\n/g, '\n').trimEnd(), 'Line one.\nLine two: ünïcode.');
    assert.equal(read.html, null);
  });

  test('--html adds an HTML part; without --from the sender is MAIL_FROM', async () => {
    const next = plain.nextMessage();
    sent(
      await mail(
        ['--to', 'ann@example.com', '--subject', 'S', '--text', 'plain words', '--html', '<p>rich</p>'],
        {
          SMTP_URL: plain.url,
          MAIL_FROM: 'Cluster <cluster@example.com>',
        },
      ),
    );
    const read = readEml((await next).file);
    assert.equal(read.headers.get('from'), 'Cluster <cluster@example.com>');
    assert.match(read.headers.get('content-type') ?? '', /^multipart\/alternative/);
    assert.equal(read.text?.trim(), 'plain words');
    assert.equal(read.html?.trim(), '<p>rich</p>');
  });

  const secured = () =>
    [
      [
        'STARTTLS (smtp://)',
        starttls,
        /^smtp:\/\/alerts%40example.com:correct%20horse%3Abattery@127\.0\.0\.1:\d+$/,
      ],
      ['implicit TLS (smtps://)', implicit, /^smtps:\/\/alerts%40example.com:/],
    ] as const;

  test('STARTTLS and implicit TLS with a login, trusting a private CA through SMTP_TLS_CA', async () => {
    for (const [how, sink, url] of secured()) {
      assert.match(sink.url, url);
      const next = sink.nextMessage();
      sent(
        await mail(['--to', 'ann@example.com', '--subject', `over ${how}`, '--text', 'encrypted'], {
          SMTP_URL: sink.url,
          SMTP_TLS_CA: cert.certFile,
        }),
      );
      const got = await next;
      assert.deepEqual([got.secure, got.user], [true, LOGIN.user], how);
      assert.equal(readEml(got.file).headers.get('subject'), `over ${how}`);
    }
  });

  test('plain SMTP with a login, and STARTTLS without one', async () => {
    const cases = [
      ['plain with a login', plainAuth, { secure: false, user: LOGIN.user }],
      ['STARTTLS without a login', starttlsOpen, { secure: true, user: null }],
    ] as const;
    for (const [how, sink, expected] of cases) {
      const next = sink.nextMessage();
      const { messageId } = sent(
        await mail(['--to', 'ann@example.com', '--subject', how, '--text', 'body'], {
          SMTP_URL: sink.url,
          SMTP_TLS_CA: cert.certFile,
        }),
      );
      const got = await next;
      assert.deepEqual({ secure: got.secure, user: got.user }, expected, how);
      const read = readEml(got.file);
      assert.equal(read.headers.get('message-id'), messageId, how);
      assert.equal(read.headers.get('subject'), how);
      assert.equal(read.text?.trim(), 'body');
    }
  });

  test('a wrong password: exit 1 with the server’s reason, and nothing is delivered', async () => {
    const before = received.length;
    const url = starttls.url.replace(encodeURIComponent(LOGIN.password), 'wrong');
    const reason = failed(
      await mail(['--to', 'ann@example.com', '--subject', 'S', '--text', 'T'], {
        SMTP_URL: url,
        SMTP_TLS_CA: cert.certFile,
      }),
    );
    assert.match(reason, /^mail: not sent via smtp:\/\/alerts%40example.com:\*\*\*@127\.0\.0\.1:\d+: /);
    assert.match(reason, /535 Invalid username or password/);
    assert.equal(reason.includes('wrong'), false, 'the password is not printed');
    // The CLI has exited: a message it had handed over would have been announced before.
    assert.equal(received.length, before);
  });

  test('a certificate from an untrusted CA is refused (certificates are always verified)', async () => {
    const reason = failed(
      await mail(['--to', 'ann@example.com', '--subject', 'S', '--text', 'T'], { SMTP_URL: implicit.url }),
    );
    assert.match(reason, /self[- ]signed certificate/i);
  });

  test('no server listening: exit 1 saying the connection was refused', async () => {
    const port = await freePort();
    const reason = failed(
      await mail(['--to', 'ann@example.com', '--subject', 'S', '--text', 'T'], {
        SMTP_URL: `smtp://127.0.0.1:${port}`,
      }),
    );
    assert.match(reason, new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
  });

  test('missing or wrong flags: a usage line and exit 2, before any connection', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^mail: missing --to, --subject, --text$/],
      [['--to', 'ann@example.com', '--subject', 'S'], /^mail: missing --text$/],
      [['--to', 'ann@example.com', '--subject', '  ', '--text', 'T'], /^mail: missing --subject$/],
      [
        ['--to', 'ann@example.com', '--subject', 'S', '--text'],
        /^mail: Option '--text <value>' argument missing/,
      ],
      [
        ['--to', 'ann@example.com', '--subject', 'S', '--text', 'T', '--cc', 'x@y'],
        /^mail: Unknown option '--cc'/,
      ],
      [
        ['--to', 'ann@example.com', '--subject', 'S', '--text', 'T', 'extra'],
        /^mail: Unexpected argument 'extra'/,
      ],
      [['--to', 'ann', '--subject', 'S', '--text', 'T'], /^mail: --to: "ann" is not an email address$/],
    ];
    for (const [args, expected] of cases) {
      const r = await mail(args, { SMTP_URL: plain.url });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const [problem, usage, ...rest] = r.stderr.trimEnd().split('\n');
      assert.match(problem as string, expected);
      assert.match(usage as string, /^usage: npm run mail -- --to ADDR/);
      assert.deepEqual(rest, []);
      assert.equal(r.stdout, '');
    }
    const help = await mail(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: npm run mail -- --to ADDR/);
  });

  test('a malformed SMTP_URL: one line naming the variable, exit 2', async () => {
    const r = await mail(['--to', 'ann@example.com', '--subject', 'S', '--text', 'T'], {
      SMTP_URL: 'smtp://user:secret@',
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mail: invalid configuration: SMTP_URL: .*\(got "smtp:\/\/user:\*\*\*@"\)\n$/);
  });
});
