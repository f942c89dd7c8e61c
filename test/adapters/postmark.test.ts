/**
 * Postmark quirks the shared conformance suite does not cover: the bounce `Type` table, the
 * SubscriptionChange refinements, inbound payloads refused with a clear 400, and 401 (never 403)
 * through the real HTTP stack.
 */
import { adapter } from '../../adapters/postmark';
import { WebhookParseError } from '../../src/core/errors';
import type { EventDraft } from '../../src/core/normalized-event';
import { basicAuthorization } from '../../src/verify/credentials';
import { bodyParser, onlyDraft, parseErrorOf } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:35:00Z');
const parse = bodyParser(adapter, NOW);
const one = (body: Record<string, unknown>): EventDraft => onlyDraft(parse(body));

const BOUNCE = {
  RecordType: 'Bounce',
  ID: 7,
  MessageID: 'm-1',
  Email: 'a@example.com',
  BouncedAt: '2026-04-27T13:35:00Z',
};

describe('bounce Type refinement (BOUNCE_TYPE_MAP, after anymail postmark.py)', () => {
  test.each([
    ['HardBounce', 'email.bounced'],
    ['SoftBounce', 'email.deferred'],
    ['Transient', 'email.deferred'],
    ['DnsError', 'email.deferred'],
    ['Blocked', 'email.bounced'],
    ['DMARCPolicy', 'email.bounced'],
    ['VirusNotification', 'email.bounced'],
    ['BadEmailAddress', 'email.rejected'],
    ['ManuallyDeactivated', 'email.rejected'],
    ['Unconfirmed', 'email.rejected'],
    ['SMTPApiError', 'email.failed'],
    ['TemplateRenderingFailed', 'email.failed'],
    ['SpamNotification', 'email.complained'],
    ['Unsubscribe', 'email.unsubscribed'],
    ['Subscribe', 'email.subscribed'],
    ['AutoResponder', 'email.unknown'],
    ['Unknown', 'email.unknown'],
    ['SomethingNew', 'email.bounced'], // an unlisted Type keeps the RecordType's type
    ['constructor', 'email.bounced'], // never an Object.prototype member
  ])('Bounce with Type %s → %s', (type, expected) => {
    const draft = one({ ...BOUNCE, Type: type });
    expect(draft.type).toBe(expected);
    expect(draft.providerEvent).toBe('Bounce');
    expect(draft.details.bounceType).toBe(type);
  });

  test('every type the refinements can produce is among the derived emittedTypes (so `validate` and actions see them)', () => {
    for (const t of ['email.deferred', 'email.rejected', 'email.failed', 'email.subscribed', 'email.unknown'])
      expect(adapter.emittedTypes).toContain(t);
  });
});

describe('SubscriptionChange refinement (SuppressSending, then SuppressionReason)', () => {
  const base = {
    RecordType: 'SubscriptionChange',
    MessageID: 'm-2',
    Recipient: 'a@example.com',
    ChangedAt: '2026-04-27T13:35:00Z',
  };
  test.each([
    [false, null, 'email.subscribed'],
    [false, 'HardBounce', 'email.subscribed'], // reactivated, whatever the old reason
    [true, 'HardBounce', 'email.bounced'],
    [true, 'SpamComplaint', 'email.complained'],
    [true, 'ManualSuppression', 'email.unsubscribed'],
    [true, 'NewReason', 'email.unsubscribed'],
    [true, undefined, 'email.unsubscribed'],
  ])('SuppressSending %s, reason %s → %s', (suppress, reason, expected) => {
    const draft = one({
      ...base,
      SuppressSending: suppress,
      ...(reason === undefined ? {} : { SuppressionReason: reason }),
    });
    expect(draft.type).toBe(expected);
    expect(draft.details.suppressSending).toBe(suppress);
  });
});

