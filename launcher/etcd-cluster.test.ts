import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePortRange } from '../test-support/free-port-range.js';
import { descendantProcesses } from './child-process.js';
import { type EtcdCluster, startEtcdCluster, validateEtcdTiming } from './etcd-cluster.js';

const ourEtcds = () => descendantProcesses(process.pid).filter(({ name }) => name === 'etcd');

let dir: string;
let etcd: EtcdCluster;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ensemble-etcd-'));
  // The timing issue 15's benchmark compares against.
  etcd = await startEtcdCluster({
    dataDir: dir,
    basePort: await freePortRange(6),
    heartbeatMs: 30,
    electionTimeoutMs: 150,
    preVote: true,
  });
});
after(async () => {
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('an election timeout under 5 heartbeats is refused with the reason', () => {
  assert.throws(() => validateEtcdTiming(30, 149), /under 5 × the heartbeat of 30 ms.*at least 150 ms/);
  assert.throws(() => validateEtcdTiming(0, 150), /heartbeatMs must be a whole number/);
  validateEtcdTiming(30, 150);
});

test('three members elect a leader, and a new one when the leader is killed; the killed one rejoins', async () => {
  assert.deepEqual(etcd.running(), ['etcd1', 'etcd2', 'etcd3']);
  const first = await etcd.waitForLeader();
  assert.ok(etcd.running().includes(first.name));

  await etcd.kill(first.name);
  assert.deepEqual(etcd.running().includes(first.name), false);
  const second = await etcd.waitForLeader({ not: first.name });
  assert.notEqual(second.name, first.name);

  // A write through a survivor is accepted by the remaining quorum.
  const survivor = etcd.members.find((m) => m.name !== first.name)?.clientUrl;
  const key = Buffer.from('ensemble-test').toString('base64');
  const put = await fetch(`${survivor}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({ key, value: Buffer.from('after the kill').toString('base64') }),
  });
  assert.equal(put.status, 200);
  const after = await etcd.leader();
  assert.equal(after?.name, second.name);
  assert.ok((after?.term ?? 0) > first.term, `term ${after?.term} after ${first.term}`);

  await etcd.startMember(first.name);
  assert.deepEqual(etcd.running(), ['etcd1', 'etcd2', 'etcd3']);
  // The rejoined member serves the write it missed.
  const rejoined = etcd.members.find((m) => m.name === first.name)?.clientUrl;
  const range = await fetch(`${rejoined}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key }) });
  const { kvs } = (await range.json()) as { kvs?: { value: string }[] };
  assert.equal(Buffer.from(kvs?.[0]?.value ?? '', 'base64').toString(), 'after the kill');
});

test('stop leaves no etcd process behind', async () => {
  assert.equal(ourEtcds().length, 3);
  await etcd.stop();
  assert.deepEqual(ourEtcds(), []);
  assert.deepEqual(etcd.running(), []);
});
