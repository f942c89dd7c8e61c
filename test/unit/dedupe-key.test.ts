/**
 * The de-duplication key (DESIGN §3.2): stable for a re-delivery, distinct for distinct events,
 * valid as an Idempotency-Key and an SQS FIFO MessageDeduplicationId, and time-ordered so the
 * outbox's de-dup index grows at its right edge.
 */
import { getAdapter } from '../../adapters';
import type { EventDraft } from '../../src/core/normalized-event';
import { dedupeKey, NO_TIME } from '../../src/mapping/dedupe-key';
import { completeDraft } from '../../src/mapping/normalize';

function draft(over: Partial<EventDraft> = {}): EventDraft {
  return {
    type: 'email.delivered',
    providerEvent: 'delivered',
    occurredAt: '2026-04-27T13:35:00Z',
    messageId: 'msg-1',
    providerEventId: 'evt-1',
    email: 'a@example.com',
    overrides: {},
    details: {},
    raw: {},
    ...over,
  };
}

const SHAPE = /^sendgrid:[0-9a-f]{9}[A-Za-z0-9_-]{22}$/;

describe('dedupeKey', () => {
  test("is `<provider>:<9 hex digits of event seconds><22 base64url>`, printable ASCII within SQS's 128 characters", () => {
    const key = dedupeKey('sendgrid', draft());
    expect(key).toMatch(SHAPE);
    expect(key).toMatch(/^[\x21-\x7e]{1,128}$/);
    expect(key.slice('sendgrid:'.length, 'sendgrid:'.length + 9)).toBe(
      (Date.UTC(2026, 3, 27, 13, 35, 0) / 1000).toString(16).padStart(9, '0'),
    );
  });

  test('the same event gives the same key', () => {
    expect(dedupeKey('sendgrid', draft())).toBe(dedupeKey('sendgrid', draft()));
    // Recipient case and surrounding blanks do not make a different event.
    expect(dedupeKey('sendgrid', draft({ email: ' A@Example.com ' }))).toBe(dedupeKey('sendgrid', draft()));
  });

  test.each<[string, Partial<EventDraft>]>([
    ['event id', { providerEventId: 'evt-2' }],
    ['event id to none', { providerEventId: null }],
    ['message id', { messageId: 'msg-2' }],
    ['provider event', { providerEvent: 'open' }],
    ['type', { type: 'email.opened' }],
    ['recipient', { email: 'b@example.com' }],
    ['phone', { phone: '+14155238886' }],
    ['time, within the same second', { occurredAt: '2026-04-27T13:35:00.5Z' }],
    ['time to none', { occurredAt: null }],
  ])('changing the %s changes the key', (_name, over) => {
    expect(dedupeKey('sendgrid', draft(over))).not.toBe(dedupeKey('sendgrid', draft()));
  });

  test('a different provider gives a different key', () => {
    expect(dedupeKey('mailgun', draft()).slice('mailgun:'.length)).not.toBe(
      dedupeKey('sendgrid', draft()).slice('sendgrid:'.length),
    );
  });

  test('parts cannot run into each other (the encoding is unambiguous)', () => {
    const a = dedupeKey('sendgrid', draft({ providerEventId: 'ab', messageId: 'c' }));
    const b = dedupeKey('sendgrid', draft({ providerEventId: 'a', messageId: 'bc' }));
    expect(a).not.toBe(b);
    const c = dedupeKey('sendgrid', draft({ providerEventId: '1:a', messageId: '' }));
    const d = dedupeKey('sendgrid', draft({ providerEventId: '1', messageId: 'a' }));
    expect(c).not.toBe(d);
  });

  test("the time part is the whole second, also for fractions down to Mailgun's microseconds", () => {
    const timePart = (occurredAt: string) => dedupeKey('sendgrid', draft({ occurredAt })).slice(9, 18);
    expect(timePart('2026-04-27T13:35:00.123456Z')).toBe(timePart('2026-04-27T13:35:00Z'));
    expect(timePart('2026-04-27T13:35:00.999999999Z')).toBe(timePart('2026-04-27T13:35:00Z'));
    expect(timePart('2026-04-27T13:35:01Z')).not.toBe(timePart('2026-04-27T13:35:00Z'));
  });

  test('keys sort by the provider-stated time, whatever the hash', () => {
    const times = ['2026-04-27T13:35:00Z', '2026-04-27T13:35:01Z', '2026-04-27T14:00:00Z', '2027-01-01T00:00:00Z'];
    const keys = times.map((occurredAt, i) =>
      dedupeKey('sendgrid', draft({ occurredAt, providerEventId: `evt-${10 - i}` })),
    );
    expect([...keys].sort()).toEqual(keys);
  });

  test.each([null, 'not a time', '1969-12-31T23:59:59Z', '+099999-01-01T00:00:00Z'])(
    'an event without a usable time (%p) gets the fixed time part',
    (occurredAt) => {
      const key = dedupeKey('sendgrid', draft({ occurredAt }));
      expect(key).toMatch(SHAPE);
      expect(key.slice('sendgrid:'.length, 'sendgrid:'.length + 9)).toBe(NO_TIME);
    },
  );

  test('receipt time is not part of the key: completeDraft gives a re-delivery the same key', () => {
    const adapter = getAdapter('sendgrid')!;
    const first = completeDraft(draft(), adapter, 'sendgrid', new Date(Date.UTC(2026, 3, 27, 13, 36)));
    const again = completeDraft(draft(), adapter, 'sendgrid', new Date(Date.UTC(2026, 3, 28, 9, 0)));
    expect(again.dedupeKey).toBe(first.dedupeKey);
  });
});

describe('completeDraft', () => {
  test("keeps every draft field, adds the pipeline's, and leaves absent optional fields absent", () => {
    const adapter = getAdapter('sendgrid')!;
    const receivedAt = new Date(Date.UTC(2026, 3, 27, 13, 36));
    const d = draft({
      email: undefined,
      overrides: { userId: 'u1' },
      details: { reason: 'x' },
      raw: { event: 'delivered' },
    });
    delete d.email;
    const ev = completeDraft(d, adapter, 'sg-main', receivedAt);
    expect(ev).toStrictEqual({
      ...d,
      provider: 'sendgrid',
      source: 'sg-main',
      channel: 'email',
      receivedAt: '2026-04-27T13:36:00.000Z',
      dedupeKey: dedupeKey('sendgrid', d),
    });
    expect(Object.keys(ev)).not.toContain('email');
    expect(Object.keys(ev)).not.toContain('phone');
    expect(completeDraft(draft({ phone: '+14155238886' }), adapter, 's', receivedAt)).toMatchObject({
      email: 'a@example.com',
      phone: '+14155238886',
    });
  });
});
