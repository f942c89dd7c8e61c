/**
 * Issue #10 item 3 over plain HTTP (the page itself: test/browser/console.test.ts): the console is
 * off by default, behind Basic auth when on, `--dev` opens it to loopback clients without
 * credentials, POSTs are protected against cross-site requests, personal data is masked, live
 * updates stream, and a replay from the console reaches the sandbox.
 */
import { request } from 'undici';
import { ConfigurationError } from '../../src/core/errors';
import { buildConfig } from '../helpers/config';
import { silentLogger } from '../../src/observability/logger';
import { consoleAccess, startService, type Service } from '../../src/runtime/service';
import { signedSample, testConfigDocument, waitFor } from '../helpers/app';
import { postSigned as post, useServiceHarness } from '../helpers/serve';

const h = useServiceHarness('console-key');
const AUTH = `Basic ${Buffer.from('ops:s3cret pass').toString('base64')}`;

function configWith(consoleBlock: Record<string, unknown> | undefined) {
  const doc = testConfigDocument({ creds: h.creds, baseUrl: h.distinctUrl, apiKey: 'console-key' });
  if (consoleBlock) doc.console = consoleBlock;
  return buildConfig(doc);
}

async function start(consoleBlock: Record<string, unknown> | undefined, dev = false): Promise<Service> {
  h.service = await startService(configWith(consoleBlock), { logger: silentLogger(), port: 0, host: '127.0.0.1', dev });
  return h.service;
}

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const res = await request(url, { headers });
  return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
}

async function action(
  base: string,
  kind: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${base}/console/api/dead-letters/${kind}`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

const tokenOf = (html: string): string => /"token":"([^"]+)"/.exec(html)![1]!;

test('off unless enabled; enabled requires basicAuth', async () => {
  const s = await start(undefined);
  expect(s.consoleUrl).toBeNull();
  expect((await get(`${s.url}/console`)).status).toBe(404);
  expect(() => configWith({ enabled: true })).toThrow(ConfigurationError);
  expect(() => configWith({ enabled: true })).toThrow(/console\.basicAuth: required when console\.enabled is true/);
  expect(consoleAccess(configWith(undefined), false)).toBeNull();
  expect(consoleAccess(configWith(undefined), true)).toEqual({ loopbackOnly: true });
  expect(consoleAccess(configWith({ basicAuth: 'a:b' }), true)).toEqual({ basicAuth: 'a:b' });
});

test('Basic auth: 401 with WWW-Authenticate: Basic without or with wrong credentials; the page with them', async () => {
  const s = await start({ enabled: true, basicAuth: 'ops:s3cret pass' });
  expect(s.consoleUrl).toBe(`${s.url}/console`);
  for (const headers of [
    {} as Record<string, string>,
    { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` },
    { authorization: 'Bearer x' },
  ]) {
    const res = await get(`${s.url}/console`, headers);
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).toMatch(/^Basic realm=/);
    expect(res.text).not.toMatch(/token/);
  }
  expect((await get(`${s.url}/console/api/state`)).status).toBe(401);
  const page = await get(`${s.url}/console`, { authorization: AUTH });
  expect(page.status).toBe(200);
  expect(String(page.headers['content-type'])).toMatch(/^text\/html/);
  expect(String(page.headers['content-security-policy'])).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
  expect(page.headers['x-frame-options']).toBe('DENY');
  expect(page.text).toMatch(/<title>distinct-webhook-adapter/);
  expect(page.text).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)/); // nothing from elsewhere
  // Webhooks and probes are untouched by the console's auth.
  expect((await get(`${s.url}/healthz`)).status).toBe(200);
});

test('serve --dev without credentials: the console answers loopback clients', async () => {
  const s = await start(undefined, true);
  expect(s.consoleUrl).toBe(`${s.url}/console`);
  expect((await get(`${s.url}/console`)).status).toBe(200);
  expect((await get(`${s.url}/console`, { host: `localhost:${new URL(s.url).port}` })).status).toBe(200);
  // A page that rebinds its own name to 127.0.0.1 still names itself in Host: refused.
  const rebound = await get(`${s.url}/console`, { host: 'attacker.example' });
  expect(rebound.status).toBe(403);
  expect(rebound.text).toMatch(/ERR_CONSOLE_FORBIDDEN/);
});

test('POSTs need the page token, JSON, and a same-origin Origin / Sec-Fetch-Site', async () => {
  const s = await start({ enabled: true, basicAuth: 'ops:s3cret pass' });
  const token = tokenOf((await get(`${s.url}/console`, { authorization: AUTH })).text);
  const body = { reason: 'invalid_pair', confirm: true };
  expect((await action(s.url, 'purge', body, {})).status).toBe(403);
  expect((await action(s.url, 'purge', body, { 'x-console-token': 'forged' })).status).toBe(403);
  expect(
    (await action(s.url, 'purge', body, { 'x-console-token': token, origin: 'https://evil.example' })).status,
  ).toBe(403);
  expect(
    (await action(s.url, 'purge', body, { 'x-console-token': token, 'sec-fetch-site': 'cross-site' })).status,
  ).toBe(403);
  expect((await action(s.url, 'purge', body, { 'x-console-token': token, 'content-type': 'text/plain' })).status).toBe(
    415,
  );
  expect((await action(s.url, 'purge', { reason: 'invalid_pair' }, { 'x-console-token': token })).status).toBe(400); // no confirm
  expect((await action(s.url, 'purge', { confirm: true }, { 'x-console-token': token })).status).toBe(400); // no selection
  const ok = await action(s.url, 'purge', body, {
    'x-console-token': token,
    origin: s.url,
    'sec-fetch-site': 'same-origin',
  });
  expect(ok).toEqual({ status: 200, json: { purged: 0, more: false } });
});

