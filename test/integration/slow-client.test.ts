/**
 * Slow clients (issue #9 item 10): a body or header block trickled byte by byte is cut off at the
 * configured bound (server.requestTimeoutMs / server.headersTimeoutMs) over a real socket, instead
 * of holding it for Node's default 300 s.
 */
import { connect, type Socket } from 'node:net';
import { buildConfig } from '../helpers/config';
import { silentLogger } from '../../src/observability/logger';
import { serverOptions, startService, type Service } from '../../src/runtime/service';
import { createTestCredentials, testConfigDocument } from '../helpers/app';

let service: Service;

beforeAll(async () => {
  const doc = testConfigDocument({ creds: createTestCredentials() });
  (doc.server as Record<string, unknown>).headersTimeoutMs = 300;
  (doc.server as Record<string, unknown>).requestTimeoutMs = 600;
  service = await startService(buildConfig(doc, {}), {
    logger: silentLogger(),
    forward: false,
    port: 0,
    host: '127.0.0.1',
  });
});

afterAll(async () => {
  await service.close();
});

/** Writes `head` then one byte of `trickle` every `everyMs` until the server closes; resolves what it answered and when. */
function trickle(
  head: string,
  trickleText: string,
  everyMs: number,
): Promise<{ ms: number; answer: string; sent: number }> {
  const url = new URL(service.url);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket: Socket = connect(Number(url.port), url.hostname);
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ ms: performance.now() - started, answer, sent });
    });
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < trickleText.length && !socket.destroyed) socket.write(trickleText[sent++]!);
      }, everyMs);
    });
  });
}

test('a body trickled at one byte per 100 ms is answered 408 and closed within the request bound', async () => {
  const head =
    'POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n';
  const { ms, answer, sent } = await trickle(head, '['.repeat(200), 100);
  expect(answer).toMatch(/^HTTP\/1\.1 408/);
  expect(sent).toBeLessThan(200);
  expect(ms).toBeGreaterThanOrEqual(500);
  expect(ms).toBeLessThan(3000);
});

test('headers trickled byte by byte are cut off within the header bound', async () => {
  const { ms, answer } = await trickle('POST /webhooks/sendgrid HTTP/1.1\r\n', 'X-Slow: '.padEnd(200, 'a'), 50);
  expect(answer).toMatch(/^HTTP\/1\.1 408/);
  expect(ms).toBeLessThan(2500);
});

test('a prompt request on the same server is unaffected', async () => {
  const res = await fetch(`${service.url}/healthz`);
  expect(res.status).toBe(200);
});

test('defaults: 10 s for headers, 30 s for the whole request, checked at least every second', () => {
  const config = buildConfig(testConfigDocument({ creds: createTestCredentials() }), {});
  expect(config.server).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  expect(serverOptions(config.server)).toEqual({
    headersTimeout: 10_000,
    requestTimeout: 30_000,
    connectionsCheckingInterval: 1000,
  });
  // A header bound above the request bound is clamped (Node refuses it).
  expect(serverOptions({ headersTimeoutMs: 60_000, requestTimeoutMs: 20_000 }).headersTimeout).toBe(20_000);
});
