/**
 * Telnyx quirks the shared conformance suite does not cover. The telnyx SDK is not installed, so
 * the Ed25519 key handling is checked against RFC 8032 §7.1 test vectors, and the signed-bytes
 * construction against signatures made independently with node:crypto.
 */
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { adapter } from '../../adapters/telnyx';
import type { UnsignedRequest } from '../../src/core/adapter';
import { WebhookParseError, type VerificationReason } from '../../src/core/errors';
import { ReplayCache } from '../../src/core/replay-cache';
import { parseTelnyxPublicKey, rawEd25519PublicKey } from '../../src/verify/telnyx-signature';
import { verifiesWithKey } from '../../src/verify/primitives';
import { signedOwnSample, toWebhookRequest, verdictOf } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:40:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const URL_BASE = 'https://hooks.example.com/webhooks/telnyx';

/** RFC 8032 §7.1: TEST 1 (empty message) and TEST 2 (one byte 0x72). */
const RFC8032 = [
  {
    name: 'TEST 1',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const RAW_KEY = rawEd25519PublicKey(publicKey);

type Settings = Parameters<typeof adapter.verify>[1];
const settingsFor = (options: Record<string, unknown> = {}): Settings =>
  adapter.settingsSchema.parse({ publicKey: RAW_KEY, ...options });

const BODY = JSON.stringify({
  data: {
    record_type: 'event',
    id: 'b301ed3f-1490-491f-995f-6e64e69674d4',
    event_type: 'message.finalized',
    occurred_at: '2026-04-27T13:35:02.501+00:00',
    payload: {
      id: '40317159-ea48-4e6f-a3c2-6f2b6c0e9b3a',
      type: 'SMS',
      to: [{ phone_number: '+13125550123', status: 'delivered' }],
      tags: [],
    },
  },
  meta: { attempt: 1 },
});

/** Signs `signedText` with our own key and builds the request around `body`. */
function request(body: string, timestamp: string, signedText: string, key: KeyObject = privateKey): UnsignedRequest {
  const signature = cryptoSign(null, Buffer.from(signedText), key).toString('base64');
  return {
    method: 'POST',
    url: URL_BASE,
    headers: {
      'content-type': 'application/json',
      'telnyx-signature-ed25519': signature,
      'telnyx-timestamp': timestamp,
    },
    body: Buffer.from(body),
  };
}

function verifyReason(
  req: UnsignedRequest,
  settings: Settings = settingsFor(),
  at = NOW,
): Promise<VerificationReason | 'ok'> {
  return verdictOf(() => adapter.verify(toWebhookRequest(req, at), settings, { replayCache: new ReplayCache(60_000) }));
}

describe('Ed25519 keys: RFC 8032 vectors and the formats Telnyx users paste', () => {
  test.each(RFC8032)(
    '$name verifies with the raw key wrapped in the SPKI prefix, and not with a changed message',
    ({ publicKey: hex, message, signature }) => {
      const key = parseTelnyxPublicKey(Buffer.from(hex, 'hex').toString('base64'))!;
      expect(key.asymmetricKeyType).toBe('ed25519');
      expect(verifiesWithKey(null, key, Buffer.from(message, 'hex'), Buffer.from(signature, 'hex'))).toBe(true);
      expect(verifiesWithKey(null, key, Buffer.from(`${message}00`, 'hex'), Buffer.from(signature, 'hex'))).toBe(false);
    },
  );

  test('raw base64 (as Telnyx shows it), base64 DER SPKI and PEM (also with literal \\n) give the same key', () => {
    const der = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    for (const text of [RAW_KEY, der, pem, pem.replace(/\n/g, '\\n'), ` ${RAW_KEY}\n`]) {
      expect(parseTelnyxPublicKey(text)?.equals(publicKey)).toBe(true);
    }
  });

  test('a P-256 key, a private key, 31 bytes and garbage are refused without echoing the value', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ format: 'der', type: 'spki' })
      .toString('base64');
    const priv = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    for (const text of [p256, priv, Buffer.alloc(31, 1).toString('base64'), 'not-a-key!']) {
      expect(parseTelnyxPublicKey(text)).toBeNull();
      const result = adapter.settingsSchema.safeParse({ publicKey: text });
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).not.toContain(text.slice(0, 20));
    }
  });
});

