'use strict';
/**
 * One HTTP server per child process, so the server under test and the load generator (the
 * parent) each get a core of their own. `node server-child.js <mode>`; the parent talks over IPC:
 * the child sends `{ type: 'ready', url }`, answers `{ id, cmd: 'stats' }` and exits on
 * `{ cmd: 'stop' }`.
 *
 * Modes:
 * - `adapter`  the real service (express + pipeline + SQLite queue), forwarder off; the
 *              configuration document comes in $BENCH_CONFIG (JSON).
 * - `express`  bare express 5: `express.raw` reads the body, answers 200.
 * - `http`     bare node:http: reads the body, answers 200.
 * - `sink`     a stand-in for Distinct: reads the body, answers 200 with Distinct's JSON
 *              ($BENCH_SINK_DELAY_MS later when set, like a real API's latency; default at once).
 */
const http = require('node:http');
const { dist } = require('./dist');

const KEEP_ALIVE_MS = 65_000; // as the service sets it
const DISTINCT_OK = JSON.stringify({ statusCode: 200, message: 'User analytics added successfully.', data: null });

async function start(mode) {
  switch (mode) {
    case 'adapter':
      return startAdapter();
    case 'express':
      return listen(http.createServer(bareExpress()));
    case 'http':
      return listen(http.createServer(bareHttp));
    case 'sink': {
      const stats = { requests: 0, bytes: 0 };
      return listen(http.createServer(sinkHandler(stats)), () => ({ ...stats }));
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

async function startAdapter() {
  const { startService } = dist('src/runtime/service');
  const { buildConfig } = dist('src/config/load');
  const { ADAPTERS } = dist('adapters');
  const { createLogger } = dist('src/observability/logger');
  const config = buildConfig(JSON.parse(process.env.BENCH_CONFIG), {}, null, ADAPTERS);
  const logger = createLogger({ level: config.log.level, redactPii: config.log.redactPii });
  const service = await startService(config, { logger, forward: false, port: 0, host: '127.0.0.1' });
  const stats = async () => ({
    queue: await service.queue.stats(),
    commits: typeof service.queue.commits === 'number' ? service.queue.commits : null,
  });
  return { url: service.url, stats, close: () => service.close() };
}

function bareExpress() {
  const express = require('express');
  const app = express();
  app.disable('x-powered-by');
  app.post('/webhooks/:source', express.raw({ type: () => true, limit: '5mb' }), (_req, res) => {
    res.sendStatus(200);
  });
  return app;
}

function bareHttp(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 2 });
    res.end('OK');
  });
}

function sinkHandler(stats) {
  const delayMs = Number(process.env.BENCH_SINK_DELAY_MS || 0);
  return (req, res) => {
    let bytes = 0;
    req.on('data', (c) => {
      bytes += c.length;
    });
    req.on('end', () => {
      const answer = () => {
        stats.requests += 1;
        stats.bytes += bytes;
        res.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(DISTINCT_OK),
        });
        res.end(DISTINCT_OK);
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  };
}

function listen(server, stats = () => ({})) {
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        stats: async () => stats(),
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** CPU time (user + system) this process has used, in microseconds. */
function cpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function main() {
  const mode = process.argv[2];
  const handle = await start(mode);
  process.on('message', async (msg) => {
    if (msg && msg.cmd === 'stats') {
      const stats = await handle.stats();
      process.send({ id: msg.id, stats: { ...stats, rss: process.memoryUsage().rss, cpuUs: cpuMicros() } });
    } else if (msg && msg.cmd === 'stop') {
      await handle.close();
      process.send({ id: msg.id, stopped: true }, () => process.exit(0));
    }
  });
  // A parent that dies (Ctrl-C, crash) must not leave a server behind.
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', url: handle.url });
}

main().catch((err) => {
  process.stderr.write(`bench server child failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
