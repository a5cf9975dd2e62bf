import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../common/config.js';
import { demoShopProfile } from './profiles/demo-shop.js';
import { loadScrapeConfig, type ScrapeConfig } from './scrape-config.js';

const load = (argv: string[], env: Record<string, string> = {}) =>
  loadScrapeConfig(argv, env) as ScrapeConfig;

describe('loadScrapeConfig', () => {
  test('no flags: the demo shop, 10 pages, every 300 s, the local stack’s RabbitMQ and FTP', () => {
    const c = load([]);
    assert.equal(c.startUrl, 'http://127.0.0.1:4080/');
    assert.equal(c.profile, demoShopProfile);
    assert.equal(c.maxPages, 10);
    assert.deepEqual(c.range, { minPriceEur: undefined, maxPriceEur: undefined });
    assert.equal(c.once, false);
    assert.equal(c.intervalSeconds, 300);
    assert.equal(c.outPath, '.data/scraper/latest.json');
    assert.deepEqual(c.perEur, { MDL: 19.5 });
    assert.equal(c.rabbitmqUrl, 'amqp://guest:guest@127.0.0.1:5672');
    assert.equal(c.ftpUrl, 'ftp://ensemble:ensemble@127.0.0.1:2121');
    assert.equal(c.dryRun, false);
    assert.equal(c.fetchPolicy.attempts, 4);
  });

  test('flags and environment', () => {
    const c = load(
      [
        '--url',
        'http://shop.test/c',
        '--pages',
        '2',
        '--min-price',
        '10',
        '--max-price=99.5',
        '--once',
        '--interval',
        '60',
      ],
      { MDL_PER_EUR: '20.1', RABBITMQ_URL: 'amqps://u:p@mq:5671/vh', FTP_URL: 'ftps://u:p@ftp:21' },
    );
    assert.equal(c.startUrl, 'http://shop.test/c');
    assert.equal(c.maxPages, 2);
    assert.deepEqual(c.range, { minPriceEur: 10, maxPriceEur: 99.5 });
    assert.equal(c.once, true);
    assert.equal(c.intervalSeconds, 60);
    assert.deepEqual(c.perEur, { MDL: 20.1 });
    assert.equal(c.rabbitmqUrl, 'amqps://u:p@mq:5671/vh');
    assert.equal(c.ftpUrl, 'ftps://u:p@ftp:21');
  });

  test('--mdl-per-eur wins over MDL_PER_EUR', () => {
    assert.deepEqual(load(['--mdl-per-eur', '19.9'], { MDL_PER_EUR: '20' }).perEur, { MDL: 19.9 });
  });

  test('FTP_TLS_CA: the PEM of a private CA for ftps://', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'scraper-ca-')), 'ca.pem');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(path, pem);
    assert.equal(load([], { FTP_URL: 'ftps://u:p@ftp:21', FTP_TLS_CA: path }).ftpTlsCa, pem);
    assert.equal(load([]).ftpTlsCa, undefined);
    writeFileSync(path, 'not a certificate');
    assert.throws(() => load([], { FTP_TLS_CA: path }), /^Error: FTP_TLS_CA: must be a readable PEM file/);
  });

  test('--help', () => {
    assert.equal(loadScrapeConfig(['--help'], {}), 'help');
  });

  test('a profile file of a real shop', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scraper-profile-'));
    const path = join(dir, 'shop.json');
    writeFileSync(
      path,
      JSON.stringify({
        name: 'real',
        startUrl: 'https://real.example/catalog',
        listing: { item: '.card', link: 'a' },
        price: { decimalSeparator: ',', defaultCurrency: 'MDL' },
      }),
    );
    const c = load(['--profile', path]);
    assert.equal(c.startUrl, 'https://real.example/catalog');
    assert.deepEqual(c.profile.price, { decimalSeparator: ',', defaultCurrency: 'MDL', currencies: {} });
    writeFileSync(path, JSON.stringify({ name: 'bad', startUrl: 'https://x', listing: { item: '' } }));
    assert.throws(() => load(['--profile', path]), {
      message: `--profile: ${path}: listing.item: must be a CSS selector`,
    });
  });

  const bad: [string[], Record<string, string>, string][] = [
    [['--pages', '0'], {}, '--pages: must be a whole number of pages from 1 to 1000 (got "0")'],
    [['--pages', '2.5'], {}, '--pages: must be a whole number of pages from 1 to 1000 (got "2.5")'],
    [['--min-price=-1'], {}, '--min-price: must be a price in EUR ≥ 0, such as 150 or 99.90 (got "-1")'],
    [['--min-price', ''], {}, '--min-price: must be a price in EUR ≥ 0, such as 150 or 99.90 (got "")'],
    [
      ['--min-price', '50', '--max-price', '10'],
      {},
      '--max-price: must not be below --min-price (50) (got "10")',
    ],
    [['--interval', '0'], {}, '--interval: must be a whole number of seconds from 1 to 604800 (got "0")'],
    [['--url', 'ftp://x'], {}, '--url: must be an http:// or https:// URL (got "ftp://x")'],
    [['--url'], {}, '--url needs a value'],
    [['--once=yes'], {}, '--once takes no value'],
    [['--nope'], {}, 'unknown flag --nope (see --help)'],
    [['stray'], {}, 'unexpected argument stray'],
    [
      [],
      { MDL_PER_EUR: '0' },
      'MDL_PER_EUR: must be how many MDL make one EUR (> 0), such as 19.5 (got "0")',
    ],
    [
      [],
      { RABBITMQ_URL: 'localhost:5672' },
      'RABBITMQ_URL: must be a URL like amqp://user:pass@host:5672 (got "localhost:5672")',
    ],
    [[], { FTP_URL: 'sftp://h' }, 'FTP_URL: must be a URL like ftp://user:pass@host:2121 (got "sftp://h")'],
    [
      [],
      { FTP_TLS_CA: '/no/such/ca.pem' },
      'FTP_TLS_CA: must be a readable PEM file of CA certificates (ENOENT: no such file or directory, open \'/no/such/ca.pem\') (got "/no/such/ca.pem")',
    ],
    [
      [],
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    ],
  ];
  for (const [argv, env, message] of bad) {
    test(`refuses ${[...argv, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ')}`, () => {
      assert.throws(
        () => loadScrapeConfig(argv, env),
        (error) => error instanceof ConfigError && error.message === message,
      );
    });
  }
});
