/**
 * The real express app over a real outbox: in process (supertest) or listening on loopback (no
 * forwarder); and the harness of the suites that start the whole service against the sandbox.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { request as undiciRequest } from 'undici';
import type { AnyAdapter, UnsignedRequest } from '../../src/core/adapter';
import { createMetrics } from '../../src/observability/metrics';
import { silentLogger, type Logger } from '../../src/observability/logger';
import { Pipeline } from '../../src/pipeline/pipeline';
import { createQueue } from '../../src/queue/create-queue';
import type { Queue } from '../../src/queue/queue';
import { createApp } from '../../src/runtime/express-app';
import type { Service } from '../../src/runtime/service';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox-server';
import { createTestCredentials, tempDir, type TestCredentials } from './app';
import { buildConfig, type AppConfig } from './config';

/** The SQLite outbox a serving process opens for `config` (synchronous: full). */
export function sqliteOutbox(config: AppConfig): Queue {
  return createQueue({
    driver: 'sqlite',
    path: config.queue.path,
    synchronous: 'full',
    dedupeWindowMs: config.dedupe.windowMs,
  });
}

/** A memory queue (nothing on disk) de-duplicating over `dedupeWindowMs`. */
export function memoryOutbox(dedupeWindowMs = 60_000): Queue {
  return createQueue({ driver: 'memory', path: '', synchronous: 'full', dedupeWindowMs });
}

/** The express app over `queue`: the real pipeline, a fresh metrics registry, silent logs unless `logger`. */
export function appOver(config: AppConfig, queue: Queue, logger: Logger = silentLogger()): Express {
  const metrics = createMetrics({ defaultMetrics: false });
  return createApp({ config, queue, metrics, logger, pipeline: new Pipeline({ config, queue, logger, metrics }) });
}

/** POSTs a (signed) request to an in-process app by supertest, at its own path and query unless `path`. */
export function postTo(app: Express, req: UnsignedRequest, path?: string): request.Test {
  const url = new URL(req.url);
  let r = request(app).post(path ?? url.pathname + url.search);
  for (const [k, v] of Object.entries(req.headers)) r = r.set(k, v);
  // A string, not a Buffer: superagent would JSON-encode a Buffer sent as application/json.
  return r.send(req.body.toString('utf8'));
}

/** POSTs a signed request to its own URL over real HTTP; resolves with the status (the body is read and dropped). */
export async function postSigned(req: UnsignedRequest): Promise<number> {
  const res = await undiciRequest(req.url, { method: 'POST', headers: req.headers, body: req.body });
  await res.body.text();
  return res.statusCode;
}

export interface LoopbackApp {
  queue: Queue;
  server: Server;
  /** `http://127.0.0.1:<port>` */
  origin: string;
}

export async function serveOnLoopback(config: AppConfig): Promise<LoopbackApp> {
  const queue = sqliteOutbox(config);
  const app = appOver(config, queue);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { queue, server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * The app for the enclosing describe block: `config()` served on loopback in beforeAll, closed in
 * afterAll. The fields of the returned object are set once beforeAll has run.
 */
export function useLoopbackApp(config: () => AppConfig): LoopbackApp {
  const app = {} as LoopbackApp;
  beforeAll(async () => {
    Object.assign(app, await serveOnLoopback(config()));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => app.server.close(() => resolve()));
    await app.queue.close();
  });
  return app;
}

/**
 * The configuration of an app with only `sources`, for `adapter` alone: a Distinct nothing answers
 * on (no forwarder runs here), a fresh SQLite outbox and silent logs. `server` adds to 127.0.0.1
 * port 0 (a publicUrl); `env` is what `${VAR}` references read.
 */
export function loopbackConfig(
  adapter: AnyAdapter,
  sources: Record<string, unknown>,
  { server = {}, env = {} }: { server?: Record<string, unknown>; env?: NodeJS.ProcessEnv } = {},
): AppConfig {
  return buildConfig(loopbackDocument(sources, server), env, null, [adapter]);
}

/** The document behind loopbackConfig, for tests that build it themselves (e.g. to see it refused). */
export function loopbackDocument(
  sources: Record<string, unknown>,
  server: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    distinct: { apiKey: 'test', baseUrl: 'http://127.0.0.1:9' },
    server: { port: 0, host: '127.0.0.1', ...server },
    queue: { driver: 'sqlite', path: join(tempDir(), 'outbox.db') },
    log: { level: 'silent' },
    sources,
  };
}

/**
 * The service suites' shared set-up (jest hooks registered by the caller's file): before each test
 * a sandbox as Distinct accepting `apiKey` and fresh credentials for every adapter; after it, the
 * service the test put in `service` is closed, then the sandbox.
 */
export interface ServiceHarness {
  sandbox: Sandbox;
  distinctUrl: string;
  creds: TestCredentials;
  service?: Service;
}

export function useServiceHarness(apiKey: string): ServiceHarness {
  const h = {} as ServiceHarness;
  beforeEach(async () => {
    h.sandbox = createSandbox({ apiKey });
    h.distinctUrl = (await h.sandbox.listen(0, '127.0.0.1')).url;
    h.creds = createTestCredentials();
  });
  afterEach(async () => {
    await h.service?.close();
    h.service = undefined;
    await h.sandbox.close();
  });
  return h;
}
