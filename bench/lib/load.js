'use strict';
/**
 * The load generator: autocannon's programmatic API, in this (the parent) process, against a
 * server in a child process. Requests come from a pre-signed pool through one shared cursor, so
 * across all connections each request is sent once: no request is a duplicate of another until
 * the pool runs out (reported as `reused`).
 */
const autocannon = require('autocannon');

/** A cursor over a pool of `{ method, path, headers, body }`, shared by every connection. */
class Pool {
  constructor(items) {
    this.items = items;
    this.next = 0;
  }

  get remaining() {
    return Math.max(0, this.items.length - this.next);
  }

  take() {
    const item = this.items[this.next % this.items.length];
    this.next += 1;
    return item;
  }
}

/**
 * Sends requests from `pool` to `url` with `connections` keep-alive connections for at most
 * `seconds` (or, when `distinct`, until the pool is used up), and reports what completed.
 */
async function fire({ url, pool, connections, seconds, distinct = true }) {
  const startIndex = pool.next;
  // Distinct runs stop when the pool is used up; baselines (nothing to de-duplicate) may cycle it.
  const amount = distinct ? pool.remaining : 1_000_000_000;
  if (amount < connections) throw new Error(`request pool exhausted (${amount} left)`);
  const started = process.hrtime.bigint();
  const instance = autocannon({
    url,
    connections,
    pipelining: 1,
    amount,
    timeout: 10,
    requests: [
      {
        setupRequest: (req) => {
          const item = pool.take();
          req.method = item.method;
          req.path = item.path;
          req.headers = { ...item.headers };
          req.body = item.body;
          return req;
        },
      },
    ],
  });
  const timer = setTimeout(() => instance.stop(), seconds * 1000);
  const result = await new Promise((resolve, reject) => {
    instance.on('done', resolve);
    instance.on('error', reject);
  });
  clearTimeout(timer);
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  const ok = result['2xx'];
  return {
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    elapsedS,
    rps: ok / elapsedS,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    sent: pool.next - startIndex,
    reused: Math.max(0, pool.next - pool.items.length),
  };
}

module.exports = { Pool, fire };
