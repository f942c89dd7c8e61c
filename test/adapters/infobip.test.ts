/**
 * Infobip quirks the shared conformance suite does not cover: the DELIVERED_TO_OPERATOR
 * refinement, time formats, batches (all-or-nothing), callbackData overrides, credentials-only
 * configuration and the real HTTP path.
 */
import { adapter } from '../../adapters/infobip';
import { buildConfig } from '../helpers/config';
import { ConfigurationError, WebhookParseError } from '../../src/core/errors';
import { basicAuthorization } from '../../src/verify/credentials';
import { bodyParser, parseErrorOf } from '../helpers/fixtures';
import { loopbackDocument, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:40:00Z');
const JSON_HEADERS = { 'content-type': 'application/json' };

const HANDSET = {
  groupId: 3,
  groupName: 'DELIVERED',
  id: 5,
  name: 'DELIVERED_TO_HANDSET',
  description: 'Message delivered to handset',
};
const OPERATOR = {
  groupId: 3,
  groupName: 'DELIVERED',
  id: 2,
  name: 'DELIVERED_TO_OPERATOR',
  description: 'Message delivered to operator',
};
const NO_ERROR = { groupId: 0, groupName: 'OK', id: 0, name: 'NO_ERROR', description: 'No Error', permanent: false };

function result(messageId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    bulkId: 'BULK-1',
    messageId,
    to: '41793026727',
    sentAt: '2026-04-27T15:34:58.000+0200',
    doneAt: '2026-04-27T15:35:00.123+0200',
    smsCount: 1,
    status: HANDSET,
    error: NO_ERROR,
    ...extra,
  };
}

const parseRaw = bodyParser(adapter, NOW);
const parseBody = (body: unknown) => parseRaw(JSON.stringify(body));
const parseError = (body: string): WebhookParseError => parseErrorOf(() => parseRaw(body));

function sourceDoc(options: Record<string, unknown>): Record<string, unknown> {
  return loopbackDocument({ infobip: { feature: 'registration_sms', experienceId: 'exp_http', ...options } });
}

describe('configuration', () => {
  test('a source without credentials does not start, and says why; insecure: true does', () => {
    expect(() => buildConfig(sourceDoc({}), {}, null, [adapter])).toThrow(ConfigurationError);
    expect(() => buildConfig(sourceDoc({}), {}, null, [adapter])).toThrow(
      /infobip signs nothing: configure basicAuth and\/or headerToken/,
    );
    expect(buildConfig(sourceDoc({ insecure: true }), {}, null, [adapter]).sources.get('infobip')!.insecure).toBe(true);
  });

  test('sms.sent, reachable only through the DELIVERED_TO_OPERATOR refinement, is mapped by default and can be switched off', () => {
    const source = buildConfig(sourceDoc({ basicAuth: 'ib:secret' }), {}, null, [adapter]).sources.get('infobip')!;
    expect(source.actions['sms.sent']).toBe('sent');
    const off = buildConfig(sourceDoc({ basicAuth: 'ib:secret', actions: { 'sms.sent': null } }), {}, null, [
      adapter,
    ]).sources.get('infobip')!;
    expect(off.actions['sms.sent']).toBeNull();
  });
});

