'use strict';
/**
 * Credentials, configuration and pre-signed requests for the benchmarks. The ideas come from
 * test/helpers/app.ts (createTestCredentials, testConfig, signedSample); they are copied here
 * because bench/ never imports from test/.
 *
 * Everything is signed before a measurement starts, with the adapters' own `testing` signers, so
 * the load generator only copies bytes while the clock runs.
 */
const os = require('node:os');
const path = require('node:path');
const fs = require('node:fs');
const { randomBytes } = require('node:crypto');
const { dist } = require('./dist');

/** The URL providers are told to call; the Twilio signature covers it. */
const PUBLIC_URL = 'https://hooks.example.com';

/** Throwaway credentials per provider: `options` go into the config, `signer` stays in the load generator. */
function createCredentials() {
  const { getAdapter } = dist('adapters/index');
  const out = {};
  for (const name of ['twilio', 'sendgrid']) out[name] = getAdapter(name).testing.createCredentials();
  return out;
}

/** A fresh temporary directory (removed by the caller with removeDir). */
function tempDir(prefix = 'dwa-bench-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The configuration document of the adapter under test (what a YAML file would hold).
 * Logging is `silent` unless BENCH_LOG_LEVEL says otherwise: the benchmarks measure the pipeline,
 * not pino writing one line per request to a terminal.
 */
function configDocument({ creds, queuePath, synchronous = 'full', distinctUrl = 'http://127.0.0.1:9', logLevel }) {
  return {
    distinct: { baseUrl: distinctUrl, apiKey: 'bench-key', timeoutMs: 10_000, concurrency: 16 },
    server: { port: 0, host: '127.0.0.1', publicUrl: PUBLIC_URL },
    queue: { driver: 'sqlite', path: queuePath, synchronous },
    log: { level: logLevel ?? process.env.BENCH_LOG_LEVEL ?? 'silent' },
    sources: {
      twilio: { feature: 'registration_sms', experienceId: 'exp_bench', ...creds.twilio.options },
      sendgrid: { feature: 'registration_email', experienceId: 'exp_bench', ...creds.sendgrid.options },
    },
  };
}

/** `{ path, headers, body }` as the load generator sends it, from a signed request. */
function toWire(signed) {
  const url = new URL(signed.url);
  return { method: 'POST', path: url.pathname + url.search, headers: { ...signed.headers }, body: signed.body };
}

/**
 * `count` signed Twilio status callbacks (`delivered`), each a distinct MessageSid and recipient,
 * built from the adapter's own sample and signed for `${PUBLIC_URL}/webhooks/twilio`.
 */
function twilioRequests(creds, count) {
  const { getAdapter } = dist('adapters/index');
  const adapter = getAdapter('twilio');
  const url = `${PUBLIC_URL}/webhooks/twilio`;
  const now = new Date();
  const out = new Array(count);
  for (let i = 0; i < count; i += 1) {
    const recipient = `+1501725${String(i % 10_000).padStart(4, '0')}`;
    const sample = adapter.testing.sample({ type: 'sms.delivered', recipient, now, overrides: {} });
    const full = sample.query ? `${url}?${sample.query}` : url;
    const signed = adapter.testing.sign(
      { method: 'POST', url: full, headers: { ...sample.headers }, body: sample.body },
      creds.twilio.signer,
      now,
    );
    out[i] = toWire(signed);
  }
  return out;
}

/** SendGrid events the default action map forwards (so every event of a batch is queued). */
const SENDGRID_KINDS = [
  { event: 'processed' },
  { event: 'delivered', response: '250 2.0.0 OK', tls: 1 },
  { event: 'open', sg_machine_open: false, useragent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', ip: '192.0.2.10' },
];

/**
 * `count` signed SendGrid batches of `perBatch` events, SendGrid's wire format (compact events
 * joined by CRLF). Every event has its own sg_event_id, recipient and timestamp, so de-duplication
 * drops none of them; each batch is ECDSA-signed with the adapter's test signer.
 */
function sendgridBatches(creds, count, perBatch = 100) {
  const { getAdapter } = dist('adapters/index');
  const adapter = getAdapter('sendgrid');
  const url = `${PUBLIC_URL}/webhooks/sendgrid`;
  const now = new Date();
  const base = Math.floor(now.getTime() / 1000) - 3600;
  // Ids are a per-run random prefix plus a counter: unique, as long as SendGrid's, and cheap to
  // make. Event times move forward through the run as real ones do (SendGrid posts events seconds
  // after they happen), spread over the last hour, with up to 30 s of disorder between events:
  // the de-duplication key starts with the event time, so times that jumped back by an hour every
  // 3,600 events (as this fixture once had them) would measure traffic no provider sends.
  const total = count * perBatch;
  const run = randomBytes(9).toString('base64url');
  const out = new Array(count);
  let n = 0;
  for (let b = 0; b < count; b += 1) {
    const lines = new Array(perBatch);
    for (let e = 0; e < perBatch; e += 1, n += 1) {
      const kind = SENDGRID_KINDS[n % SENDGRID_KINDS.length];
      const id = `${run}${n.toString(36).padStart(8, '0')}`;
      lines[e] = JSON.stringify({
        email: `user${n}@example.com`,
        timestamp: base + Math.floor((n * 3600) / total) - ((n * 7919) % 30),
        'smtp-id': `<${id}@ismtpd0001p1iad2.sendgrid.net>`,
        category: 'registration',
        sg_event_id: `${id}ZXZlbnQtaWQtYmVuY2g`,
        sg_message_id: `${id}.filterdrecv-bench-0.0`,
        ...kind,
      });
    }
    const body = Buffer.from(`[${lines.join(',\r\n')}]\r\n`, 'utf8');
    const signed = adapter.testing.sign(
      {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', 'user-agent': 'SendGrid Event API' },
        body,
      },
      creds.sendgrid.signer,
      now,
    );
    out[b] = toWire(signed);
  }
  return out;
}

/** A queue message as the pipeline would store it for a Twilio `delivered` callback (forwarder and memory benchmarks). */
function queueMessage(i, receivedAt) {
  const phone = `+1501${String(1_000_000 + (i % 9_000_000)).padStart(7, '0')}`;
  return {
    // Shaped like a real de-duplication key (a hash: random order in the index), never sequential.
    key: `twilio:${randomBytes(24).toString('base64url')}`,
    source: 'twilio',
    provider: 'twilio',
    type: 'sms.delivered',
    event: {
      phone,
      feature: 'registration_sms',
      action: 'delivered',
      experienceId: 'exp_bench',
      capturedAt: new Date(receivedAt).toISOString(),
      metadata: {
        provider: 'twilio',
        providerEvent: 'delivered',
        eventType: 'sms.delivered',
        messageId: `SM${randomBytes(16).toString('hex')}`,
        capturedAtSource: 'received',
        messagingServiceSid: 'MG9752274e9e519418a7406176694466fa',
      },
    },
    receivedAt,
  };
}

module.exports = {
  PUBLIC_URL,
  createCredentials,
  tempDir,
  removeDir,
  configDocument,
  twilioRequests,
  sendgridBatches,
  queueMessage,
};
