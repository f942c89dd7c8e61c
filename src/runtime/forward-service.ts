/**
 * A forward-only process (`distinct-adapter forward`): the forwarder over a shared queue (SQS)
 * plus `/healthz`, `/readyz`, `/metrics` and `/status` on a small HTTP server, and no webhook routes.
 * Receivers run `serve --no-forward` against the same queue (docs/scaling.md, docker-compose.yml).
 *
 * Plain node:http rather than express: three fixed routes, nothing to parse. Graceful shutdown
 * on close(): readiness fails, claiming stops, requests in flight to Distinct finish and settle.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/load';
import type { Forwarder } from '../forwarder/forwarder';
import type { Logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import type { Queue } from '../queue/queue';
import { Activity } from '../observability/activity';
import { metricsText, readiness } from './health';
import { liveStatus } from './status';
import { distinctClientFor, forwarderFor, openQueue } from './forwarding';

export interface ForwardService {
  readonly server: Server;
  readonly queue: Queue;
  readonly forwarder: Forwarder;
  readonly metrics: Metrics;
  /** `http://host:port` of the health/metrics server. */
  readonly url: string;
  /** Graceful stop; resolves when everything in flight is settled and closed. */
  close(): Promise<void>;
}

export interface ForwardServiceOptions {
  logger: Logger;
  /** Port of the health/metrics server (default config.server.port; tests use 0). */
  port?: number;
  host?: string;
}

/** Starts the forwarder and its health/metrics server. */
export async function startForwardService(config: AppConfig, options: ForwardServiceOptions): Promise<ForwardService> {
  const { logger } = options;
  const metrics = createMetrics();
  const queue = await openQueue(config, logger, metrics);
  const client = distinctClientFor(config);
  const activity = new Activity([]);
  const forwarder = forwarderFor(config, queue, client, logger, metrics, activity.delivery);

  let shuttingDown = false;
  const routes: Record<string, () => Promise<{ status: number; type: string; body: string }>> = {
    '/healthz': async () => json(200, { status: 'ok' }),
    '/readyz': async () => {
      const { status, body } = await readiness({
        queue,
        distinctCredentials: !forwarder.isCircuitOpen(),
        shuttingDown,
      });
      return json(status, body);
    },
    '/metrics': async () => ({
      status: 200,
      type: metrics.registry.contentType,
      body: await metricsText(queue, metrics, logger),
    }),
    '/status': async () =>
      json(200, await liveStatus({ queue, activity, forwarder, role: 'forward', shuttingDown: () => shuttingDown })),
  };

  /** Answers one health-server request; never rejects (a failure is a 500, or a closed socket). */
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = req.method === 'GET' || req.method === 'HEAD' ? routes[path] : undefined;
    let r: { status: number; type: string; body: string };
    try {
      r = route
        ? await route()
        : json(404, {
            error: 'ERR_NOT_FOUND',
            message: 'a forwarder serves only /healthz, /readyz, /metrics and /status',
          });
    } catch (err) {
      logger.error({ err }, 'unexpected error in the health server');
      r = json(500, { error: 'ERR_INTERNAL', message: 'internal error' });
    }
    try {
      res.writeHead(r.status, { 'content-type': r.type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : r.body);
    } catch (err) {
      logger.error({ err }, 'could not write a health-server answer');
      res.destroy();
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => void answer(req, res));
  const port = options.port ?? config.server.port;
  const host = options.host ?? config.server.host;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  forwarder.start();
  logger.info(
    { url, queue: config.queue.driver, distinct: config.distinct.baseUrl },
    'distinct-webhook-adapter forwarder running',
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      shuttingDown = true;
      logger.info('shutting down: finishing deliveries in flight');
      // A long-polling driver (SQS) would otherwise hold stop() for up to a whole receive wait.
      queue.stopClaiming?.();
      await forwarder.stop();
      await client.close();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
      });
      await queue.close();
      logger.info('shutdown complete');
    })());

  return { server, queue, forwarder, metrics, url, close };
}

function json(status: number, body: unknown): { status: number; type: string; body: string } {
  return { status, type: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}
