/**
 * `npm start` end to end, in a scratch folder: everything comes up on the contract's ports, a
 * leader is announced, the scrape's listings reach the cluster through RabbitMQ, a second start
 * is refused, and Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops every
 * child in order, leaving nothing running.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./start-stack.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ensemble-start-'));
// As root, PostgreSQL runs as the 'postgres' user, which must be able to reach .data/ in here.
chmodSync(dir, 0o755);
const lines: string[] = [];
let stack: ChildProcess | null = null;

function start(): { child: ChildProcess; line: (re: RegExp, timeoutMs?: number) => Promise<string> } {
  const child = spawn(process.execPath, [SCRIPT], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (l) => {
      lines.push(l);
      for (const w of [...waiters]) {
        if (!w.re.test(l)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    });
  }
  const line = (re: RegExp, timeoutMs = 120_000) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find((l) => re.test(l));
      if (seen) return resolve(seen);
      const timer = setTimeout(
        () => reject(new Error(`no line ${re} in ${timeoutMs} ms:\n${lines.join('\n')}`)),
        timeoutMs,
      );
      child.once('exit', () => reject(new Error(`the stack exited before ${re}:\n${lines.join('\n')}`)));
      waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  return { child, line };
}

/** Processes whose command line mentions the scratch folder (our PostgreSQL, RabbitMQ, FTP…). */
function leftovers(): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(dir) && !l.includes(' ps '));
}

after(() => {
  if (stack?.pid && stack.exitCode === null) process.kill(-stack.pid, 'SIGKILL');
});

test('npm start: the whole stack, ready when a leader is announced, stopped in order by Ctrl-C', {
  timeout: 240_000,
}, async () => {
  const { child, line } = start();
  stack = child;
  await line(/ensemble is ready: n\d leads term \d+/);
  const token = (await line(/API token\s+\S+/)).split(/\s+/)[3];
  assert.ok(token && token.length >= 16);

  const health = await fetch('http://127.0.0.1:4000/healthz');
  assert.equal(health.status, 200);
  assert.equal((await fetch('http://127.0.0.1:4000/')).status, 200, 'the cluster page');
  assert.equal((await fetch('http://127.0.0.1:4000/playground/')).status, 200, 'the IDE');
  assert.equal((await fetch('http://127.0.0.1:4080/')).status, 200, 'the demo shop');

  // A second start in the same folder is refused while this one runs.
  const second = spawn(process.execPath, [SCRIPT], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let secondErr = '';
  second.stderr?.on('data', (d: Buffer) => {
    secondErr += d.toString();
  });
  // 'close', not 'exit': the exit may be seen before the last of its stderr.
  const [code] = (await once(second, 'close')) as [number];
  assert.equal(code, 1);
  assert.match(secondErr, /already running/);

  // The scrape publishes to RabbitMQ; the gateway stores every listing through the leader.
  await line(/scrape done/);
  const deadline = Date.now() + 60_000;
  let count = 0;
  while (Date.now() < deadline) {
    const res = await fetch('http://127.0.0.1:4000/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ listings(first: 100) { edges { node { url } } } }' }),
    });
    count = ((await res.json()) as { data: { listings: { edges: unknown[] } } }).data.listings.edges.length;
    if (count === 39) break;
    await new Promise((r) => setTimeout(r, 250)); // the queue gives the outside no signal
  }
  assert.equal(count, 39);
  assert.ok(existsSync(join(dir, '.data/logs/gateway.log')));
  assert.ok(
    readdirSync(join(dir, '.data/mail')).some((f) => f.endsWith('.eml')),
    'the leader alert was mailed to the sink',
  );

  // Ctrl-C as a terminal sends it: to the whole process group.
  const exited = once(child, 'exit');
  process.kill(-(child.pid as number), 'SIGINT');
  await line(/postgres\s+stopped/, 60_000);
  await exited;
  const order = ['scraper', 'mailer', 'gateway', 'nodes', 'shop', 'postgres'].map((name) =>
    lines.findIndex((l) => new RegExp(`\\s${name}\\s+stopped`).test(l)),
  );
  assert.ok(
    order.every((i) => i >= 0),
    `every part reported stopping:\n${lines.slice(-15).join('\n')}`,
  );
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    'stopped in order',
  );
  assert.deepEqual(leftovers(), []);
});
