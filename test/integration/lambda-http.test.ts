/**
 * The Lambda HTTP runtime invoked with real event shapes: the documented API Gateway HTTP API
 * (payload format 2.0) and Lambda function URL examples (fixtures/aws/), carrying requests signed
 * by the providers' own schemes, into the same pipeline `serve` runs.
 *
 * Most cases run the shim (src/runtime/lambda-http-handler.ts) over a pipeline with the memory
 * queue, so they depend on nothing else; the real entry point (src/runtime/lambda-http.ts, whose
 * module-scope init loads distinct's Lambda configuration and insists on SQS) runs against the
 * local SQS API (fauxqs, jest globalSetup), and its compiled module graph is checked in a fresh
 * process: no express, no better-sqlite3, no twilio (cold start, issue #4).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { adapter as ses } from '../../adapters/ses';
import { buildConfig } from '../helpers/config';
import type { UnsignedRequest } from '../../src/core/adapter';
import { createMetrics } from '../../src/observability/metrics';
import { silentLogger } from '../../src/observability/logger';
import { Pipeline } from '../../src/pipeline/pipeline';
import { createQueue } from '../../src/queue/create-queue';
import type { Queue, QueueMessage } from '../../src/queue/queue';
import type { SnsSettings } from '../../src/verify/sns-endpoint';
import {
  createHttpHandler,
  requestFromEvent,
  type HttpEvent,
  type HttpResult,
} from '../../src/runtime/lambda-http-handler';
import {
  createTestCredentials,
  signBody,
  signedSample,
  tempDir,
  testConfig,
  testConfigDocument,
  type TestCredentials,
} from '../helpers/app';
import { FIXTURES_DIR, loadFixtures } from '../helpers/fixtures';
import { startDynalite } from '../helpers/dynamo';
import { createQueuePair, peek, sqsClient, sqsEndpoint } from '../helpers/sqs';

const ROOT = join(__dirname, '..', '..');
const API_GATEWAY = readEvent('api-gateway-http-api-v2');
const FUNCTION_URL = readEvent('lambda-function-url');
const API_HOST = 'r2d2c3po.execute-api.eu-west-1.amazonaws.com';
const FUNCTION_URL_HOST = 'dwa4xq7k2mpd3hy6nuz5vcolbe0fwrsa.lambda-url.eu-west-1.on.aws';
const JSON_HEADERS = { 'content-type': 'application/json' };

function readEvent(name: string): HttpEvent {
  return (JSON.parse(readFileSync(join(FIXTURES_DIR, 'aws', `${name}.json`), 'utf8')) as { event: HttpEvent }).event;
}

/** The documented event, carrying `req` the way API Gateway / a function URL delivers it. */
function toEvent(
  template: HttpEvent,
  req: UnsignedRequest,
  options: { base64?: boolean; domainName?: string; now?: Date } = {},
): HttpEvent {
  const url = new URL(req.url);
  const rawPath = url.pathname;
  const rawQueryString = url.search.replace(/^\?/, '');
  const now = options.now ?? new Date();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(template.headers)) if (v !== undefined) headers[k] = v;
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  headers['content-length'] = String(req.body.length);
  headers.host = options.domainName ?? url.host;
  headers['x-forwarded-proto'] = 'https';
  const event: HttpEvent = structuredClone(template);
  return {
    ...event,
    rawPath,
    rawQueryString,
    headers,
    queryStringParameters: rawQueryString ? Object.fromEntries(new URLSearchParams(rawQueryString)) : undefined,
    body: options.base64 ? req.body.toString('base64') : req.body.toString('utf8'),
    isBase64Encoded: options.base64 === true,
    requestContext: {
      ...event.requestContext,
      domainName: options.domainName ?? url.host,
      http: { ...event.requestContext.http, method: req.method, path: rawPath },
      timeEpoch: now.getTime(),
    },
  };
}

interface Harness {
  handle: (event: HttpEvent) => Promise<HttpResult>;
  pipeline: Pipeline;
  queue: Queue;
}

let creds: TestCredentials;
const open: Queue[] = [];

