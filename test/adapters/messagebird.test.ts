/**
 * MessageBird quirks the shared conformance suite does not cover. The oracle is MessageBird's own
 * published table of signature vectors (messagebird-nodejs `lib/testdata/webhook-signature-jwt-reference.json`,
 * secret, URL, payload, time and token as published): our node:crypto verifier must agree with
 * every verdict, and our signer must reproduce the valid tokens byte for byte.
 */
import { createHmac } from 'node:crypto';
import { adapter } from '../../adapters/messagebird';
import { dedupeKey } from '../../src/mapping/dedupe-key';
import type { UnsignedRequest } from '../../src/core/adapter';
import { WebhookVerificationError, type VerificationReason } from '../../src/core/errors';
import { ReplayCache } from '../../src/core/replay-cache';
import {
  sha256Hex,
  signMessageBirdJwt,
  verifyMessageBirdJwt,
  type MessageBirdJwtAlgorithm,
} from '../../src/verify/messagebird-jwt';
import { toWebhookRequest } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const SECRET = '36efdd1aace2e26cd490f0d951138253bef2f7c6d34d18981da781555cc4cebb';
/** The vectors' "timestamp": 2021-07-05T12:00:00+02:00 = nbf 1625479200. */
const VECTOR_NOW = new Date('2021-07-05T12:00:00+02:00');
const HELLO = 'Hello, World!';
const SPECIAL_PAYLOAD = 'Some text containg & < >, & and \\u0026';

const H256 = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9';
const C_ROOT =
  'eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ';
const ROOT_TOKEN = `${H256}.${C_ROOT}.6Fp0rVOsRr1fj9S2GidXAfkmPVofKr8_RTffC6G6r2E`;

interface Vector {
  name: string;
  url: string;
  payload?: string;
  token: string;
  /** 'ok', or the reason we give where the SDK's table says invalid. */
  expect: VerificationReason | 'ok';
}

