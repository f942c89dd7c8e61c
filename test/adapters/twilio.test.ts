/**
 * Twilio quirks the shared conformance suite does not cover. The oracle is twilio-node itself
 * (`twilio/lib/webhooks/webhooks`, devDependency): our node:crypto port must accept exactly what
 * its `validateRequest` / `validateRequestWithBody` accept.
 */
import {
  getExpectedBodyHash,
  getExpectedTwilioSignature,
  validateRequest,
  validateRequestWithBody,
} from 'twilio/lib/webhooks/webhooks';
import { adapter } from '../../adapters/twilio';
import type { UnsignedRequest } from '../../src/core/adapter';
import { WebhookParseError, type VerificationReason } from '../../src/core/errors';
import { ReplayCache } from '../../src/core/replay-cache';
import {
  computeTwilioSignature,
  twilioBodyHash,
  validateTwilioSignature,
  validateTwilioSignatureWithBody,
  type TwilioParams,
} from '../../src/verify/twilio-signature';
import { createTestCredentials, testConfig } from '../helpers/app';
import { toWebhookRequest, verdictOf } from '../helpers/fixtures';
import { useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:40:00Z');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const BASE = 'https://hooks.example.com/webhooks/twilio';

/** Twilio's documented example (webhooks-security page; twilio-node README). */
const DOC_TOKEN = '12345';
const DOC_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const DOC_PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+12349013030',
  Digits: '1234',
  From: '+12349013030',
  To: '+18005551212',
};
const DOC_SIGNATURE = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';

type Settings = Parameters<typeof adapter.verify>[1];

function settingsFor(options: Record<string, unknown>): Settings {
  return adapter.settingsSchema.parse(options);
}

/** An x-www-form-urlencoded body carrying every value of every param, in the given order. */
function formBody(params: TwilioParams): Buffer {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    for (const v of typeof value === 'string' ? [value] : value) body.append(name, v);
  return Buffer.from(body.toString(), 'utf8');
}

function request(url: string, body: Buffer, headers: Record<string, string> = FORM): UnsignedRequest {
  return { method: 'POST', url, headers: { ...headers }, body };
}

function verifyReason(req: UnsignedRequest, settings: Settings): Promise<VerificationReason | 'ok'> {
  return verdictOf(() =>
    adapter.verify(toWebhookRequest(req, NOW), settings, { replayCache: new ReplayCache(60_000) }),
  );
}

/** twilio-node's `validateRequest`, with a throw (unparseable URL) read as "not valid". */
function oracleValidates(token: string, signature: string, url: string, params: TwilioParams): boolean {
  try {
    return validateRequest(token, signature, url, params);
  } catch {
    return false;
  }
}

