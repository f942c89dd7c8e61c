/**
 * Mailjet quirks the shared conformance suite does not cover: MessageIDs beyond 2^53 kept digit
 * for digit (parse, and all the way into the queued Distinct event over real HTTP), the message-id
 * preference, the greylisting refinement, and the metadata strings (Payload / CustomID).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adapter } from '../../adapters/mailjet';
import type { EventDraft } from '../../src/core/normalized-event';
import { basicAuthorization } from '../../src/verify/credentials';
import { FIXTURES_DIR, bodyParser, onlyDraft } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:35:00Z');
const parse = bodyParser(adapter, NOW);
const one = (body: unknown): EventDraft => onlyDraft(parse(body));

/** The grouped-events sample exactly as Mailjet publishes it (its second MessageID is not a double). */
const BATCH_TEXT = (
  JSON.parse(readFileSync(join(FIXTURES_DIR, 'mailjet', 'events-batch.json'), 'utf8')) as { request: { body: string } }
).request.body;

describe('MessageID beyond 2^53', () => {
  test('the published batch: JSON.parse would turn …491 into …492; the adapter keeps both ids exactly', () => {
    expect(BATCH_TEXT).toContain('"MessageID": 19421777835146491');
    const [first, second] = parse(BATCH_TEXT);
    expect(first!.details.mailjetMessageId).toBe('19421777835146490');
    expect(second!.details.mailjetMessageId).toBe('19421777835146491');
    expect((second!.raw as Record<string, unknown>).MessageID).toBe('19421777835146491');
  });

  test('messageId prefers Message_GUID, then mj_message_id, then the exact MessageID', () => {
    const base = '"event":"open","time":1777296900,"email":"a@example.com","MessageID":19421777835146491';
    expect(one(`{${base},"Message_GUID":"g-1","mj_message_id":"19421777835146491"}`).messageId).toBe('g-1');
    expect(one(`{${base},"mj_message_id":"19421777835146491"}`).messageId).toBe('19421777835146491');
    expect(one(`{${base}}`).messageId).toBe('19421777835146491');
    expect(one('{"event":"open","time":1777296900,"MessageID":12345}').messageId).toBe('12345');
    expect(one('{"event":"open","time":1777296900}').messageId).toBeNull();
  });
});

describe('types and fields', () => {
  test.each([
    [{ hard_bounce: false, error: 'greylisted' }, 'email.deferred'],
    [{ error: 'greylisted' }, 'email.deferred'],
    [{ hard_bounce: true, error: 'greylisted' }, 'email.bounced'],
    [{ hard_bounce: false, error: 'quota exceeded' }, 'email.bounced'],
    [{ hard_bounce: true, error: 'user unknown' }, 'email.bounced'],
  ])('bounce %j → %s', (fields, expected) => {
    expect(one({ event: 'bounce', time: 1777296900, email: 'a@example.com', ...fields }).type).toBe(expected);
  });

  test("sent is a delivery (accepted by the recipient's server); blocked is a rejection", () => {
    expect(
      parse([
        { event: 'sent', time: 1 },
        { event: 'blocked', time: 1 },
      ]).map((d) => d.type),
    ).toEqual(['email.delivered', 'email.rejected']);
  });

  test('time is unix seconds; absent → null, never invented', () => {
    expect(one({ event: 'open', time: 1777296900 }).occurredAt).toBe('2026-04-27T13:35:00Z');
    expect(one({ event: 'open' }).occurredAt).toBeNull();
  });

  test('mj_campaign_id 0 means no campaign and is omitted; agent and ip stay in raw only', () => {
    const draft = one({ event: 'open', time: 1, mj_campaign_id: 0, agent: 'Mozilla/5.0', ip: '192.0.2.4' });
    expect(draft.details.campaignId).toBeUndefined();
    expect(JSON.stringify(draft.details)).not.toMatch(/Mozilla|192\.0\.2\.4/);
    expect(one({ event: 'open', time: 1, mj_campaign_id: 7 }).details.campaignId).toBe(7);
  });
});

describe('overrides from Payload / EventPayload / CustomID', () => {
  const base = { event: 'sent', time: 1777296900, email: 'a@example.com' };
  test.each([
    [
      'Payload JSON',
      { Payload: '{"distinct_user_id":"u_1","distinct_experience_id":"e_1"}' },
      { userId: 'u_1', experienceId: 'e_1' },
    ],
    ['Payload form pairs', { Payload: 'distinct_user_id=u_2&x=1' }, { userId: 'u_2' }],
    ['EventPayload (as the Send API names it)', { EventPayload: '{"distinct_user_id":"u_3"}' }, { userId: 'u_3' }],
    ['CustomID form pairs', { CustomID: 'distinct_user_id=u_4' }, { userId: 'u_4' }],
    [
      'Payload wins over CustomID, key by key',
      { Payload: '{"distinct_user_id":"u_5"}', CustomID: 'distinct_user_id=u_6&distinct_feature=registration_email' },
      { userId: 'u_5', feature: 'registration_email' },
    ],
    ['a plain CustomID carries nothing', { CustomID: 'helloworld' }, {}],
    ['broken JSON carries nothing and does not fail', { Payload: '{"distinct_user_id":' }, {}],
    ['empty strings', { Payload: '', CustomID: '' }, {}],
  ])('%s', (_n, fields, expected) => {
    expect(one({ ...base, ...fields }).overrides).toEqual(expected);
  });
});

describe('testing.sample', () => {
  const types = [
    'email.delivered',
    'email.opened',
    'email.clicked',
    'email.bounced',
    'email.deferred',
    'email.rejected',
    'email.complained',
    'email.unsubscribed',
  ];
  test.each(types)(
    'sample(%s) carries a bare 17-digit MessageID and parses back exactly, with its Payload overrides',
    (type) => {
      const s = adapter.testing.sample({
        type,
        recipient: 'jane@example.com',
        now: NOW,
        overrides: { distinct_user_id: 'u_1' },
      });
      const text = s.body.toString('utf8');
      const id = /"MessageID":(\d{17})/.exec(text)?.[1];
      expect(id).toBeDefined();
      expect(one(text)).toMatchObject({
        type,
        email: 'jane@example.com',
        occurredAt: '2026-04-27T13:35:00Z',
        overrides: { userId: 'u_1' },
        details: { mailjetMessageId: id },
      });
    },
  );

  test('there is no earlier "sent" than delivery to simulate', () => {
    expect(() => adapter.testing.sample({ type: 'email.sent', recipient: 'a@example.com', now: NOW })).toThrow(
      /Mailjet has no event for email.sent/,
    );
  });
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const app = useLoopbackApp(() =>
    loopbackConfig(adapter, {
      mailjet: { feature: 'registration_email', experienceId: 'exp_http', basicAuth: 'mj:pw' },
    }),
  );

  test('the grouped batch is queued with both exact MessageIDs in the Distinct metadata', async () => {
    const res = await fetch(`${app.origin}/webhooks/mailjet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuthorization('mj:pw') },
      body: BATCH_TEXT,
    });
    expect(res.status).toBe(200);
    const leases = await app.queue.claim(10);
    expect(leases.map((l) => l.message.event.metadata?.mailjetMessageId)).toEqual([
      '19421777835146490',
      '19421777835146491',
    ]);
    expect(leases.map((l) => l.message.event.action)).toEqual(['delivered', 'delivered']);
  });

  test("without the URL's basic auth the batch is refused with 401", async () => {
    const res = await fetch(`${app.origin}/webhooks/mailjet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BATCH_TEXT,
    });
    expect(res.status).toBe(401);
  });
});
