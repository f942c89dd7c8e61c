/**
 * Mailgun quirks the shared conformance suite does not cover: the exact HMAC formula, the
 * timestamp window and token replay cache, parent-signature, legacy form bodies, the severity
 * remap, microsecond times and user-variables in their odd shapes.
 */
import { createHmac } from 'node:crypto';
import type { z } from 'zod';
import { adapter, type MailgunSettings } from '../../adapters/mailgun';
import type { UnsignedRequest } from '../../src/core/adapter';
import { buildConfig } from '../helpers/config';
import { WebhookParseError, type VerificationReason } from '../../src/core/errors';
import type { EventDraft } from '../../src/core/normalized-event';
import { ReplayCache } from '../../src/core/replay-cache';
import { loadFixtures, toWebhookRequest, unsignedRequest, verdictOf } from '../helpers/fixtures';

const KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
const OTHER_KEY = 'key-parent-account-0000000000000000';
// Mailgun's published example token and a fixed time, so the vector below is reproducible.
const TOKEN = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0';
const TIMESTAMP = '1529006854';
const AT_TIMESTAMP = new Date(Number(TIMESTAMP) * 1000);
// printf '%s' "$TIMESTAMP$TOKEN" | openssl dgst -sha256 -hmac "$KEY"
const OPENSSL_VECTOR = 'b63c0701c4f4b614f272106a1b367c5c3369bcdca664ae73ebd52787e45eef07';

const fixtures = loadFixtures('mailgun');
function fixture(name: string): UnsignedRequest {
  const f = fixtures.find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return unsignedRequest(f);
}

function settings(options: Record<string, unknown> = {}): MailgunSettings {
  return (adapter.settingsSchema as z.ZodType<MailgunSettings>).parse({ signingKey: KEY, ...options });
}

function independentSignature(key: string, timestamp: string, token: string): string {
  return createHmac('sha256', key).update(`${timestamp}${token}`).digest('hex');
}

/** A JSON webhook with a hand-built signature block (no adapter code involved in signing). */
function jsonRequest(
  signature: Record<string, unknown>,
  eventData: Record<string, unknown> = { event: 'delivered', recipient: 'a@example.com', timestamp: 1529692199.626182 },
): UnsignedRequest {
  return {
    method: 'POST',
    url: 'https://hooks.example.com/webhooks/mailgun',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ signature, 'event-data': eventData })),
  };
}

function reasonOf(
  req: UnsignedRequest,
  s: MailgunSettings,
  at: Date,
  cache = new ReplayCache(60_000),
): Promise<VerificationReason | 'ok'> {
  return verdictOf(() => adapter.verify(toWebhookRequest(req, at), s, { replayCache: cache }));
}

function parseOne(req: UnsignedRequest, at = new Date()): EventDraft {
  const drafts = adapter.parse(toWebhookRequest(req, at));
  expect(drafts).toHaveLength(1);
  return drafts[0]!;
}

function withEventData(patch: Record<string, unknown>): UnsignedRequest {
  return jsonRequest(
    { timestamp: TIMESTAMP, token: TOKEN, signature: independentSignature(KEY, TIMESTAMP, TOKEN) },
    {
      event: 'failed',
      id: 'evt',
      timestamp: 1529701969.818328,
      recipient: 'joan@example.com',
      message: { headers: { 'message-id': 'm1@example.org' } },
      ...patch,
    },
  );
}

