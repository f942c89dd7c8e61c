/**
 * Resend quirks the shared conformance suite does not cover. No Svix/standardwebhooks SDK is
 * installed, so signatures are checked against the Standard Webhooks published vector (in
 * test/unit/standard-webhooks.test.ts) and here against HMACs computed with node:crypto directly.
 */
import { createHmac } from 'node:crypto';
import { adapter } from '../../adapters/resend';
import type { UnsignedRequest } from '../../src/core/adapter';
import { WebhookParseError, type VerificationReason } from '../../src/core/errors';
import { completeDraft } from '../../src/mapping/normalize';
import { ReplayCache } from '../../src/core/replay-cache';
import { generateSigningSecret, signStandardWebhook, WEBHOOK_HEADERS } from '../../src/verify/standard-webhooks';
import { signedOwnSample, toWebhookRequest, verdictOf } from '../helpers/fixtures';

const NOW = new Date('2026-04-27T13:40:00Z');
const URL = 'https://hooks.example.com/webhooks/resend';
const JSON_HEADERS = { 'content-type': 'application/json' };

type Settings = Parameters<typeof adapter.verify>[1];

function body(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

const SENT = {
  type: 'email.sent',
  created_at: '2026-04-27T13:39:58.123Z',
  data: {
    created_at: '2026-04-27T13:39:57.5+00:00',
    email_id: 'e-1',
    from: 'Acme <onboarding@resend.dev>',
    to: ['ada@example.com'],
    subject: 'Hi',
  },
};

function verifyReason(req: UnsignedRequest, settings: Settings): Promise<VerificationReason | 'ok'> {
  return verdictOf(() =>
    adapter.verify(toWebhookRequest(req, NOW), settings, { replayCache: new ReplayCache(60_000) }),
  );
}

function parse(raw: Buffer, headers: Record<string, string> = JSON_HEADERS) {
  return adapter.parse(toWebhookRequest({ method: 'POST', url: URL, headers, body: raw }, NOW));
}

describe('verification', () => {
  const secret = generateSigningSecret();
  const settings = adapter.settingsSchema.parse({ signingSecret: secret });

  test('a signature computed with node:crypto from the svix-* headers and the raw body verifies', async () => {
    const raw = body(SENT);
    const ts = String(Math.floor(NOW.getTime() / 1000));
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const sig = createHmac('sha256', key)
      .update(`msg_1.${ts}.${raw.toString('utf8')}`)
      .digest('base64');
    const headers = { ...JSON_HEADERS, 'svix-id': 'msg_1', 'svix-timestamp': ts, 'svix-signature': `v1,${sig}` };
    expect(await verifyReason({ method: 'POST', url: URL, headers, body: raw }, settings)).toBe('ok');
  });

  test("the spec's webhook-* header names verify too (the Resend SDK maps svix-* onto them)", async () => {
    const raw = body(SENT);
    const headers = signStandardWebhook({ ...JSON_HEADERS }, raw, secret, NOW, WEBHOOK_HEADERS);
    expect(headers['webhook-signature']).toBeDefined();
    expect(await verifyReason({ method: 'POST', url: URL, headers, body: raw }, settings)).toBe('ok');
  });

  test('while Resend rotates, a header signed with old and new secrets verifies with either one configured', async () => {
    const old = generateSigningSecret();
    const raw = body(SENT);
    const a = signStandardWebhook({ 'svix-id': 'msg_rot' }, raw, old, NOW, {
      id: 'svix-id',
      timestamp: 'svix-timestamp',
      signature: 'svix-signature',
    });
    const b = signStandardWebhook({ 'svix-id': 'msg_rot' }, raw, secret, NOW, {
      id: 'svix-id',
      timestamp: 'svix-timestamp',
      signature: 'svix-signature',
    });
    const headers = { ...a, 'svix-signature': `${a['svix-signature']} ${b['svix-signature']}` };
    expect(await verifyReason({ method: 'POST', url: URL, headers, body: raw }, settings)).toBe('ok');
    expect(
      await verifyReason(
        { method: 'POST', url: URL, headers, body: raw },
        adapter.settingsSchema.parse({ signingSecret: old }),
      ),
    ).toBe('ok');
    const stranger = adapter.settingsSchema.parse({ signingSecret: generateSigningSecret() });
    expect(await verifyReason({ method: 'POST', url: URL, headers, body: raw }, stranger)).toBe('signature_mismatch');
  });

  test('a body re-serialized with spaces no longer verifies (only the raw bytes count)', async () => {
    const signed = adapter.testing.sign(
      { method: 'POST', url: URL, headers: { ...JSON_HEADERS }, body: body(SENT) },
      secret,
      NOW,
    );
    const pretty = Buffer.from(JSON.stringify(SENT, null, 2), 'utf8');
    expect(await verifyReason({ ...signed, body: pretty }, settings)).toBe('signature_mismatch');
  });

  test('toleranceSeconds defaults to 300 and 0 turns the window off', async () => {
    expect(settings.toleranceSeconds).toBe(300);
    const stale = adapter.testing.sign(
      { method: 'POST', url: URL, headers: { ...JSON_HEADERS }, body: body(SENT) },
      secret,
      new Date(NOW.getTime() - 86_400_000),
    );
    expect(await verifyReason(stale, settings)).toBe('timestamp_out_of_tolerance');
    expect(
      await verifyReason(stale, adapter.settingsSchema.parse({ signingSecret: secret, toleranceSeconds: 0 })),
    ).toBe('ok');
  });

  test('a signingSecret that is not whsec_ base64 fails the settings schema with a clear message and no echo', () => {
    const result = adapter.settingsSchema.safeParse({ signingSecret: 're_123 not a secret' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/whsec_ followed by base64/);
    expect(JSON.stringify(result.error?.issues)).not.toContain('re_123');
  });
});

describe('parsing', () => {
  test('one event with two recipients becomes two drafts sharing the svix-id but never the de-dup key', () => {
    const event = { ...SENT, data: { ...SENT.data, to: ['ada@example.com', 'Grace <grace@example.org>'] } };
    const drafts = parse(body(event), { ...JSON_HEADERS, 'svix-id': 'msg_same' });
    expect(drafts.map((d) => [d.email, d.providerEventId])).toEqual([
      ['ada@example.com', 'msg_same'],
      ['grace@example.org', 'msg_same'],
    ]);
    const keys = drafts.map((d) => completeDraft(d, adapter, 'resend', NOW).dedupeKey);
    expect(new Set(keys).size).toBe(2);
  });

  test('the event time is the top-level created_at, not data.created_at; milliseconds are kept', () => {
    expect(parse(body(SENT))[0]!.occurredAt).toBe('2026-04-27T13:39:58.123Z');
  });

  test('an event without created_at has no event time (never invented)', () => {
    const { created_at: _c, ...rest } = SENT;
    expect(parse(body(rest))[0]!.occurredAt).toBeNull();
  });

  test('tags as an object map or as [{name, value}] give the same overrides; other tags and non-scalars are ignored', () => {
    const asMap = { distinct_user_id: 'u_1', distinct_experience_id: 'exp_2', category: 'welcome' };
    const asList = [
      { name: 'distinct_user_id', value: 'u_1' },
      { name: 'distinct_experience_id', value: 'exp_2' },
      { name: 'distinct_feature', value: { nested: true } },
      { name: 'category', value: 'welcome' },
    ];
    for (const tags of [asMap, asList]) {
      expect(parse(body({ ...SENT, data: { ...SENT.data, tags } }))[0]!.overrides).toEqual({
        userId: 'u_1',
        experienceId: 'exp_2',
      });
    }
  });

  test('a tag named __proto__ is ignored, not merged into the prototype', () => {
    const tags = JSON.parse(
      '{"__proto__": {"distinct_user_id": "evil"}, "distinct_feature": "registration_email"}',
    ) as unknown;
    expect(parse(body({ ...SENT, data: { ...SENT.data, tags } }))[0]!.overrides).toEqual({
      feature: 'registration_email',
    });
  });

  test.each([
    ['an array body', [SENT], ''],
    ['data that is not an object', { ...SENT, data: 'x' }, 'data'],
    ['a missing type', { ...SENT, type: undefined }, 'type'],
  ])('%s is a parse error naming its path', (_n, value, path) => {
    try {
      parse(body(value));
      throw new Error('expected a parse error');
    } catch (err) {
      expect(err).toBeInstanceOf(WebhookParseError);
      if (path) expect((err as WebhookParseError).path).toBe(path);
    }
  });
});

describe('testing.sample (simulate)', () => {
  test.each([
    'email.sent',
    'email.delivered',
    'email.opened',
    'email.bounced',
    'email.clicked',
    'email.deferred',
    'email.rejected',
  ])('%s: a signed sample verifies and parses to that type, echoing overrides as tags', async (type) => {
    const creds = adapter.testing.createCredentials();
    const signed = signedOwnSample(adapter, creds.signer, {
      type,
      recipient: 'jane@example.com',
      now: NOW,
      overrides: { distinct_user_id: 'u_7' },
    });
    expect(await verifyReason(signed, adapter.settingsSchema.parse(creds.options))).toBe('ok');
    const [draft] = parse(signed.body, signed.headers);
    expect(draft).toMatchObject({
      type,
      email: 'jane@example.com',
      overrides: { userId: 'u_7' },
      occurredAt: NOW.toISOString(),
    });
    expect(adapter.testing.signerFromOptions(creds.options)).toBe(creds.signer);
  });

  test('an unknown type names the ones it has', () => {
    expect(() => adapter.testing.sample({ type: 'sms.sent', recipient: 'a@b.c', now: NOW })).toThrow(/email\.sent/);
  });
});
