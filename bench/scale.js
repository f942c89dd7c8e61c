'use strict';
/**
 * Benchmark — scale-out (issue #4 item 6): throughput with 1, 2 and 4 receiver processes
 * (`distinct-adapter serve --no-forward`, queue.driver sqs) sharing one SQS queue, and one
 * forwarder process (`distinct-adapter forward`) delivering to a local Distinct stand-in.
 *
 * Everything runs on this machine over loopback: the SQS API is fauxqs in its own process
 * (bench/lib/sqs-child.mjs), Distinct is the bench's sink (answers 200 at once), the load
 * generator is autocannon in this process spreading its connections over the receivers. Every
 * webhook is a distinct signed Twilio status callback (no de-duplication). Each configuration
 * gets a fresh queue pair, `BENCH_SCALE_SECONDS` (default 5) of load after a 1 s warm-up, then
 * up to `BENCH_SCALE_DRAIN` (default 30) seconds for the forwarder to deliver the backlog.
 *
 * Printed: receivers | webhooks/s accepted | events/s forwarded (during the load) | ratios to the
 * 1-receiver figures | delivered after the drain. The machine's core count bounds what more
 * processes can add; the table says so next to the numbers.
 *
 *   npm run bench:scale                 BENCH_SCALE_RECEIVERS=1,2,4 BENCH_CONNECTIONS=32
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ensureBuilt } = require('./lib/dist');
const fixtures = require('./lib/fixtures');
const { Pool, fire } = require('./lib/load');
const { startServer } = require('./lib/child');
const { cpuSeconds, freePort, startChild, startCli, createQueuePair } = require('./lib/processes');
const { machine } = require('./lib/report');

const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const SECONDS = Math.min(30, num('BENCH_SCALE_SECONDS', 5));
const DRAIN_SECONDS = Math.min(120, num('BENCH_SCALE_DRAIN', 30));
const CONNECTIONS = num('BENCH_CONNECTIONS', 32);
const RECEIVER_COUNTS = (process.env.BENCH_SCALE_RECEIVERS || '1,2,4').split(',').map(Number);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds of every role's processes (this process = the load generator). */
function cpuByRole(roles) {
  const out = {};
  for (const [role, pids] of Object.entries(roles)) {
    const values = pids.map(cpuSeconds);
    out[role] = values.some((v) => v === null) ? null : values.reduce((a, b) => a + b, 0);
  }
  return out;
}

