/**
 * Numbers are never silently changed (issue #9 item 9): an integer beyond 2^53 in a provider's JSON
 * (a `distinct_user_id`, a message id, an event id) keeps its exact digits all the way to the queued
 * Distinct event, or is not used; it is never rounded into another user's id.
 */
import request from 'supertest';
import type { Express } from 'express';
import { ADAPTERS, getAdapter } from '../../adapters';
import { readJson } from '../../src/body/read-json';
import { overridesFrom } from '../../src/core/overrides';
import type { Queue } from '../../src/queue/queue';
import type { UnsignedRequest } from '../../src/core/adapter';
import { createTestCredentials, signBody, signJson, testConfig, type TestCredentials } from '../helpers/app';
import { appOver, memoryOutbox, postTo } from '../helpers/serve';

const PUBLIC = 'https://hooks.example.com';
const BIG = '9007199254740993'; // 2^53 + 1: JSON.parse makes it 9007199254740992
const creds: TestCredentials = createTestCredentials();
let queue: Queue;
let app: Express;

beforeEach(() => {
  const config = testConfig({ creds, publicUrl: PUBLIC, driver: 'memory' });
  queue = memoryOutbox();
  app = appOver(config, queue);
});

afterEach(async () => {
  await queue.close();
});

const send = (req: UnsignedRequest): request.Test => postTo(app, req);

/** The adapter's own sample with `distinct_user_id` = BIG written as a bare JSON number (also inside nested JSON strings). */
function sampleWithNumericUserId(name: string): UnsignedRequest | undefined {
  const adapter = getAdapter(name)!;
  const now = new Date();
  const sample = adapter.testing.sample({
    type: adapter.channel === 'app' ? 'app.event' : `${adapter.channel}.delivered`,
    recipient: adapter.channel === 'sms' ? '+15017250604' : 'jane@example.com',
    now,
    overrides: { userId: BIG },
  });
  // Mailgun's sample names the variable by its field (userId); senders use the wire name.
  const text = sample.body
    .toString('utf8')
    .replace('"user-variables":{"userId":', '"user-variables":{"distinct_user_id":');
  const json = text.replaceAll(`"${BIG}"`, BIG).replaceAll(`\\"${BIG}\\"`, BIG);
  if (json === text) return undefined; // the override travels as text (a query, a form field, a header)
  const url = `${PUBLIC}/webhooks/${name}${sample.query ? `?${sample.query}` : ''}`;
  return signBody(name, creds, url, { ...sample.headers }, Buffer.from(json), now);
}

test('readJson keeps integers beyond 2^53 digit for digit (strings), safe numbers stay numbers', () => {
  expect(readJson(Buffer.from(`{"a":${BIG},"b":-${BIG},"c":12,"d":"${BIG}","e":1.5,"f":[${BIG}]}`))).toEqual({
    a: BIG,
    b: `-${BIG}`,
    c: 12,
    d: BIG,
    e: 1.5,
    f: [BIG],
  });
});

test('a number that is not a safe integer is never an override (it may already be rounded)', () => {
  expect(overridesFrom({ distinct_user_id: 9007199254740992 })).toEqual({});
  expect(overridesFrom({ distinct_user_id: 1.5 })).toEqual({});
  expect(overridesFrom({ distinct_user_id: 42 })).toEqual({ userId: '42' });
  expect(overridesFrom({ distinct_user_id: BIG })).toEqual({ userId: BIG });
});

const jsonAdapters = ADAPTERS.map((a) => a.name).filter((n) => sampleWithNumericUserId(n) !== undefined);

test('the adapters whose samples carry overrides in JSON are covered', () => {
  expect(jsonAdapters).toEqual(
    expect.arrayContaining(['sendgrid', 'postmark', 'mailgun', 'ses', 'mailjet', 'generic']),
  );
});

test.each(jsonAdapters.map((n) => [n]))(
  '%s: a bare-number distinct_user_id of 2^53+1 is queued with its exact digits',
  async (name) => {
    const res = await send(sampleWithNumericUserId(name)!);
    expect(res.status).toBe(200);
    const leases = await queue.claim(10);
    const userIds = leases.map((l) => l.message.event.userId);
    // Never rounded: exactly BIG, or (an adapter that reads the override as text only) not used at all.
    for (const id of userIds) expect([BIG, undefined]).toContain(id);
    expect(JSON.stringify(leases.map((l) => l.message))).not.toContain('9007199254740992');
  },
);

test.each(['sendgrid', 'postmark', 'mailgun', 'generic', 'mailjet', 'ses'])(
  '%s: the exact user id is used',
  async (name) => {
    const res = await send(sampleWithNumericUserId(name)!);
    expect(res.status).toBe(200);
    const leases = await queue.claim(10);
    expect(leases.map((l) => l.message.event.userId)).toEqual([BIG]);
  },
);

test('SendGrid: bare-number message and event ids beyond 2^53 keep their digits in metadata and the de-dup key', async () => {
  const body = `[{"email":"jane@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":${BIG}1,"sg_message_id":${BIG}7,"custom_args":{"distinct_user_id":${BIG}}}]`;
  const res = await send(signJson('sendgrid', creds, `${PUBLIC}/webhooks/sendgrid`, body));
  expect(res.status).toBe(200);
  const [lease] = await queue.claim(10);
  expect(lease!.message.event).toMatchObject({ userId: BIG });
  const text = JSON.stringify(lease!.message);
  expect(text).toContain(`${BIG}7`);
  expect(text).not.toContain('90071992547409920');
});
