/**
 * Plivo quirks the shared conformance suite does not cover.
 *
 * V2 (what Plivo sends to message and status URLs) is pinned with plivo-node's own vectors
 * (github.com/plivo/plivo-node `test/utils.js`, the `validateSignature` cases), ported verbatim.
 * Plivo's SDKs publish no V3 test vector, so that construction is pinned with strings written out
 * by hand from plivo-node's `v3Security.js` (and plivo-python's `signature_v3.py`), and the HMAC
 * is recomputed independently with node:crypto.
 */
import { createHmac } from 'node:crypto';
import { adapter } from '../../adapters/plivo';
import type { UnsignedRequest } from '../../src/core/adapter';
import { type VerificationReason } from '../../src/core/errors';
import { ReplayCache } from '../../src/core/replay-cache';
import {
  computePlivoV2Signature,
  computePlivoV3Signature,
  plivoV2BaseUrl,
  plivoV3BaseString,
  validatePlivoV2Signature,
} from '../../src/verify/plivo-signature';
import { signedOwnSample, toWebhookRequest, verdictOf } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:40:00Z');
const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4OTA';
const NONCE = '24725744043720739450';
const BASE = 'https://hooks.example.com/webhooks/plivo';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const PARAMS = { To: ['14155550123'], MessageUUID: ['5a2c4d2e-6f1b-11ef-9c4b-0242ac120002'], Status: ['delivered'] };

type Settings = Parameters<typeof adapter.verify>[1];
const settingsFor = (authToken: string | string[] = TOKEN): Settings => adapter.settingsSchema.parse({ authToken });

/** HMAC-SHA256 base64 of `base.nonce`, computed here without the module under test. */
const independent = (token: string, base: string, nonce = NONCE): string =>
  createHmac('sha256', token).update(`${base}.${nonce}`).digest('base64');

function post(url: string, body: string, signature: string, nonce = NONCE): UnsignedRequest {
  return {
    method: 'POST',
    url,
    headers: { ...FORM, 'x-plivo-signature-v3': signature, 'x-plivo-signature-v3-nonce': nonce },
    body: Buffer.from(body),
  };
}

function verifyReason(
  req: UnsignedRequest,
  settings: Settings = settingsFor(),
  replayCache = new ReplayCache(60_000),
): Promise<VerificationReason | 'ok'> {
  return verdictOf(() => adapter.verify(toWebhookRequest(req, NOW), settings, { replayCache }));
}

const BODY = 'To=14155550123&MessageUUID=5a2c4d2e-6f1b-11ef-9c4b-0242ac120002&Status=delivered';

describe('V3 base string (plivo-node construct_post_url / construct_get_url)', () => {
  test('POST with query and body: sorted query, ".", then sorted name+value pairs without separators', () => {
    expect(plivoV3BaseString('POST', `${BASE}?b=2&a=1&a=0`, PARAMS)).toBe(
      `${BASE}?a=0&a=1&b=2.MessageUUID5a2c4d2e-6f1b-11ef-9c4b-0242ac120002Statusdelivered` + 'To14155550123',
    );
  });

  test('POST without query: a bare "?" before the body pairs, no "."', () => {
    expect(plivoV3BaseString('POST', BASE, PARAMS)).toBe(
      `${BASE}?MessageUUID5a2c4d2e-6f1b-11ef-9c4b-0242ac120002StatusdeliveredTo14155550123`,
    );
  });

  test('POST with query but no body: the query only; neither parameters: the URL alone', () => {
    expect(plivoV3BaseString('POST', `${BASE}?distinct_user_id=u_1`, {})).toBe(`${BASE}?distinct_user_id=u_1`);
    expect(plivoV3BaseString('POST', BASE, {})).toBe(BASE);
  });

  test('GET: every query parameter sorted, body ignored', () => {
    expect(plivoV3BaseString('GET', `${BASE}?Status=sent&MessageUUID=m1&distinct_user_id=u_1`, PARAMS)).toBe(
      `${BASE}?MessageUUID=m1&Status=sent&distinct_user_id=u_1`,
    );
  });

  test('query values are decoded like querystring.parse (+ is a space, %2B a plus); repeated body values are sorted', () => {
    expect(plivoV3BaseString('POST', `${BASE}?x=a+b&y=%2B1`, { Z: ['2', '1'] })).toBe(`${BASE}?x=a b&y=+1.Z1Z2`);
  });

  test('the URL is taken as given: port and trailing slash are signed; the fragment is not', () => {
    expect(plivoV3BaseString('POST', 'https://hooks.example.com:8443/webhooks/plivo/#x', {})).toBe(
      'https://hooks.example.com:8443/webhooks/plivo/',
    );
    expect(plivoV3BaseString('POST', 'not a url', {})).toBeNull();
  });

  test('signature = base64(HMAC-SHA256(authToken, base + "." + nonce)), recomputed independently', () => {
    const url = `${BASE}?distinct_user_id=u_1`;
    expect(computePlivoV3Signature(TOKEN, 'POST', url, PARAMS, NONCE)).toBe(
      independent(TOKEN, plivoV3BaseString('POST', url, PARAMS)!),
    );
    expect(
      independent(
        TOKEN,
        `${BASE}?distinct_user_id=u_1.MessageUUID5a2c4d2e-6f1b-11ef-9c4b-0242ac120002StatusdeliveredTo14155550123`,
      ),
    ).toBe(computePlivoV3Signature(TOKEN, 'POST', url, PARAMS, NONCE));
  });
});

