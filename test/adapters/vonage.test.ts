/**
 * Vonage quirks the shared conformance suite does not cover. The SMS API signature is checked
 * against the published vectors of Vonage's own SDKs (vonage-node-sdk
 * `packages/sms/__tests__/__dataSets__/signature.ts`, vonage-python-sdk `test_check_signature`);
 * the JWT helpers against the well-known jwt.io HS256 example.
 */
import { createHash } from 'node:crypto';
import { adapter, type VonageSigner } from '../../adapters/vonage';
import type { UnsignedRequest } from '../../src/core/adapter';
import { WebhookParseError, type VerificationReason } from '../../src/core/errors';
import { ReplayCache } from '../../src/core/replay-cache';
import {
  computeVonageSmsSignature,
  decodeJwt,
  signVonageJwt,
  validateHs256,
  vonageSignedString,
  type VonageSignatureMethod,
} from '../../src/verify/vonage-signature';
import { signedOwnSample, toWebhookRequest, verdictOf } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:40:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const URL_BASE = 'https://hooks.example.com/webhooks/vonage';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SECRET = 'test_signature_secret_0123456789';

/** vonage-node-sdk's signature data set: the same inbound params under every method. */
const SDK_PARAMS = {
  'message-timestamp': '2013-11-21 15:27:30',
  messageId: '020000001B0FE827',
  msisdn: '14843472194',
  text: 'Test again',
  timestamp: '1385047698',
  to: '13239877404',
  type: 'text',
};
const SDK_VECTORS: ReadonlyArray<[VonageSignatureMethod, string]> = [
  ['md5hash', 'd2e7b1dc968737c5998ad624e02f90b7'],
  ['md5', 'DDEBD46008C2D4E93CCE578A332A52D5'],
  ['sha1', '27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A'],
  ['sha256', 'DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330'],
  [
    'sha512',
    'E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82',
  ],
];

/** The jwt.io HS256 example token and its secret. */
const JWT_IO =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

type Settings = Parameters<typeof adapter.verify>[1];
const settingsFor = (method: VonageSignatureMethod = 'sha256', extra: Record<string, unknown> = {}): Settings =>
  adapter.settingsSchema.parse({ signatureSecret: SECRET, signatureMethod: method, ...extra });
const signer = (method: VonageSignatureMethod = 'sha256'): VonageSigner => ({
  signatureSecret: SECRET,
  signatureMethod: method,
});

function verifyReason(req: UnsignedRequest, settings: Settings, at = NOW): Promise<VerificationReason | 'ok'> {
  return verdictOf(() => adapter.verify(toWebhookRequest(req, at), settings, { replayCache: new ReplayCache(60_000) }));
}

const DLR = {
  'err-code': '0',
  'message-timestamp': '2026-04-27 13:35:07',
  messageId: '0B00000127FDBC64',
  msisdn: '447700900000',
  status: 'delivered',
  to: 'Vonage',
};

/** A form DLR with the given signed parameters already in it (sig computed over all of them). */
function formDlr(
  params: Record<string, string>,
  method: VonageSignatureMethod = 'sha256',
  secret = SECRET,
): UnsignedRequest {
  const signed = { ...params, sig: computeVonageSmsSignature(params, secret, method) };
  return {
    method: 'POST',
    url: URL_BASE,
    headers: { ...FORM },
    body: Buffer.from(new URLSearchParams(signed).toString()),
  };
}

function messagesRequest(
  body: string,
  claims: Record<string, unknown>,
  secret = SECRET,
  alg = 'HS256',
): UnsignedRequest {
  let token = signVonageJwt(claims, secret);
  if (alg !== 'HS256') {
    const [, c, s] = token.split('.');
    token = `${Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url')}.${c}.${alg === 'none' ? '' : s}`;
  }
  return {
    method: 'POST',
    url: URL_BASE,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: Buffer.from(body),
  };
}

const MSG_BODY =
  '{"message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","to":"447700900000","from":"447700900001","timestamp":"2026-04-27T13:35:07.512Z","status":"delivered","channel":"sms"}';
const hashOf = (body: string): string => createHash('sha256').update(body).digest('hex');

