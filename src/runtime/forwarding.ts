/**
 * Composition: the Distinct client and the forwarder built from the whole configuration, for the
 * runtimes (`serve`, `forward`, the SQS Lambda). The forwarder and the client themselves take
 * only their own settings.
 */
import type { AppConfig } from '../config/load';
import { DistinctClient, type DistinctSender } from '../forwarder/distinct-client';
import { type DeliveryObserver, Forwarder } from '../forwarder/forwarder';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Queue } from '../queue/queue';

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