beforeAll(() => {
  creds = createTestCredentials();
});

afterEach(async () => {
  while (open.length > 0) await open.pop()?.close();
});

/** The shim over a pipeline with the memory queue (`queue.driver: memory`). */
function harness(options: { publicUrl?: string; bodyLimit?: string } = {}): Harness {
  const config = testConfig({ creds, driver: 'memory', ...options });
  const queue = createQueue({ ...config.queue, dedupeWindowMs: config.dedupe.windowMs });
  open.push(queue);
  const logger = silentLogger();
  const pipeline = new Pipeline({ config, queue, logger, metrics: createMetrics({ defaultMetrics: false }) });
  return { handle: createHttpHandler({ pipeline, logger }), pipeline, queue };
}

async function queued(queue: Queue): Promise<QueueMessage[]> {
  return (await queue.claim(100)).map((lease) => lease.message);
}

function json(result: HttpResult): Record<string, unknown> {
  expect(result.headers['content-type']).toMatch(/^application\/json/);
  return JSON.parse(result.body) as Record<string, unknown>;
}

test('API Gateway HTTP API v2 (the AWS example) carrying a signed SendGrid batch: 200 once the event is queued', async () => {
  const h = harness();
  const signed = signedSample('sendgrid', creds, `https://${API_HOST}/webhooks/sendgrid`, {
    recipient: 'Jane.Doe@example.com',
  });
  const result = await h.handle(toEvent(API_GATEWAY, signed));
  expect(result.statusCode).toBe(200);
  expect(result.isBase64Encoded).toBe(false);
  expect(json(result)).toMatchObject({ ok: true, received: 1, queued: 1 });
  const [message] = await queued(h.queue);
  expect(message).toMatchObject({
    source: 'sendgrid',
    type: 'email.delivered',
    event: { email: 'jane.doe@example.com', feature: 'registration_email', action: 'delivered' },
  });
});

test('Lambda function URL (the AWS example) carrying a signed Mailgun event: 200 and queued', async () => {
  const h = harness();
  const signed = signedSample('mailgun', creds, `https://${FUNCTION_URL_HOST}/webhooks/mailgun`);
  const result = await h.handle(toEvent(FUNCTION_URL, signed));
  expect(result.statusCode).toBe(200);
  expect(json(result)).toMatchObject({ ok: true, queued: 1 });
  expect(await queued(h.queue)).toEqual([expect.objectContaining({ source: 'mailgun', type: 'email.delivered' })]);
});

test('a base64-encoded Twilio form body verifies against https://<domainName><rawPath>?<rawQueryString>', async () => {
  const h = harness(); // no publicUrl: the URL is rebuilt from the event
  const url = `https://${API_HOST}/webhooks/twilio`;
  const signed = signedSample('twilio', creds, url, { overrides: { distinct_user_id: 'u_42' } });
  expect(new URL(signed.url).search).toContain('distinct_user_id=u_42'); // the query is signed too
  const event = toEvent(API_GATEWAY, signed, { base64: true }); // API Gateway base64-encodes form bodies
  expect(event.body).not.toContain('MessageSid');
  const result = await h.handle(event);
  expect(result).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/xml' }, body: '<Response/>' });
  const [message] = await queued(h.queue);
  expect(message).toMatchObject({
    source: 'twilio',
    type: 'sms.delivered',
    event: { userId: 'u_42', phone: '+15017250604', action: 'delivered' },
  });
});

test('the same Twilio callback signed for another host is rejected 401: the reconstructed URL is what gets verified', async () => {
  const h = harness();
  const signed = signedSample('twilio', creds, `https://${API_HOST}/webhooks/twilio`);
  const result = await h.handle(
    toEvent(API_GATEWAY, signed, { base64: true, domainName: 'other.execute-api.eu-west-1.amazonaws.com' }),
  );
  expect(result.statusCode).toBe(401);
  expect(json(result)).toMatchObject({ error: 'ERR_WEBHOOK_VERIFICATION', reason: 'signature_mismatch' });
  expect(await queued(h.queue)).toEqual([]);
});

