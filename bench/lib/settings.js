'use strict';
/**
 * Run lengths and load shape, overridable from the environment. Every measurement is capped at
 * 10 s so `npm run bench` stays around three minutes on the reference machine.
 */
function num(name, fallback, { min = 0, max = Infinity } = {}) {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return Math.min(max, Math.max(min, value));
}

const settings = {
  /** Seconds per HTTP measurement (BENCH_SECONDS, ≤ 10). */
  seconds: num('BENCH_SECONDS', 4, { min: 1, max: 10 }),
  /** Measurements per server, interleaved with its baselines (BENCH_ROUNDS). */
  rounds: num('BENCH_ROUNDS', 3, { min: 1, max: 9 }),
  /** Warm-up seconds per server before the first round (BENCH_WARMUP). */
  warmupSeconds: num('BENCH_WARMUP', 1, { min: 0.5, max: 10 }),
  /** Concurrent keep-alive connections of the load generator (BENCH_CONNECTIONS). */
  connections: num('BENCH_CONNECTIONS', 32, { min: 1, max: 1024 }),
  /** Forwarder concurrency and the raw loop's (distinct.concurrency default). */
  forwardConcurrency: num('BENCH_FORWARD_CONCURRENCY', 16, { min: 1, max: 1024 }),
  /** Events drained in the forwarding benchmark (BENCH_FORWARD_EVENTS). */
  forwardEvents: num('BENCH_FORWARD_EVENTS', 20_000, { min: 1000, max: 1_000_000 }),
  /** Events queued in the memory benchmark (BENCH_MEMORY_EVENTS). */
  memoryEvents: num('BENCH_MEMORY_EVENTS', 100_000, { min: 1000, max: 10_000_000 }),
};

module.exports = { settings };