/** One configuration: `receivers` receiver processes + one forwarder, on a fresh queue pair. */
async function measure({ receivers, sqs, sink, creds, requests, dir, log }) {
  const queue = await createQueuePair(sqs.endpoint, `scale-${receivers}-${Date.now()}`);
  const doc = {
    distinct: { baseUrl: sink.url, apiKey: 'bench-key', timeoutMs: 10_000, concurrency: 16 },
    server: { host: '127.0.0.1', publicUrl: fixtures.PUBLIC_URL },
    queue: { driver: 'sqs', sqs: { ...queue, endpoint: sqs.endpoint, region: 'us-east-1' } },
    log: { level: process.env.BENCH_LOG_LEVEL || 'warn' },
    sources: { twilio: { feature: 'registration_sms', experienceId: 'exp_bench', ...creds.twilio.options } },
  };
  const configFile = path.join(dir, `scale-${receivers}.json`);
  fs.writeFileSync(configFile, JSON.stringify(doc));
  const procs = [];
  try {
    for (let i = 0; i < receivers; i += 1) {
      procs.push(
        await startCli(['serve', '--no-forward'], {
          configFile,
          port: await freePort(),
          label: `receiver ${i + 1}`,
          healthTimeoutMs: 15_000,
        }),
      );
    }
    const forwarder = await startCli(['forward'], {
      configFile,
      port: await freePort(),
      label: 'forwarder',
      healthTimeoutMs: 15_000,
    });
    procs.push(forwarder);
    const receiverUrls = procs.slice(0, receivers).map((p) => p.url);
    const perReceiver = Math.max(1, Math.floor(CONNECTIONS / receivers));
    const load = (seconds) =>
      Promise.all(
        receiverUrls.map((url) => fire({ url, pool: requests, connections: perReceiver, seconds, distinct: true })),
      );

    const base = (await sink.stats()).requests;
    const warm = await load(1); // warm-up: its webhooks are queued and forwarded too (counted in the drain check)
    const roles = {
      'load generator': [process.pid],
      'SQS emulator': [sqs.pid],
      receivers: procs.slice(0, receivers).map((p) => p.pid),
      forwarder: [forwarder.pid],
      'Distinct sink': [sink.pid],
    };
    const sentBefore = (await sink.stats()).requests;
    const cpuBefore = cpuByRole(roles);
    const started = process.hrtime.bigint();
    const results = await load(SECONDS);
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuAfter = cpuByRole(roles);
    const cpuShare = Object.keys(roles)
      .map((role) =>
        cpuBefore[role] === null
          ? null
          : `${role} ${((100 * (cpuAfter[role] - cpuBefore[role])) / elapsedS).toFixed(0)}%`,
      )
      .filter(Boolean)
      .join(', ');
    const forwardedDuring = (await sink.stats()).requests - sentBefore;
    const accepted = results.reduce((a, r) => a + r.ok, 0);
    const failed = results.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0);

    // Drain: every accepted webhook (warm-up included; one event each) must reach Distinct.
    const acceptedTotal = accepted + warm.reduce((a, r) => a + r.ok, 0);
    const drainStart = Date.now();
    let delivered = (await sink.stats()).requests;
    while (delivered < base + acceptedTotal && Date.now() - drainStart < DRAIN_SECONDS * 1000) {
      await sleep(200);
      delivered = (await sink.stats()).requests;
    }
    const drainS = (Date.now() - drainStart) / 1000;
    const row = {
      receivers,
      acceptedPerS: accepted / elapsedS,
      forwardedPerS: forwardedDuring / elapsedS,
      failed,
      delivered: delivered - base,
      expected: acceptedTotal,
      drainS,
      cpuShare,
      // CPU cost per item, machine-independent enough to size a deployment with.
      receiverCpuMsPerWebhook:
        cpuBefore.receivers === null ? null : (1000 * (cpuAfter.receivers - cpuBefore.receivers)) / accepted,
      forwarderCpuMsPerEvent:
        cpuBefore.forwarder === null
          ? null
          : (1000 * (cpuAfter.forwarder - cpuBefore.forwarder)) / Math.max(1, forwardedDuring),
      latencyP50: Math.max(...results.map((r) => r.latencyMs.p50)),
    };
    log(
      `  ${receivers} receiver(s): ${Math.round(row.acceptedPerS)} webhooks/s accepted, ${Math.round(row.forwardedPerS)} events/s forwarded` +
        ` during ${SECONDS} s (p50 ${row.latencyP50} ms); ${row.delivered} delivered for ${row.expected} counted as accepted after ${drainS.toFixed(1)} s of drain; ${failed} failed`,
    );
    if (cpuShare) log(`    CPU during the load (100% = one core): ${cpuShare}`);
    return row;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

async function run({ log = console.log } = {}) {
  ensureBuilt();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dir = fixtures.tempDir('dwa-scale-');
  const sqs = await startChild('sqs-child.mjs', 'the SQS emulator');
  const sinkServer = await startServer('sink');
  const sink = { url: sinkServer.url, pid: sinkServer.pid, stats: () => sinkServer.stats() };
  const loadBefore = os.loadavg();
  const rows = [];
  try {
    const creds = fixtures.createCredentials();
    // Enough distinct callbacks for every configuration at a generous rate.
    const count = Math.ceil(RECEIVER_COUNTS.length * (SECONDS + 1) * 6_000);
    log(`scale: signing ${count} Twilio status callbacks…`);
    const requests = new Pool(fixtures.twilioRequests(creds, count));
    log(
      `scale: ${CONNECTIONS} connections spread over the receivers, ${SECONDS} s per configuration, one forwarder (distinct.concurrency 16)`,
    );
    for (const receivers of RECEIVER_COUNTS) {
      rows.push(await measure({ receivers, sqs, sink, creds, requests, dir, log }));
    }
  } finally {
    await sinkServer.stop();
    await sqs.stop();
    fixtures.removeDir(dir);
  }
  const base = rows[0];
  const m = machine();
  log('');
  const ms = (v) => (v === null ? '-' : v.toFixed(2));
  log(
    `| receivers | webhooks/s accepted | events/s forwarded | accepted vs 1 receiver | forwarded vs 1 receiver | receiver CPU ms/webhook | forwarder CPU ms/event | all delivered |`,
  );
  log(`|---|---|---|---|---|---|---|---|`);
  for (const r of rows) {
    log(
      `| ${r.receivers} | ${Math.round(r.acceptedPerS)} | ${Math.round(r.forwardedPerS)} | ${(r.acceptedPerS / base.acceptedPerS).toFixed(2)}× | ${(r.forwardedPerS / base.forwardedPerS).toFixed(2)}× | ${ms(r.receiverCpuMsPerWebhook)} | ${ms(r.forwarderCpuMsPerEvent)} | ${r.delivered >= r.expected ? 'yes' : `no (${r.delivered}/${r.expected})`} |`,
    );
  }
  log('');
  log('"all delivered": after the drain Distinct got at least every webhook the load generator counted as accepted');
  log('(requests in flight when a load phase stops are accepted too, but not counted, hence "at least").');
  log('');
  log(
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, ${m.node}; load average before the run: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  log('All processes (load generator, SQS emulator, receivers, forwarder, sink) share these cores.');
  return { rows, machine: m };
}

module.exports = { run };

if (require.main === module) {
  run().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