/** plivo-node `test/utils.js` (github.com/plivo/plivo-node): `validateSignature(uri, nonce, signature, authToken)` cases. */
const PLIVO_NODE_V2_VECTORS: ReadonlyArray<
  [uri: string, nonce: string, signature: string, token: string, valid: boolean]
> = [
  ['https://answer.url', '12345', 'ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=', 'my_auth_token', true],
  ['https://answer.url:8000', '12345', 'ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=', 'my_auth_token', false],
  [
    'https://answer.url:8000',
    '24725744043720739450',
    'LDphWoWimP4QM5AoWI1uwP6WmlWtt5ITPZjXIWYvCNU=',
    'my_auth_token',
    true,
  ],
  ['https://answer.url', '123456', 'ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=', 'my_auth_tokens', false],
  ['https://answer.url:8080', '123456', 'xeV6S6BPIQJ/rgKCjCm/Fo2ve5zNe1fatQoHyRT8vxQ=', 'my_auth_tokens', true],
  ['https://answer.url:8080', '12345', 'ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=', 'my_auth_token', false],
];

describe('V2 signature (plivo-node validateSignature vectors)', () => {
  test.each(PLIVO_NODE_V2_VECTORS)('%s nonce %s → %s (%s): %s', (uri, nonce, signature, token, valid) => {
    expect(validatePlivoV2Signature([token], [signature], uri, nonce)).toBe(valid);
    if (valid) expect(computePlivoV2Signature(token, uri, nonce)).toBe(signature);
  });

  test('the query and fragment are not signed; scheme, host, port and path are', () => {
    expect(plivoV2BaseUrl(`${BASE}?distinct_user_id=u_1#x`)).toBe(BASE);
    expect(plivoV2BaseUrl('https://hooks.example.com:8443/webhooks/plivo/')).toBe(
      'https://hooks.example.com:8443/webhooks/plivo/',
    );
    expect(plivoV2BaseUrl('not a url')).toBeNull();
    expect(computePlivoV2Signature(TOKEN, `${BASE}?a=1`, NONCE)).toBe(
      createHmac('sha256', TOKEN).update(`${BASE}${NONCE}`).digest('base64'),
    );
  });
});