/** A selection of the published table (one method each: the scheme does not sign the method). */
const VECTORS: Vector[] = [
  { name: 'Valid JWT with no URL parameters or payload', url: 'https://example.com/', token: ROOT_TOKEN, expect: 'ok' },
  {
    name: 'Valid JWT with URL parameters and no payload',
    url: 'https://example.com/path?bar=1&foo=2',
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiJjOTQ2YWY3Ny1lMTgyLTRlYWEtYjJmZi0xYTU0NWI1ZTk5MWEiLCJ1cmxfaGFzaCI6IjQxZjA1ZjBkZGQwYTIyYWIyMDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWNlNmMyNjAifQ` +
      '.huo2ou6JDoDc7sV25d75UMWeYhBeavQlLsqIibSZuac',
    expect: 'ok',
  },
  {
    name: 'Valid JWT with URL parameters and payload',
    url: 'https://example.com/path?bar=1&foo=2',
    payload: HELLO,
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI5M2U1NTAwNi1hMGU4LTQ1MjYtYTE5MC1mYTVmZjAwZWExMTYiLCJ1cmxfaGFzaCI6IjQxZjA1ZjBkZGQwYTIyYWIyMDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWNlNmMyNjAiLCJwYXlsb2FkX2hhc2giOiJkZmZkNjAyMWJiMmJkNWIwYWY2NzYyOTA4MDllYzNhNTMxOTFkZDgxYzdmNzBhNGIyODY4OGEzNjIxODI5ODZmIn0` +
      '._H--TOuYFLpeEH39-rg5E3IHVkjHozBcaKVWPRC5m9I',
    expect: 'ok',
  },
  {
    name: 'Port number in URL',
    url: 'https://example.com:8080/',
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjA3Zjc4NjFhNjliMTNjMjI5YzZhZTU5NmQxOThiMjc2M2IwNTRjZjVlMDAwZDczNmQxYzQ4MTAyZDc3MGNmZmMifQ` +
      '.vcpa0IicGAbpo064dOjiA2VbVOR2S5uZBEaBOP16sS8',
    expect: 'ok',
  },
  {
    name: 'Special characters in URL',
    url: 'https://example.com/?obj%5Bfield1%5D=val1&obj%5Bfield2%5D=val2&param=value+with+spaces',
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjhhZmYzNzQ4ZDc4OWM0MzMzNTczZTFjMzFmZTViMDA0OTQwY2I1ZmM0NzQ2MGVkM2QwZTY1NGY3ZmM0ZTVmYWUifQ` +
      '.mJBCMfEjKmN3IMuzqPXPHktWETrcu0iNdF3agE8PDyI',
    expect: 'ok',
  },
  {
    name: 'Special characters in the payload',
    url: 'https://example.com/',
    payload: SPECIAL_PAYLOAD,
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiIyNDMxYmQ5Y2NiNDhlZDAxNmZhZDU2N2IwNzcxMjAzOGI1Y2RkOTQ5YWM5ZDQxZmU0NjkzZDVhMzg0NWNmN2U4In0` +
      '.IQiKzeEPaO3A48lhKmBDSmxZyCESPCGxdSKFdi0dEJs',
    expect: 'ok',
  },
  {
    name: 'HS384 alg',
    url: 'https://example.com/',
    token: `eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.${C_ROOT}.KNMW-29X77lZeuPmThmHWc_RUAvTkaDkpxIZK6mqE08v8mWKiU9Edh4QXwAJO2nv`,
    expect: 'ok',
  },
  {
    name: 'HS512 alg',
    url: 'https://example.com/',
    token: `eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.${C_ROOT}.rd6r0iMyNGnVPCwurETphE3Y8rpAyvvnUK0S8WvGUkt2E1QSRAZ7NZJZBHw1Y_Wb5W-sK9HJr_PRL2vz4jRT3Q`,
    expect: 'ok',
  },
  {
    name: 'Token received before it was issued',
    url: 'https://example.com/',
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ4MjgwMCwiZXhwIjoxNjI1NDgyODYwLCJqdGkiOiJmOWY4YzM4Mi0yNDQ5LTQzMTEtYjcyYi0xZGY3MTY4NzkzMWUiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ` +
      '.ZELgDFNGhjZH9CffQKcq3sytBe2I0KciLxpBhcfstHQ',
    expect: 'timestamp_out_of_tolerance',
  },
  {
    name: 'Token received after it was expired',
    url: 'https://example.com/',
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3NTYwMCwiZXhwIjoxNjI1NDc1NjYwLCJqdGkiOiI1ZjAyZjUyMi02MDMwLTQ2YzgtYjVhMy0wMTI0NjQ3OGQ4YmMiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ` +
      '.45MSST3B_2PsjNUeiuW54_vUQgVw4rBXrdWrOUEz3lM',
    expect: 'timestamp_out_of_tolerance',
  },
  {
    name: 'Token received on different URL (parameters were sorted out of order)',
    url: 'https://example.com/path?foo=1&bar=2',
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiJhNzVjOTA5Ni1lODIzLTQ0MmItODVmMi03ZDNjOWQ5YjcyNmIiLCJ1cmxfaGFzaCI6IjZhMDIyZDgzNGMxODMzMGJhYWQ4YTJiZDYxMzUxNzNlZDIxNjEwYTQ1NDUxNmJlMGRmM2YxY2MwMTUxNjEwZWEifQ` +
      '.z6Sw1XQIM0wuEQGBhXBdawDIIrtMg2XnmA_bpDq53pE',
    expect: 'signature_mismatch',
  },
  {
    name: 'Payload does not match',
    url: 'https://example.com/',
    payload: HELLO,
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIxNDUwMTUzMi05NmYyLTQ2ODQtOTgzMi02OGYwOTUxYWUzNDIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiJmYjYyZjAyYWNkYTdkNzQxNzdhNzAxYTFjZTAwNmU2YmFjZDkwYzdkNGQ3YWI0ODE2OTJjMWRhNDdjODEwNzZiIn0` +
      '.m79RCwO6dGa9pvzsQypkVuXQ6eM0CkRl6_U7MfWg6TM',
    expect: 'signature_mismatch',
  },
  {
    name: 'Different secret',
    url: 'https://example.com/',
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIyNDNjMjdhZS0yZjAyLTQ2YTAtODg1Mi1jNjZmMzdlYTlmNDYiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ` +
      '.JgSeYyOtlEKAXk8bz30iJI4tXgf4lxknoiezawuVhb4',
    expect: 'signature_mismatch',
  },
  {
    name: 'payload was removed in transit',
    url: 'https://example.com/',
    payload: '',
    token:
      `${H256}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIxNDUwMTUzMi05NmYyLTQ2ODQtOTgzMi02OGYwOTUxYWUzNDIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiJkZmZkNjAyMWJiMmJkNWIwYWY2NzYyOTA4MDllYzNhNTMxOTFkZDgxYzdmNzBhNGIyODY4OGEzNjIxODI5ODZmIn0` +
      '.bHfsjj3tljfzTufoG3EU3p_yFrQh9CufyzRSaRMd4ss',
    expect: 'signature_mismatch',
  },
  {
    name: 'payload was added in transit',
    url: 'https://example.com/',
    payload: HELLO,
    token: ROOT_TOKEN,
    expect: 'signature_mismatch',
  },
  {
    name: 'none alg',
    url: 'https://example.com/',
    token:
      'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJNZXNzYWdlQmlyZCIsImlhdCI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.',
    expect: 'malformed_signature',
  },
];