test('dead letters: list masked, look at one, replay it to the sandbox and watch it drain; purge', async () => {
  const s = await start({ enabled: true, basicAuth: 'ops:s3cret pass' });
  const twilio = `${s.url}/webhooks/twilio`;
  const bad = { distinct_feature: 'not_registered' };
  for (const recipient of ['+15017250601', '+15017250602']) {
    expect(await post(signedSample('twilio', h.creds, twilio, { type: 'sms.sent', recipient, overrides: bad }))).toBe(
      200,
    );
  }
  expect(
    await post(signedSample('twilio', h.creds, twilio, { type: 'sms.delivered', recipient: '+15017250603' })),
  ).toBe(200);
  await waitFor(() => h.sandbox.received().length === 1);

  const auth = { authorization: AUTH };
  const list = JSON.parse(
    (await get(`${s.url}/console/api/dead-letters?reason=invalid_pair&source=twilio`, auth)).text,
  ) as {
    items: Array<Record<string, string>>;
  };
  expect(list.items).toHaveLength(2);
  expect(list.items[0]).toMatchObject({
    reason: 'invalid_pair',
    source: 'twilio',
    pair: 'not_registered/sent',
    recipient: '+*******0602',
  });
  expect(JSON.parse((await get(`${s.url}/console/api/dead-letters?source=mailgun`, auth)).text).items).toHaveLength(0);

  const one = await get(`${s.url}/console/api/dead-letters/${list.items[1]!.id}`, auth);
  expect(one.status).toBe(200);
  const detail = JSON.parse(one.text) as Record<string, unknown>;
  expect(detail).toMatchObject({
    reason: 'invalid_pair',
    event: { feature: 'not_registered', action: 'sent', phone: '+*******0601' },
  });
  expect(one.text).not.toMatch(/15017250601/);
  expect((await get(`${s.url}/console/api/dead-letters/999999`, auth)).status).toBe(404);

  const state = await get(`${s.url}/console/api/state`, auth);
  expect(state.text).not.toMatch(/15017250/);
  expect(JSON.parse(state.text)).toMatchObject({
    recent: [{ outcome: 'forwarded', source: 'twilio', recipient: '+*******0603', status: 200 }],
  });

  // The pair is still unregistered, so the replayed event dies again: the console follows it to
  // that end (a replay that delivers: test/browser/console.test.ts).
  const token = tokenOf((await get(`${s.url}/console`, auth)).text);
  const replay = await action(
    s.url,
    'replay',
    { ids: [list.items[1]!.id], confirm: true },
    { 'x-console-token': token },
  );
  expect(replay.status).toBe(200);
  expect(replay.json).toMatchObject({ replayed: 1, replay: { total: 1, pending: 1 } });
  await waitFor(async () => {
    const st = JSON.parse((await get(`${s.url}/console/api/state`, auth)).text) as {
      replays: Array<Record<string, unknown>>;
    };
    return st.replays[0]?.done === true;
  });
  const after = JSON.parse((await get(`${s.url}/console/api/state`, auth)).text) as {
    replays: Array<Record<string, unknown>>;
  };
  expect(after.replays[0]).toMatchObject({
    delivered: 0,
    deadAgain: 1,
    deadAgainByReason: { invalid_pair: 1 },
    done: true,
  });

  const purge = await action(
    s.url,
    'purge',
    { source: 'twilio', reason: 'invalid_pair', confirm: true },
    { 'x-console-token': token },
  );
  expect(purge.json).toEqual({ purged: 2, more: false });
  expect((await s.queue.stats()).deadLettered).toBe(0);
});

test('live updates stream as Server-Sent Events, and an open stream does not hold up shutdown', async () => {
  const s = await start({ enabled: true, basicAuth: 'ops:s3cret pass' });
  const res = await request(`${s.url}/console/api/events`, { headers: { authorization: AUTH } });
  expect(res.statusCode).toBe(200);
  expect(String(res.headers['content-type'])).toMatch(/^text\/event-stream/);
  let seen = '';
  for await (const chunk of res.body) {
    seen += chunk.toString();
    if (/^data: \{.*\}$/m.test(seen)) break;
  }
  const first = JSON.parse(/^data: (.*)$/m.exec(seen)![1]!) as { status: { queue: { depth: number } } };
  expect(first.status.queue.depth).toBe(0);
  const second = await request(`${s.url}/console/api/events`, { headers: { authorization: AUTH } });
  const started = Date.now();
  await s.close();
  h.service = undefined;
  expect(Date.now() - started).toBeLessThan(3000);
  await second.body.text().catch(() => undefined);
});
