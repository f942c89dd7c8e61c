/**
 * The AWS Lambda HTTP entry point (`handler: dist/src/runtime/lambda-http.handler`): API Gateway
 * HTTP API and Lambda function URLs in front of the same {@link Pipeline} `serve` runs,
 * enqueueing to SQS (the shim is src/runtime/lambda-http-handler.ts).
 *
 * Everything is initialised here, at module scope, during Lambda's init phase: configuration
 * (src/runtime/lambda-config.ts), logger, pipeline and SQS client, reused by every invocation of
 * the execution environment. A configuration error throws at import, so Lambda reports an init
 * error naming every problem and API Gateway answers 5xx: providers keep retrying until it is
 * fixed, nothing is acknowledged meanwhile.
 *
 * Cold start: importing this module must stay under 150 ms (bench/lambda-cold-start.js), so its
 * graph holds no express, no better-sqlite3 and no `twilio` (asserted by
 * test/integration/lambda-http.test.ts).
 */
import { DedupedQueue, NO_SHARED_STORE_WARNING, withSharedStore } from '../dedupe/deduped-queue';
import { createLogger } from '../observability/logger';
import { Pipeline, type PipelineMetrics } from '../pipeline/pipeline';
import { createQueue } from '../queue/create-queue';
import type { Queue } from '../queue/queue';
import { createHttpHandler, type HttpEvent, type HttpHandlerDeps, type HttpResult } from './lambda-http-handler';
import { loadLambdaConfig } from './lambda-config';

export type { HttpEvent, HttpResult };

/** What module-scope initialisation builds (exported for tests and the cold-start benchmark). */
export interface HttpRuntime extends HttpHandlerDeps {
  queue: Queue;
}

/**
 * Nothing scrapes Prometheus on Lambda, so prom-client (≈ 25 ms of import) stays out: the
 * pipeline's one log line per request (source, status, received/queued/ignored/dead-lettered
 * counts) is the metric there, for CloudWatch metric filters and Logs Insights.
 */
const LOG_LINE_METRICS: PipelineMetrics = { requests: { inc: () => undefined }, events: { inc: () => undefined } };

/** Module-scope initialisation, run once per execution environment (during Lambda's init phase). */
function init(): HttpRuntime {
  // Throws ConfigurationError listing every problem: Lambda reports it as an init error, and API
  // Gateway answers 5xx, so providers keep retrying until the configuration is fixed.
  const config = loadLambdaConfig();
  const logger = createLogger({ level: config.log.level, redactPii: config.log.redactPii });
  const metrics = LOG_LINE_METRICS;
  const queue = withSharedStore(createQueue({ ...config.queue, dedupeWindowMs: config.dedupe.windowMs }), {
    store: config.dedupe.store,
    windowMs: config.dedupe.windowMs,
    logger,
  });
  if (queue instanceof DedupedQueue) {
    // Checked during the init phase, not awaited (a module cannot await here): a missing table is
    // logged now and answered 503 (ERR_STORE_UNAVAILABLE, naming the table) until it exists.
    queue
      .start()
      .catch((err: unknown) => logger.error({ err, table: queue.store.table }, 'shared key store check failed'));
  } else {
    logger.warn(NO_SHARED_STORE_WARNING);
  }
  const pipeline = new Pipeline({ config, queue, logger, metrics });
  logger.info({ queue: queue.driver, sources: [...config.sources.keys()] }, 'lambda http handler initialised');
  return { pipeline, logger, queue };
}

/** The execution environment's pipeline, logger and queue. */
export const runtime: HttpRuntime = init();

/** The Lambda entry point (`handler: dist/src/runtime/lambda-http.handler`). */
export const handler: (event: HttpEvent) => Promise<HttpResult> = createHttpHandler(runtime);