describe('SMS API signature: known vectors', () => {
  test.each(SDK_VECTORS)("vonage-node-sdk's %s vector", (method, expected) => {
    expect(computeVonageSmsSignature(SDK_PARAMS, 'my_secret_key_for_testing', method)).toBe(expected.toLowerCase());
  });

  test("vonage-python-sdk's md5hash vector (a=1, b=2, timestamp, secret 'secret')", () => {
    expect(computeVonageSmsSignature({ a: '1', b: '2', timestamp: '1461605396' }, 'secret', 'md5hash')).toBe(
      '6af838ef94998832dbfc29020b564830',
    );
  });

  test('the signed string sorts names, skips sig and replaces & and = inside values with _', () => {
    expect(vonageSignedString({ to: 'Vonage', 'client-ref': 'a=b&c', sig: 'x', 'err-code': '0' })).toBe(
      '&client-ref=a_b_c&err-code=0&to=Vonage',
    );
  });

  test.each(SDK_VECTORS)(
    'the adapter accepts the SDK data set signed with %s (upper-case hex, as published)',
    async (method, expected) => {
      const settings = adapter.settingsSchema.parse({
        signatureSecret: 'my_secret_key_for_testing',
        signatureMethod: method,
        toleranceSeconds: 0,
      });
      const body = new URLSearchParams({ ...SDK_PARAMS, sig: expected }).toString();
      expect(
        await verifyReason({ method: 'POST', url: URL_BASE, headers: { ...FORM }, body: Buffer.from(body) }, settings),
      ).toBe('ok');
    },
  );
});

