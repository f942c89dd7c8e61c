/**
 * The express runtime: a thin shim that turns an express request into a {@link WebhookRequest}
 * and writes the pipeline's {@link WebhookResponse}. Webhook routes read the raw bytes
 * ({@link rawBody}, `express.raw` semantics for every content type) because every signature
 * scheme needs them.
 */
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import type { AppConfig } from '../config/load';
import { PayloadTooLargeError, UnsupportedEncodingError, WebhookParseError } from '../core/errors';
import type { WebhookRequest, WebhookResponse } from '../core/request';
import type { Metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import type { Pipeline } from '../pipeline/pipeline';
import type { Queue } from '../queue/queue';
import { metricsText, readiness } from './health';
import { rawBody } from './raw-body';
import type { StatusDocument } from '../observability/status-document';

export interface AppDeps {
  config: AppConfig;
  pipeline: Pipeline;
  queue: Queue;
  metrics: Metrics;
  logger: Logger;
  /** Readiness of the forwarder (circuit closed); absent when this process does not forward. */
  forwarderReady?: () => boolean;
  /** Set during graceful shutdown: readiness fails so load balancers stop sending. */
  isShuttingDown?: () => boolean;
  /** `GET /status` (status.ts); absent: no such route. */
  status?: () => Promise<StatusDocument>;
  /** The operator console (src/console), mounted at `/console` when enabled. */
  console?: Router;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.server.trustProxy);

  // First: the route every provider request takes, so it is matched before the others.
  app.all('/webhooks/:source', rawBody(deps.config.server.bodyLimit), async (req: Request, res: Response) => {
    const sourceId = String(req.params.source);
    const webhookRequest = toWebhookRequest(req, sourceId, deps.pipeline);
    writeResponse(req, res, await deps.pipeline.handle(sourceId, webhookRequest));
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const { status, body } = await readiness({
      queue: deps.queue,
      distinctCredentials: deps.forwarderReady ? deps.forwarderReady() : true,
      shuttingDown: deps.isShuttingDown?.() ?? false,
    });
    res.status(status).json(body);
  });

  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await metricsText(deps.queue, deps.metrics, deps.logger));
  });

  const status = deps.status;
  if (status) {
    app.get('/status', async (_req, res) => {
      res.set('cache-control', 'no-store').json(await status());
    });
  }

  // Operator routes: after every provider and probe route, never on the webhook path.
  if (deps.console) app.use('/console', deps.console);

  app.use((_req, res) => {
    res.status(404).json({ error: 'ERR_NOT_FOUND', message: 'no such route; providers post to /webhooks/<source>' });
  });

  // Body-parser failures (over the limit, aborted upload) and anything unexpected: short JSON, no stack.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    // Only a configured source names a metric label or a log field: anything else is caller input.
    const param = req.params?.source;
    const source = typeof param !== 'string' ? '(none)' : deps.pipeline.source(param) ? param : '(unknown)';
    let status: number;
    let body: { error: string; message: string };
    if (e.type === 'entity.too.large') {
      const error = new PayloadTooLargeError(String(deps.config.server.bodyLimit) + ' bytes');
      status = 413;
      body = error.toResponseBody();
    } else if (e.type === 'encoding.unsupported' || e.status === 415) {
      status = 415;
      body = new UnsupportedEncodingError(String(req.headers['content-encoding'] ?? '')).toResponseBody();
    } else if (e.status === 400 || e.type === 'request.aborted') {
      status = 400;
      body = new WebhookParseError('request body could not be read').toResponseBody();
    } else {
      deps.logger.error({ err }, 'unexpected error in the HTTP layer');
      status = 500;
      body = { error: 'ERR_INTERNAL', message: 'internal error' };
    }
    deps.metrics.requests.inc({ source, status: String(status) });
    deps.logger.warn({ source, status }, body.message);
    res.status(status).json(body);
  });

  return app;
}

/** Builds the runtime-agnostic request. The URL is the source's public URL when configured. */
export function toWebhookRequest(req: Request, sourceId: string, pipeline: Pipeline): WebhookRequest {
  const original = req.originalUrl;
  const q = original.indexOf('?');
  const query = q === -1 ? '' : original.slice(q + 1);
  // req.protocol / req.host honour X-Forwarded-* only when server.trustProxy is set; only read
  // when the source has no public URL.
  const fallbackUrl = (): string => `${req.protocol}://${req.host}${original}`;
  const incoming = req.headers;
  const headers: Record<string, string> = {};
  for (const name of Object.keys(incoming)) {
    const value = incoming[name];
    if (value === undefined) continue;
    headers[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return pipeline.request(sourceId, {
    method: req.method,
    url: fallbackUrl,
    query,
    headers,
    rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    receivedAt: new Date(),
  });
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const CHARSET = /;\s*charset\s*=/i;

/**
 * Writes the pipeline's response with the status, headers and body `res.send`/`res.json` would
 * write (string bodies get `charset=utf-8`; untyped strings are text/html, objects JSON), without
 * express's per-response work (no ETag: nothing caches a webhook answer). GET/HEAD (freshness,
 * no body), 204/205/304 and a content type that names its own charset keep express's own path.
 */
function writeResponse(req: Request, res: Response, response: WebhookResponse): void {
  const { status, body, headers } = response;
  let type = headers?.['content-type'];
  if (
    req.method === 'GET' ||
    req.method === 'HEAD' ||
    status === 204 ||
    status === 205 ||
    status === 304 ||
    (body !== undefined && type !== undefined && CHARSET.test(type)) ||
    (headers !== undefined && hasMixedCaseContentType(headers))
  ) {
    writeWithExpress(res, response);
    return;
  }
  if (headers !== undefined)
    for (const name in headers) if (name !== 'content-type') res.setHeader(name, headers[name]!);
  if (body === undefined) {
    res.statusCode = status;
    if (type !== undefined) res.setHeader('content-type', type);
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  type = type === undefined ? (typeof body === 'string' ? HTML_TYPE : JSON_TYPE) : `${type}; charset=utf-8`;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A content type named other than `content-type` (express's path handles any spelling). */
function hasMixedCaseContentType(headers: Record<string, string>): boolean {
  for (const name in headers) if (name !== 'content-type' && name.toLowerCase() === 'content-type') return true;
  return false;
}

function writeWithExpress(res: Response, response: WebhookResponse): void {
  res.status(response.status);
  for (const [k, v] of Object.entries(response.headers ?? {})) res.setHeader(k, v);
  if (response.body === undefined) res.end();
  else if (typeof response.body === 'string') res.send(response.body);
  else res.json(response.body);
}
