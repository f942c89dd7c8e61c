/**
 * Sinch quirks the shared conformance suite does not cover: the HMAC signature against
 * sinch-sdk-java's own SMS vector, signature beside basic auth / header token, credentials-only
 * configuration, the three callback shapes (batch summary/full, per recipient, inbound), one
 * draft per recipient, and the real HTTP path.
 */
import { adapter } from '../../adapters/sinch';
import { buildConfig } from '../helpers/config';
import { ConfigurationError, WebhookParseError, type VerificationReason } from '../../src/core/errors';
import { basicAuthorization } from '../../src/verify/credentials';
import { ReplayCache } from '../../src/core/replay-cache';
import { computeSinchSignature, validateSinchSignature } from '../../src/verify/sinch-signature';
import { bodyParser, parseErrorOf, toWebhookRequest, verdictOf } from '../helpers/fixtures';
import { loopbackDocument, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:40:00Z');
const URL_ = 'https://hooks.example.com/webhooks/sinch';
const JSON_HEADERS = { 'content-type': 'application/json' };

const parseBody = bodyParser(adapter, NOW);
const parseError = (body: unknown): WebhookParseError => parseErrorOf(() => parseBody(body));

function sourceDoc(options: Record<string, unknown>): Record<string, unknown> {
  return loopbackDocument({ sinch: { feature: 'registration_sms', experienceId: 'exp_http', ...options } });
}

describe('configuration', () => {
  test('a source without signingSecret, basicAuth or headerToken does not start, and says why', () => {
    expect(() => buildConfig(sourceDoc({}), {}, null, [adapter])).toThrow(ConfigurationError);
    expect(() => buildConfig(sourceDoc({}), {}, null, [adapter])).toThrow(
      /configure signingSecret \(Sinch's HMAC signing\) and\/or basicAuth \/ headerToken, or mark the source insecure: true/,
    );
  });

  test('insecure: true starts without credentials; signingSecret, basicAuth or headerToken start it normally', () => {
    expect(buildConfig(sourceDoc({ insecure: true }), {}, null, [adapter]).sources.get('sinch')!.insecure).toBe(true);
    expect(
      buildConfig(sourceDoc({ basicAuth: 'sinch:secret' }), {}, null, [adapter]).sources.get('sinch'),
    ).toBeDefined();
    expect(
      buildConfig(sourceDoc({ headerToken: { header: 'X-Sinch-Token', value: 't' } }), {}, null, [adapter]).sources.get(
        'sinch',
      ),
    ).toBeDefined();
    expect(
      buildConfig(sourceDoc({ signingSecret: ['old', 'new'], basicAuth: 'sinch:secret' }), {}, null, [
        adapter,
      ]).sources.get('sinch'),
    ).toBeDefined();
    expect(adapter.settingsSchema.parse({ signingSecret: 's' })).toEqual({
      signingSecret: ['s'],
      toleranceSeconds: 86_400,
    });
    expect(() => adapter.settingsSchema.parse({ signingSecret: '' })).toThrow();
  });

  test('sms.received (inbound on the callback URL) is an emitted type the configuration can map', () => {
    const source = buildConfig(sourceDoc({ basicAuth: 'sinch:secret' }), {}, null, [adapter]).sources.get('sinch')!;
    expect(Object.keys(source.actions)).toEqual(
      expect.arrayContaining(['sms.received', 'sms.sent', 'sms.delivered', 'sms.undelivered', 'sms.failed']),
    );
  });
});

/** sinch-sdk-java `client/src/test/java/com/sinch/sdk/domains/sms/api/v1/adapters/SinchEventsServiceTest.java` (github.com/sinch/sinch-sdk-java), `checkApplicationAuthentication`. */
const JAVA_SMS_VECTOR = {
  secret: 'SMSWebhooksSecret',
  signature: 'ZoHei66PPN/kZjw7hFVfGhJOnml3iGNCMWoyQVcE5o0=',
  algorithm: 'HmacSHA256',
  nonce: '01JHFFHWYY7HSS4FWTMDTQEK8V',
  timestamp: '1736760161',
  body:
    '{"at":"2025-01-13T09:22:40.914Z","batch_id":"01JHFFHQ0P99JPPNQPJDV7JTBP","client_reference":"a client reference","code":0,' +
    '"operator_status_at":"2025-01-13T09:22:00Z","recipient":"33662162466","status":"Delivered","type":"recipient_delivery_report_sms"}',
} as const;

describe('verify(): Sinch HMAC signature (signingSecret)', () => {
  const V = JAVA_SMS_VECTOR;
  const AT = new Date(Number(V.timestamp) * 1000 + 2_000);
  const signedHeaders = (overrides: Record<string, string> = {}): Record<string, string> => ({
    ...JSON_HEADERS,
    'x-sinch-webhook-signature': V.signature,
    'x-sinch-webhook-signature-algorithm': V.algorithm,
    'x-sinch-webhook-signature-nonce': V.nonce,
    'x-sinch-webhook-signature-timestamp': V.timestamp,
    ...overrides,
  });
  const verdict = (
    options: Record<string, unknown>,
    headers: Record<string, string>,
    body: string = V.body,
    at = AT,
  ): Promise<VerificationReason | 'ok'> => {
    return verdictOf(() =>
      adapter.verify(
        toWebhookRequest({ method: 'POST', url: URL_, headers, body: Buffer.from(body) }, at),
        adapter.settingsSchema.parse(options),
        {
          replayCache: new ReplayCache(1),
        },
      ),
    );
  };

  test('the sinch-sdk-java SMS vector verifies, and the signer reproduces it', async () => {
    expect(computeSinchSignature(V.secret, Buffer.from(V.body), V.nonce, V.timestamp)).toBe(V.signature);
    expect(validateSinchSignature(['other', V.secret], V.signature, Buffer.from(V.body), V.nonce, V.timestamp)).toBe(
      true,
    );
    expect(await verdict({ signingSecret: V.secret }, signedHeaders())).toBe('ok');
  });

  test('rotation: a list with the old secret first verifies; the wrong secret does not', async () => {
    expect(await verdict({ signingSecret: ['old-secret', V.secret] }, signedHeaders())).toBe('ok');
    expect(await verdict({ signingSecret: 'old-secret' }, signedHeaders())).toBe('signature_mismatch');
  });

  test('body, nonce and timestamp are all signed', async () => {
    expect(await verdict({ signingSecret: V.secret }, signedHeaders(), V.body.replace('Delivered', 'Failed'))).toBe(
      'signature_mismatch',
    );
    expect(
      await verdict(
        { signingSecret: V.secret },
        signedHeaders({ 'x-sinch-webhook-signature-nonce': '01JHFFHWYY7HSS4FWTMDTQEK8W' }),
      ),
    ).toBe('signature_mismatch');
    expect(
      await verdict(
        { signingSecret: V.secret },
        signedHeaders({ 'x-sinch-webhook-signature-timestamp': '1736760162' }),
      ),
    ).toBe('signature_mismatch');
  });

  test('timestamp window: default a day (Sinch retries for ~22 h 45 min); toleranceSeconds narrows it; 0 disables it', async () => {
    const later = (s: number) => new Date(Number(V.timestamp) * 1000 + s * 1000);
    expect(await verdict({ signingSecret: V.secret }, signedHeaders(), V.body, later(82_000))).toBe('ok');
    expect(await verdict({ signingSecret: V.secret }, signedHeaders(), V.body, later(90_000))).toBe(
      'timestamp_out_of_tolerance',
    );
    expect(await verdict({ signingSecret: V.secret, toleranceSeconds: 300 }, signedHeaders(), V.body, later(301))).toBe(
      'timestamp_out_of_tolerance',
    );
    expect(
      await verdict({ signingSecret: V.secret, toleranceSeconds: 0 }, signedHeaders(), V.body, later(10_000_000)),
    ).toBe('ok');
    expect(
      await verdict({ signingSecret: V.secret }, signedHeaders({ 'x-sinch-webhook-signature-timestamp': 'soon' })),
    ).toBe('malformed_signature');
  });

  test('the algorithm header: HmacSHA256 (any case) or absent is accepted; another algorithm is malformed', async () => {
    expect(
      await verdict(
        { signingSecret: V.secret },
        signedHeaders({ 'x-sinch-webhook-signature-algorithm': 'hmacsha256' }),
      ),
    ).toBe('ok');
    const headers = signedHeaders();
    delete headers['x-sinch-webhook-signature-algorithm'];
    expect(await verdict({ signingSecret: V.secret }, headers)).toBe('ok');
    expect(
      await verdict({ signingSecret: V.secret }, signedHeaders({ 'x-sinch-webhook-signature-algorithm': 'HmacSHA1' })),
    ).toBe('malformed_signature');
  });

  test.each(['x-sinch-webhook-signature', 'x-sinch-webhook-signature-nonce', 'x-sinch-webhook-signature-timestamp'])(
    'without %s: missing_signature',
    async (name) => {
      const headers = signedHeaders();
      delete headers[name];
      expect(await verdict({ signingSecret: V.secret }, headers)).toBe('missing_signature');
    },
  );

  test('beside basic auth: both must pass', async () => {
    const options = { signingSecret: V.secret, basicAuth: 'sinch:s3cret' };
    expect(await verdict(options, signedHeaders({ authorization: basicAuthorization('sinch:s3cret') }))).toBe('ok');
    expect(await verdict(options, signedHeaders())).toBe('missing_signature');
    expect(await verdict(options, signedHeaders({ authorization: basicAuthorization('sinch:wrong') }))).toBe(
      'bad_credentials',
    );
    expect(await verdict(options, { ...JSON_HEADERS, authorization: basicAuthorization('sinch:s3cret') })).toBe(
      'missing_signature',
    );
  });

  test('the test signer (simulate) signs the Sinch way and strips every signing header', async () => {
    const signer = { signingSecret: 'sim-secret', headerToken: { header: 'X-Sinch-Token', value: 'tok' } };
    const options = { signingSecret: 'sim-secret', headerToken: { header: 'X-Sinch-Token', value: 'tok' } };
    const req = adapter.testing.sign(
      { method: 'POST', url: URL_, headers: { ...JSON_HEADERS }, body: Buffer.from(V.body) },
      signer,
      AT,
    );
    expect(req.headers).toMatchObject({ 'x-sinch-webhook-signature-algorithm': 'HmacSHA256', 'x-sinch-token': 'tok' });
    expect(await verdict(options, req.headers)).toBe('ok');
    const stripped = adapter.testing.stripSignature(req);
    expect(Object.keys(stripped.headers).filter((h) => h.startsWith('x-sinch-webhook'))).toEqual([]);
    expect(adapter.testing.signerFromOptions({ signingSecret: ['a', 'b'], basicAuth: 'u:p' })).toEqual({
      signingSecret: 'a',
      basicAuth: 'u:p',
    });
  });
});

describe('verify(): basic auth and header token', () => {
  const settings = adapter.settingsSchema.parse({
    basicAuth: ['old:one', 'sinch:s3cret:with:colons'],
    headerToken: { header: 'X-Sinch-Token', value: 'tok' },
  });
  const verdict = (headers: Record<string, string>): Promise<VerificationReason | 'ok'> => {
    return verdictOf(() =>
      adapter.verify(toWebhookRequest({ method: 'POST', url: URL_, headers, body: Buffer.from('{}') }, NOW), settings, {
        replayCache: new ReplayCache(1),
      }),
    );
  };

  test('both configured credentials are required; a password may contain colons; rotation accepts the old pair', async () => {
    expect(
      await verdict({ authorization: basicAuthorization('sinch:s3cret:with:colons'), 'x-sinch-token': 'tok' }),
    ).toBe('ok');
    expect(await verdict({ authorization: basicAuthorization('old:one'), 'x-sinch-token': 'tok' })).toBe('ok');
    expect(await verdict({ authorization: basicAuthorization('sinch:wrong'), 'x-sinch-token': 'tok' })).toBe(
      'bad_credentials',
    );
    expect(
      await verdict({ authorization: basicAuthorization('sinch:s3cret:with:colons'), 'x-sinch-token': 'nope' }),
    ).toBe('bad_credentials');
    expect(await verdict({ 'x-sinch-token': 'tok' })).toBe('missing_signature');
    expect(await verdict({ authorization: basicAuthorization('sinch:s3cret:with:colons') })).toBe('missing_signature');
  });
});

describe('parse(): Sinch quirks', () => {
  const BATCH = '01HZX3K9W5Q7R2T4V6Y8A0C2E4';

  test('a full report gives one draft per recipient, in order, each with its own status code and the shared overrides', () => {
    const drafts = parseBody({
      type: 'delivery_report_sms',
      batch_id: BATCH,
      total_message_count: 3,
      client_reference: 'distinct_feature=registration_sms',
      statuses: [
        { code: 0, status: 'Delivered', count: 2, recipients: ['447700900123', '447700900124'] },
        { code: 11, status: 'Failed', count: 1, recipients: ['447700900125'] },
      ],
    });
    expect(drafts.map((d) => [d.phone, d.type, d.details.code, d.overrides.feature])).toEqual([
      ['447700900123', 'sms.delivered', 0, 'registration_sms'],
      ['447700900124', 'sms.delivered', 0, 'registration_sms'],
      ['447700900125', 'sms.undelivered', 11, 'registration_sms'],
    ]);
    expect(drafts.every((d) => d.occurredAt === null && d.messageId === BATCH)).toBe(true);
    // Each draft owns its objects: mutating one cannot leak into another.
    drafts[0]!.overrides.userId = 'x';
    expect(drafts[1]!.overrides.userId).toBeUndefined();
    expect(drafts[2]!.raw).toEqual({ code: 11, status: 'Failed', count: 1, recipients: ['447700900125'] });
  });

  test('a summary report (no recipients) gives one phone-less draft per status carrying the count and the user override', () => {
    const drafts = parseBody({
      type: 'delivery_report_sms',
      batch_id: BATCH,
      total_message_count: 1,
      client_reference: 'distinct_user_id=u_1',
      statuses: [{ code: 0, status: 'Delivered', count: 1 }],
    });
    expect(drafts).toHaveLength(1);
    expect(drafts[0]).toMatchObject({
      type: 'sms.delivered',
      overrides: { userId: 'u_1' },
      details: { code: 0, count: 1 },
    });
    expect(drafts[0]!.phone).toBeUndefined();
  });

  test('status is matched case-insensitively; code as a string or a number; times keep their fraction', () => {
    const [a] = parseBody({
      type: 'recipient_delivery_report_sms',
      batch_id: BATCH,
      recipient: '447700900123',
      code: '0',
      status: 'delivered',
      at: '2026-04-27T13:35:00.1Z',
    });
    expect(a).toMatchObject({
      type: 'sms.delivered',
      providerEvent: 'delivered',
      occurredAt: '2026-04-27T13:35:00.1Z',
      details: { code: 0 },
    });
    const [b] = parseBody({
      type: 'recipient_delivery_report_mms',
      batch_id: BATCH,
      recipient: '447700900123',
      code: 401,
      status: 'DISPATCHED',
      at: 'garbage',
    });
    expect(b).toMatchObject({ type: 'sms.sent', occurredAt: null, details: { code: 401 } });
  });

  test('a plain client_reference is kept as a detail; one carrying overrides is not repeated', () => {
    const base = {
      type: 'recipient_delivery_report_sms',
      batch_id: BATCH,
      recipient: '447700900123',
      code: 0,
      status: 'Delivered',
      at: '2026-04-27T13:35:00Z',
    };
    expect(parseBody({ ...base, client_reference: 'order-7' })[0]!.details.clientReference).toBe('order-7');
    const [d] = parseBody({ ...base, client_reference: 'distinct_user_id=%20u_2%20&distinct_experience_id=' });
    expect(d!.overrides).toEqual({ userId: 'u_2' });
    expect(d!.details.clientReference).toBeUndefined();
  });

  test('inbound mo_text: sms.received from the sender; unknown types: sms.unknown, never an error', () => {
    expect(
      parseBody({ type: 'mo_binary', id: 'm1', from: '447700900123', to: '12345', body: 'AAE=' })[0],
    ).toMatchObject({ type: 'sms.received', phone: '447700900123', messageId: 'm1' });
    expect(parseBody({ type: 'something_new' })[0]).toMatchObject({
      type: 'sms.unknown',
      providerEvent: 'something_new',
      messageId: null,
    });
  });

  test('malformed reports name the path of the problem', () => {
    expect(
      parseError({ type: 'delivery_report_sms', batch_id: BATCH, statuses: [{ status: 'Delivered' }, { code: 0 }] })
        .path,
    ).toBe('statuses[1].status');
    expect(
      parseError({ type: 'delivery_report_sms', batch_id: BATCH, statuses: [{ status: 'Delivered', recipients: 'x' }] })
        .path,
    ).toBe('statuses[0].recipients');
    expect(parseError({ type: 'delivery_report_sms', batch_id: BATCH, statuses: [7] }).path).toBe('statuses[0]');
    expect(parseError({ type: 'recipient_delivery_report_sms', batch_id: BATCH }).path).toBe('status');
    expect(parseError({ batch_id: BATCH, type: '' }).path).toBe('type');
  });

  test('sample(): a per-recipient report with the overrides in client_reference round-trips through parse', () => {
    const sample = adapter.testing.sample({
      type: 'sms.failed',
      recipient: '+447700900123',
      now: NOW,
      overrides: { userId: 'u_9' },
    });
    const [d] = parseBody(sample.body, sample.headers);
    expect(d).toMatchObject({
      type: 'sms.failed',
      providerEvent: 'Rejected',
      phone: '447700900123',
      occurredAt: '2026-04-27T13:40:00.000Z',
      overrides: { userId: 'u_9' },
    });
    expect(() => adapter.testing.sample({ type: 'sms.received', recipient: '+447700900123', now: NOW })).toThrow(
      /Sinch has no status/,
    );
  });
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const creds = {
    options: { signingSecret: 'http-secret', basicAuth: 'sinch:http-pass' },
    signer: { signingSecret: 'http-secret', basicAuth: 'sinch:http-pass' },
  };

  const app = useLoopbackApp(() => buildConfig(sourceDoc(creds.options), {}, null, [adapter]));

  const report = {
    type: 'delivery_report_sms',
    batch_id: '01HZX3K9W5Q7R2T4V6Y8A0C2E4',
    total_message_count: 3,
    statuses: [
      { code: 0, status: 'Delivered', count: 2, recipients: ['447700900123', '447700900124'] },
      { code: 400, status: 'Queued', count: 1, recipients: ['447700900125'] },
    ],
  };

  const signed = (body: string) =>
    adapter.testing.sign(
      { method: 'POST', url: `${app.origin}/webhooks/sinch`, headers: { ...JSON_HEADERS }, body: Buffer.from(body) },
      creds.signer,
      new Date(),
    ).headers;

  test('a full report signed and with basic auth: two deliveries queued, the Queued one ignored; a re-sent report is all duplicates', async () => {
    const body = JSON.stringify(report);
    const res = await fetch(`${app.origin}/webhooks/sinch`, { method: 'POST', headers: signed(body), body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: 3, queued: 2, ignored: 1 });
    const again = await fetch(`${app.origin}/webhooks/sinch`, { method: 'POST', headers: signed(body), body });
    expect(await again.json()).toMatchObject({ received: 3, queued: 0, duplicates: 2 });
    const leases = await app.queue.claim(10);
    expect(leases.map((l) => l.message.event.phone).sort()).toEqual(['+447700900123', '+447700900124']);
  });

  test('without a signature or with wrong credentials: 401 (Sinch does not retry 4xx), never 403', async () => {
    const none = await fetch(`${app.origin}/webhooks/sinch`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify(report),
    });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ reason: 'missing_signature' });
    const body = JSON.stringify(report);
    const wrong = await fetch(`${app.origin}/webhooks/sinch`, {
      method: 'POST',
      headers: { ...signed(body), authorization: basicAuthorization('sinch:guess') },
      body,
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ reason: 'bad_credentials' });
  });

  test('an authentic inbound message (nothing to forward) is acknowledged 200, never 401/403', async () => {
    const body = JSON.stringify({
      type: 'mo_text',
      id: '01HZX3K9W5Q7R2T4V6Y8A0C2E9',
      from: '447700900123',
      to: '12345',
      body: 'STOP',
      received_at: '2026-04-27T13:39:00Z',
    });
    const res = await fetch(`${app.origin}/webhooks/sinch`, { method: 'POST', headers: signed(body), body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: 1, queued: 0, ignored: 1 });
  });
});
