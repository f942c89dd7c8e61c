/**
 * SparkPost quirks the shared conformance suite does not cover: the empty test batch and empty
 * array answered 200 with nothing queued (through the real HTTP stack), the msys envelope, the
 * bounce_class table, open vs initial_open, timestamps in both forms, and numeric ids kept exact.
 */
import { adapter } from '../../adapters/sparkpost';
import { basicAuthorization } from '../../src/verify/credentials';
import { bodyParser, parseErrorOf } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:35:00Z');
const parse = bodyParser(adapter, NOW);

function event(fields: Record<string, unknown>, eventClass = 'message_event'): unknown {
  return {
    msys: {
      [eventClass]: {
        event_id: '1001',
        transmission_id: '2002',
        rcpt_to: 'a@example.com',
        timestamp: '1777296900',
        ...fields,
      },
    },
  };
}

const errorPath = (body: unknown): string => parseErrorOf(() => parse(body)).path;

describe('envelope', () => {
  test('the test batch [{"msys":{}}] and an empty array yield no events', () => {
    expect(parse([{ msys: {} }])).toEqual([]);
    expect(parse([])).toEqual([]);
  });

  test('an empty test element inside a real batch is skipped, the rest parsed in order', () => {
    expect(
      parse([event({ type: 'injection' }), { msys: {} }, event({ type: 'delivery', event_id: '1002' })]).map(
        (d) => d.providerEvent,
      ),
    ).toEqual(['injection', 'delivery']);
  });

  test('malformed elements name their path', () => {
    expect(errorPath({ msys: {} })).toBe('');
    expect(errorPath([42])).toBe('[0]');
    expect(errorPath([event({ type: 'delivery' }), { nope: 1 }])).toBe('[1].msys');
    expect(errorPath([{ msys: { message_event: { type: 'delivery' }, track_event: { type: 'open' } } }])).toBe(
      '[0].msys',
    );
    expect(errorPath([{ msys: { message_event: 'delivery' } }])).toBe('[0].msys.message_event');
  });

  test('an inbound relay_message is refused; relay_event status events are acknowledged as unknown', () => {
    expect(() => parse([{ msys: { relay_message: { content: {} } } }])).toThrow(/inbound relay webhook/);
    expect(parse([event({ type: 'relay_delivery' }, 'relay_event')]).map((d) => d.type)).toEqual(['email.unknown']);
  });

  test('an unknown class without a type is acknowledged under its class name rather than failing the batch', () => {
    const [draft] = parse([{ msys: { future_event: { rcpt_to: 'a@example.com' } } }]);
    expect(draft).toMatchObject({ type: 'email.unknown', providerEvent: 'future_event' });
  });
});

describe('types', () => {
  test.each([
    ['10', 'email.bounced'],
    ['21', 'email.bounced'],
    ['25', 'email.rejected'],
    ['50', 'email.bounced'],
    ['60', 'email.unknown'],
    ['80', 'email.subscribed'],
    ['90', 'email.unsubscribed'],
    ['100', 'email.unknown'],
    [90, 'email.unsubscribed'],
    [undefined, 'email.bounced'],
  ])('bounce with bounce_class %s → %s (out_of_band the same)', (bounceClass, expected) => {
    const fields = bounceClass === undefined ? {} : { bounce_class: bounceClass };
    expect(
      parse([event({ type: 'bounce', ...fields }), event({ type: 'out_of_band', ...fields })]).map((d) => d.type),
    ).toEqual([expected, expected]);
  });

  test('open → opened, initial_open → unknown (both fire for one open; anymail keeps open)', () => {
    expect(
      parse([event({ type: 'initial_open' }, 'track_event'), event({ type: 'open' }, 'track_event')]).map(
        (d) => d.type,
      ),
    ).toEqual(['email.unknown', 'email.opened']);
  });
});

