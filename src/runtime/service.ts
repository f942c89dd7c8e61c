/**
 * Composes the long-running service (`distinct-adapter serve`): HTTP server + forwarder over one
 * queue. Graceful shutdown on SIGTERM/SIGINT: readiness fails, the server stops accepting and
 * finishes in-flight requests, the forwarder finishes in-flight POSTs, the queue closes.
 * Nothing acknowledged is lost at any point (the queue is durable before any 2xx).
 */
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/load';
import type { DistinctClient } from '../forwarder/distinct-client';
import type { Forwarder } from '../forwarder/forwarder';
import type { Logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { Pipeline } from '../pipeline/pipeline';
import type { Queue } from '../queue/queue';
import { Activity } from '../observability/activity';
import { createConsole, type ConsoleAccess, type OperatorConsole } from '../console/console';
import { createApp } from './express-app';
import { distinctClientFor, forwarderFor, openQueue } from './forwarding';
import { liveStatus } from './status';

export interface Service {
  readonly server: Server;
  readonly queue: Queue;
  readonly forwarder: Forwarder | null;
  readonly metrics: Metrics;
  /** Per-source totals and recent deliveries (`/status`, the console). */
  readonly activity: Activity;
  /** `http://host:port` the server listens on. */
  readonly url: string;
  /** `<url>/console` when the operator console is on, else null. */
  readonly consoleUrl: string | null;
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
  /**
   * `serve --dev`: the console is on even when `console.enabled` is not, and without
   * `console.basicAuth` it answers loopback clients only.
   */
  dev?: boolean;
}

/** How the console is reached: from `console:` and `--dev`; null when it is off. */
export function consoleAccess(config: AppConfig, dev: boolean): ConsoleAccess | null {
  const { enabled, basicAuth } = config.console;
  if (basicAuth !== undefined && (enabled || dev)) return { basicAuth };
  if (dev) return { loopbackOnly: true };
  return null;
}

export async function startService(config: AppConfig, options: ServiceOptions): Promise<Service> {
  const { logger } = options;
  const metrics = createMetrics();
  const queue = await openQueue(config, logger, metrics);
  for (const source of config.sources.values()) {
    if (source.insecure) {
      logger.warn(
        { source: source.id, provider: source.provider },
        'source is marked insecure: requests to it are NOT authenticated',
      );
    }
  }

  const activity = new Activity(config.sources.keys());
  let forwarder: Forwarder | null = null;
  let client: DistinctClient | null = null;
  if (options.forward !== false) {
    client = distinctClientFor(config);
    forwarder = forwarderFor(config, queue, client, logger, metrics, activity.delivery);
  }

  let shuttingDown = false;
  const pipeline = new Pipeline({ config, queue, logger, metrics, activity });
  const status = () =>
    liveStatus({
      queue,
      activity,
      forwarder,
      role: forwarder ? 'serve' : 'serve --no-forward',
      shuttingDown: () => shuttingDown,
    });
  const access = consoleAccess(config, options.dev === true);
  const operatorConsole: OperatorConsole | null = access
    ? createConsole({
        queue,
        activity,
        status,
        access,
        logger: logger.child({ component: 'console' }),
        sources: [...config.sources.keys()],
      })
    : null;
  const app = createApp({
    config,
    pipeline,
    queue,
    metrics,
    logger,
    forwarderReady: forwarder ? () => !forwarder!.isCircuitOpen() : undefined,
    isShuttingDown: () => shuttingDown,
    status,
    console: operatorConsole?.router,
  });
  const server = createServer(serverOptions(config.server), app);
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
  const consoleUrl = operatorConsole ? `${url}/console` : null;
  if (access && !access.basicAuth && !isLoopbackHost(host)) {
    logger.warn({ host }, 'console without credentials (serve --dev): it answers loopback clients only');
  }
  logger.info(
    {
      url,
      queue: config.queue.driver,
      sources: [...config.sources.keys()],
      distinct: config.distinct.baseUrl,
      console: consoleUrl ?? undefined,
    },
    'distinct-webhook-adapter listening',
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      shuttingDown = true;
      logger.info('shutting down: no new requests; finishing in-flight work');
      operatorConsole?.close(); // live-update streams would hold server.close()
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

  return { server, queue, forwarder, metrics, activity, url, consoleUrl, close };
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * Bounded header and request times (issue #9: a body trickled at one byte a second held a socket
 * for Node's default 300 s; providers themselves give up after 10–30 s). Node answers 408 and
 * closes the connection; it checks at `connectionsCheckingInterval`, so that is kept a fraction of
 * the smaller bound (Node's default check, every 30 s, would stretch a 10 s bound to 40 s).
 * The header bound never exceeds the request bound (Node refuses that combination).
 */
export function serverOptions(
  server: Pick<AppConfig['server'], 'headersTimeoutMs' | 'requestTimeoutMs'>,
): ServerOptions {
  const requestTimeout = server.requestTimeoutMs;
  const headersTimeout = Math.min(server.headersTimeoutMs, requestTimeout);
  return {
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
}
