/**
 * Brevo quirks the shared conformance suite does not cover: three clocks (ts_epoch magnitude,
 * ts_event fallback, CET `date` never used), the two X-Mailin-custom forms, opened vs
 * unique_opened vs proxy opens, SMS / inbound payloads refused, and a batched webhook with a
 * bearer token through the real HTTP stack.
 */
import { adapter } from '../../adapters/brevo';
import type { EventDraft } from '../../src/core/normalized-event';
import { bodyParser, onlyDraft, parseErrorOf } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:35:00Z');
const parse = bodyParser(adapter, NOW);
const one = (body: Record<string, unknown>): EventDraft => onlyDraft(parse(body));

const BASE = { event: 'delivered', email: 'a@example.com', id: 99, 'message-id': '<m1@smtp-relay.mailin.fr>' };

describe('event time', () => {
  test.each([
    [
      'ts_epoch in milliseconds (documented)',
      { ts_epoch: 1777296900123, ts_event: 1777296900 },
      '2026-04-27T13:35:00.123Z',
    ],
    ['ts_epoch in seconds (the docs example)', { ts_epoch: 1777296900, ts_event: 1777296900 }, '2026-04-27T13:35:00Z'],
    ['ts_event only', { ts_event: 1777296901 }, '2026-04-27T13:35:01Z'],
    ['ts_epoch garbage, ts_event good', { ts_epoch: 'soon', ts_event: 1777296902 }, '2026-04-27T13:35:02Z'],
    ['only the CET date string (never read)', { date: '2026-04-27 15:35:00' }, null],
    ['only ts, whose zone Brevo does not state', { ts: 1777296900 }, null],
  ])('%s', (_n, fields, expected) => {
    expect(one({ ...BASE, ...fields }).occurredAt).toBe(expected);
  });
});

describe('X-Mailin-custom overrides', () => {
  test.each([
    [
      'a JSON object',
      '{"distinct_user_id":"u_1","distinct_experience_id":"exp_1"}',
      { userId: 'u_1', experienceId: 'exp_1' },
    ],
    ['a JSON object with a number', '{"distinct_user_id":42}', { userId: '42' }],
    [
      'key:value|key:value',
      'distinct_user_id:u_2|distinct_feature:registration_email',
      { userId: 'u_2', feature: 'registration_email' },
    ],
    ['pipe pairs with spaces and a colon in a value', ' distinct_user_id : u:3 | x:y ', { userId: 'u:3' }],
    ['broken JSON (falls back to pipe pairs, finds none)', '{"distinct_user_id":', {}],
    ['a plain string', 'some_custom_header', {}],
    ['an empty string', '', {}],
  ])('%s', (_n, header, expected) => {
    expect(one({ ...BASE, 'X-Mailin-custom': header }).overrides).toEqual(expected);
  });

  test('a non-string X-Mailin-custom is ignored, never an error', () => {
    expect(one({ ...BASE, 'X-Mailin-custom': { distinct_user_id: 'u' } }).overrides).toEqual({});
  });
});

