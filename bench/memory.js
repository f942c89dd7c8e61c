'use strict';
/**
 * Benchmark 4 — memory: RSS of the service process with 100,000 events waiting in the SQLite
 * outbox, after a full GC. Baseline: the same service, started the same way with an empty
 * outbox (same modules loaded, same HTTP server). Also reported: the same backlog after a
 * restart (the service opening a file that already holds it). Each figure comes from a fresh
 * child process (`--expose-gc`). Goal (issue #2 item 10): < 200 MB.
 */
const path = require('node:path');
const { execFile } = require('node:child_process');
const { ensureBuilt } = require('./lib/dist');
const fixtures = require('./lib/fixtures');
const { fmt } = require('./lib/compare');
const { settings } = require('./lib/settings');

const GOAL_MB = 200;
const MB = 2 ** 20;

function measure(mode, env) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', path.join(__dirname, 'lib', 'memory-child.js'), mode],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`memory child (${mode}) failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()));
      },
    );
  });
}

async function run({ log = console.log } = {}) {
  ensureBuilt();
  const events = settings.memoryEvents;
  const creds = fixtures.createCredentials();
  const dir = fixtures.tempDir();
  const env = {
    BENCH_EVENTS: String(events),
    BENCH_CONFIG: JSON.stringify(
      fixtures.configDocument({ creds, queuePath: path.join(dir, 'outbox.db'), synchronous: 'full' }),
    ),
  };
  let idle;
  let queued;
  let reopened;
  try {
    log(`memory: idle service, then ${fmt(events)} events enqueued, then a restart on that backlog…`);
    idle = await measure('idle', env);
    const started = Date.now();
    queued = await measure('queued', env);
    const seconds = (Date.now() - started) / 1000;
    reopened = await measure('reopen', env);
    const line = (label, m) =>
      `  ${label.padEnd(28)} RSS ${(m.rss / MB).toFixed(1).padStart(6)} MB  heap ${(m.heapUsed / MB).toFixed(1).padStart(5)} MB  ` +
      `external ${(m.external / MB).toFixed(1).padStart(5)} MB  peak RSS ${m.peakRss === null ? '-' : (m.peakRss / MB).toFixed(1).padStart(6)} MB  ` +
      `outbox ${fmt(m.depth)}`;
    log(line('idle (empty outbox)', idle));
    log(line(`${fmt(events)} enqueued (${seconds.toFixed(1)} s)`, queued));
    log(line('restarted on the backlog', reopened));
  } finally {
    fixtures.removeDir(dir);
  }
  const rows = [
    {
      benchmark: `memory: RSS, ${fmt(events)} events queued`,
      measured: queued.rss / MB,
      unit: 'MB',
      baseline: idle.rss / MB,
      baselineLabel: 'idle service',
      ratio: queued.rss / idle.rss,
      goal: `< ${GOAL_MB} MB`,
      pass: queued.rss / MB < GOAL_MB && queued.depth === events,
    },
    {
      benchmark: `memory: RSS after restart on the backlog`,
      measured: reopened.rss / MB,
      unit: 'MB',
      baseline: idle.rss / MB,
      baselineLabel: 'idle service',
      ratio: reopened.rss / idle.rss,
      goal: `< ${GOAL_MB} MB`,
      pass: reopened.rss / MB < GOAL_MB && reopened.depth === events,
    },
  ];
  return { name: 'memory', settings: { events }, results: { idle, queued, reopened }, rows };
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
