/**
 * The people-facing pages: the live cluster page at `/` (static files under gateway/page, plus
 * graphql-ws's browser bundle and uPlot's) and Altair, an offline GraphQL IDE with uploads and
 * subscriptions, at `/playground` (Apollo's Sandbox landing page needs the internet).
 */

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { altairExpress } from 'altair-express-middleware';
import express from 'express';
import { PREFLIGHTED } from '../../common/http-headers.js';

/** gateway/page in the source tree (the compiled code runs from dist/gateway/http). */
export const PAGE_DIR = fileURLToPath(new URL('../../../gateway/page/', import.meta.url));

export function pageRoutes(app: express.Express, options: { gatewayUrl: string }): void {
  const require = createRequire(import.meta.url);
  const graphqlWsBundle = join(
    dirname(require.resolve('graphql-ws/package.json')),
    'umd',
    'graphql-ws.min.js',
  );
  // uPlot (charts), served from node_modules like graphql-ws: the page works offline.
  const uplotDist = join(dirname(require.resolve('uplot/package.json')), 'dist');
  app.get('/', (_req, res) => res.sendFile(join(PAGE_DIR, 'index.html')));
  app.get('/assets/uplot.js', (_req, res) => res.sendFile(join(uplotDist, 'uPlot.iife.min.js')));
  app.get('/assets/uplot.css', (_req, res) => res.sendFile(join(uplotDist, 'uPlot.min.css')));
  app.get('/assets/graphql-ws.js', (_req, res) => res.sendFile(graphqlWsBundle));
  app.use('/assets', express.static(PAGE_DIR, { index: false }));
  // The IDE's WebSocket address is the host the browser used (behind compose or a proxy the
  // gateway's own URL may not be reachable from the browser); one IDE app per host seen.
  const ides = new Map<string, express.Express>();
  app.use('/playground', (req, res, next) => {
    const host = req.get('host') ?? new URL(options.gatewayUrl).host;
    let ide = ides.get(host);
    if (!ide) {
      if (ides.size > 32) ides.clear();
      ide = altairExpress({
        baseURL: '/playground/',
        endpointURL: '/graphql',
        subscriptionsEndpoint: `${req.protocol === 'https' ? 'wss' : 'ws'}://${host}/graphql`,
        initialSubscriptionRequestHandlerId: 'graphql-ws',
        // Uploads are multipart, which Apollo's CSRF prevention lets through only with this header.
        initialHeaders: { ...PREFLIGHTED, Authorization: 'Bearer <API_TOKEN>' },
        initialQuery: '{ cluster { term leader { id url } nodes { id role term lastSeenAt } } }',
        disableAccount: true,
      });
      ides.set(host, ide);
    }
    ide(req, res, next);
  });
}
