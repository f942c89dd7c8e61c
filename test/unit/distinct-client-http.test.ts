/**
 * DistinctClient.send() on the wire, against a bare node:http server on 127.0.0.1 (port 0): what it
 * sends, and how it reads answers the sandbox cannot produce (large or stalled bodies, odd header
 * case). Nothing asserts on elapsed time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DistinctEvent } from '../../src/core/distinct-event';
import { DistinctClient } from '../../src/forwarder/distinct-client';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serve(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[]; connections: () => number }> {
  const seen: Seen[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      answer(req, res);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, connections: () => connections };
}

function client(baseUrl: string, timeoutMs = 5_000): DistinctClient {
  const c = new DistinctClient({ baseUrl, apiKey: 'secret-key', timeoutMs, concurrency: 2, userAgent: 'test-agent' });
  cleanups.push(() => c.close());
  return c;
}

const event: DistinctEvent = {
  email: 'someone@example.com',
  feature: 'registration_email',
  action: 'delivered',
  experienceId: 'exp_1',
  capturedAt: '2026-04-27T13:35:00Z',
  metadata: { provider: 'sendgrid', providerEvent: 'delivered', messageId: 'm1' },
};

const ok = JSON.stringify({ statusCode: 200, message: 'User analytics added successfully.', data: null });

describe('DistinctClient on the wire', () => {
  test('POSTs the event as JSON with the contract headers, under the base URL path prefix', async () => {
    const s = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(ok));
    const outcome = await client(`${s.url}/prefix/`).send(event, 'idem-42');
    expect(outcome).toEqual({ kind: 'ok', status: 200, message: 'User analytics added successfully.' });
    expect(s.seen).toHaveLength(1);
    const [req] = s.seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/prefix/api/v1/user/analytics');
    expect(req?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-distinct-api-key': 'secret-key',
      'idempotency-key': 'idem-42',
      'user-agent': 'test-agent',
    });
    expect(JSON.parse(req?.body ?? '')).toEqual(event);
  });

  test('reads Retry-After whatever the case of its name', async () => {
    const s = await serve((_req, res) => {
      res.setHeader('RETRY-AFTER', '7');
      res.writeHead(503).end('busy');
    });
    expect(await client(s.url).send(event, 'k')).toEqual({
      kind: 'transient',
      status: 503,
      message: 'busy',
      retryAfterMs: 7_000,
    });
  });

  test('of two Retry-After headers the first one decides', async () => {
    const s = await serve((_req, res) => {
      res.setHeader('Retry-After', ['3', '9']);
      res.writeHead(429).end('slow down');
    });
    expect(await client(s.url).send(event, 'k')).toEqual({
      kind: 'transient',
      status: 429,
      message: 'slow down',
      retryAfterMs: 3_000,
    });
  });

  test('dispatches with the current handler API only (undici 8 rejects the deprecated one)', async () => {
    const s = await serve((_req, res) => res.writeHead(200).end('{"statusCode":200,"message":"ok","data":null}'));
    const c = client(s.url);
    const agent = (c as unknown as { agent: { dispatch: (opts: unknown, handler: object) => boolean } }).agent;
    const handlers: object[] = [];
    const dispatch = agent.dispatch.bind(agent);
    agent.dispatch = (opts, handler) => {
      handlers.push(handler);
      return dispatch(opts, handler);
    };
    expect(await c.send(event, 'k')).toEqual({ kind: 'ok', status: 200, message: 'ok' });
    expect(handlers).toHaveLength(1);
    const h = handlers[0] as Record<string, unknown>;
    for (const legacy of ['onConnect', 'onHeaders', 'onData', 'onComplete', 'onError', 'onUpgrade'])
      expect(typeof h[legacy]).toBe('undefined');
    for (const current of ['onRequestStart', 'onResponseStart', 'onResponseData', 'onResponseEnd', 'onResponseError'])
      expect(typeof h[current]).toBe('function');
  });

  test('a body over 64 KB is read to its end (the connection is reused) and only its start is kept', async () => {
    const big = 'x'.repeat(200 * 1024);
    const s = await serve((_req, res) => {
      res.writeHead(502);
      // Several writes, so the body arrives in several chunks.
      for (let i = 0; i < 4; i += 1) res.write(big.slice(i * 51_200, (i + 1) * 51_200));
      res.end();
    });
    const c = client(s.url);
    for (let i = 0; i < 5; i += 1) {
      const outcome = await c.send(event, `big-${i}`);
      expect(outcome).toEqual({ kind: 'transient', status: 502, message: 'x'.repeat(200) });
    }
    // undici may open a second socket while the first response is being finished; never one per request.
    expect(s.connections()).toBeLessThanOrEqual(2);
  });

  test('a status line that arrived in time decides, even when the body then stalls past timeoutMs', async () => {
    const s = await serve((req, res) => {
      res.writeHead(req.headers['idempotency-key'] === 'stall-200' ? 200 : 503);
      res.write('{"statusCode":');
      // ...and never ends.
    });
    const c = client(s.url, 150);
    expect(await c.send(event, 'stall-200')).toMatchObject({ kind: 'ok', status: 200 });
    expect(await c.send(event, 'stall-503')).toMatchObject({ kind: 'transient', status: 503 });
  });

  test('no answer at all within timeoutMs is a transient timeout', async () => {
    const s = await serve(() => {
      // Never answers.
    });
    expect(await client(s.url, 100).send(event, 'slow')).toEqual({
      kind: 'transient',
      status: null,
      message: 'timeout after 100 ms',
    });
  });

  test('a refused connection is a transient network error naming the cause', async () => {
    const s = await serve((_req, res) => res.end());
    const url = s.url;
    await cleanups.pop()?.(); // closes the server
    const outcome = await client(url).send(event, 'refused');
    expect(outcome).toMatchObject({ kind: 'transient', status: null, message: expect.stringMatching(/ECONNREFUSED/) });
  });
});