describe('parsing details', () => {
  test('inbound payloads are refused with a message naming the misconfiguration', () => {
    const inbound = {
      FromFull: { Email: 'a@example.com' },
      ToFull: [],
      MessageID: 'x',
      Subject: 'hi',
      TextBody: 'hello',
    };
    expect(() => parse(inbound)).toThrow(WebhookParseError);
    expect(() => parse(inbound)).toThrow(/inbound-message payload; this route takes tracking webhooks only/);
    expect(() => parse({ ...inbound, RecordType: 'Inbound' })).toThrow(/inbound-message payload/);
  });

  test('a body that is not an object, or has no RecordType, is a parse error naming RecordType', () => {
    expect(() => parse([{ RecordType: 'Delivery' }])).toThrow(/one JSON object per event/);
    expect(parseErrorOf(() => parse({ MessageID: 'm', Recipient: 'a@example.com' })).path).toBe('RecordType');
  });

  test('times: offsets normalized to UTC with the 7 fraction digits kept; absent or garbage → null, never invented', () => {
    expect(
      one({ RecordType: 'Open', ReceivedAt: '2019-11-05T16:33:54.9070259+01:00', Recipient: 'a@example.com' })
        .occurredAt,
    ).toBe('2019-11-05T15:33:54.9070259Z');
    expect(one({ RecordType: 'Delivery', Recipient: 'a@example.com' }).occurredAt).toBeNull();
    expect(one({ RecordType: 'Delivery', Recipient: 'a@example.com', DeliveredAt: 'yesterday' }).occurredAt).toBeNull();
  });

  test('the bounce ID is the event id; other records have none', () => {
    expect(one({ ...BOUNCE, Type: 'HardBounce' }).providerEventId).toBe('7');
    expect(one({ RecordType: 'Delivery', Recipient: 'a@example.com', MessageID: 'm' }).providerEventId).toBeNull();
  });

  test('Metadata overrides: strings or numbers, trimmed, empty ignored; other keys are not overrides', () => {
    const draft = one({
      RecordType: 'Delivery',
      Recipient: 'a@example.com',
      Metadata: {
        distinct_user_id: 42,
        distinct_feature: '  registration_email ',
        distinct_experience_id: '',
        other: 'x',
      },
    });
    expect(draft.overrides).toEqual({ userId: '42', feature: 'registration_email' });
  });

  test('personal data (UserAgent, Geo) stays in raw only', () => {
    const draft = one({
      RecordType: 'Click',
      Recipient: 'a@example.com',
      UserAgent: 'Mozilla/5.0',
      Geo: { IP: '192.0.2.1' },
      OriginalLink: 'https://example.com',
    });
    expect(JSON.stringify(draft.details)).not.toMatch(/Mozilla|192\.0\.2\.1/);
    expect(draft.details.url).toBe('https://example.com');
  });
});

describe('testing.sample', () => {
  const types = [
    'email.delivered',
    'email.bounced',
    'email.deferred',
    'email.rejected',
    'email.complained',
    'email.opened',
    'email.clicked',
    'email.unsubscribed',
    'email.subscribed',
  ];
  test.each(types)('sample(%s) parses back to that type, recipient, time and overrides', (type) => {
    const s = adapter.testing.sample({
      type,
      recipient: 'jane@example.com',
      now: NOW,
      overrides: { distinct_user_id: 'u_1', experienceId: 'exp_2' },
    });
    const draft = one(JSON.parse(s.body.toString('utf8')) as Record<string, unknown>);
    expect(draft).toMatchObject({
      type,
      email: 'jane@example.com',
      occurredAt: '2026-04-27T13:35:00.000Z',
      overrides: { userId: 'u_1', experienceId: 'exp_2' },
    });
  });

  test('there is no "sent" webhook to simulate', () => {
    expect(() => adapter.testing.sample({ type: 'email.sent', recipient: 'a@example.com', now: NOW })).toThrow(
      /Postmark has no webhook for email.sent/,
    );
  });
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const app = useLoopbackApp(() =>
    loopbackConfig(adapter, {
      'postmark-eu': {
        provider: 'postmark',
        feature: 'registration_email',
        experienceId: 'exp_http',
        basicAuth: ['old:pw-1', 'hook:pw-2'],
      },
    }),
  );

  function post(body: unknown, headers: Record<string, string>): Promise<Response> {
    return fetch(`${app.origin}/webhooks/postmark-eu`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  const delivery = {
    RecordType: 'Delivery',
    MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
    Recipient: 'John@Example.com',
    DeliveredAt: '2025-04-05T16:33:54.9070259Z',
    Metadata: { distinct_user_id: 'u_http' },
  };

  test('wrong or missing credentials are answered 401, never 403 (403 stops Postmark retrying)', async () => {
    const wrong = await post(delivery, { authorization: basicAuthorization('hook:wrong') });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'ERR_WEBHOOK_VERIFICATION', reason: 'bad_credentials' });
    const missing = await post(delivery, {});
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ reason: 'missing_signature' });
    expect((await app.queue.stats()).depth).toBe(0);
  });

  test('the current or the old (rotated) credentials are accepted; the event is queued with the Metadata user', async () => {
    const res = await post(delivery, { authorization: basicAuthorization('hook:pw-2') });
    expect(res.status).toBe(200);
    const again = await post(
      { ...delivery, RecordType: 'Open', ReceivedAt: '2025-04-05T16:40:00Z', FirstOpen: true },
      { authorization: basicAuthorization('old:pw-1') },
    );
    expect(again.status).toBe(200);
    const leases = await app.queue.claim(10);
    expect(leases.map((l) => l.message.event)).toEqual([
      expect.objectContaining({
        action: 'delivered',
        userId: 'u_http',
        email: 'john@example.com',
        experienceId: 'exp_http',
        capturedAt: '2025-04-05T16:33:54.9070259Z',
      }),
      expect.objectContaining({
        action: 'opened',
        userId: 'u_http',
        capturedAt: '2025-04-05T16:40:00Z',
        metadata: expect.objectContaining({ firstOpen: true }),
      }),
    ]);
  });

  test('an inbound payload with good credentials is a 400 that says what is wrong', async () => {
    const res = await post(
      { FromFull: { Email: 'a@example.com' }, MessageID: 'x' },
      { authorization: basicAuthorization('hook:pw-2') },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/inbound-message payload/);
  });
});
