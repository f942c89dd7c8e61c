'use strict';
/**
 * Benchmark 2 — SendGrid batches: events/s accepted when SendGrid posts batches of 100 events
 * (ECDSA P-256 signed, SendGrid's CRLF-joined wire format) to the real adapter (`synchronous:
 * full`, forwarder off, log level silent). Every event has its own sg_event_id, recipient and
 * timestamp, and every batch is signed in advance, so de-duplication drops nothing and the load
 * generator only copies bytes. "Accepted" = answered 200, which the adapter does only once all
 * 100 events are durably queued.
 * Baseline: bare express reading the same bodies (`express.raw`) and answering 200.
 * Goal (issue #2 item 10): ≥ 50,000 events/s.
 */
const path = require('node:path');
const { ensureBuilt, requestFactory, dist } = require('./lib/dist');
const fixtures = require('./lib/fixtures');
const { Pool } = require('./lib/load');
const { compareServers, fmt } = require('./lib/compare');
const { settings } = require('./lib/settings');

const EVENTS_PER_BATCH = 100;
const GOAL_EVENTS_PER_SECOND = 50_000;
/** Signatures verified per verifier in the verification micro-measurement. */
const VERIFY_SAMPLES = 40;

/**
 * Milliseconds per signature check of one signed batch: the adapter's verify (node:crypto,
 * OpenSSL) against @sendgrid/eventwebhook's verifySignature (pure-JS ECDSA, the official SDK and
 * the test oracle). Both must accept every signature.
 */
function measureVerify(creds, batches) {
  const { getAdapter } = dist('adapters/index');
  const adapter = getAdapter('sendgrid');
  const { createWebhookRequest } = requestFactory();
  const settings = adapter.settingsSchema.parse(creds.sendgrid.options);
  const { EventWebhook } = require('@sendgrid/eventwebhook');
  const sdk = new EventWebhook();
  const sdkKey = sdk.convertPublicKeyToECDSA(creds.sendgrid.options.publicKey);
  const sample = batches.slice(0, VERIFY_SAMPLES);
  const signature = (b) => b.headers['x-twilio-email-event-webhook-signature'];
  const timestamp = (b) => b.headers['x-twilio-email-event-webhook-timestamp'];
  const time = (fn) => {
    const started = process.hrtime.bigint();
    for (const b of sample) fn(b);
    return Number(process.hrtime.bigint() - started) / 1e6 / sample.length;
  };
  const nodeMs = time((b) => {
    const req = createWebhookRequest({
      method: 'POST',
      url: `${fixtures.PUBLIC_URL}/webhooks/sendgrid`,
      query: '',
      headers: b.headers,
      rawBody: b.body,
      receivedAt: new Date(),
    });
    adapter.verify(req, settings, { replayCache: undefined }); // throws on a bad signature
  });
  const sdkMs = time((b) => {
    if (!sdk.verifySignature(sdkKey, b.body, signature(b), timestamp(b)))
      throw new Error('the SDK rejected a valid signature');
  });
  return { nodeMs, sdkMs };
}

/** Batches signed per adapter: enough for ~800 batches/s (80,000 events/s) over the whole run; a faster run stops early. */
const BATCHES_PER_SECOND_BUDGET = 800;

