'use strict';
/**
 * Benchmark 3 — forwarding: events/s delivered by the real Forwarder + DistinctClient (undici
 * keep-alive pool, concurrency 16, log level silent) from a pre-filled SQLite outbox
 * (`synchronous: full`) to a local sink in a child process (node:http answering 200 with
 * Distinct's JSON). Baseline: a raw undici keep-alive loop POSTing the same bodies with the same
 * headers at the same concurrency to the same sink. Both run in this process, in turn, for
 * several rounds; each round drains a fresh backlog of the same size.
 * BENCH_CANDIDATE_DIST adds a third line: the forwarder and queue of another build.
 * Goal (issue #2 item 10): ≥ 0.7 × the raw loop.
 */
const path = require('node:path');
const { Agent, request } = require('undici');
const { ensureBuilt, dist, DIST } = require('./lib/dist');
const fixtures = require('./lib/fixtures');
const { startServer } = require('./lib/child');
const { median, fmt } = require('./lib/compare');
const { settings } = require('./lib/settings');

const GOAL_RATIO = 0.7;
const WARMUP_EVENTS = 2_000;
/** No drain may take longer than this (the 10 s bound per measurement). */
const MAX_DRAIN_MS = 10_000;
const API_KEY = 'bench-key';
const ANALYTICS_PATH = '/api/v1/user/analytics';