describe('parse(): Infobip quirks', () => {
  test('DELIVERED_TO_HANDSET is delivered; DELIVERED_TO_OPERATOR (same group) is only sent', () => {
    const drafts = parseBody({ results: [result('m1'), result('m2', { status: OPERATOR })] });
    expect(drafts.map((d) => [d.messageId, d.type, d.providerEvent, d.details.status])).toEqual([
      ['m1', 'sms.delivered', 'DELIVERED', 'DELIVERED_TO_HANDSET'],
      ['m2', 'sms.sent', 'DELIVERED', 'DELIVERED_TO_OPERATOR'],
    ]);
  });

  test('times: offsets without a colon, fraction kept; doneAt first, sentAt only without it, garbage is null', () => {
    expect(parseBody({ results: [result('m1')] })[0]!.occurredAt).toBe('2026-04-27T13:35:00.123Z');
    expect(parseBody({ results: [result('m1', { doneAt: '2026-04-27T10:35:00.000-0300' })] })[0]!.occurredAt).toBe(
      '2026-04-27T13:35:00.000Z',
    );
    expect(parseBody({ results: [result('m1', { doneAt: undefined })] })[0]!.occurredAt).toBe(
      '2026-04-27T13:34:58.000Z',
    );
    expect(parseBody({ results: [result('m1', { doneAt: 'soon', sentAt: undefined })] })[0]!.occurredAt).toBeNull();
  });

  test('error: NO_ERROR (id 0) stays out of metadata; a real error brings code, name and permanence', () => {
    expect(parseBody({ results: [result('m1')] })[0]!.details).toEqual({
      status: 'DELIVERED_TO_HANDSET',
      bulkId: 'BULK-1',
    });
    const error = { groupId: 1, groupName: 'HANDSET_ERRORS', id: 27, name: 'EC_ABSENT_SUBSCRIBER', permanent: true };
    const [d] = parseBody({
      results: [result('m1', { status: { groupName: 'UNDELIVERABLE', name: 'UNDELIVERABLE_NOT_DELIVERED' }, error })],
    });
    expect(d).toMatchObject({
      type: 'sms.undelivered',
      details: { errorCode: '27', errorName: 'EC_ABSENT_SUBSCRIBER', errorPermanent: true },
    });
  });

  test('callbackData: URL-encoded overrides are read (blank values dropped); anything else is kept as a detail', () => {
    const [a] = parseBody({
      results: [result('m1', { callbackData: 'distinct_user_id=u_1&distinct_experience_id=&x=1' })],
    });
    expect(a!.overrides).toEqual({ userId: 'u_1' });
    expect(a!.details.callbackData).toBeUndefined();
    const [b] = parseBody({ results: [result('m1', { callbackData: '{"order":7}' })] });
    expect(b!.overrides).toEqual({});
    expect(b!.details.callbackData).toBe('{"order":7}');
  });

  test('a batch is all or nothing: one bad report rejects the request, naming its index', () => {
    expect(parseError(JSON.stringify({ results: [result('m1'), result('m2', { messageId: undefined })] })).path).toBe(
      'results[1].messageId',
    );
    expect(parseError(JSON.stringify({ results: [result('m1', { status: { name: 'X' } })] })).path).toBe(
      'results[0].status.groupName',
    );
    expect(parseError(JSON.stringify({ results: [result('m1'), 'oops'] })).path).toBe('results[1]');
    expect(parseError(JSON.stringify({ results: {} })).path).toBe('results');
  });

  test('an XML report (notifyContentType application/xml) is a parse error, not a crash', () => {
    const xml = '<reportResponse><reports><report><messageId>m1</messageId></report></reports></reportResponse>';
    expect(() => parseRaw(xml, { 'content-type': 'application/xml' })).toThrow(WebhookParseError);
  });

  test('the v3 spelling (sender, messageCount, platform) parses the same way', () => {
    const v3 = { ...result('m3'), sender: 'InfoSMS', messageCount: 1, platform: { entityId: 'e', applicationId: 'a' } };
    expect(parseBody({ results: [v3] })[0]).toMatchObject({
      type: 'sms.delivered',
      messageId: 'm3',
      phone: '41793026727',
    });
  });

  test('sample(): one report with the overrides in callbackData round-trips through parse for each type', () => {
    for (const type of ['sms.queued', 'sms.sent', 'sms.delivered', 'sms.undelivered', 'sms.failed', 'sms.unknown']) {
      const sample = adapter.testing.sample({
        type,
        recipient: '+41793026727',
        now: NOW,
        overrides: { distinct_user_id: 'u_9' },
      });
      const [d] = parseRaw(sample.body, sample.headers);
      expect(d).toMatchObject({
        type,
        phone: '41793026727',
        occurredAt: '2026-04-27T13:40:00.000Z',
        overrides: { userId: 'u_9' },
      });
    }
    expect(() => adapter.testing.sample({ type: 'sms.received', recipient: '+41793026727', now: NOW })).toThrow(
      /Infobip has no status/,
    );
  });
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const creds = adapter.testing.createCredentials();

  const app = useLoopbackApp(() => buildConfig(sourceDoc(creds.options), {}, null, [adapter]));

  test('a batch with basic auth: each report queued with its own time and action; without credentials 401', async () => {
    const body = JSON.stringify({
      results: [
        result('m1', { callbackData: 'distinct_user_id=u_http' }),
        result('m2', { status: OPERATOR, to: '41793026834' }),
        result('m3', { status: { groupId: 1, groupName: 'PENDING', id: 7, name: 'PENDING_ENROUTE' } }),
      ],
    });
    const headers = { ...JSON_HEADERS, authorization: basicAuthorization(String(creds.signer.basicAuth)) };
    const res = await fetch(`${app.origin}/webhooks/infobip`, { method: 'POST', headers, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: 3, queued: 2, ignored: 1 });
    const events = (await app.queue.claim(10))
      .map((l) => l.message.event)
      .sort((a, b) => a.action.localeCompare(b.action));
    expect(events).toEqual([
      expect.objectContaining({
        action: 'delivered',
        userId: 'u_http',
        phone: '+41793026727',
        capturedAt: '2026-04-27T13:35:00.123Z',
        experienceId: 'exp_http',
      }),
      expect.objectContaining({ action: 'sent', phone: '+41793026834', capturedAt: '2026-04-27T13:35:00.123Z' }),
    ]);
    const none = await fetch(`${app.origin}/webhooks/infobip`, { method: 'POST', headers: JSON_HEADERS, body });
    expect(none.status).toBe(401);
  });

  test('a malformed batch is 400 and nothing of it is queued', async () => {
    const headers = { ...JSON_HEADERS, authorization: basicAuthorization(String(creds.signer.basicAuth)) };
    const res = await fetch(`${app.origin}/webhooks/infobip`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ results: [result('m9'), { status: HANDSET }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'ERR_WEBHOOK_PARSE' });
    expect(await app.queue.claim(10)).toEqual([]);
  });
});
