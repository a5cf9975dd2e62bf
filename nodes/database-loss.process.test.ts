/**
 * A leader that loses the database — only it; UDP to its peers still works, so heartbeats flow —
 * must stop leading, and the others must elect a leader that can write. Each node reaches
 * PostgreSQL through its own TCP proxy, which the test cuts and restores.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalCluster, type LogRecord } from '../launcher/local-cluster.js';
import { freePort, startTestPostgres, type TestPostgres } from '../test-support/postgres.js';

const TOKEN = 'database-loss-test-token';

/** A TCP proxy to PostgreSQL that can be cut (every connection reset, new ones refused) and restored. */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private readonly server: Server;
  port = 0;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => {
      if (this.cut) {
        client.resetAndDestroy();
        return;
      }
      const upstream = tcpConnect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
  }

  async listen(): Promise<this> {
    this.port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    return this;
  }

  cutOff(): void {
    this.cut = true;
    for (const s of this.sockets) s.resetAndDestroy();
  }

  restore(): void {
    this.cut = false;
  }

  async stop(): Promise<void> {
    this.cutOff();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let pg: TestPostgres;
let cluster: LocalCluster | undefined;
const proxies = new Map<string, CuttableProxy>();

before(async () => {
  pg = await startTestPostgres();
});

after(async () => {
  await cluster?.stopAll();
  await Promise.all([...proxies.values()].map((p) => p.stop()));
  await pg.stop();
});

test('a leader cut off from the database steps down; a node that can write leads', async () => {
  const databaseUrl = await pg.createDatabase('dbloss');
  for (const id of ['n1', 'n2', 'n3']) proxies.set(id, await new CuttableProxy(pg.port).listen());
  const records: LogRecord[] = [];
  cluster = new LocalCluster({
    size: 3,
    secret: 'database-loss-secret-0123456789',
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-dbloss-')),
    databaseUrl,
    databaseUrlOf: (id) => {
      const url = new URL(databaseUrl);
      url.port = String(proxies.get(id)?.port);
      return url.toString();
    },
    apiToken: TOKEN,
    basePort: 14_200,
    baseUdpPort: 14_210,
    onRecord: (r) => records.push(r),
    onText: (node, line) => process.stderr.write(`[${node}] ${line}\n`),
  });
  cluster.startAll();
  await cluster.waitForReady();
  const first = await cluster.waitForAgreement(30_000);

  // Only the leader loses the database.
  const next = cluster.waitForLeader(first.term, 20_000);
  const claimed = cluster.waitFor(
    (r) => typeof r.term === 'number' && r.term > first.term && r.msg.startsWith('claimed the write fence'),
    20_000,
    'a new leader to claim the write fence',
  );
  proxies.get(first.leader)?.cutOff();
  const elected = await next;
  assert.notEqual(elected.node, first.leader, 'a node that can reach the database leads');
  assert.ok(
    records.some((r) => r.node === first.leader && r.from === 'leader' && r.reason === 'cannot write'),
    'the cut-off leader stepped down, saying why',
  );

  // Its /healthz says why it does not stand.
  const cutOff = await cluster.healthz(first.leader);
  assert.equal(cutOff.database.standing, false);
  assert.ok(cutOff.database.failingForMs >= 3_000, `failing for ${cutOff.database.failingForMs} ms`);

  // The new leader writes.
  const newLeader = (await claimed).node;
  assert.equal(newLeader, elected.node);
  const res = await fetch(`${cluster.url(newLeader)}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      query: 'mutation { createTask(input: { title: "after the cut" }) { id title } }',
    }),
  });
  const body = (await res.json()) as { data?: { createTask: { title: string } }; errors?: unknown };
  assert.deepEqual(body.errors, undefined);
  assert.equal(body.data?.createTask.title, 'after the cut');

  // Reconnected, the old leader stands again but follows the leader it finds.
  const back = cluster.waitFor(
    (r) => r.node === first.leader && r.msg.startsWith('the database answers again'),
    20_000,
    `${first.leader} to reach the database again`,
  );
  proxies.get(first.leader)?.restore();
  await back;
  const agreed = await cluster.waitForAgreement(20_000);
  assert.ok(agreed.term > first.term);
  const health = await cluster.healthz(first.leader);
  assert.equal(health.leader, agreed.leader);
  assert.deepEqual(health.database, { standing: true, failingForMs: 0 });
});
