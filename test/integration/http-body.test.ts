/**
 * The webhook routes' body reader (src/runtime/raw-body.ts) and response writer, over real
 * sockets: exact bytes however they arrive, express.raw's behaviour for what the fast path does
 * not take, and the same status/content type/body as express's res.send.
 */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { rawBody } from '../../src/runtime/raw-body';
import { createTestCredentials, signedSample, testConfig } from '../helpers/app';
import { appOver, memoryOutbox, postTo } from '../helpers/serve';

const LIMIT = 1024;

/** An express app that answers the sha256 of the body it read, and records body-reader errors. */
function echoApp(errors: Array<{ type?: string; status?: number }>, handled: { count: number }): express.Express {
  const app = express();
  app.post('/echo', rawBody(LIMIT), (req: Request, res: Response) => {
    handled.count += 1;
    const body = req.body as unknown;
    res.json({
      isBuffer: Buffer.isBuffer(body),
      length: Buffer.isBuffer(body) ? body.length : -1,
      sha256: Buffer.isBuffer(body) ? createHash('sha256').update(body).digest('hex') : '',
    });
  });
  app.use((err: { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    errors.push({ type: err.type, status: err.status });
    res.status(err.status ?? 500).json({ type: err.type });
  });
  return app;
}

function listen(app: express.Express): Promise<Server> {
  const server = createServer(app);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('rawBody', () => {
  let server: Server;
  let port: number;
  let errors: Array<{ type?: string; status?: number }>;
  const handled = { count: 0 };

  beforeEach(async () => {
    errors = [];
    handled.count = 0;
    server = await listen(echoApp(errors, handled));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /** Sends `parts` as separate writes of one request with a Content-Length, and the parsed JSON answer. */
  function post(
    parts: Buffer[],
    headers: Record<string, string | number> = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const total = parts.reduce((n, p) => n + p.length, 0);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { port, host: '127.0.0.1', method: 'POST', path: '/echo', headers: { 'content-length': total, ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
            }),
          );
        },
      );
      req.on('error', reject);
      let i = 0;
      const next = (): void => {
        if (i === parts.length) {
          req.end();
          return;
        }
        req.write(parts[i++]);
        setTimeout(next, 5);
      };
      next();
    });
  }

  test('keeps the exact bytes of a body that arrives in several pieces, invalid UTF-8 included', async () => {
    const parts = [Buffer.from('a=1&b='), Buffer.from([0xe9, 0xff, 0x00]), Buffer.from('&c=%2B')];
    const res = await post(parts);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ isBuffer: true, length: 15, sha256: sha(Buffer.concat(parts)) });
  });

  test('an empty body is an empty Buffer', async () => {
    const res = await post([]);
    expect(res.body).toMatchObject({ isBuffer: true, length: 0 });
  });

  test('a declared length over the limit gets 413 entity.too.large without reaching the route', async () => {
    const res = await post([Buffer.alloc(LIMIT + 1, 0x61)]);
    expect(res.status).toBe(413);
    expect(errors).toEqual([{ type: 'entity.too.large', status: 413 }]);
    expect(handled.count).toBe(0);
  });

  test('a chunked body over the limit gets 413 too (express.raw reads it)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/echo' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(LIMIT, 0x61));
      req.end(Buffer.from('b'));
    });
    expect(status).toBe(413);
    expect(errors).toEqual([{ type: 'entity.too.large', status: 413 }]);
    expect(handled.count).toBe(0);
  });

  test('a gzip-encoded body is inflated as express.raw inflates it', async () => {
    const plain = Buffer.from('MessageSid=SM1&MessageStatus=delivered');
    const res = await post([gzipSync(plain)], { 'content-encoding': 'gzip' });
    expect(res.body).toEqual({ isBuffer: true, length: plain.length, sha256: sha(plain) });
  });

  test('an upload aborted before its declared length ends in request.aborted (400), never the route', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    for (let i = 0; i < 100 && errors.length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(errors).toEqual([{ type: 'request.aborted', status: 400 }]);
    expect(handled.count).toBe(0);
  });
});

describe('webhook responses', () => {
  test('Twilio is answered an empty TwiML document as text/xml; charset=utf-8, with no ETag', async () => {
    const creds = createTestCredentials();
    const config = testConfig({ creds, publicUrl: 'https://hooks.example.com', driver: 'memory' });
    const app = appOver(config, memoryOutbox());
    const signed = signedSample('twilio', creds, 'https://hooks.example.com/webhooks/twilio', {
      type: 'sms.delivered',
    });
    const res = await postTo(app, signed);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(res.headers['content-length']).toBe('11');
    expect(res.headers.etag).toBeUndefined();
    expect(res.text).toBe('<Response/>');

    // A JSON error body keeps express's content type.
    const bad = await request(app)
      .post('/webhooks/twilio')
      .set('content-type', 'application/x-www-form-urlencoded')
      .send('a=1');
    expect(bad.status).toBe(401);
    expect(bad.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(bad.body).toMatchObject({ error: 'ERR_WEBHOOK_VERIFICATION', reason: 'missing_signature' });
  });
});