/** The SDK's clockTolerance, as our default. */
const TOLERANCE = 5;

function reasonOf(fn: () => unknown): VerificationReason | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.reason;
    throw err;
  }
}

function vectorVerdict(v: Vector, keys: readonly string[] = [SECRET]): VerificationReason | 'ok' {
  const body = Buffer.from(v.payload ?? '', 'utf8');
  return reasonOf(() =>
    verifyMessageBirdJwt(v.token, keys, { url: v.url, body, now: VECTOR_NOW, toleranceSeconds: TOLERANCE }),
  );
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function algOf(token: string): MessageBirdJwtAlgorithm {
  return (
    JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { alg: MessageBirdJwtAlgorithm }
  ).alg;
}

describe("signature: MessageBird's published vectors (messagebird-nodejs lib/testdata)", () => {
  test.each(VECTORS.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(vectorVerdict(v)).toBe(v.expect);
  });

  test.each(VECTORS.filter((v) => v.expect === 'ok').map((v) => [v.name, v] as const))(
    'our signer reproduces the token: %s',
    (_name, v) => {
      const jti = String(claimsOf(v.token).jti);
      const signed = signMessageBirdJwt(
        SECRET,
        { url: v.url, body: Buffer.from(v.payload ?? '', 'utf8') },
        VECTOR_NOW,
        { algorithm: algOf(v.token), jti },
      );
      expect(signed).toBe(v.token);
    },
  );

  test('url_hash is the hex SHA-256 of the URL exactly as requested', () => {
    expect(claimsOf(ROOT_TOKEN).url_hash).toBe(sha256Hex('https://example.com/'));
  });

  test('rotation: a valid vector verifies with [other, secret] and fails with [other] alone', () => {
    const v = VECTORS[0]!;
    expect(vectorVerdict(v, ['not-the-key', SECRET])).toBe('ok');
    expect(vectorVerdict(v, ['not-the-key'])).toBe('signature_mismatch');
  });

  test('inside the window: 5 s of skew past exp is tolerated, 6 s is not; toleranceSeconds 0 disables the window', () => {
    const v = VECTORS[0]!;
    const body = Buffer.alloc(0);
    const at = (seconds: number, toleranceSeconds = TOLERANCE): VerificationReason | 'ok' =>
      reasonOf(() =>
        verifyMessageBirdJwt(v.token, [SECRET], {
          url: v.url,
          body,
          now: new Date((1625479260 + seconds) * 1000),
          toleranceSeconds,
        }),
      );
    expect(at(5)).toBe('ok');
    expect(at(6)).toBe('timestamp_out_of_tolerance');
    expect(at(86_400, 0)).toBe('ok');
  });
});

