/**
 * The local stack's mail server when SMTP_URL is not set, and the real SMTP server of the tests:
 * an smtp-server that accepts every message and keeps it as a .eml file, so that what the mailer
 * sent can be read (and opened in a mail client) without any outside service. Plain by default;
 * with a user and password it requires them, and with a key and certificate it speaks STARTTLS
 * or implicit TLS, so the mailer's secure paths are tested against a real server too.
 * Each message is announced as an event once its file is complete.
 */
import { EventEmitter, once } from 'node:events';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface SmtpSinkOptions {
  /** Where each message is kept, as <time>-<session>-<n>.eml. Created when missing. */
  readonly dir: string;
  /** 0 picks a free port. Default 2525, the contract's. */
  readonly port?: number;
  readonly host?: string;
  /** Require this login (AUTH PLAIN or LOGIN); without it, any client may send. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** PEM key and certificate: STARTTLS is offered, or with `implicit` the port speaks TLS at once. */
  readonly tls?: {
    readonly key: string | Buffer;
    readonly cert: string | Buffer;
    readonly implicit?: boolean;
  };
  /** The largest message accepted, in bytes (default 25 MiB). */
  readonly maxBytes?: number;
}

/** One message as the sink received it. */
export interface ReceivedMail {
  /** The .eml file, complete by the time the event fires. */
  readonly file: string;
  /** The envelope (MAIL FROM, RCPT TO), which may differ from the From/To headers. */
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  /** The user that logged in, when the sink requires a login. */
  readonly user: string | null;
  /** Whether the session was encrypted (STARTTLS or implicit TLS). */
  readonly secure: boolean;
}

export interface SmtpSink {
  /** The SMTP_URL that reaches this sink, with its login when it requires one. */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Called for every message once its file is written; returns the unsubscribe function. */
  onMessage(listener: (mail: ReceivedMail) => void): () => void;
  /** The next message received from now on; rejects after `timeoutMs`. */
  nextMessage(timeoutMs?: number): Promise<ReceivedMail>;
  /** Stops listening; a session still open is cut after a second. */
  stop(): Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions): Promise<SmtpSink> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const events = new EventEmitter<{ message: [ReceivedMail] }>();
  const { auth, tls } = options;
  let count = 0;

  const serverOptions: SMTPServerOptions = {
    name: 'ensemble-smtp-sink',
    banner: 'ensemble SMTP sink',
    logger: false,
    disableReverseLookup: true,
    size: options.maxBytes ?? 25 * 1024 * 1024,
    rejectOversized: true,
    closeTimeout: 1_000,
    // Without a certificate there is no STARTTLS: offering it with smtp-server's built-in test
    // certificate would make a verifying client fail instead of sending in plain text.
    disabledCommands: [...(auth ? [] : ['AUTH']), ...(tls ? [] : ['STARTTLS'])],
    // A plain sink with a login is for loopback tests; with TLS, AUTH waits for encryption.
    allowInsecureAuth: !tls,
    authOptional: !auth,
    ...(tls ? { key: tls.key, cert: tls.cert, secure: tls.implicit === true } : {}),
    onAuth(login, _session, callback) {
      if (auth && login.username === auth.user && login.password === auth.password) {
        callback(null, { user: login.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onData(stream, session, callback) {
      count += 1;
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = join(dir, `${stamp}-${session.id}-${count}.eml`);
      // Written under a temporary name and renamed: the .eml files are always whole messages.
      const partial = join(dir, `.${stamp}-${session.id}-${count}.eml.partial`);
      // Taken now: the envelope is reset as soon as the message is answered.
      const mail: ReceivedMail = {
        file,
        envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        envelopeTo: session.envelope.rcptTo.map((r) => r.address),
        user: typeof session.user === 'string' ? session.user : null,
        secure: session.secure,
      };
      void (async () => {
        try {
          await pipeline(stream, createWriteStream(partial, { mode: 0o600 }));
          if (stream.sizeExceeded) throw new Error('too large'); // rejectOversized answers 552
          renameSync(partial, file);
        } catch (error) {
          rmSync(partial, { force: true });
          const reason = `cannot keep the message: ${(error as Error).message}`;
          return callback(Object.assign(new Error(reason), { responseCode: 451 }));
        }
        callback(null, `Message kept as ${file.slice(dir.length + 1)}`);
        events.emit('message', mail);
      })();
    },
  };
  const server = new SMTPServer(serverOptions);
  // Errors of single client sessions (a dropped socket) must not crash the process.
  server.on('error', () => {});

  const listening = new Promise<void>((resolveListen, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 2525, host, () => {
      server.server.off('error', reject);
      resolveListen();
    });
  });
  await listening;
  const port = (server.server.address() as AddressInfo).port;
  const login = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@` : '';
  const url = `${tls?.implicit ? 'smtps' : 'smtp'}://${login}${host}:${port}`;

  return {
    url,
    port,
    dir,
    onMessage(listener) {
      events.on('message', listener);
      return () => events.off('message', listener);
    },
    async nextMessage(timeoutMs = 30_000) {
      const [mail] = await once(events, 'message', { signal: AbortSignal.timeout(timeoutMs) }).catch(
        (error: Error) => {
          throw error.name === 'AbortError'
            ? new Error(`no message reached the SMTP sink within ${timeoutMs} ms`)
            : error;
        },
      );
      return mail as ReceivedMail;
    },
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}
