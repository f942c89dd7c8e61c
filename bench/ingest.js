'use strict';
/**
 * Benchmark 1 — ingest: requests/s of signed single-event Twilio status callbacks.
 *
 * Servers (each in its own child process; the load generator is this process):
 * - the real adapter: express + pipeline + SQLite outbox in a temp dir, `synchronous: full`
 *   (the default), forwarder off, log level silent;
 * - the same with `synchronous: normal` (extra line);
 * - bare express 5 reading the body with `express.raw` and answering 200 (the baseline);
 * - bare node:http reading the body and answering 200 (for scale).
 * Every adapter request is a distinct MessageSid, signed in advance, so nothing is de-duplicated.
 * Goal (issue #2 item 10): adapter ≥ 0.6 × bare express.
 */
const path = require('node:path');
const { ensureBuilt } = require('./lib/dist');
const fixtures = require('./lib/fixtures');
const { Pool } = require('./lib/load');
const { compareServers, fmt } = require('./lib/compare');
const { settings } = require('./lib/settings');

const GOAL_RATIO = 0.6;

async function run({ log = console.log } = {}) {
  ensureBuilt();
  const { connections, rounds, seconds, warmupSeconds } = settings;
  // Enough distinct callbacks for the fastest plausible adapter run; a run that uses them up stops early.
  const perAdapter = Math.ceil((warmupSeconds + rounds * seconds) * 12_000);
  log(`ingest: signing ${fmt(perAdapter)} Twilio status callbacks…`);
  const creds = fixtures.createCredentials();
  const requests = fixtures.twilioRequests(creds, perAdapter);
  const dirs = [fixtures.tempDir(), fixtures.tempDir(), fixtures.tempDir()];
  const adapterEnv = (dir, synchronous, dist, logLevel) => ({
    BENCH_CONFIG: JSON.stringify(
      fixtures.configDocument({ creds, queuePath: path.join(dir, 'outbox.db'), synchronous, logLevel }),
    ),
    ...(dist ? { BENCH_DIST: dist } : {}),
  });
  // A candidate measured side by side as an extra line: another build (BENCH_CANDIDATE_DIST, a
  // proposed src/ change) and/or another log level (BENCH_CANDIDATE_LOG_LEVEL, e.g. info).
  const candidateDist = process.env.BENCH_CANDIDATE_DIST;
  const candidateLog = process.env.BENCH_CANDIDATE_LOG_LEVEL;
  const candidate =
    candidateDist || candidateLog
      ? [candidateDist, candidateLog && `log ${candidateLog}`].filter(Boolean).join(', ')
      : null;
  const extra = candidate
    ? [
        {
          label: 'candidate (full)',
          mode: 'adapter',
          env: adapterEnv(dirs[2], 'full', candidateDist, candidateLog),
          pool: new Pool(requests),
          distinct: true,
        },
      ]
    : [];
  log(
    `ingest: ${connections} connections, ${rounds} rounds × ${seconds} s per server after ${warmupSeconds} s warm-up`,
  );
  let results;
  try {
    results = await compareServers({
      servers: [
        { label: 'node:http', mode: 'http', pool: new Pool(requests), distinct: false },
        { label: 'express', mode: 'express', pool: new Pool(requests), distinct: false },
        {
          label: 'adapter (full)',
          mode: 'adapter',
          env: adapterEnv(dirs[0], 'full'),
          pool: new Pool(requests),
          distinct: true,
        },
        {
          label: 'adapter (normal)',
          mode: 'adapter',
          env: adapterEnv(dirs[1], 'normal'),
          pool: new Pool(requests),
          distinct: true,
        },
        ...extra,
      ],
      connections,
      rounds,
      seconds,
      warmupSeconds,
      log,
    });
  } finally {
    for (const dir of dirs) fixtures.removeDir(dir);
  }
  for (const label of ['adapter (full)', 'adapter (normal)', ...extra.map((e) => e.label)]) {
    const r = results[label];
    // Every 200 must have stored its one event: a check that the run measured real work. The
    // outbox may hold a few more: requests in flight when a measurement stopped are answered
    // after the load generator stopped counting (at most one per connection per measurement).
    const depth = r.queue ? r.queue.depth : 0;
    const uncounted = depth - r.okTotal;
    r.allQueued = uncounted >= 0 && uncounted <= connections * (rounds + 1);
    log(
      `  ${label}: ${fmt(r.okTotal)} callbacks counted 200, ${fmt(depth)} events in the outbox, ${fmt(r.commits)} commits` +
        (r.allQueued ? '' : '  MISMATCH: not every acknowledged callback is queued'),
    );
  }
  const express = results.express;
  const full = results['adapter (full)'];
  const normal = results['adapter (normal)'];
  const http = results['node:http'];
  const rows = [
    {
      benchmark: 'ingest: Twilio callbacks, sync full',
      measured: full.rps,
      baseline: express.rps,
      unit: 'req/s',
      baselineLabel: 'bare express',
      ratio: full.rps / express.rps,
      goal: `≥ ${GOAL_RATIO}×`,
      pass: full.rps / express.rps >= GOAL_RATIO && full.failed === 0 && full.allQueued,
    },
    {
      benchmark: 'ingest: Twilio callbacks, sync normal',
      measured: normal.rps,
      baseline: express.rps,
      unit: 'req/s',
      baselineLabel: 'bare express',
      ratio: normal.rps / express.rps,
      goal: `≥ ${GOAL_RATIO}×`,
      pass: normal.rps / express.rps >= GOAL_RATIO && normal.failed === 0 && normal.allQueued,
    },
    {
      benchmark: 'ingest: bare node:http (scale)',
      measured: http.rps,
      baseline: express.rps,
      unit: 'req/s',
      baselineLabel: 'bare express',
      ratio: http.rps / express.rps,
      goal: 'info',
      pass: null,
    },
  ];
  log(
    `  CPU per request (server process): node:http ${Math.round(http.cpuUsPerRequest)} µs, express ${Math.round(express.cpuUsPerRequest)} µs, ` +
      `adapter full ${Math.round(full.cpuUsPerRequest)} µs, normal ${Math.round(normal.cpuUsPerRequest)} µs ` +
      `(CPU ratio express/adapter full ${(express.cpuUsPerRequest / full.cpuUsPerRequest).toFixed(2)})`,
  );
  if (candidate) {
    const c = results['candidate (full)'];
    rows.push({
      benchmark: `ingest: candidate (${candidateLog ? `log ${candidateLog}` : 'build'}), sync full`,
      measured: c.rps,
      baseline: full.rps,
      unit: 'req/s',
      baselineLabel: 'current build',
      ratio: c.rps / full.rps,
      goal: 'info',
      pass: null,
    });
    log(`  candidate ${candidate}: ${Math.round(c.cpuUsPerRequest)} µs CPU/req`);
  }
  return {
    name: 'ingest',
    settings: { connections, rounds, seconds, warmupSeconds, logLevel: process.env.BENCH_LOG_LEVEL ?? 'silent' },
    results,
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
