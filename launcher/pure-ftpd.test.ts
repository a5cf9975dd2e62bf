import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { Client, FTPError } from 'basic-ftp';
import { startTestFtp, type TestFtp } from '../test-support/ftp.js';
import { descendantProcesses, isRunning } from './child-process.js';

const ourFtpProcesses = () => descendantProcesses(process.pid).filter(({ name }) => name === 'pure-ftpd');

let ftp: TestFtp;
before(async () => {
  ftp = await startTestFtp();
});
after(async () => {
  await ftp?.stop();
});

async function login(password: string): Promise<Client> {
  // Above pure-ftpd's deliberate delay of up to about 4 s before it refuses a login.
  const client = new Client(10_000);
  try {
    await client.access({ host: '127.0.0.1', port: ftp.port, user: ftp.user, password });
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

test('an upload into a new directory downloads back byte-equal and is visible on disk', async () => {
  const content = Buffer.concat([Buffer.from('{"listings":[]}\n'), randomBytes(100_000)]);
  const client = await login(ftp.password);
  try {
    await client.ensureDir('/listings');
    await client.uploadFrom(Readable.from([content]), '/listings/latest.json');
    const chunks: Buffer[] = [];
    const sink = new PassThrough().on('data', (chunk: Buffer) => chunks.push(chunk));
    await client.downloadTo(sink, '/listings/latest.json');
    assert.deepEqual(Buffer.concat(chunks), content);
    // Overwriting is allowed.
    await client.uploadFrom(Readable.from([Buffer.from('again')]), '/listings/latest.json');
  } finally {
    client.close();
  }
  assert.equal(readFileSync(join(ftp.rootDir, 'listings', 'latest.json'), 'utf8'), 'again');
});

test("a wrong password is refused (after pure-ftpd's deliberate delay of a few seconds)", async () => {
  await assert.rejects(login('not-the-password'), (error: unknown) => {
    assert.ok(error instanceof FTPError);
    assert.equal(error.code, 530);
    return true;
  });
});

test('stop leaves no pure-ftpd process behind, even with a client still connected', async () => {
  const connected = await login(ftp.password);
  const running = ourFtpProcesses();
  assert.ok(running.length >= 2, 'the server and the open session run before stop');
  await ftp.stop();
  connected.close();
  assert.deepEqual(ourFtpProcesses(), []);
  assert.deepEqual(
    running.filter(({ pid }) => isRunning(pid)),
    [],
  );
});
