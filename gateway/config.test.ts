import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  assert.equal(c.ftpTlsCa, null);
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

test('FTP_TLS_CA: the PEM of a private CA for ftps://, read at start; a bad file is one clear line', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'gateway-ca-')), 'ca.pem');
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  writeFileSync(path, pem);
  const c = parseConfig(gatewayConfigSchema, { ...base, FTP_URL: 'ftps://u:p@ftp:21', FTP_TLS_CA: path });
  assert.equal(c.ftpTlsCa, pem);
  writeFileSync(path, 'not a certificate');
  assert.throws(
    () => parseConfig(gatewayConfigSchema, { ...base, FTP_TLS_CA: path }),
    /^Error: FTP_TLS_CA: must be a readable PEM file of CA certificates \(no PEM certificate in it\)/,
  );
  assert.throws(() => parseConfig(gatewayConfigSchema, { ...base, FTP_TLS_CA: '/no/such/ca.pem' }), {
    message:
      'FTP_TLS_CA: must be a readable PEM file of CA certificates (ENOENT: no such file or directory, open \'/no/such/ca.pem\') (got "/no/such/ca.pem")',
  });
  assert.throws(
    () => parseConfig(gatewayConfigSchema, { ...base, FTP_TLS_CA: '' }),
    /^Error: FTP_TLS_CA: must be the path/,
  );
});

test('OTEL_EXPORTER_OTLP_ENDPOINT: unset or empty, tracing is off; anything but an http(s) URL is one clear line', () => {
  assert.equal(parseConfig(gatewayConfigSchema, base).otlpEndpoint, null);
  assert.equal(
    parseConfig(gatewayConfigSchema, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: '' }).otlpEndpoint,
    null,
  );
  assert.equal(
    parseConfig(gatewayConfigSchema, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' })
      .otlpEndpoint,
    'http://jaeger:4318',
  );
  for (const bad of ['jaeger:4318', 'grpc://jaeger:4317', 'http://']) {
    assert.throws(() => parseConfig(gatewayConfigSchema, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: bad }), {
      message: `OTEL_EXPORTER_OTLP_ENDPOINT: must be the http:// or https:// URL of an OTLP/HTTP collector, such as http://localhost:4318 (got "${bad}")`,
    });
  }
});
