/**
 * Prometheus metrics (DESIGN §8), one registry per app instance so tests and benchmarks can run
 * several apps in one process.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** Webhook requests by source and HTTP status. */
  readonly requests: Counter<'source' | 'status'>;
  /** Events by source, normalized type and outcome (queued, duplicate, ignored, dead_lettered, forwarded). */
  readonly events: Counter<'source' | 'type' | 'outcome' | 'reason'>;
  /** POSTs to Distinct by result (ok, user_not_found, invalid_pair, invalid_experience, unauthorized, transient, unexpected). */
  readonly forwardAttempts: Counter<'result'>;
  readonly forwardLatency: Histogram<'result'>;
  readonly queueDepth: Gauge;
  readonly queueOldestAge: Gauge;
  readonly deadLetters: Gauge;
  /** 1 while the circuit is open (Distinct answered 401/403). */
  readonly circuitOpen: Gauge;
  /** Shared key store (dedupe.store) decisions: stage ingest|forward, result claimed|duplicate|busy|error. */
  readonly dedupeClaims: Counter<'stage' | 'result'>;
  /** Shared key store calls that failed (not conditional-check answers), by operation. */
  readonly dedupeStoreErrors: Counter<'op'>;
  /** Latency of shared key store calls, by operation. */
  readonly dedupeStoreLatency: Histogram<'op'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'distinct_adapter_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'distinct_adapter_webhook_requests_total',
      help: 'Webhook requests by source and HTTP status.',
      labelNames: ['source', 'status'],
      registers,
    }),
    events: new Counter({
      name: 'distinct_adapter_events_total',
      help: 'Provider events by source, normalized type and outcome (queued, duplicate, ignored, dead_lettered, forwarded).',
      labelNames: ['source', 'type', 'outcome', 'reason'],
      registers,
    }),
    forwardAttempts: new Counter({
      name: 'distinct_adapter_forward_attempts_total',
      help: 'POSTs to Distinct by result.',
      labelNames: ['result'],
      registers,
    }),
    forwardLatency: new Histogram({
      name: 'distinct_adapter_forward_duration_seconds',
      help: 'Latency of POSTs to Distinct.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({ name: 'distinct_adapter_queue_depth', help: 'Events waiting or in flight.', registers }),
    queueOldestAge: new Gauge({
      name: 'distinct_adapter_queue_oldest_age_seconds',
      help: 'Age of the oldest waiting event.',
      registers,
    }),
    deadLetters: new Gauge({
      name: 'distinct_adapter_dead_letters',
      help: 'Events in the dead-letter queue.',
      registers,
    }),
    circuitOpen: new Gauge({
      name: 'distinct_adapter_circuit_open',
      help: '1 while forwarding is paused because Distinct answered 401/403.',
      registers,
    }),
    dedupeClaims: new Counter({
      name: 'distinct_adapter_dedupe_claims_total',
      help: 'Shared key store decisions per event: stage (ingest, forward) and result (claimed, duplicate, busy, error).',
      labelNames: ['stage', 'result'],
      registers,
    }),
    dedupeStoreErrors: new Counter({
      name: 'distinct_adapter_dedupe_store_errors_total',
      help: 'Shared key store calls that failed or timed out, by operation.',
      labelNames: ['op'],
      registers,
    }),
    dedupeStoreLatency: new Histogram({
      name: 'distinct_adapter_dedupe_store_duration_seconds',
      help: 'Latency of shared key store calls, by operation.',
      labelNames: ['op'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}