describe('signature: known vectors', () => {
  test("Twilio's documented vector gives 0/KCTR6DLpKmkAf8muzZqo1nDgQ= (ours and twilio-node's)", () => {
    expect(getExpectedTwilioSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS)).toBe(DOC_SIGNATURE);
    expect(computeTwilioSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS)).toBe(DOC_SIGNATURE);
  });

  test('verify() accepts the documented request posted as a form body', async () => {
    const req = request(DOC_URL, formBody(DOC_PARAMS), { ...FORM, 'X-Twilio-Signature': DOC_SIGNATURE });
    expect(await verifyReason(req, settingsFor({ authToken: DOC_TOKEN }))).toBe('ok');
  });

  // twilio-node spec/validation.spec.js (token 12345): the vectors its own test suite pins.
  const SPEC_PARAMS = {
    CallSid: 'CA1234567890ABCDE',
    Caller: '+14158675309',
    Digits: '1234',
    From: '+14158675309',
    To: '+18005551212',
  };
  const SPEC_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  test.each([
    ['plain', SPEC_URL, SPEC_PARAMS, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='],
    [
      'https with a non-default port (stripped)',
      SPEC_URL.replace('.com', '.com:1234'),
      SPEC_PARAMS,
      'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
    ],
    [
      'http with a port',
      SPEC_URL.replace('.com', '.com:1234').replace('https', 'http'),
      SPEC_PARAMS,
      'Zmvh+3yNM1Phv2jhDCwEM3q5ebU=',
    ],
    ['https signed with :443 added', SPEC_URL, SPEC_PARAMS, 'kvajT1Ptam85bY51eRf/AJRuM3w='],
    ['http signed with :80 added', SPEC_URL.replace('https', 'http'), SPEC_PARAMS, '0ZXoZLH/DfblKGATFgpif+LLRf4='],
    [
      'credentials in the URL',
      'https://user:pass@mycompany.com/myapp.php?foo=1&bar=2',
      SPEC_PARAMS,
      'CukzLTc1tT5dXEDIHm/tKBanW10=',
    ],
    ['username only', 'https://user@mycompany.com/myapp.php?foo=1&bar=2', SPEC_PARAMS, '2YRLlVAflCqxaNicjMpJcSTgzSs='],
    [
      'credentials, signed with :443 added',
      'https://user:pass@mycompany.com/myapp.php?foo=1&bar=2',
      SPEC_PARAMS,
      'ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=',
    ],
    ['special characters in the query', `${SPEC_URL}&Body=It's+amazing`, SPEC_PARAMS, 'dsq4Ehbj6cs+KdTkpF5sSSplOWw='],
    [
      'a repeated param',
      SPEC_URL,
      { 'MessagingBinding.Address': ['+1325xxxxxxx', '+1415xxxxxxx'] },
      '83O6e2vORAoJHUNzJjDWN1jz+BA=',
    ],
    [
      'a repeated param in another order',
      SPEC_URL,
      { 'MessagingBinding.Address': ['+1415xxxxxxx', '+1325xxxxxxx'] },
      '83O6e2vORAoJHUNzJjDWN1jz+BA=',
    ],
    [
      'repeated values de-duplicated',
      SPEC_URL,
      { Sid: 'CA123', SidAccount: 'AC123', Digits: ['5678', '1234', '1234'] },
      'IK+Dwps556ElfBT0I3Rgjkr1wJU=',
    ],
  ] as const)('twilio-node spec vector: %s', (_name, url, params, signature) => {
    expect(validateRequest('12345', signature, url, params)).toBe(true);
    expect(validateTwilioSignature(['12345'], signature, url, params)).toBe(true);
    expect(
      validateTwilioSignature(
        ['12345'],
        signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
        url,
        params,
      ),
    ).toBe(false);
  });

  test('twilio-node spec vectors for JSON bodies (bodySHA256)', () => {
    const body = '{"property": "value", "boolean": true}';
    const hash = '0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620';
    expect(twilioBodyHash(body)).toBe(hash);
    const cases: Array<[string, string, string]> = [
      [`${SPEC_URL}&bodySHA256=${hash}`, 'a9nBmqA0ju/hNViExpshrM61xv4=', body],
      [
        `${SPEC_URL}&bodySHA256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a`,
        'Ldidvp12m26NI7eqEvxnEpkd9Hc=',
        '{}',
      ],
      [`https://mycompany.com/myapp.php?bodySHA256=${hash}`, 'y77kIzt2vzLz71DgmJGsen2scGs=', body],
    ];
    for (const [url, signature, raw] of cases) {
      expect(validateRequestWithBody('12345', signature, url, raw)).toBe(true);
      expect(validateTwilioSignatureWithBody(['12345'], signature, url, Buffer.from(raw))).toBe(true);
      expect(validateTwilioSignatureWithBody(['12345'], signature, url, Buffer.from(`${raw} `))).toBe(false);
    }
  });
});

