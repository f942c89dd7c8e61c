/**
 * Issue #10 items 1–2: readiness means "can accept and durably queue" (whatever Distinct answers),
 * and `GET /status` reports the queue, the circuit with Distinct's last answer, and per-source
 * totals — through the real service, a real SQLite outbox and the project's sandbox as Distinct.
 */
import { request } from 'undici';
import { silentLogger } from '../../src/observability/logger';
import { startForwardService } from '../../src/runtime/forward-service';
import { startService } from '../../src/runtime/service';
import type { StatusDocument } from '../../src/observability/status-document';
import { signedSample, testConfig, waitFor } from '../helpers/app';
import { postSigned as post, useServiceHarness } from '../helpers/serve';

const h = useServiceHarness('status-key');

async function getJson(
  url: string,
): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }> {
  const res = await request(url);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown>, headers: res.headers };
}

const status = async (base: string): Promise<StatusDocument> =>
  (await getJson(`${base}/status`)).body as unknown as StatusDocument;

test('Distinct rejecting the key: /readyz stays 200 (ingestion goes on), /status and the gauge report the open circuit', async () => {
  h.service = await startService(
    testConfig({ creds: h.creds, baseUrl: h.distinctUrl, apiKey: 'wrong-key', circuit: { probeIntervalMs: 60_000 } }),
    {
      logger: silentLogger(),
      port: 0,
      host: '127.0.0.1',
    },
  );
  const base = h.service.url;
  expect(await post(signedSample('twilio', h.creds, `${base}/webhooks/twilio`, { type: 'sms.sent' }))).toBe(200);
  await waitFor(() => h.service!.forwarder!.isCircuitOpen());

  const ready = await getJson(`${base}/readyz`);
  expect(ready.status).toBe(200);
  expect(ready.body).toMatchObject({
    status: 'ready',
    queueWritable: true,
    shuttingDown: false,
    distinctCredentials: false,
    circuit: 'open',
  });
  // A load balancer following the advice keeps sending, and the receiver keeps queuing.
  expect(
    await post(
      signedSample('twilio', h.creds, `${base}/webhooks/twilio`, { type: 'sms.delivered', recipient: '+15017250699' }),
    ),
  ).toBe(200);

  const doc = await status(base);
  expect(doc.circuit).toMatchObject({
    state: 'open',
    lastStatus: 401,
    lastMessage: 'Unauthorized.',
    reason: expect.stringMatching(/HTTP 401.*API key/),
  });
  expect(Date.parse(doc.circuit.since!)).toBeGreaterThan(0);
  expect(Date.parse(doc.circuit.nextProbeAt!)).toBeGreaterThan(Date.parse(doc.circuit.since!));
  expect(doc.queue.depth).toBe(2);
  expect(doc.forwarded).toBe(0);
  expect(doc.ready).toBe(true);

  const metrics = await (await request(`${base}/metrics`)).body.text();
  expect(metrics).toMatch(/^distinct_adapter_circuit_open 1$/m);
});

test('/status counts per source what came in and what became of it; no personal data', async () => {
  h.service = await startService(testConfig({ creds: h.creds, baseUrl: h.distinctUrl, apiKey: 'status-key' }), {
    logger: silentLogger(),
    port: 0,
    host: '127.0.0.1',
  });
  const base = h.service.url;
  const twilio = `${base}/webhooks/twilio`;
  const sent = signedSample('twilio', h.creds, twilio, { type: 'sms.sent', recipient: '+15017250601' });
  expect(await post(sent)).toBe(200);
  expect(await post(sent)).toBe(200); // a provider re-delivery: duplicate
  expect(
    await post(signedSample('twilio', h.creds, twilio, { type: 'sms.delivered', recipient: '+15017250602' })),
  ).toBe(200);
  // A per-message override naming an unregistered pair: dead-lettered at ingest.
  expect(
    await post(
      signedSample('twilio', h.creds, twilio, {
        type: 'sms.sent',
        recipient: '+15017250603',
        overrides: { distinct_feature: 'not_registered' },
      }),
    ),
  ).toBe(200);
  const bad = signedSample('twilio', h.creds, twilio, { type: 'sms.sent' });
  expect(await post({ ...bad, headers: { ...bad.headers, 'x-twilio-signature': 'AAAA' } })).toBe(401);
  expect(await post(signedSample('mailgun', h.creds, `${base}/webhooks/mailgun`, { type: 'email.clicked' }))).toBe(200); // no action: ignored
  await waitFor(() => h.sandbox.received().length === 2);
  await waitFor(async () => (await status(base)).forwarded === 2);

  const res = await getJson(`${base}/status`);
  expect(res.status).toBe(200);
  expect(String(res.headers['cache-control'])).toBe('no-store');
  const doc = res.body as unknown as StatusDocument;
  expect(doc).toMatchObject({
    running: true,
    role: 'serve',
    ready: true,
    forwarding: true,
    forwarded: 2,
    queue: {
      driver: 'sqlite',
      depth: 0,
      inFlight: 0,
      oldestAgeSeconds: 0,
      deadLetters: 1,
      deadLettersByReason: { invalid_pair: 1 },
    },
    circuit: { state: 'closed', lastStatus: 200, lastMessage: 'User analytics added successfully.' },
  });
  expect(doc.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(Date.parse(doc.startedAt!)).toBeLessThanOrEqual(Date.now());
  expect(doc.sources.twilio).toMatchObject({
    requests: 5,
    rejected: 1,
    rejectedByStatus: { '401': 1 },
    queued: 2,
    duplicates: 1,
    ignored: 0,
    deadLettered: 1,
    deadLetteredByReason: { invalid_pair: 1 },
    forwarded: 2,
    lastRequestStatus: 401,
  });
  expect(doc.sources.mailgun).toMatchObject({ requests: 1, queued: 0, ignored: 1, forwarded: 0 });
  expect(Object.keys(doc.sources.mailgun!.ignoredEvents)).toEqual([expect.stringMatching(/^clicked/)]);
  expect(doc.sources.sendgrid).toMatchObject({ requests: 0, queued: 0 });
  const text = JSON.stringify(doc);
  expect(text).not.toMatch(/15017250|@example|jane/);
});

test('`forward` serves /status with the circuit and the forwarded count', async () => {
  const config = testConfig({ creds: h.creds, baseUrl: h.distinctUrl, apiKey: 'status-key' });
  const receiver = await startService(config, { logger: silentLogger(), port: 0, host: '127.0.0.1', forward: false });
  try {
    expect(await post(signedSample('twilio', h.creds, `${receiver.url}/webhooks/twilio`, { type: 'sms.sent' }))).toBe(
      200,
    );
    const before = await status(receiver.url);
    expect(before).toMatchObject({
      role: 'serve --no-forward',
      forwarding: false,
      forwarded: 0,
      circuit: { state: 'closed', since: null },
    });
    expect(before.sources.twilio!.queued).toBe(1);
  } finally {
    await receiver.close();
  }
  const forwarder = await startForwardService(config, { logger: silentLogger(), port: 0, host: '127.0.0.1' });
  try {
    await waitFor(() => h.sandbox.received().length === 1);
    await waitFor(async () => (await status(forwarder.url)).forwarded === 1);
    const doc = await status(forwarder.url);
    expect(doc).toMatchObject({
      role: 'forward',
      forwarding: true,
      forwarded: 1,
      sources: {},
      queue: { depth: 0 },
      circuit: { state: 'closed', lastStatus: 200 },
    });
  } finally {
    await forwarder.close();
  }
});