describe('verification', () => {
  const ts = String(NOW_S);

  test('the signed bytes are timestamp, "|", raw body — not the body alone, nor without the pipe', async () => {
    expect(await verifyReason(request(BODY, ts, `${ts}|${BODY}`))).toBe('ok');
    expect(await verifyReason(request(BODY, ts, BODY))).toBe('signature_mismatch');
    expect(await verifyReason(request(BODY, ts, `${ts}${BODY}`))).toBe('signature_mismatch');
  });

  test('re-serialised JSON (same data, other bytes) does not verify', async () => {
    const pretty = JSON.stringify(JSON.parse(BODY), null, 2);
    const req = request(BODY, ts, `${ts}|${BODY}`);
    expect(await verifyReason({ ...req, body: Buffer.from(pretty) })).toBe('signature_mismatch');
  });

  test('the 300 s default window, in both directions; toleranceSeconds 0 disables it', async () => {
    const at = (s: number) => request(BODY, String(s), `${s}|${BODY}`);
    expect(await verifyReason(at(NOW_S - 299))).toBe('ok');
    expect(await verifyReason(at(NOW_S - 301))).toBe('timestamp_out_of_tolerance');
    expect(await verifyReason(at(NOW_S + 301))).toBe('timestamp_out_of_tolerance');
    expect(await verifyReason(at(NOW_S - 86_400), settingsFor({ toleranceSeconds: 0 }))).toBe('ok');
  });

  test('a signature that is not 64 bytes of base64, or a timestamp that is not a number, is malformed', async () => {
    const req = request(BODY, ts, `${ts}|${BODY}`);
    expect(
      await verifyReason({
        ...req,
        headers: { ...req.headers, 'telnyx-signature-ed25519': Buffer.alloc(63).toString('base64') },
      }),
    ).toBe('malformed_signature');
    expect(await verifyReason({ ...req, headers: { ...req.headers, 'telnyx-signature-ed25519': 'not base64!' } })).toBe(
      'malformed_signature',
    );
    expect(
      await verifyReason({ ...req, headers: { ...req.headers, 'telnyx-timestamp': '2026-04-27T13:40:00Z' } }),
    ).toBe('malformed_signature');
  });

  test('a missing timestamp header is missing_signature', async () => {
    const { 'telnyx-timestamp': _t, ...headers } = request(BODY, ts, `${ts}|${BODY}`).headers;
    expect(await verifyReason({ ...request(BODY, ts, ''), headers })).toBe('missing_signature');
  });

  test('rotation: a list of keys, any one verifying', async () => {
    const other = rawEd25519PublicKey(generateKeyPairSync('ed25519').publicKey);
    const req = request(BODY, ts, `${ts}|${BODY}`);
    expect(await verifyReason(req, settingsFor({ publicKey: [other, RAW_KEY] }))).toBe('ok');
    expect(await verifyReason(req, settingsFor({ publicKey: other }))).toBe('signature_mismatch');
  });
});

describe('parsing', () => {
  const parse = (data: Record<string, unknown>, query = '') =>
    adapter.parse(
      toWebhookRequest(
        {
          method: 'POST',
          url: query ? `${URL_BASE}?${query}` : URL_BASE,
          headers: {},
          body: Buffer.from(JSON.stringify({ data })),
        },
        NOW,
      ),
    );
  const finalized = (payload: Record<string, unknown>) => ({
    id: 'e1',
    event_type: 'message.finalized',
    occurred_at: '2026-04-27T13:35:02.501+00:00',
    payload: { id: 'm1', ...payload },
  });

  test('inbound: mapped by event type, the customer is `from`, never the `delivered` status of our number', () => {
    const [d] = parse({
      id: 'e2',
      event_type: 'message.received',
      payload: {
        id: 'm2',
        from: { phone_number: '+13125550123' },
        to: [{ phone_number: '+18445550001', status: 'delivered' }],
      },
    });
    expect(d).toMatchObject({ type: 'sms.received', providerEvent: 'message.received', phone: '+13125550123' });
  });

  test('tags: key=value and key:value, first one wins, unrelated tags ignored; empty values ignored', () => {
    const [d] = parse(
      finalized({
        to: [{ phone_number: '+13125550123', status: 'delivered' }],
        tags: ['x', 'distinct_user_id: u_1 ', 'distinct_user_id=u_2', 'distinct_feature=', 42],
      }),
    );
    expect(d!.overrides).toEqual({ userId: 'u_1' });
  });

  test('a recipient that is not an object names its index', () => {
    expect(() => parse(finalized({ to: [{ phone_number: '+13125550123', status: 'sent' }, 'x'] }))).toThrow(
      WebhookParseError,
    );
    expect(() => parse(finalized({ to: [{ phone_number: '+13125550123', status: 'sent' }, 'x'] }))).toThrow(/to\[1\]/);
  });

  test('an event without occurred_at has no event time (never invented)', () => {
    const [d] = parse({
      id: 'e3',
      event_type: 'message.sent',
      payload: { id: 'm3', to: [{ phone_number: '+13125550123', status: 'sent' }] },
    });
    expect(d!.occurredAt).toBeNull();
  });

  test.each([
    'sms.queued',
    'sms.sent',
    'sms.delivered',
    'sms.failed',
    'sms.undelivered',
    'sms.unknown',
    'sms.received',
  ])('sample %s signs, verifies and parses back', async (type) => {
    const { signer, options } = adapter.testing.createCredentials();
    const req = signedOwnSample(adapter, signer, {
      type,
      recipient: '+13125550123',
      now: NOW,
      overrides: { userId: 'u_sim' },
    });
    expect(await verifyReason(req, adapter.settingsSchema.parse(options))).toBe('ok');
    expect(adapter.parse(toWebhookRequest(req, NOW))[0]).toMatchObject({
      type,
      phone: '+13125550123',
      overrides: { userId: 'u_sim' },
    });
  });
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const app = useLoopbackApp(() =>
    loopbackConfig(adapter, {
      telnyx: { feature: 'registration_sms', experienceId: 'exp_http', publicKey: RAW_KEY },
    }),
  );

  test('a signed delivery receipt is queued; the same bytes with one changed character get 401', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const req = request(BODY, ts, `${ts}|${BODY}`);
    expect(
      (await fetch(`${app.origin}/webhooks/telnyx`, { method: 'POST', headers: req.headers, body: BODY })).status,
    ).toBe(200);
    const [lease] = await app.queue.claim(1);
    expect(lease!.message.event).toMatchObject({
      action: 'delivered',
      phone: '+13125550123',
      capturedAt: '2026-04-27T13:35:02.501Z',
      metadata: { providerEventId: 'b301ed3f-1490-491f-995f-6e64e69674d4' },
    });
    const res = await fetch(`${app.origin}/webhooks/telnyx`, {
      method: 'POST',
      headers: req.headers,
      body: BODY.replace('delivered', 'delivereD'),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'ERR_WEBHOOK_VERIFICATION', reason: 'signature_mismatch' });
  });
});
