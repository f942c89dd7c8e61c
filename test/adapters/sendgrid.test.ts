/**
 * SendGrid quirks the shared conformance suite does not cover: the exact signed bytes (checked
 * against the official `@sendgrid/eventwebhook` SDK and its published vectors), key formats and
 * rotation, timestamp units and the window, malformed signatures, index paths in parse errors,
 * custom_args in both shapes, details hygiene and `simulate` samples.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { EventWebhook, EventWebhookHeader } from '@sendgrid/eventwebhook';
import type { z } from 'zod';
import { adapter, type SendGridSettings } from '../../adapters/sendgrid';
import type { UnsignedRequest } from '../../src/core/adapter';
import { buildConfig } from '../helpers/config';
import { ConfigurationError, WebhookParseError, type VerificationReason } from '../../src/core/errors';
import { completeDraft } from '../../src/mapping/normalize';
import { ReplayCache } from '../../src/core/replay-cache';
import { loadFixtures, parseErrorOf, toWebhookRequest, unsignedRequest, verdictOf } from '../helpers/fixtures';

const SIG = 'x-twilio-email-event-webhook-signature';
const TS = 'x-twilio-email-event-webhook-timestamp';
const NOW = new Date('2026-04-27T13:35:00Z');
const NOW_S = String(Math.floor(NOW.getTime() / 1000));

// Published test vectors of @sendgrid/eventwebhook 8.0.0 (src/eventwebhook.spec.js): real keys
// and signatures SendGrid's SDK team produced, including the CRLF byte layout.
const SDK_PUBLIC_KEY =
  'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==';
const SDK_SIGNATURE =
  'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=';
const SDK_TIMESTAMP = '1600112502';
const SDK_PAYLOAD =
  JSON.stringify([
    {
      email: 'hello@world.com',
      event: 'dropped',
      reason: 'Bounced Address',
      sg_event_id: 'ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA',
      sg_message_id: 'LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0',
      'smtp-id': '<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>',
      timestamp: 1600112492,
    },
  ]) + '\r\n';
const SDK_PUBLIC_KEY_MULTIPLE =
  'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ4LIFtWztlsF7skFqOncjD1lun4H5w8XOhyOArHW9RcIx/FfEzx6cikC/yPfUvwaX/JScE7Fc9CJD2afQ9Ok3Q==';
const SDK_SIGNATURE_MULTIPLE =
  'MEYCIQC/I4o6vCgqRYrTljjoVWB/GRWNtxeePlLMHr3x9ETeRQIhAIpV+03nREPTTHWSW0wIOA0EoMPdcNgXa70yCaqDJlu5';
const SDK_TIMESTAMP_MULTIPLE = '1619651159';
const SDK_PAYLOAD_MULTIPLE =
  JSON.stringify([
    {
      email: 'invalid@gmail.com',
      event: 'processed',
      send_at: 0,
      sg_event_id: 'cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA',
      sg_message_id: 'qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0',
      'smtp-id': '<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>',
      timestamp: 1619651146,
    },
    {
      email: 'invalid@gmail.com',
      event: 'bounce',
      ip: '167.89.101.76',
      reason:
        '552 5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm c17si1130468pgv.34 - gsmtp',
      sg_event_id: 'Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w',
      sg_message_id: 'qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0',
      'smtp-id': '<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>',
      status: '5.2.2',
      timestamp: 1619651147,
      tls: 1,
      type: 'blocked',
    },
  ])
    .split('},{')
    .join('},\r\n{') + '\r\n';

function settings(options: Record<string, unknown>): SendGridSettings {
  return (adapter.settingsSchema as z.ZodType<SendGridSettings>).parse(options);
}

function settingsIssues(options: Record<string, unknown>): Array<{ path: string; message: string }> {
  const r = (adapter.settingsSchema as z.ZodType).safeParse(options);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

function request(body: string | Buffer, headers: Record<string, string> = {}): UnsignedRequest {
  return {
    method: 'POST',
    url: 'https://hooks.example.com/webhooks/sendgrid',
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  };
}

/** Signs ts + body with node:crypto directly: no adapter code involved. */
function handSigned(body: string | Buffer, privateKeyPem: string, timestamp: string): UnsignedRequest {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const sig = cryptoSign(
    'sha256',
    Buffer.concat([Buffer.from(timestamp), bytes]),
    createPrivateKey(privateKeyPem),
  ).toString('base64');
  return request(bytes, { [SIG]: sig, [TS]: timestamp });
}