test("a source's publicUrl (custom domain) wins over the event's domainName", async () => {
  const h = harness({ publicUrl: 'https://hooks.example.com' });
  const signed = signedSample('twilio', creds, 'https://hooks.example.com/webhooks/twilio');
  const event = toEvent(API_GATEWAY, signed, { base64: true, domainName: API_HOST });
  expect(requestFromEvent(event, 'twilio', Buffer.alloc(0), h.pipeline).url).toBe(signed.url);
  const result = await h.handle(event);
  expect(result.statusCode).toBe(200);
  expect(await queued(h.queue)).toHaveLength(1);
});

test('base64 bodies are decoded to the exact bytes signed (non-UTF-8 bytes included)', async () => {
  const h = harness();
  const ts = Math.floor(Date.now() / 1000);
  const event = {
    email: 'bytes@example.com',
    timestamp: ts,
    event: 'delivered',
    sg_event_id: 'ev-bytes-1',
    sg_message_id: 'msg-bytes-1.filter',
  };
  // A latin-1 byte (0xE9, "é") inside a string: not valid UTF-8, so only the raw bytes verify.
  const body = Buffer.concat([
    Buffer.from(`[${JSON.stringify({ ...event, category: 'caf' }).slice(0, -2)}`),
    Buffer.from([0xe9]),
    Buffer.from('"}]'),
  ]);
  const signed = signBody('sendgrid', creds, `https://${API_HOST}/webhooks/sendgrid`, JSON_HEADERS, body);
  const exact = await h.handle(toEvent(API_GATEWAY, signed, { base64: true }));
  expect(exact.statusCode).toBe(200);
  // The same bytes pushed through a UTF-8 string (what a non-base64 body would be) no longer verify.
  const lossy = await h.handle(toEvent(API_GATEWAY, signed, { base64: false }));
  expect(lossy.statusCode).toBe(401);
});

test('a body changed by one byte gets 401 and nothing is queued', async () => {
  const h = harness();
  const signed = signedSample('sendgrid', creds, `https://${API_HOST}/webhooks/sendgrid`);
  const tampered = Buffer.from(signed.body);
  tampered[tampered.indexOf('"delivered"') + 1] = 'D'.charCodeAt(0);
  const result = await h.handle(toEvent(API_GATEWAY, { ...signed, body: tampered }));
  expect(result.statusCode).toBe(401);
  expect(json(result)).toMatchObject({ error: 'ERR_WEBHOOK_VERIFICATION', reason: 'signature_mismatch' });
  expect(result.body).not.toMatch(/\bat .*\.(ts|js)/);
  expect(await queued(h.queue)).toEqual([]);
});

test('unknown source 404, other paths 404, /healthz 200, over the body limit 413', async () => {
  const h = harness({ bodyLimit: '1kb' });
  const signed = signedSample('sendgrid', creds, `https://${API_HOST}/webhooks/nope`);
  const unknown = await h.handle(toEvent(API_GATEWAY, signed));
  expect(unknown.statusCode).toBe(404);
  expect(json(unknown)).toMatchObject({ error: 'ERR_UNKNOWN_SOURCE' });

  const other = await h.handle(toEvent(API_GATEWAY, { ...signed, url: `https://${API_HOST}/my/path` }));
  expect(other.statusCode).toBe(404);
  expect(json(other)).toMatchObject({ error: 'ERR_NOT_FOUND' });

  const health = await h.handle(
    toEvent(API_GATEWAY, { method: 'GET', url: `https://${API_HOST}/healthz`, headers: {}, body: Buffer.alloc(0) }),
  );
  expect(health.statusCode).toBe(200);
  expect(json(health)).toEqual({ status: 'ok' });

  const big = signBody(
    'sendgrid',
    creds,
    `https://${API_HOST}/webhooks/sendgrid`,
    JSON_HEADERS,
    Buffer.from(`[${' '.repeat(2048)}]`),
  );
  const tooLarge = await h.handle(toEvent(API_GATEWAY, big, { base64: true }));
  expect(tooLarge.statusCode).toBe(413);
  expect(json(tooLarge)).toMatchObject({ error: 'ERR_PAYLOAD_TOO_LARGE' });
  expect(await queued(h.queue)).toEqual([]);
});

