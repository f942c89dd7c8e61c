'use strict';
/**
 * Benchmark — the shared key store (issue #8 item 5): the same receiver and the same forwarder,
 * side by side in one run, without and with `dedupe.store`.
 *
 * - Receiver: one `distinct-adapter serve --no-forward` process on an SQS queue (fauxqs), loaded
 *   with distinct signed Twilio status callbacks (one event each) by autocannon for
 *   BENCH_DEDUPE_SECONDS (default 5) after a 1 s warm-up. Measured: the receiver process's CPU
 *   per accepted webhook (from /proc, so the SQS and DynamoDB emulators' CPU is not in it) and
 *   p50/p99 latency. Then the same with SendGrid batches of 100 events (CPU per webhook only).
 * - Forwarder: BENCH_DEDUPE_EVENTS (default 3000) messages queued in SQS beforehand, one
 *   `distinct-adapter forward` process (distinct.concurrency 16) delivering them to a local sink
 *   that answers 200 at once. Measured: events/s from the first to the last delivery, and the
 *   forwarder's CPU per event. Then the same against a sink answering after
 *   BENCH_DEDUPE_SINK_DELAY_MS (default 50 ms, a real API's latency; BENCH_DEDUPE_SLOW_EVENTS,
 *   default 1500, events), where the store's round trips overlap with the POSTs of other slots.
 *
 * Goals (issue #8): with the store, receiver CPU per webhook ≤ 1.5× and forwarding ≥ 0.7× of
 * the run without it. The key store is dynalite in its own process: pure JavaScript on LevelDB
 * in memory, single-threaded, several times slower per call than DynamoDB, and it shares this
 * machine's cores with everything else — docs/performance.md says what that does to the figures.
 *
 *   node bench/dedupe.js            BENCH_DEDUPE_SECONDS=5 BENCH_DEDUPE_EVENTS=3000 BENCH_CONNECTIONS=16 BENCH_DEDUPE_ROUNDS=3
 *
 * Each round runs both sides of each pair back to back (order alternating by round); the table
 * shows medians, and the per-round ratios are printed below it.
 *   BENCH_DEDUPE_PROFILE=<dir>       writes a V8 CPU profile of every receiver/forwarder process there
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ensureBuilt } = require('./lib/dist');
const fixtures = require('./lib/fixtures');
const { Pool, fire } = require('./lib/load');
const { startServer } = require('./lib/child');
const { cpuSeconds, startChild, startCli, createQueuePair } = require('./lib/processes');
const { machine, printTable, writeJson } = require('./lib/report');

const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const SECONDS = Math.min(30, num('BENCH_DEDUPE_SECONDS', 5));
const EVENTS = num('BENCH_DEDUPE_EVENTS', 3000);
const CONNECTIONS = num('BENCH_CONNECTIONS', 16);
const ROUNDS = Math.max(1, num('BENCH_DEDUPE_ROUNDS', 3));
const SINK_DELAY_MS = num('BENCH_DEDUPE_SINK_DELAY_MS', 50);
const SLOW_EVENTS = num('BENCH_DEDUPE_SLOW_EVENTS', 1500);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** BENCH_DEDUPE_PROFILE: node flags writing a V8 CPU profile of the process named `label`. */
function profileArgs(label) {
  if (!process.env.BENCH_DEDUPE_PROFILE) return [];
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${path.resolve(process.env.BENCH_DEDUPE_PROFILE)}`,
    `--cpu-prof-name=${label.replace(/\W+/g, '-')}.cpuprofile`,
  ];
}

function median(values) {
  const v = values.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** The key table as docs/scaling.md tells operators to create it. */
async function createTable(endpoint, name) {
  const { DynamoDBClient, CreateTableCommand } = require('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } finally {
    client.destroy();
  }
}

/** `count` queue messages written straight to SQS (what receivers would have queued). */
async function fillQueue(sqs, count) {
  const { SQSClient, SendMessageBatchCommand } = require('@aws-sdk/client-sqs');
  const client = new SQSClient({
    endpoint: sqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const now = Date.now();
  try {
    const calls = [];
    for (let i = 0; i < count; i += 10) {
      const entries = [];
      for (let j = i; j < Math.min(count, i + 10); j += 1) {
        entries.push({
          Id: `m${j - i}`,
          MessageBody: JSON.stringify(fixtures.queueMessage(j, now)),
          MessageAttributes: { enqueuedAt: { DataType: 'Number', StringValue: String(now) } },
        });
      }
      calls.push(client.send(new SendMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: entries })));
      if (calls.length >= 16) await Promise.all(calls.splice(0));
    }
    await Promise.all(calls);
  } finally {
    client.destroy();
  }
}

function configDoc({ creds, sqs, sink, store }) {
  return {
    distinct: { baseUrl: sink, apiKey: 'bench-key', timeoutMs: 10_000, concurrency: 16 },
    server: { host: '127.0.0.1', publicUrl: fixtures.PUBLIC_URL },
    queue: { driver: 'sqs', sqs: { ...sqs, waitTimeSeconds: 1 } },
    ...(store ? { dedupe: { store } } : {}),
    log: { level: process.env.BENCH_LOG_LEVEL || 'warn' },
    sources: {
      twilio: { feature: 'registration_sms', experienceId: 'exp_bench', ...creds.twilio.options },
      sendgrid: { feature: 'registration_email', experienceId: 'exp_bench', ...creds.sendgrid.options },
    },
  };
}

/** One receiver process under load: CPU ms per webhook and latency. */
async function measureReceiver({ label, doc, dir, pool, seconds, connections, dyn }) {
  const configFile = path.join(dir, `receiver-${label}.json`);
  fs.writeFileSync(configFile, JSON.stringify(doc));
  const proc = await startCli(['serve', '--no-forward'], {
    configFile,
    label: `receiver (${label})`,
    nodeArgs: profileArgs(`receiver (${label})`),
  });
  try {
    await fire({ url: proc.url, pool, connections, seconds: 1, distinct: true }); // warm-up
    const cpu0 = cpuSeconds(proc.pid);
    const dyn0 = dyn ? cpuSeconds(dyn.pid) : null;
    const r = await fire({ url: proc.url, pool, connections, seconds, distinct: true });
    const cpu = cpuSeconds(proc.pid) - cpu0;
    const dynCpu = dyn && dyn0 !== null ? cpuSeconds(dyn.pid) - dyn0 : null;
    return {
      accepted: r.ok,
      failed: r.non2xx + r.errors + r.timeouts,
      perS: r.rps,
      cpuMsPerWebhook: (1000 * cpu) / Math.max(1, r.ok),
      storeCpuMsPerWebhook: dynCpu === null ? null : (1000 * dynCpu) / Math.max(1, r.ok),
      p50: r.latencyMs.p50,
      p99: r.latencyMs.p99,
    };
  } finally {
    await proc.stop();
  }
}

/** One forwarder process draining `events` queued messages: events/s and CPU ms per event. */
async function measureForwarder({ label, doc, dir, sink, events, dyn, sqsPid }) {
  await fillQueue(doc.queue.sqs, events);
  const configFile = path.join(dir, `forwarder-${label}.json`);
  fs.writeFileSync(configFile, JSON.stringify(doc));
  const base = (await sink.stats()).requests;
  const proc = await startCli(['forward'], {
    configFile,
    label: `forwarder (${label})`,
    nodeArgs: profileArgs(`forwarder (${label})`),
  });
  try {
    let count = 0;
    while ((count = (await sink.stats()).requests - base) === 0) await sleep(5);
    const t0 = process.hrtime.bigint();
    const cpu0 = cpuSeconds(proc.pid);
    const dyn0 = dyn ? cpuSeconds(dyn.pid) : null;
    const sqs0 = cpuSeconds(sqsPid);
    const first = count;
    const deadline = Date.now() + 180_000;
    while (count < events && Date.now() < deadline) {
      await sleep(20);
      count = (await sink.stats()).requests - base;
    }
    const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSeconds(proc.pid) - cpu0;
    const n = Math.max(1, count - first);
    const dynCpu = dyn && dyn0 !== null ? cpuSeconds(dyn.pid) - dyn0 : null;
    return {
      delivered: count,
      perS: n / elapsedS,
      cpuMsPerEvent: (1000 * cpu) / n,
      storeCpuMsPerEvent: dynCpu === null ? null : (1000 * dynCpu) / n,
      sqsCpuMsPerEvent: (1000 * (cpuSeconds(sqsPid) - sqs0)) / n,
    };
  } finally {
    await proc.stop();
  }
}

async function run({ log = console.log } = {}) {
  ensureBuilt();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dir = fixtures.tempDir('dwa-dedupe-');
  const sqsEmu = await startChild('sqs-child.mjs', 'the SQS emulator');
  const dyn = await startChild('dynalite-child.js', 'dynalite');
  const sinkServer = await startServer('sink');
  const sink = { url: sinkServer.url, stats: () => sinkServer.stats() };
  const slowServer = await startServer('sink', { env: { BENCH_SINK_DELAY_MS: String(SINK_DELAY_MS) } });
  const slowSink = { url: slowServer.url, stats: () => slowServer.stats() };
  const loadBefore = os.loadavg();
  const creds = fixtures.createCredentials();
  const result = {};
  try {
    const perRun = Math.ceil((SECONDS + 1) * 2_000);
    log(`dedupe: signing ${2 * ROUNDS * perRun} Twilio callbacks and 1,000 SendGrid batches of 100…`);
    const twilio = fixtures.twilioRequests(creds, 2 * ROUNDS * perRun);
    const pools = {
      without: new Pool(twilio.slice(0, ROUNDS * perRun)),
      with: new Pool(twilio.slice(ROUNDS * perRun)),
    };
    const sendgrid = fixtures.sendgridBatches(creds, 1000, 100);
    const sgPools = { without: new Pool(sendgrid.slice(0, 500)), with: new Pool(sendgrid.slice(500)) };
    const docs = {};
    for (const mode of ['without', 'with']) {
      const name = `dedupe-${mode}-${Date.now()}`;
      const sqs = await createQueuePair(sqsEmu.endpoint, name);
      let store;
      if (mode === 'with') {
        await createTable(dyn.endpoint, name);
        store = { driver: 'dynamodb', table: name, endpoint: dyn.endpoint, region: 'us-east-1' };
      }
      docs[mode] = configDoc({ creds, sqs, sink: sink.url, store });
    }
    for (const key of [
      'receiver-without',
      'receiver-with',
      'forwarder-without',
      'forwarder-with',
      'slow-without',
      'slow-with',
    ])
      result[key] = [];

    for (let round = 1; round <= ROUNDS; round += 1) {
      // Alternating order per round, so neither side always runs on a warmer (or busier) machine.
      const order = round % 2 === 1 ? ['without', 'with'] : ['with', 'without'];
      for (const mode of order) {
        const r = await measureReceiver({
          label: mode,
          doc: docs[mode],
          dir,
          pool: pools[mode],
          seconds: SECONDS,
          connections: CONNECTIONS,
          dyn: mode === 'with' ? dyn : null,
        });
        result[`receiver-${mode}`].push(r);
        log(`  round ${round} receiver (Twilio) ${mode} the store: ${JSON.stringify(r)}`);
      }
      for (const mode of order) {
        // A fresh queue per run: the receiver runs left their messages in the first ones.
        const sqs = await createQueuePair(sqsEmu.endpoint, `dedupe-fwd-${mode}-${round}-${Date.now()}`);
        const doc = { ...docs[mode], queue: { driver: 'sqs', sqs: { ...sqs, waitTimeSeconds: 1 } } };
        const r = await measureForwarder({
          label: mode,
          doc,
          dir,
          sink,
          events: EVENTS,
          dyn: mode === 'with' ? dyn : null,
          sqsPid: sqsEmu.pid,
        });
        result[`forwarder-${mode}`].push(r);
        log(`  round ${round} forwarder ${mode} the store: ${JSON.stringify(r)}`);
      }
      for (const mode of order) {
        const sqs = await createQueuePair(sqsEmu.endpoint, `dedupe-slow-${mode}-${round}-${Date.now()}`);
        const doc = {
          ...docs[mode],
          distinct: { ...docs[mode].distinct, baseUrl: slowSink.url },
          queue: { driver: 'sqs', sqs: { ...sqs, waitTimeSeconds: 1 } },
        };
        const r = await measureForwarder({
          label: `slow-${mode}`,
          doc,
          dir,
          sink: slowSink,
          events: SLOW_EVENTS,
          dyn: mode === 'with' ? dyn : null,
          sqsPid: sqsEmu.pid,
        });
        result[`slow-${mode}`].push(r);
        log(`  round ${round} forwarder, ${SINK_DELAY_MS} ms sink, ${mode} the store: ${JSON.stringify(r)}`);
      }
    }
    for (const mode of ['with', 'without']) {
      result[`sendgrid-${mode}`] = await measureReceiver({
        label: `sg-${mode}`,
        doc: docs[mode],
        dir,
        pool: sgPools[mode],
        seconds: Math.min(SECONDS, 3),
        connections: 4,
        dyn: mode === 'with' ? dyn : null,
      });
      log(
        `  receiver (SendGrid, 100 events per webhook) ${mode} the store: ${JSON.stringify(result[`sendgrid-${mode}`])}`,
      );
    }
  } finally {
    await sinkServer.stop();
    await slowServer.stop();
    await dyn.stop();
    await sqsEmu.stop();
    fixtures.removeDir(dir);
  }

  const med = (list, field) => median(list.map((x) => x[field]));
  const r = {
    'receiver-with': {
      cpuMsPerWebhook: med(result['receiver-with'], 'cpuMsPerWebhook'),
      p50: med(result['receiver-with'], 'p50'),
      p99: med(result['receiver-with'], 'p99'),
      storeCpuMsPerWebhook: med(result['receiver-with'], 'storeCpuMsPerWebhook'),
    },
    'receiver-without': {
      cpuMsPerWebhook: med(result['receiver-without'], 'cpuMsPerWebhook'),
      p50: med(result['receiver-without'], 'p50'),
      p99: med(result['receiver-without'], 'p99'),
    },
    'forwarder-with': {
      perS: med(result['forwarder-with'], 'perS'),
      cpuMsPerEvent: med(result['forwarder-with'], 'cpuMsPerEvent'),
      storeCpuMsPerEvent: med(result['forwarder-with'], 'storeCpuMsPerEvent'),
      sqsCpuMsPerEvent: med(result['forwarder-with'], 'sqsCpuMsPerEvent'),
    },
    'forwarder-without': {
      perS: med(result['forwarder-without'], 'perS'),
      cpuMsPerEvent: med(result['forwarder-without'], 'cpuMsPerEvent'),
      sqsCpuMsPerEvent: med(result['forwarder-without'], 'sqsCpuMsPerEvent'),
    },
    'slow-with': { perS: med(result['slow-with'], 'perS'), cpuMsPerEvent: med(result['slow-with'], 'cpuMsPerEvent') },
    'slow-without': {
      perS: med(result['slow-without'], 'perS'),
      cpuMsPerEvent: med(result['slow-without'], 'cpuMsPerEvent'),
    },
    'sendgrid-with': result['sendgrid-with'],
    'sendgrid-without': result['sendgrid-without'],
  };
  const cpuRatio = r['receiver-with'].cpuMsPerWebhook / r['receiver-without'].cpuMsPerWebhook;
  const sgRatio = r['sendgrid-with'].cpuMsPerWebhook / r['sendgrid-without'].cpuMsPerWebhook;
  const fwdRatio = r['forwarder-with'].perS / r['forwarder-without'].perS;
  const rows = [
    {
      benchmark: 'receiver CPU per Twilio webhook (1 event)',
      measured: r['receiver-with'].cpuMsPerWebhook,
      baseline: r['receiver-without'].cpuMsPerWebhook,
      baselineLabel: 'no store',
      unit: 'ms',
      ratio: cpuRatio,
      goal: '≤ 1.5×',
      pass: cpuRatio <= 1.5,
    },
    {
      benchmark: 'receiver p50 latency (Twilio)',
      measured: r['receiver-with'].p50,
      baseline: r['receiver-without'].p50,
      baselineLabel: 'no store',
      unit: 'ms',
      ratio: r['receiver-with'].p50 / r['receiver-without'].p50,
      goal: 'info',
      pass: null,
    },
    {
      benchmark: 'receiver p99 latency (Twilio)',
      measured: r['receiver-with'].p99,
      baseline: r['receiver-without'].p99,
      baselineLabel: 'no store',
      unit: 'ms',
      ratio: r['receiver-with'].p99 / r['receiver-without'].p99,
      goal: 'info',
      pass: null,
    },
    {
      benchmark: 'receiver CPU per SendGrid webhook (100 events)',
      measured: r['sendgrid-with'].cpuMsPerWebhook,
      baseline: r['sendgrid-without'].cpuMsPerWebhook,
      baselineLabel: 'no store',
      unit: 'ms',
      ratio: sgRatio,
      goal: 'info',
      pass: null,
    },
    {
      benchmark: 'forwarder events/s (SQS, sink)',
      measured: r['forwarder-with'].perS,
      baseline: r['forwarder-without'].perS,
      baselineLabel: 'no store',
      unit: 'ev/s',
      ratio: fwdRatio,
      goal: '≥ 0.7×',
      pass: fwdRatio >= 0.7,
    },
    {
      benchmark: `forwarder events/s, sink answering in ${SINK_DELAY_MS} ms`,
      measured: r['slow-with'].perS,
      baseline: r['slow-without'].perS,
      baselineLabel: 'no store',
      unit: 'ev/s',
      ratio: r['slow-with'].perS / r['slow-without'].perS,
      goal: 'info',
      pass: null,
    },
    {
      benchmark: 'forwarder CPU per event',
      measured: r['forwarder-with'].cpuMsPerEvent,
      baseline: r['forwarder-without'].cpuMsPerEvent,
      baselineLabel: 'no store',
      unit: 'ms',
      ratio: r['forwarder-with'].cpuMsPerEvent / r['forwarder-without'].cpuMsPerEvent,
      goal: 'info',
      pass: null,
    },
  ];
  log('');
  log(`medians of ${ROUNDS} rounds (SendGrid: one run each)`);
  printTable(rows, log);
  const m = machine();
  log('');
  log(
    `dynalite CPU per webhook while loading the receiver: Twilio ${r['receiver-with'].storeCpuMsPerWebhook?.toFixed(2)} ms, SendGrid ${r['sendgrid-with'].storeCpuMsPerWebhook?.toFixed(2)} ms`,
  );
  log(
    `per forwarded event (instant sink): dynalite ${r['forwarder-with'].storeCpuMsPerEvent?.toFixed(2)} ms CPU; fauxqs ${r['forwarder-with'].sqsCpuMsPerEvent?.toFixed(2)} ms with the store, ${r['forwarder-without'].sqsCpuMsPerEvent?.toFixed(2)} ms without`,
  );
  log(
    `per round, receiver CPU ratio: ${result['receiver-with'].map((w, i) => (w.cpuMsPerWebhook / result['receiver-without'][i].cpuMsPerWebhook).toFixed(2)).join(', ')}; forwarding ratio: ${result['forwarder-with'].map((w, i) => (w.perS / result['forwarder-without'][i].perS).toFixed(2)).join(', ')}; with a ${SINK_DELAY_MS} ms sink: ${result['slow-with'].map((w, i) => (w.perS / result['slow-without'][i].perS).toFixed(2)).join(', ')}`,
  );
  log(
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, ${m.node}; load average before the run: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  writeJson(path.join(__dirname, 'results', 'dedupe-latest.json'), {
    when: new Date().toISOString(),
    machine: m,
    loadBefore,
    result,
    rows,
  });
  return { rows, result, machine: m };
}

module.exports = { run };

if (require.main === module) {
  run().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
