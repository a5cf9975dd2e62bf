import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '/work/main/dist/launcher/local-cluster.js';
import { startTestPostgres } from '/work/main/dist/test-support/postgres.js';
const pg = await startTestPostgres({ durable: true });
const c = new LocalCluster({ size: 3, secret: 'cold-secret-0123456789abcdef', apiToken: 'cold-token-0123456789', basePort: 26001, baseUdpPort: 26011, dataRoot: mkdtempSync(join(tmpdir(), 'cold-')), databaseUrl: await pg.createDatabase('cold') });
c.startAll(); await c.waitForReady();
const write = async (url, i) => {
  const t = performance.now();
  const r = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer cold-token-0123456789' }, body: JSON.stringify({ query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }', variables: { t: `t${i}` } }) });
  const b = await r.text();
  return [(performance.now() - t).toFixed(1), b.slice(0, 60)];
};
const mode = process.argv[2];
for (let round = 0; round < 4; round++) {
  const { leader } = await c.waitForAgreement(30_000);
  await new Promise((r) => setTimeout(r, 500));
  if (mode === 'warm') for (const id of c.ids) if (id !== leader) for (let k = 0; k < 3; k++) await write(c.url(id), 'w');
  for (let i = 0; i < 3; i++) console.log(round, leader, i, ...(await write(c.url(leader), `${round}-${i}`)));
  await c.kill(leader, 'SIGKILL');
  await c.waitForLeader(0, 10000).catch(() => {});
  c.start(leader);
  await c.waitForReady([leader]);
}
await c.stopAll(); await pg.stop();