test.each([
  ['gzip', gzipSync],
  ['deflate', deflateSync],
  ['br', brotliCompressSync],
] as const)('a %s-encoded signed body is inflated as serve inflates it: 200 and queued', async (coding, compress) => {
  const h = harness();
  const signed = signedSample('sendgrid', creds, `https://${API_HOST}/webhooks/sendgrid`);
  const compressed = {
    ...signed,
    headers: { ...signed.headers, 'Content-Encoding': coding },
    body: compress(signed.body),
  };
  const result = await h.handle(toEvent(API_GATEWAY, compressed, { base64: true }));
  expect(result.statusCode).toBe(200);
  expect(json(result)).toMatchObject({ ok: true, queued: 1 });
  expect(await queued(h.queue)).toEqual([expect.objectContaining({ source: 'sendgrid', type: 'email.delivered' })]);
});

test('Content-Encoding as serve answers it: 415 unsupported or stacked, 400 corrupt, 413 inflating past the limit', async () => {
  const h = harness({ bodyLimit: '1kb' });
  const url = `https://${API_HOST}/webhooks/sendgrid`;
  const post = (coding: string, body: Buffer) =>
    h.handle(
      toEvent(
        API_GATEWAY,
        { method: 'POST', url, headers: { ...JSON_HEADERS, 'content-encoding': coding }, body },
        { base64: true },
      ),
    );
  for (const coding of ['x-unknown', 'zstd', 'gzip, gzip', 'identity, gzip']) {
    const refused = await post(coding, gzipSync('[]'));
    expect({ coding, status: refused.statusCode }).toEqual({ coding, status: 415 });
    expect(json(refused)).toEqual({ error: 'ERR_UNSUPPORTED_ENCODING', message: expect.stringContaining(coding) });
  }
  for (const coding of ['gzip', 'deflate', 'br']) {
    const corrupt = await post(coding, Buffer.from('not compressed at all'));
    expect({ coding, status: corrupt.statusCode }).toEqual({ coding, status: 400 });
    expect(json(corrupt)).toMatchObject({ error: 'ERR_WEBHOOK_PARSE' });
  }
  const bomb = await post('gzip', gzipSync(Buffer.alloc(6 * 1024 * 1024, 0x20)));
  expect(bomb.statusCode).toBe(413);
  expect(json(bomb)).toMatchObject({ error: 'ERR_PAYLOAD_TOO_LARGE' });
  expect(await queued(h.queue)).toEqual([]);
});

test('header names are lower-cased and payload-2.0 cookies are restored as a Cookie header', () => {
  const h = harness();
  const event = structuredClone(API_GATEWAY);
  event.headers = { 'X-Twilio-Signature': 'abc', 'Content-Type': 'text/plain' };
  event.rawPath = '/webhooks/twilio';
  event.rawQueryString = '';
  const req = requestFromEvent(event, 'twilio', Buffer.from('x'), h.pipeline);
  expect(req.headers).toEqual({
    'x-twilio-signature': 'abc',
    'content-type': 'text/plain',
    cookie: 'cookie1; cookie2',
  });
  expect(req.url).toBe('https://id.execute-api.us-east-1.amazonaws.com/webhooks/twilio');
  expect(req.method).toBe('POST');
  expect(req.receivedAt.getTime()).toBe(1583348638390); // the gateway's receipt time
});

