# syntax=docker/dockerfile:1
# One image for every service of ensemble; each compose service picks its command.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY common ./common
COPY launcher ./launcher
COPY nodes ./nodes
COPY gateway ./gateway
COPY scraper ./scraper
COPY mailer ./mailer
COPY schema ./schema
COPY bench ./bench
COPY test-support ./test-support
RUN node_modules/.bin/tsc -p tsconfig.json

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the image's own Node 24 runs them.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Named volumes start as a copy of this folder, so the node user owns its term-and-vote store.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 4001 5001/udp
CMD ["node", "dist/nodes/main.js"]
