/**
 * The alert service end to end: the compiled mailer process follows the leaderChanged
 * subscription of a real 3-node cluster (nodes serve the gateway's schema on their own /graphql)
 * and mails the real SMTP sink. Leaders are killed with SIGKILL; SMTP is stopped and started;
 * the feed's node and the mailer itself are killed and restarted. Throughout: exactly one
 * alert per term, naming the leader the cluster elected in that term. Every wait is on an event
 * (a log record of a node or of the mailer, a message in the sink), bounded.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LocalCluster, type LogRecord } from '../launcher/local-cluster.js';
import { LogWaiters, type WaitOptions } from '../launcher/log-waiters.js';
import { type SmtpSink, startSmtpSink } from '../launcher/smtp-sink.js';
import { readEml } from '../test-support/eml.js';
import { freePortRange } from '../test-support/free-port-range.js';
import { freePort, startTestPostgres, type TestPostgres } from '../test-support/postgres.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const ALERT_EMAIL = 'Ops Team <ops@example.com>';
const MAIL_FROM = 'ensemble alerts <alerts@example.com>';
const WAIT = 60_000;

/** The compiled mailer in its own process, its JSON log lines awaited like LocalCluster's. */
class MailerProcess {
  readonly records: LogRecord[] = [];
  private readonly waiters = new LogWaiters<LogRecord>();
  private child: ChildProcess | null = null;

  constructor(private readonly env: () => Record<string, string>) {}

  start(): void {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...this.env(), ENSEMBLE_EXIT_WITH_PARENT: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (!line.startsWith('{')) return void process.stderr.write(`[mailer] ${line}\n`);
      const record = { ...JSON.parse(line), node: 'mailer' } as LogRecord;
      this.records.push(record);
      if (record.level >= 40) process.stderr.write(`[mailer] ${record.msg} ${JSON.stringify(record)}\n`);
      this.waiters.offer(record);
    });
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) =>
      process.stderr.write(`[mailer] ${line}\n`),
    );
  }

  /** The first record from now on (with `past`, also before) that matches. */
  waitFor(
    predicate: (r: LogRecord) => boolean,
    what: string,
    timeoutMs = WAIT,
    options: WaitOptions = {},
  ): Promise<LogRecord> {
    return this.waiters.waitFor(predicate, timeoutMs, `the mailer to log ${what}`, options);
  }

  /** Resolves with the exit code (null when the signal killed it). */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill(signal);
    return (await exited)[0];
  }
}

interface Alert {
  readonly term: number;
  readonly leader: string;
  readonly file: string;
}

let pg: TestPostgres;
let c: LocalCluster;
let sink: SmtpSink | null = null;
let smtpPort = 0;
let mailDir = '';
let mailer: MailerProcess;
let stateDir = '';
/** The node whose /graphql the mailer follows (the gateway's stand-in). */
let feedNode = '';
let leader = '';
let term = 0;
/** Who the cluster elected in each term, from the nodes' own logs. */
const elected = new Map<number, string>();
const alerts: Alert[] = [];
const alertArrived = new EventEmitter<{ alert: [Alert] }>();

async function startSink(): Promise<void> {
  sink = await startSmtpSink({ dir: mailDir, port: smtpPort });
  sink.onMessage((m) => {
    const headers = readEml(m.file).headers;
    const alert = {
      term: Number(headers.get('x-ensemble-term')),
      leader: headers.get('x-ensemble-leader') ?? '',
      file: m.file,
    };
    alerts.push(alert);
    alertArrived.emit('alert', alert);
  });
}

async function stopSink(): Promise<void> {
  await sink?.stop();
  sink = null;
}

/** The alert of a term, received already or still to come. */
function alertOf(t: number): Promise<Alert> {
  const seen = alerts.find((a) => a.term === t);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const listener = (a: Alert) => {
      if (a.term !== t) return;
      clearTimeout(timer);
      alertArrived.off('alert', listener);
      resolve(a);
    };
    const timer = setTimeout(() => {
      alertArrived.off('alert', listener);
      reject(new Error(`no alert for term ${t} within ${WAIT} ms`));
    }, WAIT);
    alertArrived.on('alert', listener);
  });
}

/** Exactly one alert per term, each naming the leader the cluster elected in that term. */
function assertOneAlertPerTerm(): void {
  const terms = alerts.map((a) => a.term);
  assert.deepEqual(
    terms,
    [...new Set(terms)].sort((a, b) => a - b),
    `one alert per term, in order: ${terms}`,
  );
  for (const a of alerts) assert.equal(a.leader, elected.get(a.term), `the leader of term ${a.term}`);
}

