/**
 * The Standard Webhooks / Svix primitive against the spec's published vector (standard-webhooks
 * `libraries/javascript/src/webhook.test.ts`, "sign function works") and against HMACs computed
 * independently with WebCrypto, plus the reference library's break-one-thing cases.
 */
import { webcrypto } from 'node:crypto';
import { WebhookVerificationError, type VerificationReason } from '../../src/core/errors';
import {
  computeSignature,
  decodeSigningSecret,
  generateSigningSecret,
  signatureHeader,
  signingSecretList,
  signStandardWebhook,
  SVIX_HEADERS,
  verifyStandardWebhook,
  WEBHOOK_HEADERS,
} from '../../src/verify/standard-webhooks';

/** The published vector. */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const AT_VECTOR = new Date(VECTOR.timestamp * 1000);
const KEY = decodeSigningSecret(VECTOR.secret)!;

function vectorHeaders(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    'webhook-id': VECTOR.id,
    'webhook-timestamp': String(VECTOR.timestamp),
    'webhook-signature': VECTOR.signature,
    ...overrides,
  };
}

function reason(
  headers: Record<string, string | undefined>,
  body: string = VECTOR.payload,
  keys: readonly Buffer[] = [KEY],
  at: Date = AT_VECTOR,
  tolerance = 300,
): VerificationReason | 'ok' {
  try {
    verifyStandardWebhook({ headers, rawBody: Buffer.from(body, 'utf8'), receivedAt: at }, keys, tolerance);
    return 'ok';
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.reason;
    throw err;
  }
}

/** An HMAC computed without our code: WebCrypto, from the secret text. */
async function webCryptoSignature(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const raw = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const key = await webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await webcrypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return Buffer.from(mac).toString('base64');
}