async function run({ log = console.log } = {}) {
  ensureBuilt();
  const { connections, rounds, seconds, warmupSeconds } = settings;
  const count = Math.ceil((warmupSeconds + rounds * seconds) * BATCHES_PER_SECOND_BUDGET);
  log(`sendgrid: signing ${fmt(count)} batches of ${EVENTS_PER_BATCH} events (ECDSA)…`);
  const creds = fixtures.createCredentials();
  const batches = fixtures.sendgridBatches(creds, count, EVENTS_PER_BATCH);
  log(
    `sendgrid: ${fmt(batches[0].body.length)} bytes per batch; ${connections} connections, ${rounds} rounds × ${seconds} s`,
  );
  const dirs = [fixtures.tempDir(), fixtures.tempDir()];
  const adapterEnv = (dir, dist) => ({
    BENCH_CONFIG: JSON.stringify(
      fixtures.configDocument({ creds, queuePath: path.join(dir, 'outbox.db'), synchronous: 'full' }),
    ),
    ...(dist ? { BENCH_DIST: dist } : {}),
  });
  const candidate = process.env.BENCH_CANDIDATE_DIST;
  const extra = candidate
    ? [
        {
          label: 'candidate (full)',
          mode: 'adapter',
          env: adapterEnv(dirs[1], candidate),
          pool: new Pool(batches),
          distinct: true,
        },
      ]
    : [];
  let results;
  try {
    results = await compareServers({
      servers: [
        { label: 'express', mode: 'express', pool: new Pool(batches), distinct: false },
        { label: 'adapter (full)', mode: 'adapter', env: adapterEnv(dirs[0]), pool: new Pool(batches), distinct: true },
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
  for (const label of ['adapter (full)', ...extra.map((e) => e.label)]) {
    const r = results[label];
    const depth = r.queue ? r.queue.depth : 0;
    const uncounted = depth / EVENTS_PER_BATCH - r.okTotal;
    r.allQueued = depth % EVENTS_PER_BATCH === 0 && uncounted >= 0 && uncounted <= connections * (rounds + 1);
    log(
      `  ${label}: ${fmt(r.okTotal)} batches counted 200, ${fmt(depth)} events in the outbox, ${fmt(r.commits)} commits` +
        (r.allQueued ? '' : '  MISMATCH: not every acknowledged event is queued'),
    );
  }
  const express = results.express;
  const adapter = results['adapter (full)'];
  const eventsPerSecond = adapter.rps * EVENTS_PER_BATCH;
  log(
    `  CPU per batch (server process): express ${Math.round(express.cpuUsPerRequest)} µs, adapter ${Math.round(adapter.cpuUsPerRequest)} µs ` +
      `(${(adapter.cpuUsPerRequest / EVENTS_PER_BATCH).toFixed(1)} µs per event)`,
  );
  const verify = measureVerify(creds, batches);
  log(
    `  signature check per batch (${fmt(batches[0].body.length)} bytes): node:crypto ${verify.nodeMs.toFixed(3)} ms, ` +
      `@sendgrid/eventwebhook (pure JS) ${verify.sdkMs.toFixed(2)} ms`,
  );
  const rows = [
    {
      benchmark: 'sendgrid: batches of 100, sync full',
      measured: eventsPerSecond,
      unit: 'events/s',
      baseline: express.rps,
      baselineUnit: 'req/s',
      baselineLabel: 'bare express',
      ratio: adapter.rps / express.rps,
      goal: `≥ ${fmt(GOAL_EVENTS_PER_SECOND)} events/s`,
      pass: eventsPerSecond >= GOAL_EVENTS_PER_SECOND && adapter.failed === 0 && adapter.allQueued,
    },
  ];
  rows.push({
    benchmark: 'sendgrid: ECDSA verify per batch',
    measured: verify.nodeMs,
    unit: 'ms',
    baseline: verify.sdkMs,
    baselineLabel: 'pure-JS SDK',
    ratio: verify.sdkMs / verify.nodeMs,
    goal: 'info',
    pass: null,
  });
  if (candidate) {
    const c = results['candidate (full)'];
    rows.push({
      benchmark: 'sendgrid: candidate build, sync full',
      measured: c.rps * EVENTS_PER_BATCH,
      unit: 'events/s',
      baseline: eventsPerSecond,
      baselineLabel: 'current build',
      ratio: c.rps / adapter.rps,
      goal: 'info',
      pass: null,
    });
  }
  return {
    name: 'sendgrid',
    settings: { connections, rounds, seconds, warmupSeconds, eventsPerBatch: EVENTS_PER_BATCH },
    results,
    verify,
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