/** SIGKILL of the leader; resolves once the others agree on a new one. Returns the killed node. */
async function killLeader(): Promise<string> {
  const old = leader;
  const next = c.waitForLeader(term, 20_000);
  await c.kill(old, 'SIGKILL');
  await next;
  ({ leader, term } = await c.waitForAgreement());
  return old;
}

/** Restarts a killed node and waits until the whole cluster follows one leader again. */
async function restart(node: string): Promise<void> {
  c.start(node);
  await c.waitForReady([node]);
  ({ leader, term } = await c.waitForAgreement());
}

/**
 * The feed's node must outlive the next failover (a gateway is not a node): while it leads,
 * it is failed over first (its alert then comes by the catch-up after its restart).
 */
async function keepFeedNodeFollowing(): Promise<void> {
  while (leader === feedNode) {
    const back = mailer.waitFor((r) => r.msg === 'leader feed connected', 'the reconnection');
    const killed = await killLeader();
    await restart(killed);
    await back;
    await alertOf(term);
  }
}

/** SMTP stopped, then the leader killed: resolves once the mailer failed to send the new alert. */
async function failoverWhileSmtpDown(): Promise<{
  killed: string;
  failure: LogRecord;
  pendingTerm: number;
  retryInMs: number;
}> {
  await keepFeedNodeFollowing();
  const above = term;
  const failed = mailer.waitFor(
    (r) => r.msg === 'alert not sent; retrying' && (r.term as number) > above,
    `a failed send above term ${above}`,
  );
  await stopSink();
  const killed = await killLeader();
  const record = await failed;
  return {
    killed,
    failure: record,
    pendingTerm: record.term as number,
    retryInMs: record.retryInMs as number,
  };
}

before(async () => {
  pg = await startTestPostgres();
  const base = await freePortRange(6);
  c = new LocalCluster({
    size: 3,
    secret: 'mailer-alert-test-secret-0123456789',
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-mailer-cluster-')),
    databaseUrl: await pg.createDatabase('mailer'),
    apiToken: 'mailer-alert-test-token-0123456789',
    basePort: base,
    baseUdpPort: base + 3,
    onRecord: (r) => {
      if (r.to === 'leader' && typeof r.term === 'number') elected.set(r.term, r.node);
      if (r.level >= 50) process.stderr.write(`[${r.node}] ${JSON.stringify(r)}\n`);
    },
    onText: (node, line) => process.stderr.write(`[${node}] ${line}\n`),
  });
  const first = c.waitForLeader();
  c.startAll();
  await first;
  await c.waitForReady();
  ({ leader, term } = await c.waitForAgreement());
  feedNode = c.ids.find((id) => id !== leader) as string;

  smtpPort = await freePort();
  mailDir = mkdtempSync(join(tmpdir(), 'ensemble-mailer-mail-'));
  stateDir = mkdtempSync(join(tmpdir(), 'ensemble-mailer-state-'));
  await startSink();
  mailer = new MailerProcess(() => ({
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    ALERT_EMAIL,
    MAIL_FROM,
    GATEWAY_URL: c.url(feedNode),
    DATA_DIR: stateDir,
    LOG_LEVEL: 'info',
  }));
});

after(async () => {
  await mailer?.stop('SIGTERM');
  await stopSink();
  await c?.stopAll();
  await pg?.stop();
});