function reasonOf(req: UnsignedRequest, s: SendGridSettings, at = NOW): Promise<VerificationReason | 'ok'> {
  return verdictOf(() => adapter.verify(toWebhookRequest(req, at), s, { replayCache: new ReplayCache(60_000) }));
}

function parse(body: string) {
  return adapter.parse(toWebhookRequest(request(body), NOW));
}

const parseError = (body: string): WebhookParseError => parseErrorOf(() => parse(body));

/** SendGrid's byte layout: compact events, CRLF between them and after the closing bracket. */
function wire(events: unknown[]): string {
  return `[${events.map((e) => JSON.stringify(e)).join(',\r\n')}]\r\n`;
}

const creds = adapter.testing.createCredentials();
const current = settings(creds.options);
const BODY = wire([
  { email: 'a@example.com', timestamp: 1777296900, event: 'processed', sg_event_id: 'e1', sg_message_id: 'm1' },
  { email: 'a@example.com', timestamp: 1777296901, event: 'delivered', sg_event_id: 'e2', sg_message_id: 'm1' },
]);

describe('SendGrid signature, checked against @sendgrid/eventwebhook', () => {
  const ew = new EventWebhook();

  test("the header names are the SDK's", () => {
    expect(EventWebhookHeader.SIGNATURE().toLowerCase()).toBe(SIG);
    expect(EventWebhookHeader.TIMESTAMP().toLowerCase()).toBe(TS);
  });

  test.each([
    ['single event', SDK_PUBLIC_KEY, SDK_PAYLOAD, SDK_SIGNATURE, SDK_TIMESTAMP],
    [
      'multi-event batch with CRLF between events',
      SDK_PUBLIC_KEY_MULTIPLE,
      SDK_PAYLOAD_MULTIPLE,
      SDK_SIGNATURE_MULTIPLE,
      SDK_TIMESTAMP_MULTIPLE,
    ],
  ])("verify() accepts the SDK's published %s vector", async (_n, key, payload, signature, timestamp) => {
    expect(ew.verifySignature(ew.convertPublicKeyToECDSA(key), payload, signature, timestamp)).toBe(true);
    const req = request(payload, { [SIG]: signature, [TS]: timestamp });
    // The vector is years old: verify at its own time, and also with the window off.
    expect(await reasonOf(req, settings({ publicKey: key }), new Date(Number(timestamp) * 1000))).toBe('ok');
    expect(await reasonOf(req, settings({ publicKey: key, toleranceSeconds: 0 }))).toBe('ok');
  });

  test('verify() rejects the SDK vector once its CRLFs are stripped, as the SDK does', async () => {
    const stripped = SDK_PAYLOAD_MULTIPLE.replace(/\r\n/g, '');
    expect(
      ew.verifySignature(
        ew.convertPublicKeyToECDSA(SDK_PUBLIC_KEY_MULTIPLE),
        stripped,
        SDK_SIGNATURE_MULTIPLE,
        SDK_TIMESTAMP_MULTIPLE,
      ),
    ).toBe(false);
    const req = request(stripped, { [SIG]: SDK_SIGNATURE_MULTIPLE, [TS]: SDK_TIMESTAMP_MULTIPLE });
    expect(await reasonOf(req, settings({ publicKey: SDK_PUBLIC_KEY_MULTIPLE, toleranceSeconds: 0 }))).toBe(
      'signature_mismatch',
    );
  });

  test('verify() rejects the SDK\'s "bad signature" vector (well-formed DER, wrong value)', async () => {
    const bad = 'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=';
    const req = request(SDK_PAYLOAD, { [SIG]: bad, [TS]: SDK_TIMESTAMP });
    expect(await reasonOf(req, settings({ publicKey: SDK_PUBLIC_KEY, toleranceSeconds: 0 }))).toBe(
      'signature_mismatch',
    );
  });

  test('a request signed by testing.sign() verifies with the SDK, for the base64 DER and the PEM form of the key', () => {
    const signed = adapter.testing.sign(request(BODY), creds.signer, NOW);
    const signature = signed.headers[SIG]!;
    const timestamp = signed.headers[TS]!;
    expect(timestamp).toBe(NOW_S);
    const publicPem = generatePublicPem(creds.signer);
    for (const key of [String(creds.options.publicKey), publicPem]) {
      expect(ew.verifySignature(ew.convertPublicKeyToECDSA(key), signed.body, signature, timestamp)).toBe(true);
    }
    expect(
      ew.verifySignature(
        ew.convertPublicKeyToECDSA(String(creds.options.publicKey)),
        BODY.trimEnd(),
        signature,
        timestamp,
      ),
    ).toBe(false);
  });

  test('verify() accepts a signature made with crypto.sign over ts + body, and rejects it when the trailing CRLF is stripped', async () => {
    const req = handSigned(BODY, creds.signer, NOW_S);
    expect(await reasonOf(req, current)).toBe('ok');
    expect(await reasonOf({ ...req, body: Buffer.from(BODY.trimEnd()) }, current)).toBe('signature_mismatch');
    expect(await reasonOf({ ...req, body: Buffer.from(BODY.replace(',\r\n', ',')) }, current)).toBe(
      'signature_mismatch',
    );
  });

  test('verify() rejects a signature over the body alone (timestamp not prepended)', async () => {
    const sig = cryptoSign('sha256', Buffer.from(BODY), createPrivateKey(creds.signer)).toString('base64');
    expect(await reasonOf(request(BODY, { [SIG]: sig, [TS]: NOW_S }), current)).toBe('signature_mismatch');
  });
});