describe('Mailgun signature formula', () => {
  test('hex HMAC-SHA256(key, timestamp + token) matches an openssl-computed vector', () => {
    expect(independentSignature(KEY, TIMESTAMP, TOKEN)).toBe(OPENSSL_VECTOR);
  });

  test('verify() accepts a body signed by hand with that vector', async () => {
    const req = jsonRequest({ timestamp: TIMESTAMP, token: TOKEN, signature: OPENSSL_VECTOR });
    expect(await reasonOf(req, settings(), AT_TIMESTAMP)).toBe('ok');
  });

  test('verify() rejects the vector under another key, and a separator-joined variant', async () => {
    const req = jsonRequest({ timestamp: TIMESTAMP, token: TOKEN, signature: OPENSSL_VECTOR });
    expect(await reasonOf(req, settings({ signingKey: OTHER_KEY }), AT_TIMESTAMP)).toBe('signature_mismatch');
    const dotted = createHmac('sha256', KEY).update(`${TIMESTAMP}.${TOKEN}`).digest('hex');
    expect(
      await reasonOf(jsonRequest({ timestamp: TIMESTAMP, token: TOKEN, signature: dotted }), settings(), AT_TIMESTAMP),
    ).toBe('signature_mismatch');
  });

  // Symfony's Mailgun bridge tests publish their webhook signing key beside fixtures whose signature
  // blocks it produced (symfony/symfony src/Symfony/Component/Mailer/Bridge/Mailgun/Tests/Webhook,
  // MailgunRequestParserTest::getSecret, MIT): a third-party vector, byte for byte.
  test.each([
    [
      'accepted-symfony',
      '1661621710',
      '885894756b6c371a377f5f9516d60a4db497ad27d4931ed215',
      '606307bb55b72686b1b2a2c8c37ae6e6ec89496592bac4a4eee5a346337d04a5',
    ],
    [
      'failed-permanent-symfony',
      '1661590666',
      'fff0ebc59c0516f4ce0823212a2f45e5c67814420b99fe558b',
      'a0cd251821d8fd56a2130b541becc8e441023574e602fe9829a9ab9fbfdea33f',
    ],
  ])(
    "verify() accepts Symfony's published %s body exactly as published, at its own time",
    async (name, timestamp, token, signature) => {
      const symfonyKey = 'key-0p6mqbf74lb20gzq9f4dhpn9rg3zyk26';
      const f = fixtures.find((x) => x.name === name)!;
      const body = JSON.parse(f.request.body.toString('utf8')) as { signature: Record<string, string> };
      expect(body.signature).toEqual({ token, timestamp, signature });
      const req = unsignedRequest(f);
      const at = new Date(Number(timestamp) * 1000 + 1000);
      expect(independentSignature(symfonyKey, timestamp, token)).toBe(signature);
      expect(await reasonOf(req, settings({ signingKey: symfonyKey }), at)).toBe('ok');
      expect(await reasonOf(req, settings(), at)).toBe('signature_mismatch');
    },
  );

  test('testing.sign() writes a block that the independent formula reproduces', () => {
    const now = new Date('2026-04-27T13:35:00Z');
    const signed = adapter.testing.sign(fixture('delivered'), KEY, now);
    const block = (JSON.parse(signed.body.toString('utf8')) as { signature: Record<string, string> }).signature;
    expect(block.timestamp).toBe('1777296900');
    expect(block.token).toMatch(/^[0-9a-f]{50}$/);
    expect(block.signature).toBe(independentSignature(KEY, block.timestamp!, block.token!));
  });

  test('a missing signature block is missing_signature; a non-numeric timestamp is malformed_signature', async () => {
    const bare: UnsignedRequest = {
      ...jsonRequest({}),
      body: Buffer.from(JSON.stringify({ 'event-data': { event: 'delivered' } })),
    };
    expect(await reasonOf(bare, settings(), AT_TIMESTAMP)).toBe('missing_signature');
    const bad = jsonRequest({ timestamp: 'yesterday', token: TOKEN, signature: OPENSSL_VECTOR });
    expect(await reasonOf(bad, settings(), AT_TIMESTAMP)).toBe('malformed_signature');
  });
});