describe('the alert service on a 3-node cluster', { timeout: 300_000 }, () => {
  test('started after the election, it alerts the current leader once, with a useful mail', async () => {
    const connected = mailer.waitFor((r) => r.msg === 'leader feed connected', 'its connection');
    mailer.start();
    assert.equal((await connected).url, `${c.url(feedNode).replace('http', 'ws')}/graphql`);
    const alert = await alertOf(term);
    assert.equal(alert.leader, leader);
    const mail = readEml(alert.file);
    assert.equal(mail.headers.get('from'), MAIL_FROM);
    assert.equal(mail.headers.get('to'), ALERT_EMAIL);
    assert.equal(mail.headers.get('subject'), `[ensemble] New leader: ${leader} (term ${term})`);
    const text = mail.text ?? '';
    assert.match(text, new RegExp(`New leader: +${leader}\\b`));
    assert.match(text, new RegExp(`Its URL: +${c.url(leader)}`));
    assert.match(text, new RegExp(`Term: +${term}\\b`));
    assert.match(text, /Time: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(noticed when the mailer connected/);
    assert.match(text, /Previous leader: +not known to the mailer/);
    assertOneAlertPerTerm();
  });

  test('SIGKILL of the leader: one alert for the new term, naming the new leader and the old one', async () => {
    await keepFeedNodeFollowing();
    const [oldLeader, oldTerm] = [leader, term];
    const killed = await killLeader();
    const alert = await alertOf(term);
    assert.equal(alert.leader, leader);
    const text = readEml(alert.file).text ?? '';
    assert.match(text, new RegExp(`Its URL: +${c.url(leader)}`));
    assert.doesNotMatch(text, /noticed when the mailer connected/, 'pushed by the subscription');
    assert.match(
      text,
      new RegExp(`Previous leader: +${oldLeader} \\(${c.url(oldLeader)}\\), term ${oldTerm}`),
    );
    await restart(killed);
    await alertOf(term);
    assertOneAlertPerTerm();
  });

  test('the feed’s node dies and comes back: the mailer reconnects with backoff, repeats nothing', async () => {
    const lost = mailer.waitFor((r) => r.msg === 'leader feed lost; reconnecting', 'the lost feed');
    const wasLeader = feedNode === leader;
    await c.kill(feedNode, 'SIGKILL');
    const { retryInMs, reason } = await lost;
    assert.ok(typeof retryInMs === 'number' && retryInMs > 0 && retryInMs <= 30_000, `backoff ${retryInMs}`);
    assert.equal(typeof reason, 'string');
    // A second failed attempt while the node is down: the loop goes on.
    await mailer.waitFor((r) => r.msg === 'leader feed lost; reconnecting', 'a failed reconnection');
    if (wasLeader) ({ leader, term } = await c.waitForAgreement());
    const back = mailer.waitFor((r) => r.msg === 'leader feed connected', 'the reconnection');
    await restart(feedNode);
    await back;
    await alertOf(term);
    assertOneAlertPerTerm();
  });

  test('SMTP down when the leader changes: the alert is sent once SMTP is back', async () => {
    const { killed, failure, pendingTerm, retryInMs } = await failoverWhileSmtpDown();
    // Still down at the next try: tried again, after a longer wait (maybe already, while the
    // failover above waited for agreement: `past`).
    const again = await mailer.waitFor(
      (r) => r.msg === 'alert not sent; retrying' && r.term === pendingTerm && r !== failure,
      'a second failed send',
      WAIT,
      { past: true },
    );
    assert.ok(
      (again.retryInMs as number) >= retryInMs,
      `backoff ${retryInMs} ms, then ${again.retryInMs} ms`,
    );
    await startSink();
    const alert = await alertOf(pendingTerm);
    assert.equal(alert.leader, elected.get(pendingTerm));
    await restart(killed);
    await alertOf(term);
    assertOneAlertPerTerm();
  });

  test('SMTP down and the mailer killed: the queued alert survives the restart and is sent once', async () => {
    const { killed, pendingTerm } = await failoverWhileSmtpDown();
    await mailer.stop('SIGKILL');
    const state = JSON.parse(readFileSync(join(stateDir, 'alert-state.json'), 'utf8'));
    assert.ok(
      state.pending.some((p: { term: number }) => p.term === pendingTerm),
      'kept on disk before any send',
    );
    await startSink();
    const ready = mailer.waitFor((r) => r.msg === 'alert service ready', 'its start');
    mailer.start();
    assert.ok(((await ready).pending as number[]).includes(pendingTerm));
    await alertOf(pendingTerm);
    await restart(killed);
    await alertOf(term);
    assertOneAlertPerTerm();
  });

  test('a restarted mailer sends nothing again', async () => {
    // Settled: every term so far alerted, nothing pending.
    await alertOf(term);
    assert.equal(await mailer.stop('SIGTERM'), 0, 'a clean stop, within its deadline');
    const count = alerts.length;
    const state = JSON.parse(readFileSync(join(stateDir, 'alert-state.json'), 'utf8'));
    assert.deepEqual(
      [state.lastAlerted.term, state.lastAlerted.leader.id, state.pending],
      [term, leader, []],
    );

    const caughtUp = mailer.waitFor(
      (r) => r.msg === 'leader change already alerted' && r.source === 'catch-up' && r.term === term,
      'that the current leader was alerted already',
    );
    mailer.start();
    await caughtUp;
    // The one decision a restart makes was "already alerted": nothing was or will be sent.
    assert.equal(alerts.length, count);
    assertOneAlertPerTerm();
    assert.ok(alerts.length >= 4, `the first leader and three failovers at least: ${alerts.length} alerts`);
  });
});
