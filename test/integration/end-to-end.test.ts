/**
 * The whole product on loopback: the real service (express + SQLite outbox + forwarder) and the
 * project's own Distinct sandbox as the far end.
 */
import { request } from 'undici';
import type { UnsignedRequest } from '../../src/core/adapter';
import { silentLogger } from '../../src/observability/logger';
import { startService, type Service } from '../../src/runtime/service';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox-server';
import { loadFixtures } from '../helpers/fixtures';
import {
  createTestCredentials,
  signJson,
  signedSample,
  testConfig,
  waitFor,
  type TestCredentials,
} from '../helpers/app';

let sandbox: Sandbox;
let service: Service;
let creds: TestCredentials;

beforeEach(async () => {
  sandbox = createSandbox({ apiKey: 'e2e-key' });
  const { url } = await sandbox.listen(0, '127.0.0.1');
  creds = createTestCredentials();
  service = await startService(testConfig({ creds, baseUrl: url, apiKey: 'e2e-key' }), {
    logger: silentLogger(),
    port: 0,
    host: '127.0.0.1',
  });
});

afterEach(async () => {
  await service.close();
  await sandbox.close();
});

async function post(req: UnsignedRequest): Promise<{ status: number; body: Record<string, number> }> {
  const res = await request(req.url, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.body.text();
  // Twilio gets an empty TwiML document, the others a JSON summary.
  const json = String(res.headers['content-type']).includes('json');
  return { status: res.statusCode, body: json ? (JSON.parse(text) as Record<string, number>) : {} };
}

test('a SendGrid batch posted twice reaches Distinct once per event, in the contract shape', async () => {
  const body = loadFixtures('sendgrid').find((f) => f.name === 'events-batch')!.request.body;
  const url = `${service.url}/webhooks/sendgrid`;
  const first = await post(signJson('sendgrid', creds, url, body));
  expect(first.status).toBe(200);
  const second = await post(signJson('sendgrid', creds, url, body));
  expect(second.body.queued).toBe(0);
  await waitFor(() => sandbox.received().length >= first.body.queued!);
  await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
  const got = sandbox.received();
  expect(got).toHaveLength(first.body.queued!);
  expect(sandbox.stats().duplicates).toBe(0);
  expect(sandbox.stats().rejected).toBe(0);
  for (const r of got) {
    expect(r.event).toMatchObject({
      feature: 'registration_email',
      experienceId: 'exp_test',
      email: 'example@test.com',
    });
    expect(['sent', 'delivered', 'opened']).toContain(r.event.action);
    expect(r.event.capturedAt).toBe('2017-12-15T00:59:29Z');
    expect(r.event.metadata).toMatchObject({ provider: 'sendgrid' });
  }
});

test('simulated Twilio and Mailgun events arrive at Distinct', async () => {
  expect(
    (await post(signedSample('twilio', creds, `${service.url}/webhooks/twilio`, { type: 'sms.failed' }))).status,
  ).toBe(200);
  expect(
    (await post(signedSample('mailgun', creds, `${service.url}/webhooks/mailgun`, { type: 'email.opened' }))).status,
  ).toBe(200);
  await waitFor(() => sandbox.received().length === 2);
  const events = sandbox.received().map((r) => r.event);
  expect(events).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ feature: 'registration_sms', action: 'failed', phone: '+15017250604' }),
      expect.objectContaining({ feature: 'registration_email', action: 'opened', email: 'jane.doe@example.com' }),
    ]),
  );
});

test('Distinct answering 500 then recovering: delivered once, after retries', async () => {
  sandbox.injectFaults([{ status: 500, message: 'Internal server error.', times: 2 }]);
  expect(
    (await post(signedSample('twilio', creds, `${service.url}/webhooks/twilio`, { type: 'sms.sent' }))).status,
  ).toBe(200);
  await waitFor(() => sandbox.received().length === 1);
  expect(sandbox.stats().requests).toBe(3);
});

test('an invalid per-message feature override is dead-lettered invalid_pair, never sent', async () => {
  const res = await post(
    signedSample('twilio', creds, `${service.url}/webhooks/twilio`, {
      type: 'sms.sent',
      overrides: { distinct_feature: 'not_registered' },
    }),
  );
  expect(res.status).toBe(200);
  const dl = await service.queue.listDeadLetters({ reason: 'invalid_pair' });
  expect(dl).toHaveLength(1);
  expect(sandbox.stats().requests).toBe(0);
});