/** A queue + client + forwarder from one build, with a delivery counter. */
function forwardingPath(root, dir, sinkUrl, concurrency) {
  const { createQueue } = dist('src/queue/create-queue', root);
  const { Forwarder } = dist('src/forwarder/forwarder', root);
  const { DistinctClient } = dist('src/forwarder/distinct-client', root);
  const { createMetrics } = dist('src/observability/metrics', root);
  const { silentLogger } = dist('src/observability/logger', root);
  const { retrySchema } = dist('src/config/schema', root);
  const queue = createQueue({
    driver: 'sqlite',
    path: path.join(dir, 'outbox.db'),
    synchronous: 'full',
    dedupeWindowMs: 7 * 86_400_000,
  });
  const client = new DistinctClient({ baseUrl: sinkUrl, apiKey: API_KEY, timeoutMs: 10_000, concurrency });
  const forwarder = new Forwarder({
    queue,
    client,
    retry: retrySchema.parse({}),
    circuit: { probeIntervalMs: 30_000 },
    concurrency,
    ratePerSecond: 0,
    logger: silentLogger(),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  // Counts deliveries as the forwarder settles them (a thin wrapper: one increment per call).
  const counter = { completed: 0, onComplete: () => {} };
  const complete = queue.complete.bind(queue);
  queue.complete = async (lease) => {
    await complete(lease);
    counter.completed += 1;
    counter.onComplete();
  };

  const fill = async (messages) => {
    for (let i = 0; i < messages.length; i += 1000)
      await queue.enqueue(messages.slice(i, i + 1000).map((message) => ({ message })));
  };
  /** Starts the forwarder on the backlog; resolves when `n` messages are delivered or time is up. */
  const drain = async (n) => {
    counter.completed = 0;
    const commitsBefore = queue.commits;
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const done = new Promise((resolve) => {
      const timer = setTimeout(resolve, MAX_DRAIN_MS);
      counter.onComplete = () => {
        if (counter.completed >= n) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    forwarder.start();
    await done;
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    const delivered = counter.completed;
    await forwarder.stop();
    const commits = typeof commitsBefore === 'number' ? queue.commits - commitsBefore : null;
    return {
      delivered,
      elapsedS,
      eps: delivered / elapsedS,
      commits,
      cpuUsPerEvent: (cpu.user + cpu.system) / delivered,
    };
  };
  const close = async () => {
    await forwarder.stop();
    await client.close();
    await queue.close();
  };
  return { fill, drain, close, queue };
}

async function run({ log = console.log } = {}) {
  ensureBuilt();
  const { forwardConcurrency: concurrency, forwardEvents: events } = settings;
  const rounds = Math.min(settings.rounds, 3);
  const candidateRoot = process.env.BENCH_CANDIDATE_DIST;

  const sink = await startServer('sink');
  const dirs = [fixtures.tempDir(), fixtures.tempDir()];
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  const current = forwardingPath(DIST, dirs[0], sink.url, concurrency);
  const candidate = candidateRoot ? forwardingPath(path.resolve(candidateRoot), dirs[1], sink.url, concurrency) : null;

  /** The raw loop: `concurrency` workers POSTing pre-serialized bodies back to back. */
  const rawLoop = async (messages) => {
    const bodies = messages.map((m) => ({ key: m.key, body: JSON.stringify(m.event) }));
    let next = 0;
    let delivered = 0;
    const deadline = Date.now() + MAX_DRAIN_MS;
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const worker = async () => {
      while (next < bodies.length && Date.now() < deadline) {
        const { key, body } = bodies[next++];
        const res = await request(`${sink.url}${ANALYTICS_PATH}`, {
          dispatcher: agent,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-distinct-api-key': API_KEY,
            'idempotency-key': key,
            'user-agent': 'bench',
          },
          body,
        });
        await res.body.text();
        if (res.statusCode === 200) delivered += 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    return { delivered, elapsedS, eps: delivered / elapsedS, cpuUsPerEvent: (cpu.user + cpu.system) / delivered };
  };
  const backlog = (n) => {
    const now = Date.now();
    return Array.from({ length: n }, (_, i) => fixtures.queueMessage(i, now));
  };
  // CPU of this process per event (the sink runs in its own): steadier than events/s on a busy machine.
  const line = (label, r) =>
    `${label} ${fmt(r.eps).padStart(7)} events/s (${fmt(r.delivered)} in ${r.elapsedS.toFixed(2)} s, ${r.cpuUsPerEvent.toFixed(1)} µs CPU/event` +
    (r.commits === undefined ? ')' : `, ${fmt(r.commits)} commits)`);

  const forwarded = [];
  const raw = [];
  const candidates = [];
  try {
    log(`forward: ${fmt(events)} events per drain, concurrency ${concurrency}, ${rounds} rounds; warming up…`);
    await rawLoop(backlog(WARMUP_EVENTS));
    for (const p of [current, candidate].filter(Boolean)) {
      await p.fill(backlog(WARMUP_EVENTS));
      await p.drain(WARMUP_EVENTS);
    }
    for (let round = 1; round <= rounds; round += 1) {
      const messages = backlog(events);
      await current.fill(messages);
      if (candidate) await candidate.fill(messages);
      const r = await rawLoop(messages);
      raw.push(r);
      const f = await current.drain(events);
      forwarded.push(f);
      let text = `  round ${round} ${line('raw undici loop', r)}   ${line('forwarder', f)}`;
      if (candidate) {
        const c = await candidate.drain(events);
        candidates.push(c);
        text += `   ${line('candidate', c)}`;
      }
      log(text);
    }
    const sinkStats = await sink.stats();
    const left = (await current.queue.stats()).depth;
    log(
      `  sink received ${fmt(sinkStats.requests)} POSTs; left in the outbox: ${fmt(left)} (not delivered within ${MAX_DRAIN_MS / 1000} s)`,
    );
  } finally {
    await current.close();
    if (candidate) await candidate.close();
    await agent.close();
    await sink.stop();
    for (const dir of dirs) fixtures.removeDir(dir);
  }
  const measured = median(forwarded.map((x) => x.eps));
  const baseline = median(raw.map((x) => x.eps));
  const rows = [
    {
      benchmark: 'forward: outbox → sink, concurrency 16',
      measured,
      unit: 'events/s',
      baseline,
      baselineLabel: 'raw undici loop',
      ratio: measured / baseline,
      goal: `≥ ${GOAL_RATIO}×`,
      pass: measured / baseline >= GOAL_RATIO && forwarded.every((f) => f.delivered === events),
    },
  ];
  if (candidate) {
    const c = median(candidates.map((x) => x.eps));
    rows.push({
      benchmark: 'forward: candidate build',
      measured: c,
      unit: 'events/s',
      baseline,
      baselineLabel: 'raw undici loop',
      ratio: c / baseline,
      goal: 'info',
      pass: null,
    });
  }
  return {
    name: 'forward',
    settings: { events, concurrency, rounds, synchronous: 'full' },
    results: { forwarder: forwarded, raw, candidate: candidates },
    rows,
  };
}

module.exports = { run };

if (require.main === module) {
  run()
    .then(({ rows }) => require('./lib/report').printTable(rows))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