describe('verify(): URL spellings, as twilio-node accepts them', () => {
  const token = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
  const settings = settingsFor({ authToken: token });
  const params = { MessageSid: 'SM5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e', MessageStatus: 'delivered', To: '+15558675310' };
  const signedAt = (signedUrl: string, receivedUrl: string): UnsignedRequest =>
    request(receivedUrl, formBody(params), {
      ...FORM,
      'x-twilio-signature': getExpectedTwilioSignature(token, signedUrl, params),
    });

  test.each([
    [
      'signed with :443, called without',
      'https://hooks.example.com:443/webhooks/twilio',
      'https://hooks.example.com/webhooks/twilio',
    ],
    [
      'signed without a port, called with :443',
      'https://hooks.example.com/webhooks/twilio',
      'https://hooks.example.com:443/webhooks/twilio',
    ],
    [
      'http signed with :80, called without',
      'http://hooks.example.com:80/webhooks/twilio?x=1',
      'http://hooks.example.com/webhooks/twilio?x=1',
    ],
    [
      'https non-default port removed when signed without it',
      'https://hooks.example.com/webhooks/twilio',
      'https://hooks.example.com:8443/webhooks/twilio',
    ],
    // twilio-node v6 `removePort` drops any port, http included (not only the default ones).
    [
      'http non-default port removed when signed without it',
      'http://hooks.example.com/webhooks/twilio',
      'http://hooks.example.com:8080/webhooks/twilio',
    ],
    [
      'credentials in the URL',
      'https://twilio:s3cret@hooks.example.com/webhooks/twilio',
      'https://twilio:s3cret@hooks.example.com/webhooks/twilio',
    ],
    [
      'credentials, signed with :443',
      'https://twilio:s3cret@hooks.example.com:443/webhooks/twilio',
      'https://twilio:s3cret@hooks.example.com/webhooks/twilio',
    ],
    [
      "query with ' signed, %27 received",
      "https://hooks.example.com/webhooks/twilio?distinct_user_id=o'brien",
      'https://hooks.example.com/webhooks/twilio?distinct_user_id=o%27brien',
    ],
    [
      "query with %27 signed, ' received",
      'https://hooks.example.com/webhooks/twilio?distinct_user_id=o%27brien',
      "https://hooks.example.com/webhooks/twilio?distinct_user_id=o'brien",
    ],
    [
      'query re-serialised by the legacy querystring (space as %20)',
      'https://hooks.example.com/webhooks/twilio?q=a%20b',
      'https://hooks.example.com/webhooks/twilio?q=a+b',
    ],
  ])('accepted: %s', async (_name, signedUrl, receivedUrl) => {
    const req = signedAt(signedUrl, receivedUrl);
    expect(oracleValidates(token, req.headers['x-twilio-signature']!, receivedUrl, params)).toBe(true);
    expect(await verifyReason(req, settings)).toBe('ok');
  });

  test.each([
    [
      'credentials dropped',
      'https://twilio:s3cret@hooks.example.com/webhooks/twilio',
      'https://hooks.example.com/webhooks/twilio',
    ],
    ['another path', 'https://hooks.example.com/webhooks/twilio', 'https://hooks.example.com/webhooks/twilio/'],
    [
      'another query',
      'https://hooks.example.com/webhooks/twilio?distinct_user_id=u_1',
      'https://hooks.example.com/webhooks/twilio?distinct_user_id=u_2',
    ],
    [
      'http signed, https received',
      'http://hooks.example.com/webhooks/twilio',
      'https://hooks.example.com/webhooks/twilio',
    ],
    [
      'signed with a non-default port, called without it',
      'https://hooks.example.com:8443/webhooks/twilio',
      'https://hooks.example.com/webhooks/twilio',
    ],
  ])('rejected, as twilio-node rejects it: %s', async (_name, signedUrl, receivedUrl) => {
    const req = signedAt(signedUrl, receivedUrl);
    expect(oracleValidates(token, req.headers['x-twilio-signature']!, receivedUrl, params)).toBe(false);
    expect(await verifyReason(req, settings)).toBe('signature_mismatch');
  });

  test('a form param added to the body is rejected (all params are signed, not a whitelist)', async () => {
    const req = signedAt(BASE, BASE);
    const body = Buffer.concat([req.body, Buffer.from('&ErrorCode=30003')]);
    expect(await verifyReason({ ...req, body }, settings)).toBe('signature_mismatch');
  });

  test("repeated params: the body posted in any order verifies with twilio-node's signature", async () => {
    const repeated = { Digits: ['5678', '1234', '1234'], Sid: 'CA123' };
    const signature = getExpectedTwilioSignature(token, BASE, repeated);
    const body = Buffer.from('Digits=1234&Sid=CA123&Digits=5678&Digits=1234');
    expect(await verifyReason(request(BASE, body, { ...FORM, 'x-twilio-signature': signature }), settings)).toBe('ok');
  });

  test('an unparseable URL is a mismatch, never a thrown TypeError', async () => {
    const req = request('https://[not-a-host/webhooks/twilio', formBody(params), {
      ...FORM,
      'x-twilio-signature': 'AAAA',
    });
    expect(await verifyReason(req, settings)).toBe('signature_mismatch');
  });
});

