# syntax=docker/dockerfile:1
# Multi-stage, non-root image that runs `distinct-adapter serve`.
# Node 22 at run time (Node 20 is end-of-life); the native better-sqlite3 module is compiled in the
# build stage for the same Node version it runs on.

ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Scripts are skipped here because `prepare` needs the sources; better-sqlite3 is rebuilt below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
RUN npm run build \
 && npm rebuild better-sqlite3 \
 && npm prune --omit=dev --ignore-scripts

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DISTINCT_ADAPTER_CONFIG=/etc/distinct-adapter/distinct.config.yml
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node bin ./bin
# The SQLite outbox lives on a volume so acknowledged events survive container restarts.
# A relative queue.path is resolved against the configuration file's folder, so ./data beside the
# configuration (/etc/distinct-adapter/data: the default queue.path, and the example config's)
# points at the volume, as does /app/data (`serve --dev`, run from /app).
RUN mkdir -p /data /etc/distinct-adapter && chown node:node /data \
 && ln -s /data /app/data && ln -s /data /etc/distinct-adapter/data
VOLUME ["/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM triggers a graceful drain (stop accepting, finish in-flight, close the queue).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/distinct-adapter.js"]
CMD ["serve"]
