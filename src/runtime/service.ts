/**
 * Composes the long-running service (`distinct-adapter serve`): HTTP server + forwarder over one
 * queue. Graceful shutdown on SIGTERM/SIGINT: readiness fails, the server stops accepting and
 * finishes in-flight requests, the forwarder finishes in-flight POSTs, the queue closes.
 * Nothing acknowledged is lost at any point (the queue is durable before any 2xx).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/load';
import { type DistinctClient, distinctClientFor } from '../forwarder/distinct-client';
import { type Forwarder, forwarderFor } from '../forwarder/forwarder';
import type { Logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { Pipeline } from '../pipeline/pipeline';
import { prepareSharedStore } from '../dedupe/deduped-queue';
import { createQueue } from '../queue/create-queue';
import type { Queue } from '../queue/queue';
import { createApp } from './express-app';

export interface Service {
  readonly server: Server;
  readonly queue: Queue;
  readonly forwarder: Forwarder | null;
  readonly metrics: Metrics;
  /** `http://host:port` the server listens on. */
  readonly url: string;
  /** Graceful stop; resolves when everything is flushed and closed. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger: Logger;
  /** Run the forwarder in this process (default true). */
  forward?: boolean;
  /** Override config.server.port (tests use 0). */
  port?: number;
  host?: string;
}

export async function startService(config: AppConfig, options: ServiceOptions): Promise<Service> {
  const { logger } = options;
  const metrics = createMetrics();
  const queue = createQueue({ ...config.queue, dedupeWindowMs: config.dedupe.windowMs, store: config.dedupe.store, logger, metrics });
  try {
    await prepareSharedStore(queue, config, logger);
  } catch (err) {
    await queue.close();
    throw err;
  }
  for (const source of config.sources.values()) {
    if (source.insecure) {
      logger.warn({ source: source.id, provider: source.provider }, 'source is marked insecure: requests to it are NOT authenticated');
    }
  }

  let forwarder: Forwarder | null = null;
  let client: DistinctClient | null = null;
  if (options.forward !== false) {
    client = distinctClientFor(config);
    forwarder = forwarderFor(config, queue, client, logger, metrics);
  }

  let shuttingDown = false;
  const pipeline = new Pipeline({ config, queue, logger, metrics });
  const app = createApp({
    config,
    pipeline,
    queue,
    metrics,
    logger,
    forwarderReady: forwarder ? () => !forwarder!.isCircuitOpen() : undefined,
    isShuttingDown: () => shuttingDown,
  });
  const server = createServer(app);
  server.keepAliveTimeout = 65_000; // longer than common load-balancer idle timeouts
  const port = options.port ?? config.server.port;
  const host = options.host ?? config.server.host;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  forwarder?.start();
  logger.info(
    { url, queue: config.queue.driver, sources: [...config.sources.keys()], distinct: config.distinct.baseUrl },
    'distinct-webhook-adapter listening',
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      shuttingDown = true;
      logger.info('shutting down: no new requests; finishing in-flight work');
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
      });
      // A long-polling driver (SQS) would otherwise hold stop() for up to a whole receive wait.
      queue.stopClaiming?.();
      await forwarder?.stop();
      await client?.close();
      await queue.close();
      logger.info('shutdown complete');
    })());

  return { server, queue, forwarder, metrics, url, close };
}
