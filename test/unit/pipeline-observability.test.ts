/**
 * The pipeline's counters and request log line. Event counters: one increment per distinct
 * (type, outcome, reason) of a request must expose the same series and values as one per event.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { createMetrics } from '../../src/observability/metrics';
import { silentLogger } from '../../src/observability/logger';
import { Pipeline } from '../../src/pipeline/pipeline';
import { createQueue } from '../../src/queue/create-queue';
import { createTestCredentials, signBody, signedSample, testConfig } from '../helpers/app';
import { loadFixtures, toWebhookRequest } from '../helpers/fixtures';

async function series(counter: ReturnType<typeof createMetrics>['events']): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await counter.get()).values)
    out[`${v.labels.type}/${v.labels.outcome}/${v.labels.reason}`] = v.value;
  return out;
}

test('a SendGrid batch counts each accepted type and each duplicate once per event', async () => {
  const creds = createTestCredentials();
  const config = testConfig({ creds, driver: 'memory' });
  const queue = createQueue({ driver: 'memory', path: '', synchronous: 'full', dedupeWindowMs: 60_000 });
  const metrics = createMetrics({ defaultMetrics: false });
  const pipeline = new Pipeline({ config, queue, logger: silentLogger(), metrics });
  const body = loadFixtures('sendgrid').find((f) => f.name === 'events-batch')!.request.body;
  const url = 'https://hooks.example.com/webhooks/sendgrid';
  const first = await pipeline.handle(
    'sendgrid',
    toWebhookRequest(signBody('sendgrid', creds, url, { 'content-type': 'application/json' }, body), new Date()),
  );
  expect(first.status).toBe(200);
  const summary = first.body as { queued: number; deadLettered: number };

  const leases = await queue.claim(1000);
  const expected: Record<string, number> = {};
  for (const lease of leases) {
    const key = `${lease.message.type}/accepted/`;
    expected[key] = (expected[key] ?? 0) + 1;
  }
  const counted = await series(metrics.events);
  const accepted = Object.fromEntries(Object.entries(counted).filter(([k]) => k.includes('/accepted/')));
  expect(Object.keys(expected).length).toBeGreaterThan(1);
  expect(accepted).toEqual(expected);
  const deadLettered = Object.entries(counted)
    .filter(([k]) => k.includes('/dead_lettered/'))
    .reduce((n, [, v]) => n + v, 0);
  expect(deadLettered).toBe(summary.deadLettered);
  expect(leases.length).toBe(summary.queued);
  // Queued messages carry only what Distinct gets (the provider's event is kept with dead letters only).
  expect(leases.filter((l) => l.message.raw !== undefined)).toEqual([]);

  await pipeline.handle(
    'sendgrid',
    toWebhookRequest(signBody('sendgrid', creds, url, { 'content-type': 'application/json' }, body), new Date()),
  );
  expect((await series(metrics.events))['any/duplicate/']).toBe(summary.queued + summary.deadLettered);
});

test("an event dead-lettered at ingest keeps SendGrid's event as sent; a queued one does not", async () => {
  const creds = createTestCredentials();
  const config = testConfig({ creds, driver: 'memory' });
  const queue = createQueue({ driver: 'memory', path: '', synchronous: 'full', dedupeWindowMs: 60_000 });
  const pipeline = new Pipeline({
    config,
    queue,
    logger: silentLogger(),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  const events = [
    {
      email: 'not an address',
      timestamp: 1_765_000_000,
      event: 'delivered',
      sg_event_id: 'ev-1',
      sg_message_id: 'm-1',
    },
    {
      email: 'ann@example.com',
      timestamp: 1_765_000_001,
      event: 'delivered',
      sg_event_id: 'ev-2',
      sg_message_id: 'm-2',
    },
  ];
  const url = 'https://hooks.example.com/webhooks/sendgrid';
  const body = Buffer.from(JSON.stringify(events));
  const res = await pipeline.handle(
    'sendgrid',
    toWebhookRequest(signBody('sendgrid', creds, url, { 'content-type': 'application/json' }, body), new Date()),
  );
  expect(res.body).toMatchObject({ queued: 1, deadLettered: 1 });
  const [letter] = await queue.listDeadLetters();
  expect(letter?.reason).toBe('no_identifier');
  expect(letter?.message.raw).toEqual(events[0]);
  const [lease] = await queue.claim(10);
  expect(lease?.message.event.email).toBe('ann@example.com');
  expect(lease?.message.raw).toBeUndefined();
});

test('at info, one "webhook request" line per request with status, duration, size and counts', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const creds = createTestCredentials();
  const config = testConfig({ creds, driver: 'memory', publicUrl: 'https://hooks.example.com' });
  const queue = createQueue({ driver: 'memory', path: '', synchronous: 'full', dedupeWindowMs: 60_000 });
  const pipeline = new Pipeline({
    config,
    queue,
    logger: pino({ level: 'info' }, destination),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  const req = toWebhookRequest(
    signedSample('twilio', creds, 'https://hooks.example.com/webhooks/twilio', { type: 'sms.delivered' }),
    new Date(),
  );
  expect((await pipeline.handle('twilio', req)).status).toBe(200);
  await new Promise((r) => setImmediate(r));
  const line = lines.find((l) => l.msg === 'webhook request');
  expect(line).toMatchObject({
    source: 'twilio',
    status: 200,
    bytes: req.rawBody.length,
    received: 1,
    queued: 1,
    duplicates: 0,
    ignored: 0,
    deadLettered: 0,
  });
  expect(typeof line!.ms).toBe('number');
});
