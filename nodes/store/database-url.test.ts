import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatabaseUrlError, parseDatabaseUrl } from './database-url.js';

test('one host is read as pg reads it today, checking nothing', () => {
  const url = parseDatabaseUrl('postgres://user:p%40ss@db.example:5433/ensemble?sslmode=disable');
  assert.equal(url.targetSessionAttrs, 'any');
  assert.equal(url.hosts.length, 1);
  const { config, name } = url.hosts[0] ?? assert.fail();
  assert.equal(name, 'db.example:5433');
  assert.deepEqual(
    {
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      db: config.database,
    },
    { host: 'db.example', port: 5433, user: 'user', password: 'p@ss', db: 'ensemble' },
  );
});

test("libpq's host list: each host with its port (5432 when none), the rest shared, in order", () => {
  const url = parseDatabaseUrl(
    'postgresql://u:pw@10.0.0.1:5432,pg-b,[::1]:6000/app?target_session_attrs=read-write&application_name=n1',
  );
  assert.equal(url.targetSessionAttrs, 'read-write');
  assert.deepEqual(
    url.hosts.map((h) => h.name),
    ['10.0.0.1:5432', 'pg-b:5432', '::1:6000'],
  );
  for (const { config } of url.hosts) {
    assert.equal(config.user, 'u');
    assert.equal(config.password, 'pw');
    assert.equal(config.database, 'app');
    assert.equal(config.application_name, 'n1');
    assert.equal((config as Record<string, unknown>).target_session_attrs, undefined, 'not passed on to pg');
  }
});

test('target_session_attrs: any, read-write and primary are accepted', () => {
  assert.equal(
    parseDatabaseUrl('postgres://h/db?target_session_attrs=primary').targetSessionAttrs,
    'primary',
  );
  assert.equal(
    parseDatabaseUrl('postgres://h1,h2/db?target_session_attrs=primary').targetSessionAttrs,
    'primary',
  );
  assert.equal(parseDatabaseUrl('postgres://h/db?target_session_attrs=any').targetSessionAttrs, 'any');
});

const bad: [string, string, RegExp][] = [
  ['not postgres', 'mysql://h/db', /^must be a postgres:\/\/ URL$/],
  ['a space', 'postgres://h/d b', /^must be a postgres:\/\/ URL$/],
  ['several hosts, any', 'postgres://h1,h2/db', /^lists 2 hosts but not target_session_attrs=read-write/],
  ['several hosts, explicit any', 'postgres://h1,h2/db?target_session_attrs=any', /^lists 2 hosts/],
  [
    'a standby',
    'postgres://h1,h2/db?target_session_attrs=read-only',
    /would connect to a standby; the nodes write/,
  ],
  ['prefer-standby', 'postgres://h/db?target_session_attrs=prefer-standby', /would connect to a standby/],
  [
    'an unknown value',
    'postgres://h/db?target_session_attrs=writable',
    /^has target_session_attrs=writable; use read-write/,
  ],
  [
    'an empty host',
    'postgres://u@h1,,h3/db?target_session_attrs=read-write',
    /^has no hostname in host 2 of 3/,
  ],
  [
    'a port out of range',
    'postgres://h1:70000,h2/db?target_session_attrs=read-write',
    /^has an invalid port in host 1 of 2/,
  ],
  ['a bad single host', 'postgres://u:p@h:port/db', /^is not a valid URL \(the host: Invalid URL\)$/],
];
for (const [name, text, message] of bad) {
  test(`refused: ${name}`, () => {
    assert.throws(
      () => parseDatabaseUrl(text),
      (e: Error) => e instanceof DatabaseUrlError && message.test(e.message),
    );
  });
}

test('an error never shows the password', () => {
  assert.throws(
    () => parseDatabaseUrl('postgres://u:secret@h1:1,h2:x/db?target_session_attrs=read-write'),
    (e: Error) => !e.message.includes('secret'),
  );
});