describe('verification (V2 and Ma-V2: what messaging sends)', () => {
  const MAIN = 'TWFpbkFjY291bnRUb2tlbjAwMDAwMDAw';
  const v2 = (token: string, url = BASE, nonce = NONCE): string =>
    createHmac('sha256', token).update(`${url}${nonce}`).digest('base64');
  const v2Post = (headers: Record<string, string>, url = `${BASE}?distinct_user_id=u_1`): UnsignedRequest => ({
    method: 'POST',
    url,
    headers: { ...FORM, 'x-plivo-signature-v2-nonce': NONCE, ...headers },
    body: Buffer.from(BODY),
  });

  test('a real-shaped status callback (V2 + Ma-V2 + nonce, no V3) verifies: it was refused before', async () => {
    expect(
      await verifyReason(
        v2Post({ 'x-plivo-signature-v2': v2(TOKEN), 'x-plivo-signature-ma-v2': v2(MAIN) }),
        settingsFor([TOKEN, MAIN]),
      ),
    ).toBe('ok');
  });

  test('a subaccount request: V2 under the subaccount token, Ma-V2 under the main token; either listed token is enough', async () => {
    const headers = { 'x-plivo-signature-v2': v2(TOKEN), 'x-plivo-signature-ma-v2': v2(MAIN) };
    expect(await verifyReason(v2Post(headers), settingsFor(TOKEN))).toBe('ok'); // the subaccount's token matches V2
    expect(await verifyReason(v2Post(headers), settingsFor(MAIN))).toBe('ok'); // the main token matches Ma-V2
    expect(await verifyReason(v2Post(headers), settingsFor('another-token'))).toBe('signature_mismatch');
  });

  test('Ma-V2 alone, or V2 alone, is enough', async () => {
    expect(await verifyReason(v2Post({ 'x-plivo-signature-ma-v2': v2(MAIN) }), settingsFor(MAIN))).toBe('ok');
    expect(await verifyReason(v2Post({ 'x-plivo-signature-v2': v2(TOKEN) }), settingsFor(TOKEN))).toBe('ok');
  });

  test('the signature is over the URL without query: a query change still verifies, a path or host change does not', async () => {
    const headers = { 'x-plivo-signature-v2': v2(TOKEN) };
    expect(await verifyReason(v2Post(headers, `${BASE}?distinct_user_id=u_2`))).toBe('ok');
    expect(await verifyReason(v2Post(headers, `${BASE}/?distinct_user_id=u_1`))).toBe('signature_mismatch');
    expect(await verifyReason(v2Post(headers, 'https://evil.example.net/webhooks/plivo'))).toBe('signature_mismatch');
    expect(await verifyReason(v2Post({ ...headers, 'x-plivo-signature-v2-nonce': '1' }))).toBe('signature_mismatch');
  });

  test('a V2 signature without its nonce, or a nonce alone, is missing_signature', async () => {
    const req = v2Post({ 'x-plivo-signature-v2': v2(TOKEN) });
    delete req.headers['x-plivo-signature-v2-nonce'];
    expect(await verifyReason(req)).toBe('missing_signature');
    expect(await verifyReason(v2Post({}))).toBe('missing_signature');
  });

  test('V2 does not sign the body, so an accepted nonce is a replay key: the same nonce again is refused', async () => {
    const cache = new ReplayCache(60_000);
    const req = v2Post({ 'x-plivo-signature-v2': v2(TOKEN) });
    const result = await adapter.verify(toWebhookRequest(req, NOW), settingsFor(), { replayCache: cache });
    expect(result).toEqual({ replayKey: `plivo:v2:${NONCE}` });
    cache.add(`plivo:v2:${NONCE}`, NOW.getTime()); // what the pipeline does once the request is acknowledged
    const forged = { ...req, body: Buffer.from(BODY.replace('delivered', 'failed')) };
    expect(await verifyReason(forged, settingsFor(), cache)).toBe('replayed');
  });
});

