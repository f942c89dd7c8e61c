/**
 * Mandrill quirks the shared conformance suite does not cover. Mandrill publishes its recipe
 * (base64 HMAC-SHA1 over URL + sorted name+value) but no vector; it is the same recipe Twilio
 * documents, so twilio-node's `getExpectedTwilioSignature` and Twilio's published vector serve as
 * an independent oracle, alongside a direct node:crypto computation.
 */
import { createHmac } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { adapter, mandrillSignature } from '../../adapters/mandrill';
import { mandrillForm } from '../../adapters/samples/mandrill';
import type { UnsignedRequest } from '../../src/core/adapter';
import { WebhookParseError, type VerificationReason } from '../../src/core/errors';
import { ReplayCache } from '../../src/core/replay-cache';
import { signedOwnSample, toWebhookRequest, verdictOf } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:40:00Z');
const PUBLIC = 'https://hooks.example.com/webhooks/mandrill';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const KEY = 'fGZ2tOq3V5nQ0xL8wR1yAa';

type Settings = Parameters<typeof adapter.verify>[1];
const settings: Settings = adapter.settingsSchema.parse({ webhookKey: KEY });

const SEND = {
  event: 'send',
  msg: { ts: 1777297200, email: 'ada@example.com', _id: 'm1', metadata: { distinct_user_id: 'u_1' }, tags: [] },
  _id: 'm1',
  ts: 1777297200,
};

function req(body: Buffer, headers: Record<string, string> = FORM, url = PUBLIC, method = 'POST'): UnsignedRequest {
  return { method, url, headers: { ...headers }, body };
}

function signed(body: Buffer, key = KEY, url = PUBLIC): UnsignedRequest {
  return adapter.testing.sign(req(body, FORM, url), key, NOW);
}

function verifyReason(r: UnsignedRequest, s: Settings = settings): Promise<VerificationReason | 'ok'> {
  return verdictOf(() => adapter.verify(toWebhookRequest(r, NOW), s, { replayCache: new ReplayCache(60_000) }));
}

describe('signature', () => {
  test("the recipe matches Twilio's published vector and twilio-node (same algorithm)", () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+12349013030',
      Digits: '1234',
      From: '+12349013030',
      To: '+18005551212',
    };
    const pairs = Object.entries(params).reverse(); // order received must not matter
    expect(mandrillSignature('12345', url, pairs)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(mandrillSignature('12345', url, pairs)).toBe(getExpectedTwilioSignature('12345', url, params));
  });

  test('a signature computed by hand over URL + "mandrill_events" + the decoded JSON verifies', async () => {
    const json = JSON.stringify([SEND]);
    const sig = createHmac('sha1', KEY).update(`${PUBLIC}mandrill_events${json}`).digest('base64');
    const body = Buffer.from(`mandrill_events=${encodeURIComponent(json)}`);
    expect(await verifyReason(req(body, { ...FORM, 'x-mandrill-signature': sig }))).toBe('ok');
  });

  test('decoded values are signed, not bytes: %7B and { encodings of the same form are the same request', async () => {
    const json = JSON.stringify([SEND]);
    const sig = mandrillSignature(KEY, PUBLIC, [['mandrill_events', json]]);
    for (const encoded of [
      encodeURIComponent(json),
      new URLSearchParams({ mandrill_events: json }).toString().slice('mandrill_events='.length),
    ]) {
      expect(
        await verifyReason(req(Buffer.from(`mandrill_events=${encoded}`), { ...FORM, 'x-mandrill-signature': sig })),
      ).toBe('ok');
    }
  });

  test('the URL is signed exactly: a trailing slash or a dropped query fails', async () => {
    const body = mandrillForm([SEND]);
    const withQuery = `${PUBLIC}?source=eu`;
    const r = signed(body, KEY, withQuery);
    expect(await verifyReason(r)).toBe('ok');
    expect(await verifyReason({ ...r, url: `${PUBLIC}/?source=eu` })).toBe('signature_mismatch');
    expect(await verifyReason({ ...r, url: PUBLIC })).toBe('signature_mismatch');
  });

  test('a second mandrill_events field smuggled into a signed body breaks the signature', async () => {
    const r = signed(mandrillForm([SEND]));
    const forged = Buffer.from(`mandrill_events=${encodeURIComponent('[]')}&${r.body.toString()}`);
    expect(await verifyReason({ ...r, body: forged })).toBe('signature_mismatch');
  });

  test('rotation: any listed webhook key verifies (several webhooks can share a source)', async () => {
    const both = adapter.settingsSchema.parse({ webhookKey: ['otherKey0000000000000a', KEY] });
    expect(await verifyReason(signed(mandrillForm([SEND])), both)).toBe('ok');
  });
});

