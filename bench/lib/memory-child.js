'use strict';
/**
 * Measures the RSS of a running service (`node --expose-gc memory-child.js <mode>`), started with
 * startService like `serve` (HTTP server, pipeline, SQLite outbox; forwarder off so the backlog
 * stays put). Modes:
 * - `idle`    the service as started, empty outbox (the baseline);
 * - `queued`  then $BENCH_EVENTS events enqueued through `service.queue` in batches, as ingest
 *             would write them;
 * - `reopen`  the service started on an existing outbox that already holds the backlog.
 * Prints one JSON line: { rss, heapUsed, external, peakRss, depth } in bytes.
 */
const fs = require('node:fs');
const { dist } = require('./dist');
const fixtures = require('./fixtures');

const BATCH = 500;
/** Enqueue calls made in the same event-loop turn (they share one group commit). */
const CALLS_PER_TURN = 10;

/**
 * High-water mark of this process's RSS (Linux VmHWM). Not `resourceUsage().maxRSS`: that one
 * survives exec and reports the parent's peak when the parent was bigger. Null elsewhere.
 */
function peakRss() {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

async function settle() {
  // Two full collections with a turn in between: what is left is what the process holds.
  for (let i = 0; i < 2; i += 1) {
    if (typeof global.gc === 'function') global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function main() {
  const mode = process.argv[2];
  const total = Number(process.env.BENCH_EVENTS || 100_000);
  const { startService } = dist('src/runtime/service');
  const { buildConfig } = dist('src/config/load');
  const { ADAPTERS } = dist('adapters');
  const { silentLogger } = dist('src/observability/logger');
  const config = buildConfig(JSON.parse(process.env.BENCH_CONFIG), {}, null, ADAPTERS);
  const service = await startService(config, { logger: silentLogger(), forward: false, port: 0, host: '127.0.0.1' });
  if (mode === 'queued') {
    let i = 0;
    while (i < total) {
      const calls = [];
      for (let c = 0; c < CALLS_PER_TURN && i < total; c += 1) {
        const now = Date.now();
        const items = [];
        for (let b = 0; b < BATCH && i < total; b += 1, i += 1) items.push({ message: fixtures.queueMessage(i, now) });
        calls.push(service.queue.enqueue(items));
      }
      await Promise.all(calls);
    }
  }
  await settle();
  const mem = process.memoryUsage();
  const stats = await service.queue.stats();
  const out = {
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    peakRss: peakRss(),
    depth: stats.depth,
  };
  await service.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`memory child failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