describe('SMS API verification', () => {
  const stamped = { ...DLR, timestamp: String(NOW_S), nonce: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab' };

  test('the configured method matters: a sha256 sig does not verify as sha512 or md5hash', async () => {
    const req = formDlr(stamped, 'sha256');
    expect(await verifyReason(req, settingsFor('sha256'))).toBe('ok');
    expect(await verifyReason(req, settingsFor('sha512'))).toBe('signature_mismatch');
    expect(await verifyReason(req, settingsFor('md5hash'))).toBe('signature_mismatch');
  });

  test('a signed request without timestamp is malformed; without sig it is missing', async () => {
    const { timestamp: _t, ...noStamp } = stamped;
    expect(await verifyReason(formDlr(noStamp), settingsFor())).toBe('malformed_signature');
    const unsigned: UnsignedRequest = {
      method: 'POST',
      url: URL_BASE,
      headers: { ...FORM },
      body: Buffer.from(new URLSearchParams(stamped).toString()),
    };
    expect(await verifyReason(unsigned, settingsFor())).toBe('missing_signature');
  });

  test('the timestamp window applies after the signature; toleranceSeconds 0 disables it', async () => {
    const old = formDlr({ ...stamped, timestamp: String(NOW_S - 3600) });
    expect(await verifyReason(old, settingsFor())).toBe('timestamp_out_of_tolerance');
    expect(await verifyReason(old, settingsFor('sha256', { toleranceSeconds: 0 }))).toBe('ok');
  });

  test('POST: the callback URL query is not signed (changing it still verifies), any body change does not', async () => {
    const req = formDlr(stamped);
    expect(await verifyReason({ ...req, url: `${URL_BASE}?distinct_user_id=u_other` }, settingsFor())).toBe('ok');
    const tampered = Buffer.from(req.body.toString().replace('delivered', 'failed'));
    expect(await verifyReason({ ...req, body: tampered }, settingsFor())).toBe('signature_mismatch');
  });

  test('GET: verified without the callback URL overrides, or with them, never with a changed DLR value', async () => {
    const sig = computeVonageSmsSignature(stamped, SECRET, 'sha256');
    const query = new URLSearchParams({ distinct_user_id: 'u_7', ...stamped, sig }).toString();
    const get = (q: string): UnsignedRequest => ({
      method: 'GET',
      url: `${URL_BASE}?${q}`,
      headers: {},
      body: Buffer.alloc(0),
    });
    expect(await verifyReason(get(query), settingsFor())).toBe('ok');
    const withOverride = { distinct_user_id: 'u_7', ...stamped };
    const sig2 = computeVonageSmsSignature(withOverride, SECRET, 'sha256');
    expect(await verifyReason(get(new URLSearchParams({ ...withOverride, sig: sig2 }).toString()), settingsFor())).toBe(
      'ok',
    );
    expect(await verifyReason(get(query.replace('delivered', 'failed')), settingsFor())).toBe('signature_mismatch');
  });

  test('a JSON DLR (POST-JSON) is verified on its string values', async () => {
    const params = { ...stamped };
    const body = JSON.stringify({ ...params, sig: computeVonageSmsSignature(params, SECRET, 'sha256') });
    const req: UnsignedRequest = {
      method: 'POST',
      url: URL_BASE,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(body),
    };
    expect(await verifyReason(req, settingsFor())).toBe('ok');
  });

  test('rotation: either secret of a list verifies', async () => {
    const req = formDlr(stamped, 'sha256', 'old_secret');
    expect(await verifyReason(req, settingsFor('sha256', { signatureSecret: ['old_secret', SECRET] }))).toBe('ok');
    expect(await verifyReason(req, settingsFor())).toBe('signature_mismatch');
  });
});

describe('Messages API JWT', () => {
  const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    iat: NOW_S,
    jti: 'c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5',
    iss: 'Vonage',
    payload_hash: hashOf(MSG_BODY),
    api_key: 'a1b2c3d',
    ...over,
  });

  test('the HS256 helpers verify the jwt.io example and only under its secret', () => {
    const jwt = decodeJwt(JWT_IO)!;
    expect(jwt.claims).toMatchObject({ sub: '1234567890', iat: 1516239022 });
    expect(validateHs256(jwt, ['your-256-bit-secret'])).toBe(true);
    expect(validateHs256(jwt, ['another-secret'])).toBe(false);
    expect(signVonageJwt({ sub: '1234567890', name: 'John Doe', iat: 1516239022 }, 'your-256-bit-secret')).toBe(JWT_IO);
  });

  test('a signed status callback verifies; an upper-case payload_hash too', async () => {
    expect(await verifyReason(messagesRequest(MSG_BODY, claims()), settingsFor())).toBe('ok');
    expect(
      await verifyReason(
        messagesRequest(MSG_BODY, claims({ payload_hash: hashOf(MSG_BODY).toUpperCase() })),
        settingsFor(),
      ),
    ).toBe('ok');
  });

  test('alg none and other algorithms are refused before any signature check', async () => {
    expect(await verifyReason(messagesRequest(MSG_BODY, claims(), SECRET, 'none'), settingsFor())).toBe(
      'malformed_signature',
    );
    expect(await verifyReason(messagesRequest(MSG_BODY, claims(), SECRET, 'HS512'), settingsFor())).toBe(
      'malformed_signature',
    );
    expect(await verifyReason(messagesRequest(MSG_BODY, claims(), SECRET, 'RS256'), settingsFor())).toBe(
      'malformed_signature',
    );
  });

  test('the body must hash to payload_hash; a missing payload_hash or iat is malformed', async () => {
    const other = MSG_BODY.replace('delivered', 'rejected');
    expect(await verifyReason(messagesRequest(other, claims()), settingsFor())).toBe('signature_mismatch');
    expect(await verifyReason(messagesRequest(MSG_BODY, claims({ payload_hash: undefined })), settingsFor())).toBe(
      'malformed_signature',
    );
    expect(await verifyReason(messagesRequest(MSG_BODY, claims({ iat: String(NOW_S) })), settingsFor())).toBe(
      'malformed_signature',
    );
  });

  test('a stale iat, a wrong secret and a token that is not a JWT are refused', async () => {
    expect(await verifyReason(messagesRequest(MSG_BODY, claims({ iat: NOW_S - 3600 })), settingsFor())).toBe(
      'timestamp_out_of_tolerance',
    );
    expect(await verifyReason(messagesRequest(MSG_BODY, claims(), 'wrong_secret'), settingsFor())).toBe(
      'signature_mismatch',
    );
    const notJwt: UnsignedRequest = {
      method: 'POST',
      url: URL_BASE,
      headers: { 'content-type': 'application/json', authorization: 'Bearer abc.def' },
      body: Buffer.from(MSG_BODY),
    };
    expect(await verifyReason(notJwt, settingsFor())).toBe('malformed_signature');
  });

  test('an unsigned Messages callback (Vonage may send one after an internal error) is missing_signature', async () => {
    const req: UnsignedRequest = {
      method: 'POST',
      url: URL_BASE,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(MSG_BODY),
    };
    expect(await verifyReason(req, settingsFor())).toBe('missing_signature');
  });
});

