/**
 * The demo shop: a small catalogue site to scrape, served by `npm start` on 127.0.0.1:4080 and by
 * tests on a free port. Each shop has its own copy of the catalogue, so it can change its prices
 * (reprice) for a re-scrape to find, and it can fail its next requests so retries can be tested.
 */
import type { Server } from 'node:http';
import express from 'express';
import { type CatalogueItem, catalogue } from './catalogue.js';
import { detailPage, itemPath, listingPage, notFoundPage, PAGE_SIZE } from './pages.js';
import { type PriceChange, reprice } from './reprice.js';

export interface DemoShop {
  /** The catalogue's first page, such as http://127.0.0.1:4080/ */
  readonly url: string;
  /** The absolute URL of an item's detail page. */
  itemUrl(slug: string): string;
  /** The items as the shop now shows them. */
  items(): readonly CatalogueItem[];
  /** New prices from a seed (the same seed gives the same prices); returns what changed. */
  reprice(seed: string): PriceChange[];
  /** The next `count` page requests answer `status` (default 503) instead of the page. */
  failNext(count: number, status?: number): void;
  /** The next `count` page requests are answered only after `delayMs` (a slow or hanging shop). */
  slowNext(count: number, delayMs: number): void;
  /** Paths (with query) of every page request so far, in order, failed ones included. */
  requests(): readonly string[];
  /** The most page requests served at the same time since the last call (which starts a new count). */
  peakConcurrency(): number;
  stop(): Promise<void>;
}

export interface DemoShopOptions {
  port?: number;
  host?: string;
}

export async function startDemoShop(options: DemoShopOptions = {}): Promise<DemoShop> {
  const host = options.host ?? '127.0.0.1';
  let items: readonly CatalogueItem[] = [...catalogue];
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let slow: { count: number; delayMs: number } = { count: 0, delayMs: 0 };
  const requested: string[] = [];
  let inFlight = 0;
  let peak = 0;

  const doReprice = (seed: string) => {
    const result = reprice(items, seed);
    items = result.items;
    return result.changes;
  };
  const doFailNext = (count: number, status = 503) => {
    failures = { count, status };
  };
  const doSlowNext = (count: number, delayMs: number) => {
    slow = { count, delayMs };
  };

  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, items: items.length });
  });

  // Admin hooks, so that a running shop can be changed from outside (curl, another process).
  app.post('/admin/reprice', (req, res) => {
    const seed = typeof req.query.seed === 'string' ? req.query.seed : String(Date.now());
    res.json({ seed, changes: doReprice(seed) });
  });
  app.post('/admin/fail-next', (req, res) => {
    const count = Number(req.query.count ?? 1);
    const status = Number(req.query.status ?? 503);
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(status) || status < 400 || status > 599) {
      res.status(400).json({ error: 'count must be a whole number ≥ 0 and status an HTTP error status' });
      return;
    }
    doFailNext(count, status);
    res.json({ count, status });
  });
  app.post('/admin/slow-next', (req, res) => {
    const count = Number(req.query.count ?? 1);
    const ms = Number(req.query.ms ?? 1000);
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(ms) || ms < 0 || ms > 600_000) {
      res
        .status(400)
        .json({ error: 'count must be a whole number ≥ 0 and ms a whole number of milliseconds' });
      return;
    }
    doSlowNext(count, ms);
    res.json({ count, ms });
  });

  // Every page request is recorded and counted while it is served; the next ones are slow while a
  // delay is pending, and fail while a failure is pending.
  app.use((req, res, next) => {
    requested.push(req.originalUrl);
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    res.once('close', () => {
      inFlight -= 1;
    });
    if (slow.count > 0) {
      slow = { ...slow, count: slow.count - 1 };
      setTimeout(next, slow.delayMs).unref();
      return;
    }
    next();
  });
  app.use((_req, res, next) => {
    if (failures.count > 0) {
      failures = { ...failures, count: failures.count - 1 };
      res.status(failures.status).type('text/plain').send('Serviciu temporar indisponibil');
      return;
    }
    next();
  });

  app.get('/', (req, res) => {
    const page = req.query.page === undefined ? 1 : Number(req.query.page);
    const pageCount = Math.max(1, Math.ceil(items.length / PAGE_SIZE));
    if (!Number.isInteger(page) || page < 1 || page > pageCount) {
      res.status(404).type('html').send(notFoundPage());
      return;
    }
    res.type('html').send(listingPage(items, page));
  });

  app.get('/item/:slug', (req, res) => {
    const index = items.findIndex((i) => i.slug === req.params.slug);
    const item = items[index];
    if (!item) {
      res.status(404).type('html').send(notFoundPage());
      return;
    }
    const related = [items[index + 1], items[index + 2]].filter((i): i is CatalogueItem => i !== undefined);
    res.type('html').send(detailPage(item, related));
  });

  app.use((_req, res) => {
    res.status(404).type('html').send(notFoundPage());
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port ?? 0, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;

  return {
    url,
    itemUrl: (slug) => new URL(itemPath(slug), url).href,
    items: () => items,
    reprice: doReprice,
    failNext: doFailNext,
    slowNext: doSlowNext,
    requests: () => [...requested],
    peakConcurrency: () => {
      const result = peak;
      peak = inFlight;
      return result;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections of clients would otherwise hold the server open.
        server.closeAllConnections();
      }),
  };
}
