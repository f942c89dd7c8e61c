'use strict';
/**
 * Where the time goes: the ingest stages timed one by one, in this process, on pre-signed
 * requests (no HTTP). `node bench/stages.js` (also `npm run bench -- stages`). Each stage runs
 * over the whole sample twice and the second pass is reported (the first warms the JIT).
 * The queue stage is the real SqliteQueue (`synchronous: full`), with the calls of several
 * requests sharing a group commit as they do under load.
 */
const path = require('node:path');
const { ensureBuilt, requestFactory, dist } = require('./lib/dist');
const fixtures = require('./lib/fixtures');
const { fmt } = require('./lib/compare');

const SENDGRID_BATCHES = 600;
const TWILIO_REQUESTS = 20_000;
/** Requests whose enqueue calls share one commit (what the ingest benchmark sees at 32 connections). */
const CALLS_PER_COMMIT = { sendgrid: 10, twilio: 20 };

function timeUs(fn) {
  fn();
  const started = process.hrtime.bigint();
  const out = fn();
  return { us: Number(process.hrtime.bigint() - started) / 1e3, out };
}

async function stagesFor(provider, wire, config, log) {
  const { completeDraft } = dist('src/mapping/normalize');
  const { toDistinct } = dist('src/mapping/to-distinct');
  // src/core/replay-cache since issue #11; src/verify/primitives in older builds.
  let ReplayCache;
  try {
    ({ ReplayCache } = dist('src/core/replay-cache'));
  } catch {
    ({ ReplayCache } = dist('src/verify/primitives'));
  }
  const { createQueue } = dist('src/queue/create-queue');
  const source = config.sources.get(provider);
  const { adapter } = source;
  const replayCache = new ReplayCache(86_400_000);
  const { createWebhookRequest } = requestFactory();
  const receivedAt = new Date();
  const reqs = wire.map((w) => {
    const query = w.path.includes('?') ? w.path.slice(w.path.indexOf('?') + 1) : '';
    return createWebhookRequest({
      method: 'POST',
      url: `${fixtures.PUBLIC_URL}${w.path}`,
      query,
      headers: w.headers,
      rawBody: w.body,
      receivedAt,
    });
  });
  const rows = [];
  const stage = (name, fn) => {
    const { us, out } = timeUs(fn);
    rows.push({ name, us });
    return out;
  };
  stage('verify signature', () => reqs.forEach((r) => adapter.verify(r, source.settings, { replayCache })));
  const drafts = stage('parse body', () => reqs.map((r) => adapter.parse(r)));
  const events = stage('complete draft + dedupe key', () =>
    drafts.map((ds) => ds.map((d) => completeDraft(d, adapter, provider, receivedAt))),
  );
  const outcomes = stage('map to Distinct (phone/e-mail)', () =>
    events.map((es) => es.map((e) => toDistinct(e, source, config.registry))),
  );
  const items = events.map((es, i) =>
    es.map((e, j) => ({
      message: {
        key: e.dedupeKey,
        source: provider,
        provider,
        type: e.type,
        event: outcomes[i][j].event,
        receivedAt: receivedAt.getTime(),
      },
    })),
  );
  stage('serialize (JSON.stringify)', () => items.forEach((is) => is.forEach((it) => JSON.stringify(it.message))));
  const eventCount = items.reduce((n, is) => n + is.length, 0);
  // The queue: a fresh file, fed the way the pipeline feeds it under load; no warm-up pass (the
  // keys would be duplicates the second time).
  const dir = fixtures.tempDir();
  try {
    const queue = createQueue({
      driver: 'sqlite',
      path: path.join(dir, 'outbox.db'),
      synchronous: 'full',
      dedupeWindowMs: 7 * 86_400_000,
    });
    const group = CALLS_PER_COMMIT[provider];
    const started = process.hrtime.bigint();
    for (let i = 0; i < items.length; i += group)
      await Promise.all(items.slice(i, i + group).map((is) => queue.enqueue(is)));
    rows.push({
      name: `SQLite enqueue (${group} requests per commit)`,
      us: Number(process.hrtime.bigint() - started) / 1e3,
    });
    const stats = await queue.stats();
    if (stats.depth !== eventCount) throw new Error(`queued ${stats.depth} of ${eventCount} events`);
    await queue.close();
  } finally {
    fixtures.removeDir(dir);
  }
  const per = provider === 'sendgrid' ? eventCount : reqs.length;
  const unit = provider === 'sendgrid' ? 'event' : 'request';
  const total = rows.reduce((s, r) => s + r.us, 0);
  log(`${provider}: ${fmt(reqs.length)} requests, ${fmt(eventCount)} events — µs per ${unit}, pipeline only (no HTTP)`);
  for (const r of rows)
    log(
      `  ${r.name.padEnd(40)} ${(r.us / per).toFixed(2).padStart(7)} µs  ${((100 * r.us) / total).toFixed(0).padStart(3)}%`,
    );
  log(`  ${'total'.padEnd(40)} ${(total / per).toFixed(2).padStart(7)} µs`);
  return { provider, unit, stages: rows.map((r) => ({ name: r.name, usPer: r.us / per })), totalUsPer: total / per };
}

async function run({ log = console.log } = {}) {
  ensureBuilt();
  const { buildConfig } = dist('src/config/load');
  const { ADAPTERS } = dist('adapters');
  const creds = fixtures.createCredentials();
  // The configuration only supplies the sources; its queue path is never opened.
  const config = buildConfig(
    fixtures.configDocument({ creds, queuePath: path.join(require('node:os').tmpdir(), 'dwa-bench-unused.db') }),
    {},
    null,
    ADAPTERS,
  );
  const sendgrid = await stagesFor('sendgrid', fixtures.sendgridBatches(creds, SENDGRID_BATCHES), config, log);
  const twilio = await stagesFor('twilio', fixtures.twilioRequests(creds, TWILIO_REQUESTS), config, log);
  return { name: 'stages', results: { sendgrid, twilio }, rows: [] };
}

module.exports = { run };

if (require.main === module) {
  run().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
