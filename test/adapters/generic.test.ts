/**
 * Generic source (the vendor's own systems): validation messages, de-duplication without ids,
 * Svix header names, and the mapping stage forwarding each event's own pair (checked against the
 * registry on arrival) over real HTTP with a real SQLite queue.
 */
import { adapter } from '../../adapters/generic';
import type { UnsignedRequest } from '../../src/core/adapter';
import { buildConfig } from '../helpers/config';
import { type VerificationReason } from '../../src/core/errors';
import { completeDraft } from '../../src/mapping/normalize';
import { toDistinct } from '../../src/mapping/to-distinct';
import { ReplayCache } from '../../src/core/replay-cache';
import { generateSigningSecret, signStandardWebhook, SVIX_HEADERS } from '../../src/verify/standard-webhooks';
import { parseErrorOf, signedOwnSample, toWebhookRequest, verdictOf } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:40:00Z');
const URL_ = 'https://hooks.example.com/webhooks/generic';
const JSON_HEADERS = { 'content-type': 'application/json' };
const VIEW = { userId: 'u_1', feature: 'page_visit', action: 'viewed', capturedAt: '2026-04-27T13:35:00Z' };

function request(value: unknown): UnsignedRequest {
  return {
    method: 'POST',
    url: URL_,
    headers: { ...JSON_HEADERS },
    body: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  };
}

function parse(value: unknown) {
  return adapter.parse(toWebhookRequest(request(value), NOW));
}

const parseError = (value: unknown): string => parseErrorOf(() => parse(value)).message;

describe('validation names the field and the index', () => {
  test.each([
    [
      'a zoneless capturedAt in a batch',
      [VIEW, VIEW, { ...VIEW, capturedAt: '2026-04-27 13:35:00' }],
      '[2].capturedAt: must be ISO 8601 with a time zone, e.g. 2026-04-27T13:35:00Z',
    ],
    [
      'a date-only capturedAt in a single event',
      { ...VIEW, capturedAt: '2026-04-27' },
      'capturedAt: must be ISO 8601 with a time zone, e.g. 2026-04-27T13:35:00Z',
    ],
    [
      'an impossible date',
      { ...VIEW, capturedAt: '2026-02-30T10:00:00Z' },
      'capturedAt: must be ISO 8601 with a time zone, e.g. 2026-04-27T13:35:00Z',
    ],
    ['a numeric capturedAt', { ...VIEW, capturedAt: 1777297200 }, 'capturedAt: must be a non-empty string'],
    ['a missing feature', [VIEW, { ...VIEW, feature: undefined }], '[1].feature: is required'],
    ['an empty action', { ...VIEW, action: ' ' }, 'action: must be a non-empty string'],
    [
      'no identifier',
      [VIEW, { feature: 'page_visit', action: 'viewed', capturedAt: VIEW.capturedAt }],
      '[1]: needs at least one of userId, email, phone',
    ],
    [
      'a misspelt field',
      { ...VIEW, experienceID: 'x' },
      'experienceID: unknown field (allowed: id, userId, email, phone, feature, action, experienceId, capturedAt, metadata)',
    ],
    ['a bad e-mail', { ...VIEW, email: 'ada(at)example.com' }, 'email: must be an e-mail address'],
    [
      'a short code as phone',
      { ...VIEW, phone: '12345' },
      'phone: must be a phone number in E.164 form, e.g. +14155550100',
    ],
    [
      'nested metadata',
      { ...VIEW, metadata: { utm: { source: 'x' } } },
      'metadata.utm: must be a string, number or boolean (nested values are not supported)',
    ],
    [
      'a reserved metadata key',
      { ...VIEW, metadata: { provider: 'me' } },
      'metadata.provider: is reserved: the service sets it',
    ],
    [
      'metadata that is a list',
      { ...VIEW, metadata: ['a'] },
      'metadata: must be a JSON object of strings, numbers and booleans',
    ],
    ['an event that is not an object', [VIEW, 'page_visit/viewed'], '[1]: each event must be a JSON object'],
    ['a string body', '"page_visit/viewed"', 'the body must be one event (a JSON object) or a JSON array of events'],
  ])('%s', (_n, value, message) => {
    expect(parseError(value)).toBe(message);
  });

  test('more than 1000 events per request are refused', () => {
    expect(parseError(Array.from({ length: 1001 }, () => VIEW))).toMatch(/holds 1001 events; send at most 1000/);
  });

  test('null means absent for optional fields; a numeric userId and id become strings', () => {
    const [draft] = parse({
      ...VIEW,
      userId: 42,
      id: 7,
      email: null,
      experienceId: null,
      metadata: { a: null, b: '', c: 0 },
    });
    expect(draft).toMatchObject({ providerEventId: '7', overrides: { userId: '42' }, details: { c: 0 } });
    expect(draft!.email).toBeUndefined();
    expect(draft!.details).toEqual({ c: 0 });
  });

  test('an empty batch is no error and yields no events', () => {
    expect(parse([])).toEqual([]);
  });
});

