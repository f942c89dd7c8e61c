import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox-server';
import { isStrictIso8601 } from '../../src/sandbox/validation';

const PATH = '/api/v1/user/analytics';
const KEY = 'test-key';

const VALID = {
  email: 'jane@example.com',
  feature: 'registration_email',
  action: 'delivered',
  experienceId: '47Gop5',
  capturedAt: '2026-04-27T13:35:00Z',
  metadata: { provider: 'sendgrid', providerEvent: 'delivered', messageId: 'm1' },
};

let sandbox: Sandbox;
let logLines: string[];

beforeEach(() => {
  logLines = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  sandbox = createSandbox({
    apiKey: KEY,
    experienceIds: ['47Gop5', 'exp_2'],
    knownUserIds: ['u_1'],
    logger: pino({ level: 'info' }, destination),
  });
});

afterEach(async () => {
  await sandbox.close();
});

function post(body: unknown, headers: Record<string, string> = {}) {
  const req = request(sandbox.server).post(PATH).set('x-distinct-api-key', KEY).set('content-type', 'application/json');
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req.send(typeof body === 'string' ? body : JSON.stringify(body));
}

const envelope = (statusCode: number, message: string) => ({ statusCode, message, data: null });

describe('POST /api/v1/user/analytics — contract answers (DESIGN §6)', () => {
  test('a valid event → 200 "User analytics added successfully." and it is recorded', async () => {
    const res = await post(VALID, { 'idempotency-key': 'k-1' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(envelope(200, 'User analytics added successfully.'));
    const [rec] = sandbox.received();
    expect(rec).toMatchObject({ event: VALID, idempotencyKey: 'k-1', duplicate: false });
    expect(isStrictIso8601(rec!.receivedAt)).toBe(true);
  });

  test('missing API key → 401 "Unauthorized."', async () => {
    const res = await request(sandbox.server)
      .post(PATH)
      .set('content-type', 'application/json')
      .send(JSON.stringify(VALID));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope(401, 'Unauthorized.'));
  });

  test('wrong API key → 401 "Unauthorized.", nothing recorded', async () => {
    const res = await post(VALID, { 'x-distinct-api-key': 'nope' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope(401, 'Unauthorized.'));
    expect(sandbox.received()).toHaveLength(0);
    expect(sandbox.stats().rejected).toBe(1);
  });

  test('the default API key is "sandbox"', async () => {
    const other = createSandbox();
    try {
      const res = await request(other.server)
        .post(PATH)
        .set('x-distinct-api-key', 'sandbox')
        .set('content-type', 'application/json')
        .send(JSON.stringify(VALID));
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  test('unregistered pair → 400 "Invalid feature/action."', async () => {
    const res = await post({ ...VALID, action: 'clicked' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(envelope(400, 'Invalid feature/action.'));
  });

  test.each([
    ['feature missing', { feature: undefined }],
    ['action missing', { action: undefined }],
    ['unknown feature', { feature: 'newsletter' }],
    ['feature not a string', { feature: 5 }],
  ])('%s → 400 "Invalid feature/action."', async (_name, patch) => {
    const res = await post({ ...VALID, ...patch });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Invalid feature/action.');
  });

  test('feature and action match case-insensitively', async () => {
    const res = await post({ ...VALID, feature: 'Registration_EMAIL', action: 'DELIVERED' });
    expect(res.status).toBe(200);
  });

  test('honours a custom registry', async () => {
    const custom = createSandbox({ apiKey: KEY, registry: { onboarding: ['welcomed'] } });
    try {
      const send = (body: unknown) =>
        request(custom.server)
          .post(PATH)
          .set('x-distinct-api-key', KEY)
          .set('content-type', 'application/json')
          .send(JSON.stringify(body));
      expect((await send({ ...VALID, feature: 'onboarding', action: 'welcomed' })).status).toBe(200);
      expect((await send(VALID)).body.message).toBe('Invalid feature/action.');
    } finally {
      await custom.close();
    }
  });

  test.each([
    ['unknown experience id', { experienceId: 'other' }],
    ['missing experience id', { experienceId: undefined }],
    ['empty experience id', { experienceId: '' }],
    ['experience id not a string', { experienceId: 47 }],
  ])('%s → 400 "Invalid experience id."', async (_name, patch) => {
    const res = await post({ ...VALID, ...patch });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(envelope(400, 'Invalid experience id.'));
  });

  test('any experience id is accepted when none are configured', async () => {
    const open = createSandbox({ apiKey: KEY });
    try {
      const res = await request(open.server)
        .post(PATH)
        .set('x-distinct-api-key', KEY)
        .set('content-type', 'application/json')
        .send(JSON.stringify({ ...VALID, experienceId: 'whatever' }));
      expect(res.status).toBe(200);
    } finally {
      await open.close();
    }
  });

  test('unknown userId → 400 "User not found."; a known one → 200', async () => {
    const unknown = await post({ ...VALID, userId: 'u_404' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual(envelope(400, 'User not found.'));
    expect((await post({ ...VALID, userId: 'u_1' })).status).toBe(200);
  });

  test('without a userId the known-user list does not apply', async () => {
    expect((await post({ ...VALID, userId: undefined })).status).toBe(200);
  });
});

describe('POST /api/v1/user/analytics — format rules', () => {
  test('content-type other than application/json → 400', async () => {
    const res = await request(sandbox.server)
      .post(PATH)
      .set('x-distinct-api-key', KEY)
      .set('content-type', 'text/plain')
      .send(JSON.stringify(VALID));
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/Content-Type must be application\/json/);
  });

  test('application/json with a charset parameter is fine', async () => {
    const res = await post(VALID, { 'content-type': 'application/json; charset=utf-8' });
    expect(res.status).toBe(200);
  });

  test('a body that is not JSON → 400', async () => {
    const res = await post('{"email":');
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/not valid JSON/);
  });

  test.each([['[]'], ['"text"'], ['42'], ['null']])('a JSON body that is not an object (%s) → 400', async (body) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Body must be a JSON object.');
  });

  test('no userId, email or phone → 400', async () => {
    const res = await post({ ...VALID, email: undefined });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('At least one of userId, email or phone is required.');
  });

  test.each([
    ['userId', ''],
    ['userId', null],
    ['email', ''],
    ['email', null],
    ['phone', ''],
    ['phone', null],
    ['metadata', null],
  ])('optional field %s present as %j → 400 naming the field', async (field, value) => {
    const res = await post({ ...VALID, [field]: value });
    expect(res.status).toBe(400);
    expect(res.body.statusCode).toBe(400);
    expect(res.body.message).toContain(`"${field}"`);
    expect(res.body.message).toMatch(/must be omitted/);
  });

  test.each([['+14155550100'], ['+442071838750'], ['+12']])('E.164 phone %s → 200', async (phone) => {
    expect((await post({ ...VALID, email: undefined, phone })).status).toBe(200);
  });

  test.each([
    ['+1 415 555 0100'],
    ['14155550100'],
    ['+04155550100'],
    ['+1415555010012345'],
    ['whatsapp:+14155550100'],
    [14155550100],
  ])('phone %j → 400', async (phone) => {
    const res = await post({ ...VALID, phone });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/"phone" must be an E\.164 number/);
  });

  test.each([['not-an-email'], ['a@b'], ['a b@example.com'], ['<a@example.com>'], [42]])(
    'email %j → 400',
    async (email) => {
      const res = await post({ ...VALID, email });
      expect(res.status).toBe(400);
      expect(res.body.message).toBe('"email" must be a valid e-mail address.');
    },
  );

  test('userId that is not a string → 400', async () => {
    const res = await post({ ...VALID, userId: 7 });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/"userId" must be a non-empty string/);
  });

  test('capturedAt missing → 400', async () => {
    const res = await post({ ...VALID, capturedAt: undefined });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('"capturedAt" is required.');
  });

  test.each([
    ['2026-04-27 13:35:00Z'],
    ['2026-04-27T13:35:00'],
    ['2026-04-27'],
    ['2026-04-27T13:35Z'],
    ['2026-02-30T10:00:00Z'],
    ['2026-04-27T24:00:00Z'],
    ['2026-04-27T13:35:00+0200'],
    ['Mon, 27 Apr 2026 13:35:00 GMT'],
    ['1777296900'],
  ])('capturedAt %j → 400', async (capturedAt) => {
    const res = await post({ ...VALID, capturedAt });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/"capturedAt" must be a strict ISO 8601 date-time/);
  });

  test.each([
    ['2026-04-27T13:35:00Z'],
    ['2026-04-27T13:35:00.123Z'],
    ['2026-04-27T15:35:00+02:00'],
    ['2024-02-29T00:00:00Z'],
  ])('capturedAt %j → 200', async (capturedAt) => {
    expect((await post({ ...VALID, capturedAt })).status).toBe(200);
  });

  test.each([[[1, 2]], ['text'], [5]])('metadata %j → 400', async (metadata) => {
    const res = await post({ ...VALID, metadata });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('"metadata" must be a JSON object.');
  });

  test('metadata may be omitted', async () => {
    expect((await post({ ...VALID, metadata: undefined })).status).toBe(200);
  });

  test('an unknown field → 400 naming it', async () => {
    const res = await post({ ...VALID, timestamp: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Unknown field "timestamp".');
  });

  test('a body over the limit → 413', async () => {
    const small = createSandbox({ apiKey: KEY, maxBodyBytes: 100 });
    try {
      const res = await request(small.server)
        .post(PATH)
        .set('x-distinct-api-key', KEY)
        .set('content-type', 'application/json')
        .send(JSON.stringify(VALID));
      expect(res.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  test('other methods and paths → 404', async () => {
    expect((await request(sandbox.server).get(PATH)).status).toBe(404);
    expect((await request(sandbox.server).post('/api/v1/user/other').send('{}')).status).toBe(404);
  });
});

describe('recording and inspection', () => {
  test('counts a repeated idempotency key as a duplicate', async () => {
    await post(VALID, { 'idempotency-key': 'same' });
    await post(VALID, { 'idempotency-key': 'same' });
    await post(VALID, { 'idempotency-key': 'other' });
    expect(sandbox.stats().duplicates).toBe(1);
    expect(sandbox.received().map((r) => r.duplicate)).toEqual([false, true, false]);
  });

  test('GET /_sandbox/events returns events, duplicates and rejected; DELETE clears', async () => {
    await post(VALID, { 'idempotency-key': 'a' });
    await post({ ...VALID, action: 'clicked' }, { 'idempotency-key': 'b' });
    const res = await request(sandbox.server).get('/_sandbox/events');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ duplicates: 0, rejected: 1, requests: 2 });
    expect(res.body.events).toHaveLength(1);
    expect(res.body.events[0]).toMatchObject({ idempotencyKey: 'a', event: VALID });
    expect(res.body.rejections[0]).toMatchObject({
      status: 400,
      message: 'Invalid feature/action.',
      idempotencyKey: 'b',
    });

    expect((await request(sandbox.server).delete('/_sandbox/events')).status).toBe(200);
    const after = await request(sandbox.server).get('/_sandbox/events');
    expect(after.body).toMatchObject({ events: [], duplicates: 0, rejected: 0 });
  });

  test('GET / lists events newest first, HTML-escaped, refreshing itself', async () => {
    await post({ ...VALID, metadata: { note: 'older-event' } });
    await post({ ...VALID, metadata: { note: '<script>alert(1)</script> newer-event' } });
    const res = await request(sandbox.server).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.text).toContain('http-equiv="refresh"');
    expect(res.text).not.toContain('<script>');
    expect(res.text).toContain('&#60;script&#62;');
    expect(res.text.indexOf('newer-event')).toBeGreaterThan(0);
    expect(res.text.indexOf('newer-event')).toBeLessThan(res.text.indexOf('older-event'));
  });

  test('logs one line per request, never the API key', async () => {
    await post(VALID);
    await post(VALID, { 'x-distinct-api-key': 'wrong-secret-key' });
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.status)).toEqual([200, 401]);
    expect(logLines.join('')).not.toContain(KEY);
    expect(logLines.join('')).not.toContain('wrong-secret-key');
  });
});

describe('fault injection', () => {
  test('queued answers apply before validation, in order, `times` each, with Retry-After', async () => {
    const res = await request(sandbox.server)
      .post('/_sandbox/faults')
      .send({
        responses: [{ status: 500, message: 'Internal server error.', retryAfter: 1, times: 2 }, { status: 429 }],
      });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ queued: 3 });

    const first = await post(VALID, { 'x-distinct-api-key': 'wrong' });
    expect(first.status).toBe(500);
    expect(first.headers['retry-after']).toBe('1');
    expect(first.body).toEqual(envelope(500, 'Internal server error.'));
    expect((await post(VALID)).status).toBe(500);
    const third = await post(VALID);
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBeUndefined();
    expect((await post(VALID)).status).toBe(200);
    expect(sandbox.received()).toHaveLength(1);
  });

  test('DELETE /_sandbox/faults clears pending answers', async () => {
    await request(sandbox.server)
      .post('/_sandbox/faults')
      .send({ responses: [{ status: 503, times: 5 }] });
    expect((await request(sandbox.server).get('/_sandbox/faults')).body.pending).toHaveLength(5);
    expect((await request(sandbox.server).delete('/_sandbox/faults')).status).toBe(200);
    expect((await post(VALID)).status).toBe(200);
  });

  test('a raw (non-JSON) body and a dropped connection can be injected', async () => {
    sandbox.injectFaults([
      { status: 502, rawBody: '<html>bad gateway</html>' },
      { status: 0, destroy: true },
    ]);
    const raw = await post(VALID);
    expect(raw.status).toBe(502);
    expect(raw.text).toBe('<html>bad gateway</html>');
    await expect(post(VALID)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await post(VALID)).status).toBe(200);
  });

  test.each([
    [{}],
    [{ responses: 'x' }],
    [{ responses: [{ status: 42 }] }],
    [{ responses: [{ status: 500, times: 0 }] }],
    [{ responses: [{ status: 500, message: 5 }] }],
  ])('rejects a malformed fault list %j with 400', async (body) => {
    const res = await request(sandbox.server).post('/_sandbox/faults').send(body);
    expect(res.status).toBe(400);
    expect(typeof res.body.error).toBe('string');
  });
});

describe('the page and the state it polls', () => {
  test('empty state says how to send a first event', async () => {
    const res = await request(sandbox.server).get('/');
    expect(res.text).toContain('Nothing received yet.');
    expect(res.text).toMatch(/distinct-adapter serve --dev/);
    expect(res.text).toMatch(/distinct-adapter simulate twilio/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.text).toContain('<script src="/_sandbox/page.js"></script>');
    expect(res.text).not.toMatch(/<meta http-equiv="refresh"[^>]*>\s*<title>/); // the refresh is only a <noscript> fallback
  });

  test("rejections with Distinct's message, pending and applied faults, wrapped metadata", async () => {
    await post({ ...VALID, experienceId: 'nope' }, { 'idempotency-key': 'k-rejected' });
    await post({ ...VALID, metadata: { note: 'x'.repeat(300) } });
    sandbox.injectFaults([
      { status: 503, times: 2 },
      { status: 0, destroy: true },
      { status: 0, latencyOnly: true, delayMs: 10 },
    ]);
    expect((await post(VALID)).status).toBe(503);
    const res = await request(sandbox.server).get('/');
    expect(res.text).toMatch(/<td>400<\/td><td>Invalid experience id\.<\/td><td>k-rejected<\/td>/);
    expect(res.text).toContain(
      '<li>503 Internal server error.</li><li>drop the connection</li><li>+10 ms, then answer normally</li>',
    );
    expect(res.text).toMatch(/<td>503 Internal server error\.<\/td>/); // applied
    expect(res.text).toMatch(/<td class="meta">\{\n &#34;note&#34;: &#34;x{300}&#34;\n\}<\/td>/);
    expect(res.text).toContain('td.meta{white-space:pre-wrap');
  });

  test('/_sandbox/state answers "unchanged" until something changes; page.js parses', async () => {
    const first = (await request(sandbox.server).get('/_sandbox/state?after=-1')).body;
    expect(first).toMatchObject({ events: [], rejections: [], pendingFaults: [], appliedFaults: [] });
    expect((await request(sandbox.server).get(`/_sandbox/state?after=${first.version}`)).body).toEqual({
      version: first.version,
      unchanged: true,
    });
    await post(VALID);
    const next = (await request(sandbox.server).get(`/_sandbox/state?after=${first.version}`)).body;
    expect(next.version).toBeGreaterThan(first.version);
    expect(next.events).toHaveLength(1);
    const js = await request(sandbox.server).get('/_sandbox/page.js');
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(() => new (require('node:vm').Script)(js.text)).not.toThrow();
    expect(js.text).not.toContain('innerHTML');
  });

  test('a delay-only fault ({"delayMs"} without a status) delays, then answers normally', async () => {
    const res = await request(sandbox.server)
      .post('/_sandbox/faults')
      .send({ responses: [{ delayMs: 150 }] });
    expect(res.body).toEqual({ queued: 1 });
    const started = Date.now();
    expect((await post(VALID)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(sandbox.appliedFaults().map((a) => a.description)).toEqual(['+150 ms, then answered normally']);
  });
});