describe('timestamp window', () => {
  const req = jsonRequest({ timestamp: TIMESTAMP, token: TOKEN, signature: OPENSSL_VECTOR });
  const plus = (seconds: number): Date => new Date(AT_TIMESTAMP.getTime() + seconds * 1000);

  test('defaults to 300 s', () => {
    expect(settings().toleranceSeconds).toBe(300);
  });

  test('accepts 299 s either side, rejects stale and future beyond 300 s', async () => {
    expect(await reasonOf(req, settings(), plus(299))).toBe('ok');
    expect(await reasonOf(req, settings(), plus(-299))).toBe('ok');
    expect(await reasonOf(req, settings(), plus(301))).toBe('timestamp_out_of_tolerance');
    expect(await reasonOf(req, settings(), plus(-301))).toBe('timestamp_out_of_tolerance');
  });

  test('a configured window is honoured', async () => {
    expect(await reasonOf(req, settings({ toleranceSeconds: 15 }), plus(16))).toBe('timestamp_out_of_tolerance');
    expect(await reasonOf(req, settings({ toleranceSeconds: 15 }), plus(14))).toBe('ok');
  });

  test('toleranceSeconds: 0 disables the window', async () => {
    expect(await reasonOf(req, settings({ toleranceSeconds: 0 }), plus(365 * 86_400))).toBe('ok');
  });

  test('a bad signature is reported as such even when the timestamp is stale', async () => {
    const forged = jsonRequest({ timestamp: TIMESTAMP, token: TOKEN, signature: '0'.repeat(64) });
    expect(await reasonOf(forged, settings(), plus(3_600))).toBe('signature_mismatch');
  });
});

describe('token replay cache', () => {
  const req = jsonRequest({ timestamp: TIMESTAMP, token: TOKEN, signature: OPENSSL_VECTOR });

  test('verify() returns mailgun:<token> as the replay key', async () => {
    const result = await adapter.verify(toWebhookRequest(req, AT_TIMESTAMP), settings(), {
      replayCache: new ReplayCache(60_000),
    });
    expect(result).toEqual({ replayKey: `mailgun:${TOKEN}` });
  });

  test('a token already in the cache is rejected as replayed', async () => {
    const cache = new ReplayCache(60_000);
    expect(await reasonOf(req, settings(), AT_TIMESTAMP, cache)).toBe('ok');
    cache.add(`mailgun:${TOKEN}`, AT_TIMESTAMP.getTime()); // what the pipeline does after acknowledging
    expect(await reasonOf(req, settings(), AT_TIMESTAMP, cache)).toBe('replayed');
  });

  test('a fresh token is accepted while another is cached', async () => {
    const cache = new ReplayCache(60_000);
    cache.add(`mailgun:${TOKEN}`, AT_TIMESTAMP.getTime());
    const token = 'b'.repeat(50);
    const other = jsonRequest({ timestamp: TIMESTAMP, token, signature: independentSignature(KEY, TIMESTAMP, token) });
    expect(await reasonOf(other, settings(), AT_TIMESTAMP, cache)).toBe('ok');
  });
});

describe('subaccount parent-signature', () => {
  const parent = independentSignature(OTHER_KEY, TIMESTAMP, TOKEN);

  test('accepted when only the parent-signature matches a configured key', async () => {
    const req = jsonRequest({
      timestamp: TIMESTAMP,
      token: TOKEN,
      signature: independentSignature('subaccount-key', TIMESTAMP, TOKEN),
      'parent-signature': parent,
    });
    expect(await reasonOf(req, settings({ signingKey: OTHER_KEY }), AT_TIMESTAMP)).toBe('ok');
    expect(await reasonOf(req, settings({ signingKey: [KEY, OTHER_KEY] }), AT_TIMESTAMP)).toBe('ok');
  });

  test('rejected when neither signature matches', async () => {
    const req = jsonRequest({
      timestamp: TIMESTAMP,
      token: TOKEN,
      signature: '1'.repeat(64),
      'parent-signature': parent,
    });
    expect(await reasonOf(req, settings({ signingKey: KEY }), AT_TIMESTAMP)).toBe('signature_mismatch');
  });
});