test('the SNS subscription handshake (JSON sent as text/plain) is confirmed through the Lambda shim', async () => {
  const credentials = ses.testing.createCredentials();
  const doc = { ...testConfigDocument({ creds }), queue: { driver: 'memory' } };
  const config = buildConfig(
    { ...doc, sources: { ses: { feature: 'registration_email', experienceId: 'exp_test', ...credentials.options } } },
    {},
    null,
    [ses],
  );
  const fetched: string[] = [];
  // The confirmation GET goes to AWS; the adapter's fetcher seam records it instead.
  (config.sources.get('ses')!.settings as SnsSettings).fetcher = async (url: string) => {
    fetched.push(url);
    return { status: 200, body: '' };
  };
  const queue = createQueue({ ...config.queue, dedupeWindowMs: config.dedupe.windowMs });
  open.push(queue);
  const logger = silentLogger();
  const handle = createHttpHandler({
    pipeline: new Pipeline({ config, queue, logger, metrics: createMetrics({ defaultMetrics: false }) }),
    logger,
  });
  const fixture = loadFixtures('ses').find((f) => f.name === 'sns-subscription-confirmation')!;
  const url = `https://${API_HOST}/webhooks/ses`;
  const signed = ses.testing.sign(
    { method: 'POST', url, headers: fixture.request.headers, body: fixture.request.body },
    credentials.signer,
    new Date(),
  );
  expect(signed.headers['content-type']).toMatch(/^text\/plain/);
  const result = await handle(toEvent(API_GATEWAY, signed));
  expect(result.statusCode).toBe(200);
  expect(json(result)).toMatchObject({ ok: true, confirmed: 'arn:aws:sns:us-west-2:123456789012:MyTopic' });
  expect(fetched).toEqual([
    expect.stringMatching(/^https:\/\/sns\.us-west-2\.amazonaws\.com\/\?Action=ConfirmSubscription&/),
  ]);
});

