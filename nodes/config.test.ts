import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../common/config.js';
import { nodeConfigSchema } from './config.js';

const valid = {
  NODE_ID: 'n1',
  NODE_URL: 'http://127.0.0.1:4001',
  UDP_PORT: '5001',
  PEERS: 'n1@127.0.0.1:5001,n2@127.0.0.1:5002,n3@127.0.0.1:5003',
  CLUSTER_SECRET: 'a-secret-of-enough-length',
  DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:5433/ensemble',
  API_TOKEN: 'a-token-of-enough-length',
};

test('a database URL with several hosts is accepted as given', () => {
  const url = 'postgres://u:p@10.0.0.1:5432,10.0.0.2:5433/db?target_session_attrs=read-write';
  assert.equal(parseConfig(nodeConfigSchema, { ...valid, DATABASE_URL: url }).databaseUrl, url);
});

test('a valid environment gives the defaults of the contract', () => {
  const c = parseConfig(nodeConfigSchema, valid);
  assert.equal(c.nodeId, 'n1');
  assert.equal(c.httpPort, 4001);
  assert.equal(c.bindHost, '127.0.0.1');
  assert.deepEqual(
    c.peers.map((p) => p.id),
    ['n2', 'n3'],
    'this node is not its own peer',
  );
  assert.deepEqual(c.electionTimeoutMs, { min: 150, max: 300 });
  assert.equal(c.heartbeatIntervalMs, 30);
  assert.equal(c.leaderProbe, true);
  assert.equal(parseConfig(nodeConfigSchema, { ...valid, LEADER_PROBE: 'off' }).leaderProbe, false);
  assert.equal(c.dataDir, '.data/nodes/n1');
});

test('a node advertised on a non-loopback host listens on every interface', () => {
  const c = parseConfig(nodeConfigSchema, { ...valid, NODE_URL: 'http://node1:4001' });
  assert.equal(c.bindHost, '0.0.0.0');
});

const bad: [string, Record<string, string | undefined>, RegExp][] = [
  ['missing NODE_ID', { NODE_ID: undefined }, /^NODE_ID: is required.*\(it is not set\)$/],
  ['a bad NODE_ID', { NODE_ID: 'n 1' }, /^NODE_ID: must be 1-32 letters/],
  ['a short secret', { CLUSTER_SECRET: 'short' }, /^CLUSTER_SECRET: must be at least 16 characters/],
  ['a missing secret', { CLUSTER_SECRET: undefined }, /^CLUSTER_SECRET: is required/],
  [
    'a bad election range',
    { ELECTION_TIMEOUT_MS: '300-150' },
    /^ELECTION_TIMEOUT_MS: must be a range like 150-300.*got "300-150"/,
  ],
  ['a non-numeric range', { ELECTION_TIMEOUT_MS: 'fast' }, /^ELECTION_TIMEOUT_MS: must be a range/],
  [
    'a heartbeat too slow for the timeout',
    { HEARTBEAT_INTERVAL_MS: '100' },
    /^HEARTBEAT_INTERVAL_MS: must be at most half/,
  ],
  [
    'a non-numeric heartbeat',
    { HEARTBEAT_INTERVAL_MS: 'often' },
    /^HEARTBEAT_INTERVAL_MS: must be a whole number/,
  ],
  ['a bad port', { UDP_PORT: '70000' }, /^UDP_PORT: must be a port/],
  ['a leader probe neither on nor off', { LEADER_PROBE: 'yes' }, /^LEADER_PROBE: must be on or off/],
  ['a bad URL', { NODE_URL: 'ftp://x' }, /^NODE_URL: must be an http/],
  ['malformed peers', { PEERS: 'n2@127.0.0.1' }, /^PEERS: /],
  ['a missing database', { DATABASE_URL: undefined }, /^DATABASE_URL: is required/],
  ['a database that is not PostgreSQL', { DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: must be a postgres/],
  [
    'several database hosts without read-write',
    { DATABASE_URL: 'postgres://u:p@h1:5432,h2:5432/db' },
    /^DATABASE_URL: lists 2 hosts but not target_session_attrs=read-write/,
  ],
  [
    'a database URL asking for a standby',
    { DATABASE_URL: 'postgres://u:p@h1,h2/db?target_session_attrs=standby' },
    /^DATABASE_URL: has target_session_attrs=standby, which would connect to a standby/,
  ],
  [
    'a database host with a bad port',
    { DATABASE_URL: 'postgres://u:p@h1:5432,h2:x/db?target_session_attrs=read-write' },
    /^DATABASE_URL: has an invalid port in host 2 of 2 \("h2:x"\)/,
  ],
  ['a short API token', { API_TOKEN: 'abc' }, /^API_TOKEN: must be at least 16/],
  ['a bad gateway URL', { GATEWAY_URL: 'gateway:4000' }, /^GATEWAY_URL: must be an http/],
  ['a bad log level', { LOG_LEVEL: 'loud' }, /^LOG_LEVEL: must be one of/],
];
for (const [name, change, message] of bad) {
  test(`${name} is one clear line`, () => {
    assert.throws(
      () => parseConfig(nodeConfigSchema, { ...valid, ...change }),
      (e: Error) => {
        assert.match(e.message, message);
        assert.equal(e.message.includes('\n'), false);
        return true;
      },
    );
  });
}