describe('signature: forged and malformed tokens', () => {
  const url = 'https://hooks.example.com/webhooks/messagebird?id=1&status=sent';
  const now = new Date('2026-04-27T13:35:00Z');
  const body = Buffer.alloc(0);
  const verdict = (token: string): VerificationReason | 'ok' =>
    reasonOf(() => verifyMessageBirdJwt(token, [SECRET], { url, body, now, toleranceSeconds: TOLERANCE }));
  const genuine = signMessageBirdJwt(SECRET, { url, body }, now, { jti: 'jti-1' });
  const [, claims, signature] = genuine.split('.') as [string, string, string];
  const header = (h: object): string => Buffer.from(JSON.stringify(h)).toString('base64url');

  test('a genuine token verifies', () => {
    expect(verdict(genuine)).toBe('ok');
  });

  test.each([
    ['alg none with the genuine claims and no signature', `${header({ alg: 'none', typ: 'JWT' })}.${claims}.`],
    ['alg NONE (upper case)', `${header({ alg: 'NONE' })}.${claims}.${signature}`],
    ['alg RS256 (key confusion)', `${header({ alg: 'RS256' })}.${claims}.${signature}`],
    ['no alg', `${header({ typ: 'JWT' })}.${claims}.${signature}`],
    ['two segments', `${header({ alg: 'HS256' })}.${claims}`],
    ['a header that is not JSON', `bm90IGpzb24.${claims}.${signature}`],
    ['characters outside base64url', `${genuine.slice(0, 10)}+/${genuine.slice(12)}`],
    ['an empty token body', '..'],
  ])('%s is malformed_signature', (_n, token) => {
    expect(verdict(token)).toBe('malformed_signature');
  });

  test('a changed claim (exp pushed to 2100) breaks the signature', () => {
    const moved = Buffer.from(JSON.stringify({ ...claimsOf(genuine), exp: 4102444800 })).toString('base64url');
    expect(verdict(`${genuine.split('.')[0]}.${moved}.${signature}`)).toBe('signature_mismatch');
  });

  test('a correctly signed token from another issuer, or without jti or url_hash, is refused', () => {
    const sign = (c: Record<string, unknown>): string => {
      const input = `${header({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from(JSON.stringify(c)).toString('base64url')}`;
      const mac = createHmac('sha256', SECRET).update(input).digest('base64url');
      return `${input}.${mac}`;
    };
    const base = claimsOf(genuine);
    expect(verdict(sign({ ...base, iss: 'Mallory' }))).toBe('malformed_signature');
    const { jti: _j, ...noJti } = base;
    expect(verdict(sign(noJti))).toBe('malformed_signature');
    const { url_hash: _u, ...noUrl } = base;
    expect(verdict(sign(noUrl))).toBe('malformed_signature');
    const { exp: _e, ...noExp } = base;
    expect(verdict(sign(noExp))).toBe('malformed_signature');
    expect(verdict(sign(base))).toBe('ok');
  });
});