describe('verification', () => {
  const url = `${BASE}?distinct_user_id=u_1`;
  const good = independent(TOKEN, `${url}.MessageUUID5a2c4d2e-6f1b-11ef-9c4b-0242ac120002StatusdeliveredTo14155550123`);

  test('a request signed by hand verifies; body order does not matter (params are sorted)', async () => {
    expect(await verifyReason(post(url, BODY, good))).toBe('ok');
    expect(
      await verifyReason(
        post(url, 'Status=delivered&To=14155550123&MessageUUID=5a2c4d2e-6f1b-11ef-9c4b-0242ac120002', good),
      ),
    ).toBe('ok');
  });

  test('several comma-separated signatures: any one matching is enough', async () => {
    expect(await verifyReason(post(url, BODY, `${independent('other', 'x')},${good}`))).toBe('ok');
    expect(await verifyReason(post(url, BODY, `${good}, ${independent('other', 'x')}`))).toBe('ok');
    expect(await verifyReason(post(url, BODY, `${independent('other', 'x')},${independent('other', 'y')}`))).toBe(
      'signature_mismatch',
    );
  });

  test('rotation: either token of a list verifies', async () => {
    expect(await verifyReason(post(url, BODY, good), settingsFor(['old-token', TOKEN]))).toBe('ok');
    expect(await verifyReason(post(url, BODY, good), settingsFor('old-token'))).toBe('signature_mismatch');
  });

  test('the URL is strict: another port, a trailing slash, another query or nonce fail', async () => {
    expect(await verifyReason(post(url.replace('.com/', '.com:443/'), BODY, good))).toBe('signature_mismatch');
    expect(await verifyReason(post(url.replace('plivo?', 'plivo/?'), BODY, good))).toBe('signature_mismatch');
    expect(await verifyReason(post(`${BASE}?distinct_user_id=u_2`, BODY, good))).toBe('signature_mismatch');
    expect(await verifyReason(post(url, BODY, good, '1'))).toBe('signature_mismatch');
  });

  test('V3 signs the body: a changed parameter value fails (the conformance suite no longer checks it, V2 signing no body)', async () => {
    expect(await verifyReason(post(url, BODY.replace('delivered', 'failed'), good))).toBe('signature_mismatch');
    expect(await verifyReason(post(url, `${BODY}&Extra=1`, good))).toBe('signature_mismatch');
  });

  test('a V3 header set still verifies when the request also carries a wrong V2 signature', async () => {
    const req = post(url, BODY, good);
    req.headers = { ...req.headers, 'x-plivo-signature-v2': 'AAAA', 'x-plivo-signature-v2-nonce': NONCE };
    expect(await verifyReason(req)).toBe('ok');
  });
  test('a V3-only request with a body that is not UTF-8 cannot be Plivo-signed form data', async () => {
    expect(await verifyReason({ ...post(url, '', good), body: Buffer.from([0x54, 0x6f, 0x3d, 0xff, 0xfe]) })).toBe(
      'signature_mismatch',
    );
  });

  test('GET callbacks are verified on the query alone', async () => {
    const getUrl = `${BASE}?distinct_user_id=u_1&MessageUUID=m1&Status=sent&To=14155550123`;
    const sig = independent(TOKEN, `${BASE}?MessageUUID=m1&Status=sent&To=14155550123&distinct_user_id=u_1`);
    const req: UnsignedRequest = {
      method: 'GET',
      url: getUrl,
      headers: { 'x-plivo-signature-v3': sig, 'x-plivo-signature-v3-nonce': NONCE },
      body: Buffer.alloc(0),
    };
    expect(await verifyReason(req)).toBe('ok');
    expect(await verifyReason({ ...req, url: getUrl.replace('sent', 'delivered') })).toBe('signature_mismatch');
  });
});

