import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../common/config.js';
import { gatewayConfigSchema } from './config.js';

const base = { CLUSTER_SECRET: 's'.repeat(16), API_TOKEN: 't'.repeat(16) };

test('defaults follow the contract: 127.0.0.1:4000, FTP every 30 s', () => {
  const c = parseConfig(gatewayConfigSchema, base);
  assert.equal(c.gatewayUrl, 'http://127.0.0.1:4000');
  assert.equal(c.httpPort, 4000);
  assert.equal(c.bindHost, '127.0.0.1');
  assert.equal(c.ftpPollIntervalMs, 30_000);
  assert.equal(c.ftpPath, '/listings/latest.json');
  assert.deepEqual(c.nodeUrls, []);
  assert.equal(c.rabbitmqUrl, null);
});

test('node URLs, RabbitMQ and FTP URLs are read and checked', () => {
  const c = parseConfig(gatewayConfigSchema, {
    ...base,
    GATEWAY_URL: 'http://gateway:4000/',
    NODE_URLS: 'http://node1:4001, http://node2:4001/',
    RABBITMQ_URL: 'amqp://guest:guest@rabbitmq:5672',
    FTP_URL: 'ftp://ensemble:ensemble@ftp:21',
    FTP_POLL_INTERVAL_S: '0.5',
  });
  assert.equal(c.bindHost, '0.0.0.0');
  assert.deepEqual(c.nodeUrls, ['http://node1:4001', 'http://node2:4001']);
  assert.equal(c.ftpPollIntervalMs, 500);
  for (const [name, value, message] of [
    ['NODE_URLS', 'node1:4001', /NODE_URLS: must be http\(s\) URLs/],
    ['RABBITMQ_URL', 'http://rabbit', /RABBITMQ_URL: must be an amqp/],
    ['FTP_URL', 'ftp://host', /FTP_URL: must be ftp\[s\]:\/\/user:pass@host:port/],
    ['FTP_POLL_INTERVAL_S', 'soon', /FTP_POLL_INTERVAL_S: /],
    ['API_TOKEN', 'short', /API_TOKEN: must be at least 16/],
  ] as const) {
    assert.throws(() => parseConfig(gatewayConfigSchema, { ...base, [name]: value }), message);
  }
});