describe('de-duplication', () => {
  const key = (value: unknown) => completeDraft(parse(value)[0]!, adapter, 'generic', NOW).dedupeKey;

  test('without an id, the key covers the whole event: same content same key, any field changed another key', () => {
    const base = { ...VIEW, metadata: { a: 1, b: 'x' } };
    expect(key(base)).toBe(key({ ...VIEW, metadata: { b: 'x', a: 1 } })); // key order is irrelevant
    for (const change of [
      { userId: 'u_2' },
      { metadata: { a: 2, b: 'x' } },
      { experienceId: 'e2' },
      { capturedAt: '2026-04-27T13:35:01Z' },
    ]) {
      expect(key({ ...base, ...change })).not.toBe(key(base));
    }
  });

  test('with an id, the id decides (a retry with other metadata is the same event)', () => {
    expect(key({ ...VIEW, id: 'evt_1', metadata: { try: 1 } })).toBe(
      key({ ...VIEW, id: 'evt_1', metadata: { try: 2 } }),
    );
  });

  test('the stand-in id is labelled as derived', () => {
    expect(parse(VIEW)[0]!.providerEventId).toMatch(/^content-sha256:[A-Za-z0-9_-]{32}$/);
  });
});

describe('verification', () => {
  const secret = generateSigningSecret();
  const settings = adapter.settingsSchema.parse({ signingSecret: secret });
  const reason = (r: UnsignedRequest): Promise<VerificationReason | 'ok'> => {
    return verdictOf(() =>
      adapter.verify(toWebhookRequest(r, NOW), settings, { replayCache: new ReplayCache(60_000) }),
    );
  };

  test('a request signed by a Svix library (svix-* headers) verifies like webhook-*', async () => {
    const r = request(VIEW);
    expect(await reason({ ...r, headers: signStandardWebhook(r.headers, r.body, secret, NOW, SVIX_HEADERS) })).toBe(
      'ok',
    );
    expect(await reason(adapter.testing.sign(r, secret, NOW))).toBe('ok');
  });

  test('an unsigned request is refused (missing_signature)', async () => {
    expect(await reason(request(VIEW))).toBe('missing_signature');
  });
});

describe('mapping: each event forwards its own pair', () => {
  const config = buildConfig(
    {
      distinct: { apiKey: 'k' },
      sources: {
        generic: { feature: 'page_visit', experienceId: 'exp_default', signingSecret: generateSigningSecret() },
      },
    },
    {},
    null,
    [adapter],
  );
  const source = config.sources.get('generic')!;
  const outcome = (value: unknown) =>
    toDistinct(completeDraft(parse(value)[0]!, adapter, 'generic', NOW), source, config.registry);

  test('a registered pair is forwarded in registry spelling, with the configured experienceId as default', () => {
    expect(outcome({ ...VIEW, feature: 'USER_COLLECTIBLE', action: 'Downloaded' })).toMatchObject({
      kind: 'forward',
      event: {
        feature: 'user_collectible',
        action: 'downloaded',
        experienceId: 'exp_default',
        userId: 'u_1',
        capturedAt: VIEW.capturedAt,
      },
    });
  });

  test("an unregistered pair is dead-lettered invalid_pair, naming the event's pair", () => {
    expect(outcome({ ...VIEW, feature: 'onboarding', action: 'completed' })).toMatchObject({
      kind: 'dead_letter',
      reason: 'invalid_pair',
      detail: 'the event names onboarding/completed, which is not in the registry',
    });
  });

  test("the vendor's metadata reaches Distinct's metadata next to the service's own keys", () => {
    const o = outcome({ ...VIEW, id: 'evt_9', metadata: { path: '/pricing', ms: 1200 } });
    expect(o.kind === 'forward' && o.event.metadata).toEqual({
      provider: 'generic',
      providerEvent: 'page_visit/viewed',
      eventType: 'app.event',
      providerEventId: 'evt_9',
      path: '/pricing',
      ms: 1200,
    });
  });
});