/** The PEM (SPKI) public half of a PKCS8 private key. */
function generatePublicPem(privatePem: string): string {
  return createPublicKey(privatePem).export({ format: 'pem', type: 'spki' }).toString();
}

describe('SendGrid publicKey setting', () => {
  const pem = generatePublicPem(creds.signer);

  test('accepts base64 DER (as the dashboard shows it), PEM, PEM with literal \\n, and base64 wrapped over lines', async () => {
    const b64 = String(creds.options.publicKey);
    const forms = [b64, pem, pem.trim().replace(/\n/g, '\\n'), b64.replace(/(.{20})/g, '$1\n  ')];
    for (const publicKey of forms) {
      expect(await reasonOf(handSigned(BODY, creds.signer, NOW_S), settings({ publicKey }))).toBe('ok');
    }
  });

  test('toleranceSeconds defaults to 300 and the keys are parsed once, at settings time', () => {
    const s = settings({ publicKey: creds.options.publicKey });
    expect(s.toleranceSeconds).toBe(300);
    expect(s.publicKey).toHaveLength(1);
    expect(s.publicKey[0]!.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  test.each([
    ['garbage', 'not a key'],
    ['base64 that is not DER', Buffer.from('hello world, not a key').toString('base64')],
    [
      'a P-384 key',
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
        .publicKey.export({ format: 'der', type: 'spki' })
        .toString('base64'),
    ],
    ['an Ed25519 key', generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString()],
    ['the private key (never belongs in a config file)', creds.signer],
  ])('rejects %s with a clear issue that does not echo the value', (_n, publicKey) => {
    const issues = settingsIssues({ publicKey });
    expect(issues).toEqual([{ path: 'publicKey', message: 'not a P-256 public key in base64 DER or PEM' }]);
  });

  test('a bad entry in a rotation list is named by its index', () => {
    expect(settingsIssues({ publicKey: [creds.options.publicKey, 'nope'] })).toEqual([
      { path: 'publicKey.1', message: 'not a P-256 public key in base64 DER or PEM' },
    ]);
  });

  test('a missing key, an empty key and unknown options are reported', () => {
    expect(settingsIssues({})[0]?.message).toMatch(/^required/);
    expect(settingsIssues({ publicKey: '' })[0]?.path).toBe('publicKey');
    expect(settingsIssues({ publicKey: creds.options.publicKey, verificationKey: 'x' })[0]?.path).toBe('');
  });

  test('the configuration loader reports it as "sources.<id>.publicKey: not a P-256 public key in base64 DER or PEM"', () => {
    let problems: readonly string[] = [];
    try {
      buildConfig({
        distinct: { apiKey: 'k' },
        sources: {
          sendgrid: { feature: 'registration_email', experienceId: 'exp', publicKey: 'c2VjcmV0LWxvb2tpbmctdmFsdWU=' },
        },
      });
    } catch (err) {
      if (!(err instanceof ConfigurationError)) throw err;
      problems = err.problems;
    }
    expect(problems).toEqual(['sources.sendgrid.publicKey: not a P-256 public key in base64 DER or PEM']);
  });

  test('rotation: [old, current] accepts requests signed by either; [old] alone does not', async () => {
    const old = adapter.testing.createCredentials();
    const both = settings({ publicKey: [old.options.publicKey, creds.options.publicKey] });
    expect(await reasonOf(handSigned(BODY, creds.signer, NOW_S), both)).toBe('ok');
    expect(await reasonOf(handSigned(BODY, old.signer, NOW_S), both)).toBe('ok');
    expect(
      await reasonOf(handSigned(BODY, creds.signer, NOW_S), settings({ publicKey: [old.options.publicKey] })),
    ).toBe('signature_mismatch');
  });
});

describe('SendGrid signed timestamp', () => {
  test('a 13-digit millisecond timestamp header is read as milliseconds, not as the far future', async () => {
    const ms = String(NOW.getTime() - 10_000);
    expect(await reasonOf(handSigned(BODY, creds.signer, ms), current)).toBe('ok');
    const staleMs = String(NOW.getTime() - 3_600_000);
    expect(await reasonOf(handSigned(BODY, creds.signer, staleMs), current)).toBe('timestamp_out_of_tolerance');
  });

  test('the window is the configured tolerance, in both directions', async () => {
    const s = settings({ publicKey: creds.options.publicKey, toleranceSeconds: 60 });
    const at = (offset: number) => handSigned(BODY, creds.signer, String(Number(NOW_S) + offset));
    expect(await reasonOf(at(-59), s)).toBe('ok');
    expect(await reasonOf(at(59), s)).toBe('ok');
    expect(await reasonOf(at(-61), s)).toBe('timestamp_out_of_tolerance');
    expect(await reasonOf(at(61), s)).toBe('timestamp_out_of_tolerance');
  });

  test('toleranceSeconds: 0 disables the window (a day-old signature still verifies)', async () => {
    const old = handSigned(BODY, creds.signer, String(Number(NOW_S) - 86_400));
    expect(await reasonOf(old, current)).toBe('timestamp_out_of_tolerance');
    expect(await reasonOf(old, settings({ publicKey: creds.options.publicKey, toleranceSeconds: 0 }))).toBe('ok');
  });

  test('a non-numeric timestamp header is malformed; a missing one is a missing signature', async () => {
    const req = handSigned(BODY, creds.signer, NOW_S);
    expect(await reasonOf({ ...req, headers: { ...req.headers, [TS]: 'yesterday' } }, current)).toBe(
      'malformed_signature',
    );
    const { [TS]: _dropped, ...noTs } = req.headers;
    expect(await reasonOf({ ...req, headers: noTs }, current)).toBe('missing_signature');
  });
});

describe('SendGrid malformed signatures are verification errors, never crashes', () => {
  const req = handSigned(BODY, creds.signer, NOW_S);
  test.each([
    { name: 'not base64', signature: '!!!not base64!!!', reason: 'malformed_signature' },
    {
      name: 'base64 of something that is not DER',
      signature: Buffer.from('definitely not a DER signature').toString('base64'),
      reason: 'malformed_signature',
    },
    {
      name: 'base64 longer than any P-256 signature',
      signature: Buffer.alloc(200, 0x30).toString('base64'),
      reason: 'malformed_signature',
    },
    {
      name: 'a DER SEQUENCE with nonsense inside',
      signature: Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]).toString('base64'),
      reason: 'signature_mismatch',
    },
    { name: 'a truncated real signature', signature: req.headers[SIG]!.slice(0, 40), reason: 'signature_mismatch' },
  ])('$name → WebhookVerificationError $reason', async ({ signature, reason }) => {
    await expect(reasonOf({ ...req, headers: { ...req.headers, [SIG]: signature } }, current)).resolves.toBe(reason);
  });

  test('stripSignature removes both headers whatever their case', async () => {
    const mixed = request(BODY, {
      'X-Twilio-Email-Event-Webhook-Signature': 'x',
      'X-Twilio-Email-Event-Webhook-Timestamp': NOW_S,
      'x-other': '1',
    });
    const stripped = adapter.testing.stripSignature(mixed);
    expect(Object.keys(stripped.headers).sort()).toEqual(['content-type', 'x-other']);
    expect(await reasonOf(stripped, current)).toBe('missing_signature');
  });

  test('signerFromOptions is undefined: the private key never comes from the config', () => {
    expect(adapter.testing.signerFromOptions(creds.options)).toBeUndefined();
    expect(adapter.testing.secretKey).toBe('publicKey');
  });
});

describe('SendGrid parsing quirks', () => {
  test('a body that is one event object is that one event (SendGrid shows Marketing Campaigns events so); it was a 400 before', () => {
    const drafts = parse(
      '{"email":"example@test.com","timestamp":1513299569,"event":"processed","sg_event_id":"rbtnWrG1DVDGGGFHFyun0A=="}\r\n',
    );
    expect(drafts).toHaveLength(1);
    expect(drafts[0]).toMatchObject({
      type: 'email.sent',
      providerEvent: 'processed',
      email: 'example@test.com',
      occurredAt: '2017-12-15T00:59:29Z',
    });
    expect(parseError('{"email":"example@test.com"}').path).toBe('event');
  });

  test('a body that is neither an array nor an object names what it got', () => {
    expect(parseError('"processed"').message).toMatch(/JSON array of events \(or one event object\), got a string/);
    expect(parseError('42').message).toMatch(/got a number/);
  });

  test('event names are matched without regard to case; providerEvent keeps the spelling received', () => {
    const drafts = parse(
      wire([
        { event: 'Processed' },
        { event: 'DELIVERED' },
        { event: 'Open', sg_machine_open: true },
        { event: 'Bounce', type: 'Blocked' },
        { event: 'Constructor' },
      ]),
    );
    expect(drafts.map((d) => [d.type, d.providerEvent])).toEqual([
      ['email.sent', 'Processed'],
      ['email.delivered', 'DELIVERED'],
      ['email.opened', 'Open'],
      ['email.bounced', 'Bounce'],
      ['email.unknown', 'Constructor'],
    ]);
    expect(drafts[3]!.details).toMatchObject({ bounce_type: 'Blocked' });
  });

  test('string timestamps are read like numbers: same time, same de-dup key', () => {
    const base = { event: 'delivered', email: 'a@example.com', sg_message_id: 'm.1' };
    const pairs: Array<[unknown, unknown, string]> = [
      [1513299569, '1513299569', '2017-12-15T00:59:29Z'],
      [1513299569.25, '1513299569.25', '2017-12-15T00:59:29.25Z'],
      [1513299569123, '1513299569123', '2017-12-15T00:59:29.123Z'],
      [1513299569, ' 1513299569 ', '2017-12-15T00:59:29Z'],
    ];
    for (const [n, text, iso] of pairs) {
      const [a, b] = parse(
        wire([
          { ...base, timestamp: n },
          { ...base, timestamp: text },
        ]),
      );
      expect([a!.occurredAt, b!.occurredAt]).toEqual([iso, iso]);
      expect(completeDraft(a!, adapter, 'sendgrid', NOW).dedupeKey).toBe(
        completeDraft(b!, adapter, 'sendgrid', NOW).dedupeKey,
      );
    }
  });

  test('errors name the index path of the bad event', () => {
    const ok = { event: 'processed', email: 'a@example.com', timestamp: 1 };
    expect(parseError(wire([ok, ok, ok, { email: 'a@example.com' }])).path).toBe('[3].event');
    expect(parseError(wire([ok, { event: 42 }])).path).toBe('[1].event');
    expect(parseError(wire([ok, 'processed'])).path).toBe('[1]');
    expect(parseError(wire([null])).message).toBe('[0]: expected an event object, got null');
  });

  test('events-batch: every event comes out, with distinct de-dup keys although all share "sg_event_id"', () => {
    const f = loadFixtures('sendgrid').find((x) => x.name === 'events-batch')!;
    const drafts = adapter.parse(toWebhookRequest(unsignedRequest(f), NOW));
    expect(drafts).toHaveLength(11);
    expect(new Set(drafts.map((d) => d.providerEventId))).toEqual(new Set(['sg_event_id']));
    const keys = drafts.map((d) => completeDraft(d, adapter, 'sendgrid', NOW).dedupeKey);
    expect(new Set(keys).size).toBe(11);
  });

  test('custom_args: top-level keys win over a nested custom_args / unique_args object, which is the fallback', () => {
    const [top, nested, legacy] = parse(
      wire([
        {
          event: 'processed',
          email: 'a@example.com',
          distinct_user_id: 'top',
          custom_args: { distinct_user_id: 'nested' },
        },
        {
          event: 'processed',
          email: 'a@example.com',
          custom_args: { distinct_user_id: 'nested', distinct_feature: 'page_visit' },
        },
        {
          event: 'processed',
          email: 'a@example.com',
          unique_args: { distinct_experience_id: 'exp_legacy' },
          distinct_user_id: '  ',
        },
      ]),
    );
    expect(top!.overrides).toEqual({ userId: 'top' });
    expect(nested!.overrides).toEqual({ userId: 'nested', feature: 'page_visit' });
    expect(legacy!.overrides).toEqual({ experienceId: 'exp_legacy' });
  });

  test('details keep only non-empty scalars, never useragent or ip; category arrays are joined', () => {
    const [d] = parse(
      wire([
        {
          event: 'click',
          email: 'a@example.com',
          timestamp: 1513299569,
          url: 'https://example.com/x',
          useragent: 'Mozilla/5.0',
          ip: '192.0.2.1',
          reason: '',
          category: ['a', 'b'],
          pool: { name: 'p', id: 1 },
          url_offset: { index: 0, type: 'html' },
        },
      ]),
    );
    expect(d!.details).toEqual({ url: 'https://example.com/x', category: 'a, b' });
  });

  test('bounce_type comes from `type` on bounce events only', () => {
    const [bounce, other] = parse(
      wire([
        { event: 'bounce', type: 'blocked' },
        { event: 'dropped', type: 'blocked' },
      ]),
    );
    expect(bounce).toMatchObject({ type: 'email.bounced', details: { bounce_type: 'blocked' } });
    expect(other!.details).toEqual({});
  });

  test('account_status_change and names that collide with Object.prototype are email.unknown', () => {
    const drafts = parse(
      wire([
        { event: 'account_status_change', type: 'compliance_suspend' },
        { event: 'constructor' },
        { event: '__proto__', type: 'x' },
      ]),
    );
    expect(drafts.map((d) => d.type)).toEqual(['email.unknown', 'email.unknown', 'email.unknown']);
    expect(drafts.map((d) => d.providerEvent)).toEqual(['account_status_change', 'constructor', '__proto__']);
  });

  test('a missing or garbage timestamp gives occurredAt null, never an invented time; no email means no email key', () => {
    const [missing, garbage, negative] = parse(
      wire([{ event: 'processed' }, { event: 'processed', timestamp: 'soon' }, { event: 'processed', timestamp: -5 }]),
    );
    expect([missing!.occurredAt, garbage!.occurredAt, negative!.occurredAt]).toEqual([null, null, null]);
    expect('email' in missing!).toBe(false);
    expect(missing!.messageId).toBeNull();
    expect(missing!.providerEventId).toBeNull();
  });
});

describe('SendGrid testing.sample (for `simulate`)', () => {
  const types = [
    'email.sent',
    'email.delivered',
    'email.deferred',
    'email.bounced',
    'email.rejected',
    'email.opened',
    'email.clicked',
    'email.complained',
    'email.unsubscribed',
    'email.subscribed',
  ];

  test.each(types)(
    '%s: SendGrid byte layout, signed verifies, parses back to the same type with the overrides',
    async (type) => {
      const s = adapter.testing.sample({
        type,
        recipient: 'new.user@example.com',
        now: NOW,
        overrides: { distinct_user_id: 'u_1', experienceId: 'exp_2' },
      });
      const text = s.body.toString('utf8');
      expect(text.startsWith('[{')).toBe(true);
      expect(text.endsWith('}]\r\n')).toBe(true);
      expect(s.query).toBe('');
      const signed = adapter.testing.sign(request(s.body, s.headers), creds.signer, NOW);
      expect(await reasonOf(signed, current)).toBe('ok');
      const [draft, ...rest] = adapter.parse(toWebhookRequest(signed, NOW));
      expect(rest).toEqual([]);
      expect(draft).toMatchObject({
        type,
        email: 'new.user@example.com',
        occurredAt: '2026-04-27T13:35:00Z',
        overrides: { userId: 'u_1', experienceId: 'exp_2' },
      });
      // custom_args travel as top-level keys, the way SendGrid echoes them.
      expect(JSON.parse(text)[0]).toMatchObject({ distinct_user_id: 'u_1', distinct_experience_id: 'exp_2' });
    },
  );

  test('a type SendGrid has no event for is refused with the list of choices', () => {
    expect(() => adapter.testing.sample({ type: 'email.queued', recipient: 'a@example.com', now: NOW })).toThrow(
      /email\.sent/,
    );
    expect(() => adapter.testing.sample({ type: 'sms.sent', recipient: 'a@example.com', now: NOW })).toThrow(
      /no event for sms\.sent/,
    );
  });
});
