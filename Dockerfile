# syntax=docker/dockerfile:1
# One image for every ensemble service of docker-compose.yml (nodes, gateway, mailer); each
# compose service picks its command. deploy/deploy-files.test.ts checks this file against the
# source tree and the compose file (npm test).

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The compiler needs no install scripts (they fetch the `node` dev package's binary, embedded
# PostgreSQL, …).
RUN npm ci --no-audit --no-fund --ignore-scripts
# Every folder of tsconfig.json's "include".
COPY tsconfig.json ./
COPY common ./common
COPY launcher ./launcher
COPY nodes ./nodes
COPY api ./api
COPY gateway ./gateway
COPY scraper ./scraper
COPY mailer ./mailer
COPY schema ./schema
COPY bench ./bench
COPY test-support ./test-support
COPY deploy ./deploy
COPY chaos ./chaos
COPY architecture ./architecture
# Tests, benchmarks and their helpers are not shipped: no service imports them.
RUN node_modules/.bin/tsc -p tsconfig.json \
  && find dist -name '*.test.js*' -delete \
  && rm -rf dist/bench dist/test-support dist/deploy dist/architecture

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the image's own Node 24 runs them.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Files read at run time from the source tree: the gateway's cluster page (/ and /assets).
COPY gateway/page ./gateway/page
# Named volumes start as a copy of this folder, so the node user owns its data (the nodes' term
# and vote, the gateway's FTP poll state, the mailer's sent alerts).
RUN mkdir -p /data && chown node:node /data
USER node
# Gateway HTTP + WebSocket; node HTTP and UDP (elections).
EXPOSE 4000 4001 5001/udp
CMD ["node", "dist/nodes/main.js"]