describe('testing.sample (simulate)', () => {
  test.each([
    ['app.event', 'page_visit/viewed', 'app.event'],
    ['app.unknown', 'onboarding/completed', 'app.unknown'],
    ['user_collectible/downloaded', 'user_collectible/downloaded', 'app.event'],
  ])('%s → a signed %s event that verifies and parses', async (type, pair, normalized) => {
    const creds = adapter.testing.createCredentials();
    const r = signedOwnSample(adapter, creds.signer, {
      type,
      recipient: '+15017250604',
      now: NOW,
      overrides: { distinct_user_id: 'u_7' },
    });
    await expect(
      Promise.resolve(
        adapter.verify(toWebhookRequest(r, NOW), adapter.settingsSchema.parse(creds.options), {
          replayCache: new ReplayCache(1),
        }),
      ),
    ).resolves.toBeUndefined();
    expect(adapter.parse(toWebhookRequest(r, NOW))).toEqual([
      expect.objectContaining({
        type: normalized,
        providerEvent: pair,
        phone: '+15017250604',
        overrides: expect.objectContaining({ userId: 'u_7' }),
      }),
    ]);
  });

  test('a type that is neither app.* nor a pair names the choices', () => {
    expect(() => adapter.testing.sample({ type: 'app.delivered', recipient: 'a@b.co', now: NOW })).toThrow(
      /app\.event, app\.unknown or a feature\/action pair/,
    );
  });
});

describe('over HTTP', () => {
  const secret = generateSigningSecret();

  const app = useLoopbackApp(() =>
    loopbackConfig(adapter, {
      'web-app': { provider: 'generic', feature: 'page_visit', experienceId: 'exp_http', signingSecret: secret },
    }),
  );

  async function post(value: unknown): Promise<Response> {
    const signed = adapter.testing.sign(request(value), secret, new Date());
    return fetch(`${app.origin}/webhooks/web-app`, { method: 'POST', headers: signed.headers, body: signed.body });
  }

  test('a signed batch: registered pairs queued, an unregistered one dead-lettered, a re-post absorbed as duplicates', async () => {
    const batch = [
      VIEW,
      { ...VIEW, feature: 'user_collectible', action: 'viewed', email: 'ada@example.com', experienceId: '47Gop5' },
      { ...VIEW, feature: 'onboarding', action: 'completed' },
    ];
    const res = await post(batch);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: 3, queued: 2, deadLettered: 1 });
    const leases = await app.queue.claim(10);
    expect(leases.map((l) => l.message.event)).toEqual([
      expect.objectContaining({ feature: 'page_visit', action: 'viewed', userId: 'u_1', experienceId: 'exp_http' }),
      expect.objectContaining({
        feature: 'user_collectible',
        action: 'viewed',
        email: 'ada@example.com',
        experienceId: '47Gop5',
      }),
    ]);
    expect(await (await post(batch)).json()).toMatchObject({ received: 3, queued: 0, duplicates: 3 });
  });

  test('a validation error is a 400 whose message names the index and field', async () => {
    const res = await post([VIEW, { ...VIEW, capturedAt: 'yesterday' }]);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'ERR_WEBHOOK_PARSE',
      message: '[1].capturedAt: must be ISO 8601 with a time zone, e.g. 2026-04-27T13:35:00Z',
    });
  });
});