describe('verify(): the adapter', () => {
  const creds = adapter.testing.createCredentials();
  const settings = adapter.settingsSchema.parse(creds.options);
  const now = new Date('2026-04-27T13:35:00Z');
  const url =
    'https://hooks.example.com/webhooks/messagebird?id=abc&reference=r1&recipient=31612345678&status=delivered';
  const unsigned: UnsignedRequest = { method: 'GET', url, headers: {}, body: Buffer.alloc(0) };

  test('a jti is single-use: once recorded, the same token is replayed', async () => {
    const cache = new ReplayCache(60_000);
    const req = toWebhookRequest(adapter.testing.sign(unsigned, creds.signer, now), now);
    const first = await adapter.verify(req, settings, { replayCache: cache });
    expect(first).toMatchObject({ replayKey: expect.stringMatching(/^messagebird:/) });
    cache.add((first as { replayKey: string }).replayKey, now.getTime());
    await expect(
      Promise.resolve().then(() => adapter.verify(req, settings, { replayCache: cache })),
    ).rejects.toMatchObject({ reason: 'replayed' });
  });

  test('a GET that grew a body is refused (no payload_hash was signed)', async () => {
    const signed = adapter.testing.sign(unsigned, creds.signer, now);
    const req = toWebhookRequest({ ...signed, body: Buffer.from('x') }, now);
    await expect(
      Promise.resolve().then(() => adapter.verify(req, settings, { replayCache: new ReplayCache(1) })),
    ).rejects.toMatchObject({
      reason: 'signature_mismatch',
    });
  });

  test('toleranceSeconds defaults to 5 and an empty signingKey is refused at start-up', () => {
    expect(settings.toleranceSeconds).toBe(5);
    expect(adapter.settingsSchema.safeParse({ signingKey: '' }).success).toBe(false);
    expect(adapter.settingsSchema.safeParse({ signingKey: 'k', extra: 1 }).success).toBe(false);
  });

  test('signerFromOptions takes the first key of a rotation list', () => {
    expect(adapter.testing.signerFromOptions({ signingKey: ['new', 'old'] })).toBe('new');
    expect(adapter.testing.signerFromOptions({})).toBeUndefined();
  });
});