describe('parsing', () => {
  const parse = (body: string, query = '') =>
    adapter.parse(
      toWebhookRequest(
        { method: 'POST', url: query ? `${BASE}?${query}` : BASE, headers: { ...FORM }, body: Buffer.from(body) },
        NOW,
      ),
    );

  test('a zone-less DeliveryReportTime is kept in details but never read as UTC', () => {
    const [d] = parse(`${BODY}&DeliveryReportTime=2026-04-27+13%3A35%3A04.118762`);
    expect(d).toMatchObject({ occurredAt: null, details: { deliveryReportTime: '2026-04-27 13:35:04.118762' } });
  });

  test('a time of another status is not used (SentTime on a delivered callback)', () => {
    expect(parse(`${BODY}&SentTime=2026-04-27+13%3A35%3A00Z`)[0]!.occurredAt).toBeNull();
  });

  test('overrides come only from the query, never from body parameters of the same name', () => {
    const [d] = parse(`${BODY}&distinct_user_id=u_body`, 'distinct_user_id=u_query');
    expect(d!.overrides).toEqual({ userId: 'u_query' });
    expect(parse(`${BODY}&distinct_user_id=u_body`)[0]!.overrides).toEqual({});
  });

  test.each(['sms.queued', 'sms.sent', 'sms.delivered', 'sms.undelivered', 'sms.failed', 'sms.unknown'])(
    'sample %s signs, verifies and parses back',
    async (type) => {
      const req = signedOwnSample(adapter, TOKEN, {
        type,
        recipient: '+14155550123',
        now: NOW,
        overrides: { userId: 'u_sim' },
      });
      expect(await verifyReason(req)).toBe('ok');
      expect(adapter.parse(toWebhookRequest(req, NOW))[0]).toMatchObject({
        type,
        phone: '14155550123',
        overrides: { userId: 'u_sim' },
      });
    },
  );
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const PUBLIC = 'https://hooks.example.com';

  const app = useLoopbackApp(() =>
    loopbackConfig(
      adapter,
      { plivo: { feature: 'registration_sms', experienceId: 'exp_http', authToken: TOKEN } },
      { server: { publicUrl: PUBLIC } },
    ),
  );

  test('a callback signed for the public URL is queued with its query override; signed for the internal URL it gets 401', async () => {
    const path = '/webhooks/plivo?distinct_user_id=u_http';
    const body = BODY.replace('5a2c4d2e', 'b0000001');
    const signed = adapter.testing.sign(
      { method: 'POST', url: `${PUBLIC}${path}`, headers: { ...FORM }, body: Buffer.from(body) },
      TOKEN,
      NOW,
    );
    expect((await fetch(`${app.origin}${path}`, { method: 'POST', headers: signed.headers, body })).status).toBe(200);
    const [lease] = await app.queue.claim(1);
    expect(lease!.message.event).toMatchObject({ action: 'delivered', userId: 'u_http', phone: '+14155550123' });

    const internal = adapter.testing.sign(
      { method: 'POST', url: `${app.origin}${path}`, headers: { ...FORM }, body: Buffer.from(body) },
      TOKEN,
      NOW,
    );
    const res = await fetch(`${app.origin}${path}`, { method: 'POST', headers: internal.headers, body });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ reason: 'signature_mismatch' });
  });
  test('V2 through the pipeline: once a nonce is acknowledged, the same headers with another body are refused (replayed)', async () => {
    const path = '/webhooks/plivo';
    const body = BODY.replace('5a2c4d2e', 'b0000002');
    const signed = adapter.testing.sign(
      { method: 'POST', url: `${PUBLIC}${path}`, headers: { ...FORM }, body: Buffer.from(body) },
      TOKEN,
      NOW,
    );
    expect(Object.keys(signed.headers)).toEqual(
      expect.arrayContaining(['x-plivo-signature-v2', 'x-plivo-signature-ma-v2', 'x-plivo-signature-v2-nonce']),
    );
    expect((await fetch(`${app.origin}${path}`, { method: 'POST', headers: signed.headers, body })).status).toBe(200);
    const forged = await fetch(`${app.origin}${path}`, {
      method: 'POST',
      headers: signed.headers,
      body: body.replace('delivered', 'failed'),
    });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ reason: 'replayed' });
  });

  test('an authentic inbound message on the status URL (nothing to forward) is answered 200, never 401', async () => {
    const path = '/webhooks/plivo';
    const body = 'From=14155550123&To=14155550100&Type=sms&Text=STOP&MessageUUID=c0000001-6f1b-11ef-9c4b-0242ac120002';
    const signed = adapter.testing.sign(
      { method: 'POST', url: `${PUBLIC}${path}`, headers: { ...FORM }, body: Buffer.from(body) },
      TOKEN,
      NOW,
    );
    const res = await fetch(`${app.origin}${path}`, { method: 'POST', headers: signed.headers, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: 1, queued: 0, ignored: 1 });
  });
});
