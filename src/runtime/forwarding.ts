/**
 * Composition: the queue (behind the shared key store when configured), the Distinct client and
 * the forwarder built from the whole configuration, for the runtimes (`serve`, `forward`, the SQS
 * Lambda). The queue, the forwarder and the client themselves take only their own settings.
 */
import type { AppConfig } from '../config/load';
import { prepareSharedStore, withSharedStore } from '../dedupe/deduped-queue';
import { DistinctClient, type DistinctSender } from '../forwarder/distinct-client';
import { Forwarder } from '../forwarder/forwarder';
import type { DeliveryObserver } from '../observability/observers';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { createQueue } from '../queue/create-queue';
import type { Queue } from '../queue/queue';

/**
 * The long-running services' queue (`serve`, `forward`): the configured driver, behind the shared
 * key store with `dedupe.store`, its table checked (a missing table throws and closes the queue).
 */
export async function openQueue(config: AppConfig, logger: Logger, metrics: Metrics): Promise<Queue> {
  const queue = withSharedStore(createQueue({ ...config.queue, dedupeWindowMs: config.dedupe.windowMs }), {
    store: config.dedupe.store,
    windowMs: config.dedupe.windowMs,
    logger,
    metrics,
  });
  try {
    await prepareSharedStore(queue, config, logger);
  } catch (err) {
    await queue.close();
    throw err;
  }
  return queue;
}

/** A keep-alive client for `config.distinct` (`serve`, `forward`, the SQS Lambda). */
export function distinctClientFor(config: AppConfig): DistinctClient {
  const { baseUrl, apiKey, timeoutMs, concurrency } = config.distinct;
  return new DistinctClient({ baseUrl, apiKey, timeoutMs, concurrency });
}

/** A forwarder with the configured retry policy, circuit, concurrency and rate (`serve`, `forward`). */
export function forwarderFor(
  config: AppConfig,
  queue: Queue,
  client: DistinctSender,
  logger: Logger,
  metrics: Metrics,
  observer?: DeliveryObserver,
): Forwarder {
  return new Forwarder({
    queue,
    client,
    retry: config.retry,
    circuit: config.circuit,
    concurrency: config.distinct.concurrency,
    ratePerSecond: config.distinct.ratePerSecond,
    logger,
    metrics,
    // SQS leases expire while buffered; so do the shared store's delivery claims (dedupe.store).
    claimAhead: config.queue.driver === 'sqs' || config.dedupe.store !== undefined ? 0 : undefined,
    observer,
  });
}
