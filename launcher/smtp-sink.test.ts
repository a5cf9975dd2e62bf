import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { createTransport } from 'nodemailer';
import { readEml } from '../test-support/eml.js';
import { freePort } from '../test-support/postgres.js';
import { startSmtpSink } from './smtp-sink.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'ensemble-sink-'));

test('every message is kept whole as a .eml file and announced with its envelope', async () => {
  const sink = await startSmtpSink({ dir: tempDir(), port: 0 });
  try {
    assert.equal(sink.url, `smtp://127.0.0.1:${sink.port}`);
    const transport = createTransport({ host: '127.0.0.1', port: sink.port });
    const seen: string[] = [];
    const unsubscribe = sink.onMessage((m) => seen.push(m.file));
    for (const n of [1, 2]) {
      const next = sink.nextMessage();
      const info = await transport.sendMail({
        from: 'Sender <sender@example.com>',
        to: 'rcpt@example.com',
        bcc: 'hidden@example.com',
        subject: `message ${n}`,
        text: `body ${n}`,
      });
      const mail = await next;
      assert.match(info.response, /^250 Message kept as .*\.eml$/);
      assert.equal(mail.envelopeFrom, 'sender@example.com');
      assert.deepEqual(mail.envelopeTo, ['rcpt@example.com', 'hidden@example.com']);
      assert.deepEqual([mail.user, mail.secure], [null, false]);
      const read = readEml(mail.file);
      assert.equal(read.headers.get('subject'), `message ${n}`);
      assert.equal(read.headers.get('message-id'), info.messageId);
      assert.equal(read.text?.trim(), `body ${n}`);
      assert.equal(read.headers.has('bcc'), false, 'Bcc is in the envelope only');
    }
    unsubscribe();
    assert.equal(seen.length, 2);
    // Only whole messages in the folder: no partial file is left behind.
    assert.deepEqual(readdirSync(sink.dir).sort(), seen.map((f) => basename(f)).sort());
    assert.ok(readFileSync(seen[0] as string, 'utf8').includes('\r\n\r\nbody 1'));
    transport.close();
  } finally {
    await sink.stop();
  }
});

test('a sink with a login refuses senders without it; nextMessage gives up after its timeout', async () => {
  const sink = await startSmtpSink({ dir: tempDir(), port: 0, auth: { user: 'u', password: 'p@ss/word' } });
  try {
    assert.equal(sink.url, `smtp://u:p%40ss%2Fword@127.0.0.1:${sink.port}`);
    const anonymous = createTransport({ host: '127.0.0.1', port: sink.port });
    await assert.rejects(
      anonymous.sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x' }),
      (e: { responseCode?: number }) => e.responseCode === 530,
    );
    const next = sink.nextMessage();
    const loggedIn = createTransport(sink.url);
    await loggedIn.sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x' });
    assert.equal((await next).user, 'u');
    await assert.rejects(sink.nextMessage(50), /no message reached the SMTP sink within 50 ms/);
  } finally {
    await sink.stop();
  }
});

test('a stopped sink frees its port: a new one starts on it (SMTP down, then up again)', async () => {
  const port = await freePort();
  const dir = tempDir();
  const first = await startSmtpSink({ dir, port });
  await first.stop();
  const transport = createTransport({ host: '127.0.0.1', port });
  await assert.rejects(
    transport.sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x' }),
    /ECONNREFUSED/,
  );
  const second = await startSmtpSink({ dir, port });
  try {
    const next = second.nextMessage();
    await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x' });
    await next;
    await assert.rejects(startSmtpSink({ dir, port }), /EADDRINUSE/);
  } finally {
    await second.stop();
  }
});

test('a message over maxBytes is refused with 552 and leaves no file', async () => {
  const sink = await startSmtpSink({ dir: tempDir(), port: 0, maxBytes: 1024 });
  try {
    const transport = createTransport({ host: '127.0.0.1', port: sink.port });
    await assert.rejects(
      transport.sendMail({ from: 'a@example.com', to: 'b@example.com', text: 'x'.repeat(4096) }),
      (e: { responseCode?: number }) => e.responseCode === 552,
    );
    assert.deepEqual(readdirSync(sink.dir), []);
  } finally {
    await sink.stop();
  }
});