describe('the entry point (module-scope init, SQS)', () => {
  let admin: SQSClient;
  const saved = { ...process.env };
  let dir: string;

  beforeAll(() => {
    admin = sqsClient();
    dir = tempDir('dwa-lambda-http-');
  });

  afterAll(() => {
    admin.destroy();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** The Lambda environment for a configuration with every test source and the queue pair's URLs. */
  async function lambdaEnvironment(onlySources?: string[]): Promise<{ env: NodeJS.ProcessEnv; queueUrl: string }> {
    const sqs = await createQueuePair(admin);
    const full = testConfigDocument({ creds });
    const all = full.sources as Record<string, unknown>;
    const doc = onlySources ? { ...full, sources: Object.fromEntries(onlySources.map((id) => [id, all[id]])) } : full;
    const file = join(dir, 'distinct.config.lambda.json');
    // The endpoint stays in the file (tests must never reach AWS); the stack's variables add the queues.
    writeFileSync(
      file,
      JSON.stringify({
        ...doc,
        queue: {
          driver: 'sqs',
          sqs: {
            queueUrl: 'https://placeholder.invalid/q',
            deadLetterQueueUrl: 'https://placeholder.invalid/d',
            endpoint: sqsEndpoint(),
            region: 'us-east-1',
          },
        },
      }),
    );
    const env = {
      ...saved,
      LAMBDA_TASK_ROOT: dir,
      DISTINCT_ADAPTER_CONFIG: 'distinct.config.lambda.json',
      DISTINCT_SQS_QUEUE_URL: sqs.queueUrl,
      DISTINCT_SQS_DLQ_URL: sqs.deadLetterQueueUrl,
    };
    return { env, queueUrl: sqs.queueUrl };
  }

  test('handler: a base64 Twilio callback from API Gateway lands on the SQS queue', async () => {
    const { env, queueUrl } = await lambdaEnvironment();
    process.env = env;
    let entry!: typeof import('../../src/runtime/lambda-http');
    jest.isolateModules(() => {
      entry = require('../../src/runtime/lambda-http') as typeof import('../../src/runtime/lambda-http');
    });
    try {
      expect(entry.runtime.queue.driver).toBe('sqs');
      const signed = signedSample('twilio', creds, `https://${API_HOST}/webhooks/twilio`);
      const result = await entry.handler(toEvent(API_GATEWAY, signed, { base64: true }));
      expect(result).toMatchObject({ statusCode: 200, body: '<Response/>' });
      const messages = await peek(admin, queueUrl);
      expect(messages).toHaveLength(1);
      const body = JSON.parse(messages[0]!.Body!) as QueueMessage;
      expect(body).toMatchObject({
        source: 'twilio',
        type: 'sms.delivered',
        event: { phone: '+15017250604', feature: 'registration_sms' },
      });
    } finally {
      await entry?.runtime.queue.close();
      process.env = saved;
    }
  });

  test("with the stack's key table (DISTINCT_DEDUPE_TABLE): a re-send to another execution environment is not queued twice, and the DynamoDB SDK is not loaded", async () => {
    const dyn = await startDynalite();
    try {
      const table = await dyn.createTable();
      const { env, queueUrl } = await lambdaEnvironment(['sendgrid', 'twilio', 'mailgun']);
      const file = join(dir, 'distinct.config.lambda.json');
      const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      // The endpoint stays in the file (tests must never reach AWS); the stack's variable names the table.
      writeFileSync(
        file,
        JSON.stringify({
          ...doc,
          dedupe: { store: { driver: 'dynamodb', table: 'from-the-file', endpoint: dyn.endpoint } },
        }),
      );
      const storeEnv = { ...env, DISTINCT_DEDUPE_TABLE: table };
      const signed = signedSample('sendgrid', creds, `https://${API_HOST}/webhooks/sendgrid`, {
        recipient: 'dedupe@example.com',
      });
      const environments: Array<typeof import('../../src/runtime/lambda-http')> = [];
      process.env = storeEnv;
      for (let i = 0; i < 2; i += 1) {
        jest.isolateModules(() => {
          environments.push(require('../../src/runtime/lambda-http') as typeof import('../../src/runtime/lambda-http'));
        });
      }
      try {
        const first = await environments[0]!.handler(toEvent(API_GATEWAY, signed));
        expect(first.statusCode).toBe(200);
        expect(json(first)).toMatchObject({ queued: 1, duplicates: 0 });
        // No forwarder runs here, so the key is still a live claim: the other environment answers
        // 503 (the provider retries later), it does not queue the event a second time.
        const second = await environments[1]!.handler(toEvent(API_GATEWAY, signed));
        expect(second.statusCode).toBe(503);
        expect(json(second)).toMatchObject({ error: 'ERR_DEDUPE_IN_PROGRESS' });
        expect(await peek(admin, queueUrl)).toHaveLength(1);
      } finally {
        for (const e of environments) await e.runtime.queue.close();
        process.env = saved;
      }

      const compiled = join(ROOT, 'dist', 'src', 'runtime', 'lambda-http.js');
      const script = `require(${JSON.stringify(compiled)}); setTimeout(() => process.stdout.write(JSON.stringify(Object.keys(require.cache))), 200).unref(); setTimeout(() => process.exit(0), 300)`;
      const modules = JSON.parse(
        execFileSync(process.execPath, ['-e', script], { env: storeEnv, encoding: 'utf8' }),
      ) as string[];
      expect(modules.some((m) => m.includes(`dedupe${sep}key-store`))).toBe(true); // the store is in use
      expect(modules.some((m) => m.includes(`@aws-sdk${sep}client-dynamodb`))).toBe(false);
    } finally {
      await dyn.close();
    }
  });

  test('the compiled module graph holds no better-sqlite3, express or twilio', async () => {
    const compiled = join(ROOT, 'dist', 'src', 'runtime', 'lambda-http.js');
    if (!existsSync(compiled))
      throw new Error(`${compiled} is missing: run \`npm run build\` (npm test does it first)`);
    // Sources every build has: dist/ may predate adapters added to the sources since.
    const { env } = await lambdaEnvironment(['sendgrid', 'twilio', 'mailgun']);
    const script = `require(${JSON.stringify(compiled)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)))`;
    const modules = JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' })) as string[];
    const packages = new Set(
      modules
        .map((m) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(m)?.[1])
        .filter((p): p is string => p !== undefined),
    );
    expect(packages.has('@aws-sdk/client-sqs')).toBe(true); // the graph is the real one
    for (const forbidden of ['better-sqlite3', 'express', 'twilio', 'body-parser']) {
      expect({ forbidden, loaded: packages.has(forbidden) }).toEqual({ forbidden, loaded: false });
    }
  });
});