describe('parsing', () => {
  const parse = (req: UnsignedRequest) => adapter.parse(toWebhookRequest(req, NOW));

  test('scts (carrier local time) is never the event time; err-code 0 is left out of details', () => {
    const [d] = parse(formDlr({ ...DLR, scts: '2604271435' }));
    expect(d).toMatchObject({ occurredAt: '2026-04-27T13:35:07Z', details: { scts: '2604271435' } });
    expect(d!.details).not.toHaveProperty('errorCode');
  });

  test('a DLR without message-timestamp has no event time (never invented)', () => {
    const { 'message-timestamp': _m, ...rest } = DLR;
    expect(parse(formDlr(rest))[0]!.occurredAt).toBeNull();
  });

  test('the Messages API v0.1 shape (to as {type, number}) is read too', () => {
    const body = JSON.stringify({
      message_uuid: 'u1',
      to: { type: 'sms', number: '447700900000' },
      timestamp: '2020-01-01T14:00:00.000Z',
      status: 'submitted',
    });
    expect(
      parse({
        method: 'POST',
        url: URL_BASE,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(body),
      })[0],
    ).toMatchObject({
      type: 'sms.sent',
      phone: '447700900000',
      occurredAt: '2020-01-01T14:00:00.000Z',
    });
  });

  test('a DLR without status names the missing field', () => {
    const { status: _s, ...rest } = DLR;
    expect(() => parse(formDlr(rest))).toThrow(WebhookParseError);
    expect(() => parse(formDlr(rest))).toThrow(/status/);
  });
});

describe('settings and testing helpers', () => {
  test('signatureMethod defaults to md5hash and must be one of the dashboard methods', () => {
    expect(adapter.settingsSchema.parse({ signatureSecret: 's' }).signatureMethod).toBe('md5hash');
    const bad = adapter.settingsSchema.safeParse({ signatureSecret: 's', signatureMethod: 'SHA-256' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/md5hash, md5, sha1, sha256, sha512/);
  });

  test('signerFromOptions derives the signer (first secret of a list, method defaulted)', () => {
    expect(adapter.testing.signerFromOptions({ signatureSecret: ['a', 'b'] })).toEqual({
      signatureSecret: 'a',
      signatureMethod: 'md5hash',
    });
    expect(adapter.testing.signerFromOptions({ signatureSecret: 'a', signatureMethod: 'nope' })).toBeUndefined();
  });

  test.each(['sms.sent', 'sms.delivered', 'sms.failed', 'sms.undelivered', 'sms.queued', 'sms.unknown'])(
    'sample %s signs, verifies and parses back to its type',
    async (type) => {
      const req = signedOwnSample(adapter, signer('md5hash'), {
        type,
        recipient: '+447700900000',
        now: NOW,
        overrides: { distinct_user_id: 'u_sim' },
      });
      expect(await verifyReason(req, settingsFor('md5hash'))).toBe('ok');
      expect(adapter.parse(toWebhookRequest(req, NOW))[0]).toMatchObject({
        type,
        phone: '447700900000',
        overrides: { userId: 'u_sim' },
      });
    },
  );
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const app = useLoopbackApp(() =>
    loopbackConfig(adapter, {
      vonage: {
        feature: 'registration_sms',
        experienceId: 'exp_http',
        signatureSecret: SECRET,
        signatureMethod: 'sha256',
      },
    }),
  );

  test('a GET delivery receipt is verified from its query and queued with its callback-URL override', async () => {
    const now = new Date();
    const req = adapter.testing.sign(
      {
        method: 'GET',
        url: `${URL_BASE}?distinct_user_id=u_get&${new URLSearchParams({ ...DLR, messageId: 'HTTPGET0001' })}`,
        headers: {},
        body: Buffer.alloc(0),
      },
      signer(),
      now,
    );
    const res = await fetch(`${app.origin}/webhooks/vonage${req.url.slice(req.url.indexOf('?'))}`);
    expect(res.status).toBe(200);
    const [lease] = await app.queue.claim(1);
    expect(lease!.message.event).toMatchObject({
      action: 'delivered',
      userId: 'u_get',
      phone: '+447700900000',
      capturedAt: '2026-04-27T13:35:07Z',
    });
  });

  test('a Messages API callback with a bearer JWT is accepted; without it, 401 with missing_signature', async () => {
    const now = new Date();
    const body = MSG_BODY.replace('aaaaaaaa-bbbb-cccc-dddd-0123456789ab', 'aaaaaaaa-bbbb-cccc-dddd-000000000http');
    const signed = messagesRequest(body, { iat: Math.floor(now.getTime() / 1000), payload_hash: hashOf(body) });
    expect(
      (await fetch(`${app.origin}/webhooks/vonage`, { method: 'POST', headers: signed.headers, body })).status,
    ).toBe(200);
    const unsigned = await fetch(`${app.origin}/webhooks/vonage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ error: 'ERR_WEBHOOK_VERIFICATION', reason: 'missing_signature' });
  });
});