describe('signing: known vectors', () => {
  test('the published vector gives v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', () => {
    expect(signatureHeader([KEY], VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toBe(VECTOR.signature);
    expect(`v1,${computeSignature(KEY, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.payload))}`).toBe(
      VECTOR.signature,
    );
  });

  test('WebCrypto computes the same signature for the vector and for a random secret and body', async () => {
    expect(`v1,${await webCryptoSignature(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload)}`).toBe(
      VECTOR.signature,
    );
    const secret = generateSigningSecret();
    const body = JSON.stringify({ type: 'email.sent', data: { to: ['ada@example.com'], note: 'ünïcödé ✓' } });
    const ours = computeSignature(decodeSigningSecret(secret)!, 'msg_abc', 1767225600, Buffer.from(body, 'utf8'));
    expect(ours).toBe(await webCryptoSignature(secret, 'msg_abc', 1767225600, body));
  });

  test('the key is the base64-decoded secret, with or without the whsec_ prefix', () => {
    expect(KEY.length).toBe(24);
    expect(decodeSigningSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toEqual(KEY);
    expect(decodeSigningSecret(generateSigningSecret())!.length).toBe(32);
  });

  test('a secret that is not base64 decodes to null', () => {
    for (const bad of ['', 'whsec_', 'whsec_not base64!', 'whsec_abc', 'whsec_****'])
      expect(decodeSigningSecret(bad)).toBeNull();
  });
});

describe('verifyStandardWebhook', () => {
  test('accepts the published vector at its own time, and returns the id and timestamp', () => {
    const out = verifyStandardWebhook(
      { headers: vectorHeaders(), rawBody: Buffer.from(VECTOR.payload), receivedAt: AT_VECTOR },
      [KEY],
      300,
    );
    expect(out).toEqual({ id: VECTOR.id, timestamp: VECTOR.timestamp });
  });

  test('accepts the svix-* header names', () => {
    const headers = {
      'svix-id': VECTOR.id,
      'svix-timestamp': String(VECTOR.timestamp),
      'svix-signature': VECTOR.signature,
    };
    expect(reason(headers)).toBe('ok');
  });

  test('never mixes the families: a webhook-signature with only svix-id is missing its webhook-id', () => {
    expect(
      reason({
        'webhook-signature': VECTOR.signature,
        'svix-id': VECTOR.id,
        'webhook-timestamp': String(VECTOR.timestamp),
      }),
    ).toBe('missing_signature');
  });

  test('accepts a multi-signature header when any v1 entry matches (the reference test case)', () => {
    const sigs = [
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      VECTOR.signature,
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
    ];
    expect(reason(vectorHeaders({ 'webhook-signature': sigs.join(' ') }))).toBe('ok');
  });

  test('accepts a rotated key list [wrong, right] and rejects [wrong]', () => {
    const wrong = decodeSigningSecret(generateSigningSecret())!;
    expect(reason(vectorHeaders(), VECTOR.payload, [wrong, KEY])).toBe('ok');
    expect(reason(vectorHeaders(), VECTOR.payload, [wrong])).toBe('signature_mismatch');
  });

  test('a v1a (ed25519) entry is skipped, never compared as HMAC', () => {
    expect(reason(vectorHeaders({ 'webhook-signature': `v1a,${VECTOR.signature.slice(3)}` }))).toBe(
      'signature_mismatch',
    );
  });

  test.each([
    ['a missing id', { 'webhook-id': undefined }, 'missing_signature'],
    ['a missing timestamp', { 'webhook-timestamp': undefined }, 'missing_signature'],
    ['a missing signature', { 'webhook-signature': undefined }, 'missing_signature'],
    ['an empty signature', { 'webhook-signature': '' }, 'missing_signature'],
    ['a timestamp that is not a number', { 'webhook-timestamp': 'hello' }, 'malformed_signature'],
    ['a signature of the wrong value', { 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf' }, 'signature_mismatch'],
    ['a truncated signature', { 'webhook-signature': VECTOR.signature.slice(0, 8) }, 'signature_mismatch'],
    ['a signature with no value', { 'webhook-signature': 'v1,' }, 'malformed_signature'],
    ['a signature without a version', { 'webhook-signature': VECTOR.signature.slice(3) }, 'malformed_signature'],
    ['another id', { 'webhook-id': 'msg_other' }, 'signature_mismatch'],
    ['another timestamp', { 'webhook-timestamp': String(VECTOR.timestamp + 1) }, 'signature_mismatch'],
  ] as const)('rejects %s', (_n, change, want) => {
    expect(reason(vectorHeaders(change))).toBe(want);
  });

  test('rejects a body changed by one character', () => {
    expect(reason(vectorHeaders(), '{"test": 2432232315}')).toBe('signature_mismatch');
  });

  test('rejects stale and future timestamps beyond the tolerance, both ways, and 0 disables the window', () => {
    const late = new Date(AT_VECTOR.getTime() + 301_000);
    const early = new Date(AT_VECTOR.getTime() - 301_000);
    expect(reason(vectorHeaders(), VECTOR.payload, [KEY], late)).toBe('timestamp_out_of_tolerance');
    expect(reason(vectorHeaders(), VECTOR.payload, [KEY], early)).toBe('timestamp_out_of_tolerance');
    expect(reason(vectorHeaders(), VECTOR.payload, [KEY], new Date(AT_VECTOR.getTime() + 299_000))).toBe('ok');
    expect(reason(vectorHeaders(), VECTOR.payload, [KEY], late, 0)).toBe('ok');
  });

  test('a wrong key with a stale timestamp is reported as a mismatch (the signature is checked first)', () => {
    const wrong = decodeSigningSecret(generateSigningSecret())!;
    expect(reason(vectorHeaders(), VECTOR.payload, [wrong], new Date(0))).toBe('signature_mismatch');
  });

  test('error messages never contain the secret', () => {
    try {
      verifyStandardWebhook(
        { headers: vectorHeaders({ 'webhook-id': 'msg_x' }), rawBody: Buffer.from('{}'), receivedAt: AT_VECTOR },
        [KEY],
        300,
      );
      throw new Error('expected a verification error');
    } catch (err) {
      expect(err).toBeInstanceOf(WebhookVerificationError);
      expect((err as Error).message).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    }
  });
});

describe('signStandardWebhook', () => {
  test('signs a body that verifies, keeping an existing id and replacing an old signature', () => {
    const secret = generateSigningSecret();
    const now = new Date('2026-04-27T13:35:00Z');
    const body = Buffer.from('[{"a":1}]');
    const headers = signStandardWebhook(
      { 'Content-Type': 'application/json', 'Svix-Id': 'msg_kept', 'svix-signature': 'v1,old' },
      body,
      secret,
      now,
      SVIX_HEADERS,
    );
    expect(headers).toEqual({
      'Content-Type': 'application/json',
      'svix-id': 'msg_kept',
      'svix-timestamp': String(now.getTime() / 1000),
      'svix-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]+=*$/),
    });
    expect(
      verifyStandardWebhook({ headers, rawBody: body, receivedAt: now }, [decodeSigningSecret(secret)!], 300).id,
    ).toBe('msg_kept');
  });

  test('generates a msg_ id when none is given, under the webhook-* names', () => {
    const headers = signStandardWebhook({}, Buffer.from('{}'), generateSigningSecret(), new Date(), WEBHOOK_HEADERS);
    expect(headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9_-]{20,}$/);
  });
});

describe('signingSecretList (settings)', () => {
  test('takes one secret or a list and yields key bytes', () => {
    expect(signingSecretList.parse(VECTOR.secret)).toEqual([KEY]);
    expect(signingSecretList.parse([generateSigningSecret(), VECTOR.secret])).toHaveLength(2);
  });

  test('rejects a secret that is not whsec_ base64, without echoing it', () => {
    const result = signingSecretList.safeParse('whsec_this is not base64 at all');
    expect(result.success).toBe(false);
    const text = JSON.stringify(result.error?.issues);
    expect(text).toContain('whsec_ followed by base64');
    expect(text).not.toContain('this is not base64 at all');
  });

  test('in a list, the bad entry is named by its position; the message is the issue itself, not "Invalid input"', () => {
    const result = signingSecretList.safeParse([VECTOR.secret, 'oops!']);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: [1], message: expect.stringMatching(/^must be a Standard Webhooks secret/) }),
    ]);
    expect(signingSecretList.safeParse([]).success).toBe(false);
  });

  test("a secret shorter than the spec's 24 bytes (a truncated paste) is refused", () => {
    const result = signingSecretList.safeParse('whsec_MfKQ9r8GKYqrTwjU');
    expect(result.error?.issues[0]?.message).toBe(
      'decodes to 12 bytes; Standard Webhooks secrets have at least 24 (copy it again in full)',
    );
  });
});