describe('URL check (handshake)', () => {
  const handshake = (r: UnsignedRequest) => adapter.handshake!(toWebhookRequest(r, NOW), settings);

  test('a HEAD request is answered 200 before any verification', async () => {
    expect(await handshake(req(Buffer.alloc(0), {}, PUBLIC, 'HEAD'))).toEqual({ status: 200 });
  });

  test("the fallback POST (empty batch signed with the public key 'test-webhook') is answered 200", async () => {
    expect(await handshake(signed(Buffer.from('mandrill_events=%5B%5D'), 'test-webhook'))).toMatchObject({
      status: 200,
    });
  });

  test("a batch with events signed with 'test-webhook' is no handshake, and fails verification", async () => {
    const r = signed(mandrillForm([SEND]), 'test-webhook');
    expect(await handshake(r)).toBeUndefined();
    expect(await verifyReason(r)).toBe('signature_mismatch');
  });

  test('an empty batch without a signature, or with another key, is no handshake', async () => {
    expect(await handshake(req(Buffer.from('mandrill_events=%5B%5D')))).toBeUndefined();
    expect(await handshake(signed(Buffer.from('mandrill_events=%5B%5D'), 'guess'))).toBeUndefined();
  });
});

describe('parsing', () => {
  const parse = (body: Buffer) => adapter.parse(toWebhookRequest(req(body), NOW));

  test('overrides come from msg.metadata; metadata.user_id is not one', () => {
    const item = {
      ...SEND,
      msg: { ...SEND.msg, metadata: { user_id: 111, distinct_user_id: 4242, distinct_feature: ' ' } },
    };
    expect(parse(mandrillForm([item]))[0]!.overrides).toEqual({ userId: '4242' });
  });

  test('a batch over 1000 events is refused naming the field', () => {
    const many = Array.from({ length: 1001 }, () => SEND);
    expect(() => parse(mandrillForm(many))).toThrow(WebhookParseError);
    expect(() => parse(mandrillForm(many))).toThrow(/mandrill_events: holds 1001 events/);
  });

  test('errors name the index inside the batch', () => {
    expect(() => parse(mandrillForm([SEND, { ...SEND, ts: 'soon' }]))).toThrow(
      'mandrill_events[1].ts: not a unix time in seconds',
    );
    expect(() => parse(mandrillForm([SEND, { msg: {} }]))).toThrow(/^mandrill_events\[1\]\.event:/);
  });

  test('no per-event id: providerEventId is null and the message id comes from msg._id', () => {
    expect(parse(mandrillForm([SEND]))[0]).toMatchObject({
      providerEventId: null,
      messageId: 'm1',
      occurredAt: '2026-04-27T13:40:00Z',
    });
  });
});

describe('testing.sample (simulate)', () => {
  test.each(['email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'email.bounced', 'email.rejected'])(
    '%s: a signed sample verifies and parses to that type, echoing overrides in msg.metadata',
    async (type) => {
      const creds = adapter.testing.createCredentials();
      const r = signedOwnSample(adapter, creds.signer, {
        type,
        recipient: 'jane@example.com',
        now: NOW,
        overrides: { distinct_user_id: 'u_7' },
      });
      expect(await verifyReason(r, adapter.settingsSchema.parse(creds.options))).toBe('ok');
      expect(adapter.parse(toWebhookRequest(r, NOW))).toEqual([
        expect.objectContaining({
          type,
          email: 'jane@example.com',
          overrides: { userId: 'u_7' },
          occurredAt: '2026-04-27T13:40:00Z',
        }),
      ]);
      expect(adapter.testing.signerFromOptions(creds.options)).toBe(creds.signer);
    },
  );
});

describe('over HTTP', () => {
  const app = useLoopbackApp(() =>
    loopbackConfig(
      adapter,
      { mandrill: { feature: 'registration_email', experienceId: 'exp_http', webhookKey: KEY } },
      { server: { publicUrl: 'https://hooks.example.com' } },
    ),
  );

  test("Mandrill's HEAD check gets 200", async () => {
    expect((await fetch(`${app.origin}/webhooks/mandrill`, { method: 'HEAD' })).status).toBe(200);
  });

  test('a batch signed for the public URL is queued event by event; the same batch unsigned gets 401', async () => {
    const body = mandrillForm([SEND, { ...SEND, event: 'hard_bounce' }]);
    const sig = mandrillSignature(KEY, PUBLIC, [
      ['mandrill_events', JSON.stringify([SEND, { ...SEND, event: 'hard_bounce' }])],
    ]);
    const res = await fetch(`${app.origin}/webhooks/mandrill`, {
      method: 'POST',
      headers: { ...FORM, 'x-mandrill-signature': sig },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: 2, queued: 1, ignored: 1 });
    const [lease] = await app.queue.claim(1);
    expect(lease!.message.event).toMatchObject({
      feature: 'registration_email',
      action: 'sent',
      userId: 'u_1',
      experienceId: 'exp_http',
    });
    const unsigned = await fetch(`${app.origin}/webhooks/mandrill`, { method: 'POST', headers: FORM, body });
    expect(unsigned.status).toBe(401);
  });
});
