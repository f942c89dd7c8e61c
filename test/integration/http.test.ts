/**
 * The HTTP contract (DESIGN §5) through the real express app, a real SQLite outbox and real
 * provider signatures; no forwarder (events stay queued so we can count them).
 */
import request from 'supertest';
import type { Express } from 'express';
import type { Queue } from '../../src/queue/queue';
import type { UnsignedRequest } from '../../src/core/adapter';
import { createTestCredentials, signJson, signedSample, testConfig, type TestCredentials } from '../helpers/app';
import { appOver, memoryOutbox, postTo, sqliteOutbox } from '../helpers/serve';
import { loadFixtures } from '../helpers/fixtures';

const PUBLIC = 'https://hooks.example.com';
let creds: TestCredentials;
let queue: Queue;
let app: Express;

beforeEach(() => {
  creds = createTestCredentials();
  const config = testConfig({ creds, publicUrl: PUBLIC, bodyLimit: '64kb' });
  queue = sqliteOutbox(config);
  app = appOver(config, queue);
});

afterEach(async () => {
  await queue.close().catch(() => undefined);
});

const send = (req: UnsignedRequest, path?: string): request.Test => postTo(app, req, path);

const sendgridBatch = (): Buffer => loadFixtures('sendgrid').find((f) => f.name === 'events-batch')!.request.body;

test('a signed SendGrid batch is acknowledged with 200 only after its events are queued', async () => {
  const body = sendgridBatch();
  const res = await send(signJson('sendgrid', creds, `${PUBLIC}/webhooks/sendgrid`, body));
  expect(res.status).toBe(200);
  expect(res.body.received).toBeGreaterThan(1);
  const stats = await queue.stats();
  expect(stats.depth).toBe(res.body.queued);
  expect(res.body.queued).toBeGreaterThan(0);
  expect(res.body.queued + res.body.ignored + res.body.deadLettered).toBe(res.body.received);
});

test('the same SendGrid batch posted twice is queued once', async () => {
  const body = sendgridBatch();
  const first = await send(signJson('sendgrid', creds, `${PUBLIC}/webhooks/sendgrid`, body));
  const second = await send(signJson('sendgrid', creds, `${PUBLIC}/webhooks/sendgrid`, body));
  expect(first.status).toBe(200);
  expect(second.status).toBe(200);
  expect(second.body.queued).toBe(0);
  expect(second.body.duplicates).toBe(first.body.queued + first.body.deadLettered);
  expect((await queue.stats()).depth).toBe(first.body.queued);
});

test('a body changed by one byte gets 401 and nothing is queued', async () => {
  const signed = signJson('sendgrid', creds, `${PUBLIC}/webhooks/sendgrid`, sendgridBatch());
  const body = Buffer.from(signed.body);
  const i = body.indexOf('example@test.com');
  body[i] = 'E'.charCodeAt(0);
  const res = await send({ ...signed, body });
  expect(res.status).toBe(401);
  expect(res.body).toMatchObject({ error: 'ERR_WEBHOOK_VERIFICATION', reason: 'signature_mismatch' });
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts|stack/i);
  expect((await queue.stats()).depth).toBe(0);
});

test('a missing signature gets 401, never 403', async () => {
  const res = await request(app)
    .post('/webhooks/sendgrid')
    .set('content-type', 'application/json')
    .send(sendgridBatch().toString());
  expect(res.status).toBe(401);
  expect(res.body.reason).toBe('missing_signature');
});

test('a signed but malformed SendGrid body gets 400 with a reason naming the problem', async () => {
  const res = await send(signJson('sendgrid', creds, `${PUBLIC}/webhooks/sendgrid`, '{"not":"an array"}'));
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('ERR_WEBHOOK_PARSE');
  expect(res.body.message.length).toBeGreaterThan(5);
});

test('an unknown source gets 404', async () => {
  const res = await request(app).post('/webhooks/nope').send('x');
  expect(res.status).toBe(404);
  expect(res.body.error).toBe('ERR_UNKNOWN_SOURCE');
});

test('a body over server.bodyLimit gets 413', async () => {
  const res = await request(app)
    .post('/webhooks/sendgrid')
    .set('content-type', 'application/json')
    .send(' '.repeat(70 * 1024));
  expect(res.status).toBe(413);
  expect(res.body.error).toBe('ERR_PAYLOAD_TOO_LARGE');
});

test('503 when the queue cannot take the events (the provider will retry)', async () => {
  await queue.close();
  const res = await send(signedSample('twilio', creds, `${PUBLIC}/webhooks/twilio`, { type: 'sms.delivered' }));
  expect(res.status).toBe(503);
  expect(res.body.error).toBe('ERR_QUEUE_WRITE');
});

test('Twilio: signed against the configured public URL, query overrides honoured', async () => {
  const signed = signedSample('twilio', creds, `${PUBLIC}/webhooks/twilio`, {
    type: 'sms.delivered',
    overrides: { distinct_user_id: 'u_42' },
  });
  const res = await send(signed);
  expect(res.status).toBe(200);
  const [lease] = await queue.claim(1);
  expect(lease!.message.event).toMatchObject({
    feature: 'registration_sms',
    action: 'delivered',
    userId: 'u_42',
    phone: '+15017250604',
  });
});

test('Twilio: a signature for another host is rejected', async () => {
  const signed = signedSample('twilio', creds, 'https://evil.example.net/webhooks/twilio', { type: 'sms.sent' });
  const res = await send(
    signed,
    '/webhooks/twilio' + (signed.url.includes('?') ? signed.url.slice(signed.url.indexOf('?')) : ''),
  );
  expect(res.status).toBe(401);
});

test('Mailgun: a signed event is queued; replaying the same signed request is refused', async () => {
  const signed = signedSample('mailgun', creds, `${PUBLIC}/webhooks/mailgun`, { type: 'email.opened' });
  expect((await send(signed)).status).toBe(200);
  const again = await send(signed);
  expect(again.status).toBe(401);
  expect(again.body.reason).toBe('replayed');
  expect((await queue.stats()).depth).toBe(1);
});

test('health, readiness and metrics', async () => {
  expect((await request(app).get('/healthz')).status).toBe(200);
  const ready = await request(app).get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toMatchObject({ queueWritable: true, distinctCredentials: true });
  await send(signedSample('twilio', creds, `${PUBLIC}/webhooks/twilio`, { type: 'sms.sent' }));
  const metrics = await request(app).get('/metrics');
  expect(metrics.status).toBe(200);
  expect(metrics.text).toMatch(/distinct_adapter_webhook_requests_total\{source="twilio",status="200"\} 1/);
  expect(metrics.text).toMatch(/distinct_adapter_queue_depth 1/);
  await queue.close();
  expect((await request(app).get('/readyz')).status).toBe(503);
});

test('an insecure source accepts unauthenticated requests (and only because it was marked so)', async () => {
  const config = testConfig({ creds, sourceExtras: { postmark: { insecure: true, basicAuth: undefined } } });
  const q = memoryOutbox();
  const insecureApp = appOver(config, q);
  const delivery = loadFixtures('postmark')
    .find((f) => f.name === 'delivery')!
    .request.body.toString();
  const res = await request(insecureApp)
    .post('/webhooks/postmark')
    .set('content-type', 'application/json')
    .send(delivery);
  expect(res.status).toBe(200);
  expect((await q.stats()).depth).toBe(1);
  // The secured postmark source of the main app refuses the same request.
  expect(
    (await request(app).post('/webhooks/postmark').set('content-type', 'application/json').send(delivery)).status,
  ).toBe(401);
});
