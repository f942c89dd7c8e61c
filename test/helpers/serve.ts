/** The real express app over a real SQLite outbox, listening on loopback (no forwarder). */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../../src/config/load';
import { createMetrics } from '../../src/observability/metrics';
import { silentLogger } from '../../src/observability/logger';
import { Pipeline } from '../../src/pipeline/pipeline';
import { createQueue } from '../../src/queue/create-queue';
import type { Queue } from '../../src/queue/queue';
import { createApp } from '../../src/runtime/express-app';

export interface LoopbackApp {
  queue: Queue;
  server: Server;
  /** `http://127.0.0.1:<port>` */
  origin: string;
}

export async function serveOnLoopback(config: AppConfig): Promise<LoopbackApp> {
  const queue = createQueue({
    driver: 'sqlite',
    path: config.queue.path,
    synchronous: 'full',
    dedupeWindowMs: config.dedupe.windowMs,
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const logger = silentLogger();
  const app = createApp({ config, queue, metrics, logger, pipeline: new Pipeline({ config, queue, logger, metrics }) });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { queue, server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