describe('events', () => {
  test('opened and unique_opened are both email.opened; only the first-open one says so', () => {
    const [all, first] = parse([
      { ...BASE, event: 'opened' },
      { ...BASE, event: 'unique_opened' },
    ]);
    expect(all).toMatchObject({ type: 'email.opened', providerEvent: 'opened' });
    expect(all!.details.firstOpen).toBeUndefined();
    expect(first).toMatchObject({ type: 'email.opened', providerEvent: 'unique_opened', details: { firstOpen: true } });
  });

  test('proxy opens (Apple MPP pre-fetches) are email.opened machine opens (issue #9), not email.unknown', () => {
    expect(
      parse([
        { ...BASE, event: 'proxy_open' },
        { ...BASE, event: 'unique_proxy_open' },
      ]).map((d) => [d.type, d.details.machineOpen]),
    ).toEqual([
      ['email.opened', true],
      ['email.opened', true],
    ]);
  });

  test('`id` is the webhook id: no event id, kept as details.webhookId', () => {
    expect(one(BASE)).toMatchObject({
      providerEventId: null,
      messageId: '<m1@smtp-relay.mailin.fr>',
      details: { webhookId: 99 },
    });
  });

  test('tags array is joined; a single `tag` is used when there is no array', () => {
    expect(one({ ...BASE, tags: ['a', 'b'] }).details.tags).toBe('a,b');
    expect(one({ ...BASE, tag: 'solo' }).details.tags).toBe('solo');
  });

  test('an SMS webhook or an inbound-parse payload on this e-mail source is refused', () => {
    expect(() => parse({ event: 'delivered', to: '33612345678', msg_status: 'delivered', sms_count: 1 })).toThrow(
      /Brevo SMS webhook/,
    );
    expect(() => parse({ items: [{ Uuid: ['x'] }] })).toThrow(/inbound-parse payload/);
  });

  test('a bad element in a batch names its index', () => {
    expect(parseErrorOf(() => parse([BASE, { ...BASE, event: '' }])).path).toBe('[1].event');
  });
});

describe('testing.sample', () => {
  const types = [
    'email.sent',
    'email.delivered',
    'email.deferred',
    'email.bounced',
    'email.rejected',
    'email.failed',
    'email.complained',
    'email.opened',
    'email.clicked',
    'email.unsubscribed',
  ];
  test.each(types)('sample(%s) parses back to that type, with the overrides from X-Mailin-custom', (type) => {
    const s = adapter.testing.sample({
      type,
      recipient: 'jane@example.com',
      now: NOW,
      overrides: { distinct_user_id: 'u_1' },
    });
    expect(one(JSON.parse(s.body.toString('utf8')) as Record<string, unknown>)).toMatchObject({
      type,
      email: 'jane@example.com',
      occurredAt: '2026-04-27T13:35:00.000Z',
      overrides: { userId: 'u_1' },
    });
  });
});

describe("through the real HTTP stack, with Brevo's bearer-token auth as a header token", () => {
  const app = useLoopbackApp(() =>
    loopbackConfig(
      adapter,
      {
        brevo: {
          feature: 'registration_email',
          experienceId: 'exp_http',
          machineOpens: 'ignore',
          headerToken: { header: 'Authorization', value: 'Bearer ${BREVO_TOKEN}' },
        },
      },
      { env: { BREVO_TOKEN: 'tok-123' } },
    ),
  );

  const batch = [
    { ...BASE, event: 'request', ts_epoch: 1777296900000, 'X-Mailin-custom': 'distinct_user_id:u_b' },
    { ...BASE, event: 'delivered', ts_epoch: 1777296905000 },
    { ...BASE, event: 'proxy_open', ts_epoch: 1777296906000 },
  ];

  function post(authorization?: string): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization) headers.authorization = authorization;
    return fetch(`${app.origin}/webhooks/brevo`, { method: 'POST', headers, body: JSON.stringify(batch) });
  }

  test('a wrong or missing token is 401', async () => {
    expect((await post('Bearer tok-124')).status).toBe(401);
    expect((await post()).status).toBe(401);
  });

  test('a batched webhook is queued event by event; the proxy open is acknowledged and ignored (machineOpens: ignore)', async () => {
    const res = await post('Bearer tok-123');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: 3, queued: 2, ignored: 1 });
    const leases = await app.queue.claim(10);
    expect(leases.map((l) => l.message.event)).toEqual([
      expect.objectContaining({
        action: 'sent',
        userId: 'u_b',
        email: 'a@example.com',
        capturedAt: '2026-04-27T13:35:00.000Z',
      }),
      expect.objectContaining({ action: 'delivered', capturedAt: '2026-04-27T13:35:05.000Z' }),
    ]);
  });
});