describe('verify(): agrees with twilio-node validateRequest over a table of URLs', () => {
  // A deterministic PRNG (mulberry32), so a failure names a reproducible case.
  function rng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const SCHEMES = ['https://', 'http://', 'HTTPS://'];
  const USERINFO = ['', 'user@', 'user:pass@', 'us%40er:p%3Ass@'];
  const HOSTS = ['hooks.example.com', 'HOOKS.Example.COM', '127.0.0.1', '[::1]', 'xn--caf-dma.example'];
  const PORTS = ['', ':443', ':80', ':8443', ':3000'];
  const PATHS = [
    '/webhooks/twilio',
    '/webhooks/twilio/',
    '/a b/c',
    '/caf%C3%A9',
    '/café',
    "/it's",
    '/%7Euser',
    '/~user',
    '',
  ];
  const QUERIES = [
    '',
    '?',
    '?a=1',
    '?a=1&b=2',
    "?n=O'Brien",
    '?n=O%27Brien',
    '?q=a+b',
    '?q=a%20b',
    '?a=2&a=1',
    '?x=%7e~',
    '?e=%E2%82%AC',
    '?e=€',
    '?flag',
    '?a=1#frag',
  ];
  const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

  /** Spellings a URL may take on the way from Twilio's dashboard to `req.url`. */
  const VARIANTS: Array<(u: string) => string> = [
    (u) => u,
    (u) => {
      try {
        return new URL(u).toString();
      } catch {
        return u;
      }
    },
    (u) =>
      u.replace(/^(https?:\/\/[^/?#]*?)(:\d+)?(?=[/?#]|$)/i, (_m, h: string, p: string | undefined) =>
        p ? h : `${h}:443`,
      ),
    (u) => u.replace(/^(https?:\/\/[^/?#]*?)(:\d+)(?=[/?#]|$)/i, '$1'),
    (u) => u.replace(/^(https?:\/\/[^/?#]*?)(:\d+)?(?=[/?#]|$)/i, '$1:8443'),
    (u) => u.replace(/'/g, '%27'),
    (u) => u.replace(/%27/g, "'"),
    (u) => u.replace(/%20/g, '+'),
  ];

  test('600 generated (signed URL, received URL) pairs: same verdict as twilio-node', () => {
    const r = rng(20260427);
    const token = 'a'.repeat(16) + 'b'.repeat(16);
    const params: TwilioParams = {
      MessageSid: 'SM0',
      MessageStatus: 'sent',
      Body: "It's a+b €",
      Tags: ['z', 'a', 'z'],
    };
    let accepted = 0;
    let rejected = 0;
    const disagreements: string[] = [];
    for (let i = 0; i < 600; i++) {
      const signedUrl =
        pick(r, SCHEMES) + pick(r, USERINFO) + pick(r, HOSTS) + pick(r, PORTS) + pick(r, PATHS) + pick(r, QUERIES);
      const received =
        r() < 0.15
          ? pick(r, SCHEMES) + pick(r, USERINFO) + pick(r, HOSTS) + pick(r, PORTS) + pick(r, PATHS) + pick(r, QUERIES)
          : pick(r, VARIANTS)(signedUrl);
      const signature = getExpectedTwilioSignature(token, signedUrl, params);
      const expected = oracleValidates(token, signature, received, params);
      const ours = validateTwilioSignature([token], signature, received, params);
      if (ours !== expected) disagreements.push(`${signedUrl} → ${received}: twilio-node ${expected}, ours ${ours}`);
      if (expected) accepted++;
      else rejected++;
    }
    expect(disagreements).toEqual([]);
    // The table must exercise both verdicts to mean anything.
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(20);
  });

  test("our signer produces exactly twilio-node's signature for every generated URL and params", () => {
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      const url =
        pick(r, SCHEMES) + pick(r, USERINFO) + pick(r, HOSTS) + pick(r, PORTS) + pick(r, PATHS) + pick(r, QUERIES);
      const params: TwilioParams = {
        [pick(r, ['To', 'From', 'Body', 'é', '~x', 'A', 'a'])]: pick(r, ['', '+1555', "O'Brien", '€', ' ']),
        Z: [pick(r, ['2', '1']), pick(r, ['1', '3'])],
      };
      expect({ url, sig: computeTwilioSignature('k', url, params) }).toEqual({
        url,
        sig: getExpectedTwilioSignature('k', url, params),
      });
    }
  });
});

describe('verify(): JSON bodies (bodySHA256)', () => {
  const token = '0123456789abcdef0123456789abcdef';
  const settings = settingsFor({ authToken: token });
  const JSON_HEADERS = { 'content-type': 'application/json' };
  const body =
    '{"MessageSid":"SM9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f","MessageStatus":"delivered","To":"+15558675310","ErrorCode":30003}';

  function jsonRequest(raw: string, signedBody = raw): UnsignedRequest {
    const url = `${BASE}?distinct_user_id=u_9&bodySHA256=${getExpectedBodyHash(signedBody)}`;
    return request(url, Buffer.from(raw), {
      ...JSON_HEADERS,
      'x-twilio-signature': getExpectedTwilioSignature(token, url, {}),
    });
  }

  test('a body signed the way twilio-node validates it is accepted, and twilio-node agrees', async () => {
    const req = jsonRequest(body);
    expect(validateRequestWithBody(token, req.headers['x-twilio-signature']!, req.url, body)).toBe(true);
    expect(await verifyReason(req, settings)).toBe('ok');
  });

  test('a changed body is rejected (the URL signature alone still matches)', async () => {
    const changed = body.replace('delivered', 'failed');
    const req = jsonRequest(changed, body);
    expect(validateRequestWithBody(token, req.headers['x-twilio-signature']!, req.url, changed)).toBe(false);
    expect(await verifyReason(req, settings)).toBe('signature_mismatch');
  });

  test('a changed bodySHA256 in the URL is rejected', async () => {
    const req = jsonRequest(body);
    const url = req.url.replace(/bodySHA256=./, (m) => (m.endsWith('0') ? `${m.slice(0, -1)}1` : `${m.slice(0, -1)}0`));
    expect(await verifyReason({ ...req, url }, settings)).toBe('signature_mismatch');
  });

  test('a percent-encoded bodySHA256 name in the URL still selects the JSON scheme (the body must hash to it)', async () => {
    const url = `${BASE}?body%53HA256=${getExpectedBodyHash(body)}`;
    const headers = { ...JSON_HEADERS, 'x-twilio-signature': getExpectedTwilioSignature(token, url, {}) };
    expect(await verifyReason(request(url, Buffer.from(body), headers), settings)).toBe('ok');
    expect(await verifyReason(request(url, Buffer.from(body.replace('delivered', 'failed')), headers), settings)).toBe(
      'signature_mismatch',
    );
  });

  test('testing.sign() appends bodySHA256 as Twilio does, and twilio-node validates the result', () => {
    const signed = adapter.testing.sign(request(BASE, Buffer.from(body), JSON_HEADERS), token, NOW);
    expect(signed.url).toBe(`${BASE}?bodySHA256=${getExpectedBodyHash(body)}`);
    expect(validateRequestWithBody(token, signed.headers['x-twilio-signature']!, signed.url, body)).toBe(true);
  });

  test('parse() reads a JSON status callback; numbers are kept as text', () => {
    const [draft] = adapter.parse(toWebhookRequest(jsonRequest(body), NOW));
    expect(draft).toMatchObject({
      type: 'sms.delivered',
      providerEvent: 'delivered',
      messageId: 'SM9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f',
      phone: '+15558675310',
      overrides: { userId: 'u_9' },
      details: { errorCode: '30003' },
    });
  });

  test('parse() rejects a JSON body that is not an object of parameters', () => {
    const req = toWebhookRequest(request(BASE, Buffer.from('[1,2]'), JSON_HEADERS), NOW);
    expect(() => adapter.parse(req)).toThrow(WebhookParseError);
  });
});

describe('verify(): secrets', () => {
  const params = { MessageSid: 'SM1', MessageStatus: 'sent', To: '+15558675310' };
  const current = adapter.testing.createCredentials();
  const old = adapter.testing.createCredentials();
  const signed = adapter.testing.sign(request(BASE, formBody(params)), current.signer, NOW);

  test('rotation: [old, current] accepts, [old] alone rejects', async () => {
    expect(await verifyReason(signed, settingsFor({ authToken: [old.signer, current.signer] }))).toBe('ok');
    expect(await verifyReason(signed, settingsFor({ authToken: [old.signer] }))).toBe('signature_mismatch');
  });

  test('a missing X-Twilio-Signature is missing_signature', async () => {
    expect(await verifyReason(adapter.testing.stripSignature(signed), settingsFor(current.options))).toBe(
      'missing_signature',
    );
  });

  test('an empty authToken is refused at start-up', () => {
    expect(adapter.settingsSchema.safeParse({ authToken: '' }).success).toBe(false);
    expect(adapter.settingsSchema.safeParse({ authToken: 'x', publicKey: 'y' }).success).toBe(false);
  });

  describe('Webhook Settings SharedKey (beta): X-Twilio-Webhooks-Signature-Settings', () => {
    const sharedKey = 'shared-key-secret-0123456789';
    const settings = settingsFor({ authToken: current.signer, sharedKeySecret: [sharedKey] });
    const body = formBody(params);
    const withHeaders = (signature: string, algorithm: string): UnsignedRequest =>
      request(BASE, body, {
        ...FORM,
        'x-twilio-signature': signature,
        'x-twilio-webhooks-signature-settings': `key=KS0123,algorithm=${algorithm}`,
      });

    test('HMAC_SHA256 with the SharedKey over the same string is accepted', async () => {
      expect(
        await verifyReason(
          withHeaders(computeTwilioSignature(sharedKey, BASE, params, 'sha256'), 'HMAC_SHA256'),
          settings,
        ),
      ).toBe('ok');
    });

    test('the SharedKey signature is not accepted without the header (Auth Token + SHA-1 then)', async () => {
      const req = withHeaders(computeTwilioSignature(sharedKey, BASE, params, 'sha256'), 'HMAC_SHA256');
      delete req.headers['x-twilio-webhooks-signature-settings'];
      expect(await verifyReason(req, settings)).toBe('signature_mismatch');
    });

    test('the Auth Token does not verify a request that says it used a SharedKey', async () => {
      expect(
        await verifyReason(
          withHeaders(computeTwilioSignature(current.signer, BASE, params, 'sha256'), 'HMAC_SHA256'),
          settings,
        ),
      ).toBe('signature_mismatch');
    });

    test('an unsupported algorithm is malformed_signature', async () => {
      expect(await verifyReason(withHeaders('AAAA', 'HMAC_MD5'), settings)).toBe('malformed_signature');
    });
  });
});

describe('parse(): Twilio quirks', () => {
  const parseForm = (pairs: Array<[string, string]>, query = '', headers: Record<string, string> = FORM) =>
    adapter.parse(
      toWebhookRequest(
        request(query ? `${BASE}?${query}` : BASE, Buffer.from(new URLSearchParams(pairs).toString()), headers),
        NOW,
      ),
    );

  test.each([
    ['2604271335', 'delivered', '2026-04-27T13:35:00Z'],
    ['2612312359', 'undelivered', '2026-12-31T23:59:00Z'],
    ['2602301200', 'delivered', null], // 30 February: never rolled over into March
    ['2604271375', 'delivered', null], // minute 75
    ['2402291200', 'delivered', '2024-02-29T12:00:00Z'], // leap day
    ['2502291200', 'delivered', null], // no 29 February in 2025
    ['2604311200', 'delivered', null], // 31 April
    ['2612312400', 'delivered', null], // hour 24
    ['2600011200', 'delivered', null], // month 0
    ['2604001200', 'delivered', null], // day 0
    ['260427133', 'delivered', null], // 9 digits
    ['not-a-date', 'delivered', null],
    ['2604271335', 'sent', null], // only delivery reports carry a done date
  ])('RawDlrDoneDate %s on %s → occurredAt %s', (done, status, expected) => {
    const [draft] = parseForm([
      ['MessageSid', 'SM1'],
      ['MessageStatus', status],
      ['To', '+15558675310'],
      ['RawDlrDoneDate', done],
    ]);
    expect(draft!.occurredAt).toBe(expected);
  });

  test('SmsSid/SmsStatus stand in for MessageSid/MessageStatus', () => {
    const [draft] = parseForm([
      ['SmsSid', 'SM2'],
      ['SmsStatus', 'sent'],
      ['To', '+15558675310'],
    ]);
    expect(draft).toMatchObject({ type: 'sms.sent', providerEvent: 'sent', messageId: 'SM2' });
  });

  test('an inbound message: the customer is From, not our number in To', () => {
    const [draft] = parseForm([
      ['SmsSid', 'SM3'],
      ['SmsStatus', 'received'],
      ['From', '+15558675310'],
      ['To', '+15017122661'],
      ['Body', 'hi'],
    ]);
    expect(draft).toMatchObject({ type: 'sms.received', phone: '+15558675310' });
  });

  test('WhatsApp read after delivered: only delivered is sms.delivered', () => {
    const common: Array<[string, string]> = [
      ['MessageSid', 'SM4'],
      ['To', 'whatsapp:+15558675310'],
      ['ChannelPrefix', 'whatsapp'],
    ];
    const types = ['delivered', 'read'].map((s) => parseForm([...common, ['MessageStatus', s]])[0]!.type);
    expect(types).toEqual(['sms.delivered', 'sms.unknown']);
  });

  test('missing MessageSid and MessageStatus name the parameter', () => {
    expect(() => parseForm([['MessageStatus', 'sent']])).toThrow(
      expect.objectContaining({ code: 'ERR_WEBHOOK_PARSE', path: 'MessageSid' }),
    );
    expect(() => parseForm([['MessageSid', 'SM5']])).toThrow(
      expect.objectContaining({ code: 'ERR_WEBHOOK_PARSE', path: 'MessageStatus' }),
    );
  });

  test('overrides come from the query only: trimmed, empty ones dropped, body params ignored', () => {
    const [draft] = parseForm(
      [
        ['MessageSid', 'SM6'],
        ['MessageStatus', 'sent'],
        ['distinct_user_id', 'from_body'],
      ],
      'distinct_user_id=%20u_7%20&distinct_feature=&distinct_experience_id=exp_1',
    );
    expect(draft!.overrides).toEqual({ userId: 'u_7', experienceId: 'exp_1' });
  });

  test('the idempotency token goes to details only; there is no provider event id', () => {
    const [draft] = parseForm(
      [
        ['MessageSid', 'SM7'],
        ['MessageStatus', 'sent'],
        ['AccountSid', 'AC1'],
      ],
      '',
      { ...FORM, 'i-twilio-idempotency-token': 'tok-1' },
    );
    expect(draft!.providerEventId).toBeNull();
    expect(draft!.details).toEqual({ idempotencyToken: 'tok-1' });
  });

  test('parse() after verify() reads the form that was verified; a request whose body was replaced is read afresh', async () => {
    const token = '0123456789abcdef0123456789abcdef';
    const pairs: Array<[string, string]> = [
      ['MessageSid', 'SM9'],
      ['MessageStatus', 'sent'],
      ['To', '+15558675310'],
    ];
    const signed = adapter.testing.sign(request(BASE, Buffer.from(new URLSearchParams(pairs).toString())), token, NOW);
    const req = toWebhookRequest(signed, NOW);
    await adapter.verify(req, settingsFor({ authToken: token }), { replayCache: new ReplayCache(60_000) });
    expect(adapter.parse(req)[0]).toMatchObject({ messageId: 'SM9', type: 'sms.sent' });
    const verifiedBody = req.rawBody;
    const mutable = req as { rawBody: Buffer };
    mutable.rawBody = Buffer.from('MessageSid=SM10&MessageStatus=failed&To=%2B15558675310');
    expect(adapter.parse(req)[0]).toMatchObject({ messageId: 'SM10', type: 'sms.failed' });
    mutable.rawBody = verifiedBody;
    expect(adapter.parse(req)[0]).toMatchObject({ messageId: 'SM9', type: 'sms.sent' });
  });

  test('raw keeps every parameter, repeated ones as arrays, and __proto__ as data', () => {
    const [draft] = parseForm([
      ['MessageSid', 'SM8'],
      ['MessageStatus', 'sent'],
      ['Tag', 'a'],
      ['Tag', 'b'],
      ['__proto__', 'x'],
    ]);
    expect(draft!.raw).toEqual({ MessageSid: 'SM8', MessageStatus: 'sent', Tag: ['a', 'b'], ['__proto__']: 'x' });
    expect(Object.getPrototypeOf(draft!.raw)).toBe(Object.prototype);
  });
});

describe('acknowledgement', () => {
  test('is an empty TwiML response, so an inbound message posted here gets no reply', () => {
    expect(adapter.acknowledgement).toEqual({
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: '<Response/>',
    });
  });
});

describe('testing helpers', () => {
  const creds = adapter.testing.createCredentials();
  const settings = settingsFor(creds.options);

  test('createCredentials() gives a random 32-hex Auth Token that is also the signer', () => {
    expect(creds.options).toEqual({ authToken: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(creds.signer).toBe(creds.options.authToken);
    expect(adapter.testing.createCredentials().signer).not.toBe(creds.signer);
  });

  test('signerFromOptions() returns the first Auth Token', () => {
    expect(adapter.testing.signerFromOptions({ authToken: 'one' })).toBe('one');
    expect(adapter.testing.signerFromOptions({ authToken: ['one', 'two'] })).toBe('one');
    expect(adapter.testing.signerFromOptions({})).toBeUndefined();
  });

  test.each([
    ['sms.queued', 'queued', '+15558675310'],
    ['sms.sent', 'sent', '+15558675310'],
    ['sms.delivered', 'delivered', '+15558675310'],
    ['sms.undelivered', 'undelivered', '+15558675310'],
    ['sms.failed', 'failed', '+15558675310'],
    ['sms.received', 'received', '+15558675310'],
    ['sms.unknown', 'canceled', '+15558675310'],
    ['sms.delivered', 'delivered', 'whatsapp:+15558675310'],
  ])(
    'sample(%s) is a %s callback that signs, verifies with twilio-node and parses back',
    async (type, status, recipient) => {
      const sample = adapter.testing.sample({
        type,
        recipient,
        now: NOW,
        overrides: { userId: 'u_1', distinct_feature: 'registration_sms' },
      });
      expect(sample.query).toBe('distinct_user_id=u_1&distinct_feature=registration_sms');
      const signed = adapter.testing.sign(
        request(`${BASE}?${sample.query}`, sample.body, sample.headers),
        creds.signer,
        NOW,
      );
      const params = Object.fromEntries(new URLSearchParams(sample.body.toString()));
      expect(validateRequest(creds.signer, signed.headers['x-twilio-signature']!, signed.url, params)).toBe(true);
      expect(await verifyReason(signed, settings)).toBe('ok');
      const [draft] = adapter.parse(toWebhookRequest(signed, NOW));
      expect(draft).toMatchObject({
        type,
        providerEvent: status,
        phone: recipient,
        overrides: { userId: 'u_1', feature: 'registration_sms' },
      });
      expect(draft!.messageId).toMatch(/^SM[0-9a-f]{32}$/);
      expect(params.ApiVersion).toBe('2010-04-01');
    },
  );

  test('sample() carries ErrorCode on failures and the done date on delivery reports', () => {
    const body = (type: string) =>
      Object.fromEntries(
        new URLSearchParams(adapter.testing.sample({ type, recipient: '+15558675310', now: NOW }).body.toString()),
      );
    expect(body('sms.undelivered')).toMatchObject({ ErrorCode: '30003', RawDlrDoneDate: '2604271340' });
    expect(body('sms.failed').ErrorCode).toBe('30008');
    expect(body('sms.delivered').RawDlrDoneDate).toBe('2604271340');
    expect(body('sms.sent').RawDlrDoneDate).toBeUndefined();
  });

  test('sample() refuses a type Twilio has no status for', () => {
    expect(() => adapter.testing.sample({ type: 'email.opened', recipient: 'a@example.com', now: NOW })).toThrow(
      /Twilio has no status/,
    );
  });
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const PUBLIC = 'https://hooks.example.com';
  const creds = createTestCredentials();
  const token = creds.twilio!.signer as string;

  const app = useLoopbackApp(() => testConfig({ creds, publicUrl: PUBLIC }));

  /** POSTs to our local port a request Twilio signed for the public URL (what a TLS proxy forwards). */
  async function post(publicUrl: string, body: string, headers: Record<string, string>): Promise<Response> {
    const u = new URL(publicUrl);
    return fetch(`${app.origin}${u.pathname}${u.search}`, { method: 'POST', headers, body });
  }

  test('a status callback signed for the public URL is answered with empty TwiML and queued with its query override', async () => {
    const url = `${PUBLIC}/webhooks/twilio?distinct_user_id=u_http`;
    const params = {
      SmsSid: 'SMabc',
      SmsStatus: 'delivered',
      MessageStatus: 'delivered',
      To: '+15558675310',
      MessageSid: 'SMabc',
      RawDlrDoneDate: '2604271335',
    };
    const res = await post(url, formBody(params).toString(), {
      ...FORM,
      'x-twilio-signature': getExpectedTwilioSignature(token, url, params),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await res.text()).toBe('<Response/>');
    const [lease] = await app.queue.claim(1);
    expect(lease!.message.event).toMatchObject({
      action: 'delivered',
      userId: 'u_http',
      phone: '+15558675310',
      capturedAt: '2026-04-27T13:35:00Z',
    });
  });

  test('a JSON callback with bodySHA256 is accepted; the same URL with another body gets 401', async () => {
    const body = '{"MessageSid":"SMjson","MessageStatus":"sent","To":"+15558675310"}';
    const url = `${PUBLIC}/webhooks/twilio?bodySHA256=${getExpectedBodyHash(body)}`;
    const headers = {
      'content-type': 'application/json',
      'x-twilio-signature': getExpectedTwilioSignature(token, url, {}),
    };
    expect((await post(url, body, headers)).status).toBe(200);
    const tampered = await post(url, body.replace('sent', 'failed'), headers);
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ error: 'ERR_WEBHOOK_VERIFICATION', reason: 'signature_mismatch' });
  });

  test('a callback signed for the internal URL instead of the public one gets 401', async () => {
    const params = { MessageSid: 'SMint', MessageStatus: 'sent', To: '+15558675310' };
    const res = await post(`${PUBLIC}/webhooks/twilio`, formBody(params).toString(), {
      ...FORM,
      'x-twilio-signature': getExpectedTwilioSignature(token, `${app.origin}/webhooks/twilio`, params),
    });
    expect(res.status).toBe(401);
  });
});