describe('parse(): MessageBird quirks', () => {
  const now = new Date('2026-04-27T13:40:00Z');
  const parseQuery = (query: string) =>
    adapter.parse(
      toWebhookRequest(
        {
          method: 'GET',
          url: `https://hooks.example.com/webhooks/messagebird?${query}`,
          headers: {},
          body: Buffer.alloc(0),
        },
        now,
      ),
    );

  test('statusDatetime: an unencoded + (decoded as a space) is repaired; an encoded one is read as is', () => {
    expect(parseQuery('id=a&status=sent&statusDatetime=2026-04-27T15:35:05+02:00')[0]!.occurredAt).toBe(
      '2026-04-27T13:35:05Z',
    );
    expect(parseQuery('id=a&status=sent&statusDatetime=2026-04-27T15%3A35%3A05%2B02%3A00')[0]!.occurredAt).toBe(
      '2026-04-27T13:35:05Z',
    );
    expect(parseQuery('id=a&status=sent&statusDatetime=2026-04-27T10:35:05-03:00')[0]!.occurredAt).toBe(
      '2026-04-27T13:35:05Z',
    );
  });

  test('no statusDatetime, or garbage, is null: never invented', () => {
    expect(parseQuery('id=a&status=sent')[0]!.occurredAt).toBeNull();
    expect(parseQuery('id=a&status=sent&statusDatetime=yesterday')[0]!.occurredAt).toBeNull();
  });

  test('overrides: reference form, query params winning, blanks dropped; a plain reference stays a detail', () => {
    const ref = encodeURIComponent(
      'distinct_user_id=u_ref&distinct_feature=registration_sms&distinct_experience_id=%20',
    );
    const [fromRef] = parseQuery(`id=a&status=sent&reference=${ref}`);
    expect(fromRef!.overrides).toEqual({ userId: 'u_ref', feature: 'registration_sms' });
    expect(fromRef!.details.reference).toBeUndefined();
    const [both] = parseQuery(`distinct_user_id=u_query&id=a&status=sent&reference=${ref}`);
    expect(both!.overrides).toEqual({ userId: 'u_query', feature: 'registration_sms' });
    const [plain] = parseQuery('id=a&status=sent&reference=order%3D7');
    expect(plain!.overrides).toEqual({});
    expect(plain!.details.reference).toBe('order=7');
  });

  test('the recipient is kept raw (no +); two deliveries of one report (new jti each) share a de-duplication key', () => {
    const query = 'id=a&status=delivered&recipient=31612345678&statusDatetime=2026-04-27T13%3A35%3A05%2B00%3A00';
    const creds = adapter.testing.createCredentials();
    const keys = [0, 1].map(() => {
      const signed = adapter.testing.sign(
        {
          method: 'GET',
          url: `https://hooks.example.com/webhooks/messagebird?${query}`,
          headers: {},
          body: Buffer.alloc(0),
        },
        creds.signer,
        now,
      );
      const [d] = adapter.parse(toWebhookRequest(signed, now));
      expect(d).toMatchObject({ phone: '31612345678', messageId: 'a', providerEventId: null, type: 'sms.delivered' });
      return { key: dedupeKey('messagebird', d!), token: signed.headers['messagebird-signature-jwt'] };
    });
    expect(keys[0]!.token).not.toBe(keys[1]!.token);
    expect(keys[0]!.key).toBe(keys[1]!.key);
    expect(dedupeKey('messagebird', parseQuery(query.replace('delivered', 'sent'))[0]!)).not.toBe(keys[0]!.key);
  });

  test('a parameter named __proto__ stays data', () => {
    const [d] = parseQuery('id=a&status=sent&__proto__=x');
    expect(Object.getPrototypeOf(d!.raw)).toBe(Object.prototype);
    expect((d!.raw as Record<string, unknown>)['__proto__']).toBe('x');
  });

  test('sample(): a GET query with the overrides in the reference, no body, round-trips through parse', () => {
    const sample = adapter.testing.sample({
      type: 'sms.delivered',
      recipient: '+31612345678',
      now,
      overrides: { distinct_user_id: 'u_9' },
    });
    expect(sample.body.length).toBe(0);
    const [d] = parseQuery(sample.query);
    expect(d).toMatchObject({
      type: 'sms.delivered',
      phone: '31612345678',
      occurredAt: '2026-04-27T13:40:00Z',
      overrides: { userId: 'u_9' },
    });
    expect(() => adapter.testing.sample({ type: 'email.opened', recipient: 'a@example.com', now })).toThrow(
      /MessageBird has no status/,
    );
  });
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const PUBLIC = 'https://hooks.example.com';
  const creds = adapter.testing.createCredentials();

  const app = useLoopbackApp(() =>
    loopbackConfig(
      adapter,
      { messagebird: { feature: 'registration_sms', experienceId: 'exp_http', ...creds.options } },
      { server: { publicUrl: PUBLIC } },
    ),
  );

  const QUERY =
    'id=e8077d803532c0b5937c639b60216938&reference=distinct_user_id%3Du_http&recipient=31612345678&status=delivered&statusDatetime=2016-05-03T08%3A58%3A10%2B00%3A00';

  test('a GET status report signed for the public URL is queued; the same token again is a replay (401)', async () => {
    const signed = adapter.testing.sign(
      { method: 'GET', url: `${PUBLIC}/webhooks/messagebird?${QUERY}`, headers: {}, body: Buffer.alloc(0) },
      creds.signer,
      new Date(),
    );
    const res = await fetch(`${app.origin}/webhooks/messagebird?${QUERY}`, { method: 'GET', headers: signed.headers });
    expect(res.status).toBe(200);
    const [lease] = await app.queue.claim(1);
    expect(lease!.message.event).toMatchObject({
      action: 'delivered',
      userId: 'u_http',
      phone: '+31612345678',
      capturedAt: '2016-05-03T08:58:10Z',
      experienceId: 'exp_http',
    });
    const again = await fetch(`${app.origin}/webhooks/messagebird?${QUERY}`, {
      method: 'GET',
      headers: signed.headers,
    });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: 'ERR_WEBHOOK_VERIFICATION', reason: 'replayed' });
  });

  test('a token signed for the internal URL gets 401; a POST gets 405', async () => {
    const internal = adapter.testing.sign(
      { method: 'GET', url: `${app.origin}/webhooks/messagebird?${QUERY}`, headers: {}, body: Buffer.alloc(0) },
      creds.signer,
      new Date(),
    );
    const res = await fetch(`${app.origin}/webhooks/messagebird?${QUERY}`, {
      method: 'GET',
      headers: internal.headers,
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ reason: 'signature_mismatch' });
    const post = await fetch(`${app.origin}/webhooks/messagebird?${QUERY}`, {
      method: 'POST',
      headers: internal.headers,
      body: 'x',
    });
    expect(post.status).toBe(405);
  });
});