describe('legacy form-encoded webhooks', () => {
  const now = new Date('2026-04-27T13:35:00Z');

  test('a signed legacy form is verified and parsed, its signed timestamp being the event time', async () => {
    const signed = adapter.testing.sign(fixture('legacy-form-delivered'), KEY, now);
    const form = new URLSearchParams(signed.body.toString('utf8'));
    expect(form.get('signature')).toBe(independentSignature(KEY, form.get('timestamp')!, form.get('token')!));
    expect(await reasonOf(signed, settings(), now)).toBe('ok');
    const draft = parseOne(signed, now);
    expect(draft).toMatchObject({
      type: 'email.delivered',
      providerEvent: 'delivered',
      occurredAt: '2026-04-27T13:35:00Z',
      messageId: '20160421175529.1.AB12CD34EF56@mg.example.org',
      email: 'grace@example.com',
      overrides: { userId: 'u_legacy_1' },
    });
  });

  test("a user variable named like a signature field does not shadow Mailgun's own (last value wins)", async () => {
    const ts = String(Math.floor(now.getTime() / 1000));
    const body = new URLSearchParams([
      ['token', 'user-variable-token'],
      ['event', 'dropped'],
      ['recipient', 'x@example.com'],
      ['code', '605'],
      ['timestamp', ts],
      ['token', TOKEN],
      ['signature', independentSignature(KEY, ts, TOKEN)],
    ]).toString();
    const req: UnsignedRequest = { ...fixture('legacy-form-delivered'), body: Buffer.from(body) };
    expect(await reasonOf(req, settings(), now)).toBe('ok');
    const draft = parseOne(req, now);
    expect(draft.type).toBe('email.rejected');
    expect(draft.details).toMatchObject({ deliveryStatusCode: 605 });
  });

  test('stripSignature() removes the form fields, and verify() then reports missing_signature', async () => {
    const stripped = adapter.testing.stripSignature(adapter.testing.sign(fixture('legacy-form-delivered'), KEY, now));
    const form = new URLSearchParams(stripped.body.toString('utf8'));
    expect(['timestamp', 'token', 'signature'].filter((n) => form.has(n))).toEqual([]);
    expect(await reasonOf(stripped, settings(), now)).toBe('missing_signature');
  });

  test('raw keeps every form field as data, a repeated one as its list, one named __proto__ too', () => {
    const req: UnsignedRequest = {
      ...fixture('legacy-form-delivered'),
      body: Buffer.from('event=delivered&recipient=x%40example.com&tag=a&tag=b&__proto__=p&__proto__=q'),
    };
    const raw = parseOne(req, now).raw as Record<string, unknown>;
    expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
    expect(Object.keys(raw)).toEqual(['event', 'recipient', 'tag', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(raw, '__proto__')?.value).toEqual(['p', 'q']);
    expect(raw.tag).toEqual(['a', 'b']);
  });

  test('an inbound-route form (no event, has sender) is a parse error that says so', () => {
    const req: UnsignedRequest = {
      ...fixture('legacy-form-delivered'),
      body: Buffer.from('sender=a%40example.com&subject=hi'),
    };
    expect(() => adapter.parse(toWebhookRequest(req, now))).toThrow(/inbound route/);
  });
});

describe('failed: severity remap', () => {
  test.each([
    ['permanent', 'email.bounced'],
    ['temporary', 'email.deferred'],
    [undefined, 'email.bounced'],
    ['constructor', 'email.bounced'],
  ])('severity %s → %s', (severity, type) => {
    expect(parseOne(withEventData({ severity })).type).toBe(type);
  });

  test('reason does not change the type (anymail semantics) but is kept in details', () => {
    const draft = parseOne(
      withEventData({
        severity: 'permanent',
        reason: 'suppress-bounce',
        'delivery-status': { code: 605, message: '', description: 'Not delivering to previously bounced address' },
      }),
    );
    expect(draft.type).toBe('email.bounced');
    expect(draft.details).toEqual({
      severity: 'permanent',
      reason: 'suppress-bounce',
      deliveryStatusCode: 605,
      deliveryStatusDescription: 'Not delivering to previously bounced address',
    });
  });

  test('email.deferred is declared, so a source can map it and the config check sees it', () => {
    expect(adapter.emittedTypes).toContain('email.deferred');
    const config = buildConfig({
      distinct: { apiKey: 'k' },
      registry: { registration_email: ['sent', 'delivered', 'opened', 'deferred'] },
      sources: {
        mailgun: {
          feature: 'registration_email',
          experienceId: 'e',
          signingKey: KEY,
          actions: { 'email.deferred': 'deferred' },
        },
      },
    });
    expect(config.sources.get('mailgun')!.actions['email.deferred']).toBe('deferred');
  });
});

describe('event time', () => {
  test.each([
    [1529692199.626182, '2018-06-22T18:29:59.626182Z'],
    [1666214138.4046676, '2022-10-19T21:15:38.4046676Z'],
    [1529692199, '2018-06-22T18:29:59Z'],
  ])('%s keeps its fraction exactly: %s', (timestamp, iso) => {
    expect(parseOne(withEventData({ event: 'delivered', timestamp })).occurredAt).toBe(iso);
  });

  test('absent time is null, never invented; a garbage time names its path', () => {
    expect(parseOne(withEventData({ event: 'delivered', timestamp: undefined })).occurredAt).toBeNull();
    expect(() => parseOne(withEventData({ timestamp: 'soon' }))).toThrow(/event-data\.timestamp/);
  });
});

describe('user-variables and details', () => {
  test('user-variables given as a JSON string are read', () => {
    const draft = parseOne(
      withEventData({
        event: 'opened',
        'user-variables': JSON.stringify({ distinct_user_id: 'u_7', distinct_experience_id: 99 }),
      }),
    );
    expect(draft.overrides).toEqual({ userId: 'u_7', experienceId: '99' });
  });

  test('unreadable or non-scalar user-variables give no overrides, not an error', () => {
    expect(parseOne(withEventData({ 'user-variables': '{not json' })).overrides).toEqual({});
    expect(
      parseOne(withEventData({ 'user-variables': { distinct_user_id: { nested: true }, distinct_feature: '' } }))
        .overrides,
    ).toEqual({});
  });

  test('opened keeps the bot hint, clicked the URL, tags are joined', () => {
    const opened = parseOne(withEventData({ event: 'opened', 'client-info': { bot: 'apple' }, tags: ['a', 'b'] }));
    expect(opened.details).toEqual({ bot: 'apple', machineOpen: true, tags: 'a,b' });
    const clicked = parseOne(
      withEventData({ event: 'clicked', url: 'https://example.com/x', 'client-info': { bot: '' } }),
    );
    expect(clicked.details).toEqual({ url: 'https://example.com/x' });
  });

  test('a missing event name is a parse error naming event-data.event', () => {
    let caught: unknown;
    try {
      parseOne(withEventData({ event: undefined }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WebhookParseError);
    expect((caught as WebhookParseError).path).toBe('event-data.event');
  });
});

describe('testing helpers', () => {
  const now = new Date('2026-04-27T13:35:00.123Z');

  test.each([
    'email.sent',
    'email.rejected',
    'email.delivered',
    'email.bounced',
    'email.deferred',
    'email.opened',
    'email.clicked',
    'email.unsubscribed',
    'email.complained',
  ])('sample(%s) signs, verifies and parses back to that type with the overrides', async (type) => {
    const { options, signer } = adapter.testing.createCredentials();
    const s = (adapter.settingsSchema as z.ZodType<MailgunSettings>).parse(options);
    const built = adapter.testing.sample({
      type,
      recipient: 'Pat@example.com',
      now,
      overrides: { distinct_user_id: 'u_9' },
    });
    const req = adapter.testing.sign(
      { method: 'POST', url: 'https://hooks.example.com/webhooks/mailgun', headers: built.headers, body: built.body },
      signer,
      now,
    );
    expect(await reasonOf(req, s, now)).toBe('ok');
    const draft = parseOne(req, now);
    expect(draft).toMatchObject({
      type,
      email: 'Pat@example.com',
      overrides: { userId: 'u_9' },
      occurredAt: '2026-04-27T13:35:00.123Z',
    });
  });

  test('signerFromOptions() takes the first of a rotated list', () => {
    expect(adapter.testing.signerFromOptions({ signingKey: ['new', 'old'] })).toBe('new');
    expect(adapter.testing.signerFromOptions({ signingKey: KEY })).toBe(KEY);
    expect(adapter.testing.signerFromOptions({})).toBeUndefined();
  });

  test('settings reject unknown keys', () => {
    expect(adapter.settingsSchema.safeParse({ signingKey: KEY, apiKey: 'x' }).success).toBe(false);
  });
});