describe('fields', () => {
  test.each([
    ['string seconds (webhooks)', '1777296900', '2026-04-27T13:35:00Z'],
    ['number seconds', 1777296900, '2026-04-27T13:35:00Z'],
    ['ISO (Events API)', '2026-04-27T13:35:00.000Z', '2026-04-27T13:35:00.000Z'],
    ['garbage', 'later', null],
    ['absent', undefined, null],
  ])('timestamp as %s', (_n, timestamp, expected) => {
    const [draft] = parse([event({ type: 'delivery', timestamp })]);
    expect(draft!.occurredAt).toBe(expected);
  });

  test('event_id and transmission_id sent as bare numbers beyond 2^53 keep every digit', () => {
    const [draft] = parse(
      '[{"msys":{"message_event":{"type":"delivery","event_id":92356927693813857,"transmission_id":65832150921904139,"rcpt_to":"a@example.com"}}}]',
    );
    expect(draft).toMatchObject({ providerEventId: '92356927693813857', messageId: '65832150921904139' });
  });

  test('messageId is the transmission id; the per-recipient message_id is a detail; raw_rcpt_to keeps case', () => {
    const [draft] = parse([event({ type: 'delivery', message_id: 'abc', raw_rcpt_to: 'A@Example.com' })]);
    expect(draft).toMatchObject({ messageId: '2002', email: 'A@Example.com', details: { sparkpostMessageId: 'abc' } });
  });

  test('rcpt_meta overrides; raw_reason, user_agent and ip_address never reach details', () => {
    const [draft] = parse([
      event(
        {
          type: 'click',
          rcpt_meta: { distinct_user_id: 7, distinct_feature: '' },
          raw_reason: 'x a@example.com',
          user_agent: 'Mozilla',
          ip_address: '192.0.2.9',
        },
        'track_event',
      ),
    ]);
    expect(draft!.overrides).toEqual({ userId: '7' });
    expect(JSON.stringify(draft!.details)).not.toMatch(/Mozilla|192\.0\.2\.9|a@example\.com/);
  });
});

describe('testing.sample', () => {
  const types = [
    'email.sent',
    'email.delivered',
    'email.deferred',
    'email.bounced',
    'email.rejected',
    'email.failed',
    'email.complained',
    'email.opened',
    'email.clicked',
    'email.unsubscribed',
  ];
  test.each(types)('sample(%s) parses back to that type, with the overrides from rcpt_meta', (type) => {
    const s = adapter.testing.sample({ type, recipient: 'Jane@Example.com', now: NOW, overrides: { userId: 'u_1' } });
    expect(s.headers['x-messagesystems-batch-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(parse(s.body.toString('utf8'))).toEqual([
      expect.objectContaining({
        type,
        email: 'Jane@Example.com',
        occurredAt: '2026-04-27T13:35:00Z',
        overrides: { userId: 'u_1' },
      }),
    ]);
  });
});

describe('through the real HTTP stack (express on 127.0.0.1, SQLite outbox)', () => {
  const auth = basicAuthorization('sparkpost:pw');

  const app = useLoopbackApp(() =>
    loopbackConfig(adapter, {
      sparkpost: {
        feature: 'registration_email',
        experienceId: 'exp_http',
        basicAuth: 'sparkpost:pw',
        headerToken: { header: 'X-Api-Key', value: 'abcd' },
      },
    }),
  );

  function post(
    body: unknown,
    headers: Record<string, string> = { authorization: auth, 'x-api-key': 'abcd' },
  ): Promise<Response> {
    return fetch(`${app.origin}/webhooks/sparkpost`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  test('the webhook-creation test batch and an empty array are answered 200 with nothing queued', async () => {
    for (const body of [[{ msys: {} }], []]) {
      const res = await post(body);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ received: 0, queued: 0 });
    }
    expect((await app.queue.stats()).depth).toBe(0);
  });

  test('basic auth and the custom header are both required', async () => {
    expect((await post([{ msys: {} }], { authorization: auth })).status).toBe(401);
    expect((await post([{ msys: {} }], { 'x-api-key': 'abcd' })).status).toBe(401);
  });

  test('a re-sent batch (SparkPost retries whole batches) is queued once', async () => {
    const batch = [event({ type: 'injection', event_id: '5001' }), event({ type: 'delivery', event_id: '5002' })];
    expect(await (await post(batch)).json()).toMatchObject({ queued: 2, duplicates: 0 });
    expect(await (await post(batch)).json()).toMatchObject({ queued: 0, duplicates: 2 });
    const leases = await app.queue.claim(10);
    expect(leases.map((l) => l.message.event.action)).toEqual(['sent', 'delivered']);
  });
});
