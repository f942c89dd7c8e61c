/**
 * The answers of `/readyz` and `/metrics` (`/status`: status.ts), shared by the express app (`serve`) and the forwarder's
 * plain node:http health server (`forward`), so both report readiness and queue gauges alike.
 */
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Queue } from '../queue/queue';

export interface ReadinessInputs {
  queue: Queue;
  /**
   * False while Distinct rejects our credentials (forwarder circuit open). Reported, never a
   * reason to fail: the receiver can still queue everything (DESIGN §5).
   */
  distinctCredentials: boolean;
  /** True during graceful shutdown, so load balancers stop sending. */
  shuttingDown: boolean;
}

/**
 * `/readyz`: 200 while the queue takes writes and we are not stopping; else 503. Whatever Distinct
 * answers: a load balancer must never cut off ingestion over a Distinct problem (the forwarder's
 * state is in `/status` and the `distinct_adapter_circuit_open` gauge).
 */
export async function readiness(inputs: ReadinessInputs): Promise<{ status: number; body: Record<string, unknown> }> {
  const queueWritable = await inputs.queue.isWritable().catch(() => false);
  const { distinctCredentials, shuttingDown } = inputs;
  const ready = queueWritable && !shuttingDown;
  return {
    status: ready ? 200 : 503,
    body: {
      status: ready ? 'ready' : 'not_ready',
      queueWritable,
      shuttingDown,
      distinctCredentials,
      circuit: distinctCredentials ? 'closed' : 'open',
    },
  };
}

/** `/metrics`: refreshes the queue gauges (a failed read is logged, not fatal) and renders the registry. */
export async function metricsText(queue: Queue, metrics: Metrics, logger: Logger): Promise<string> {
  try {
    const stats = await queue.stats();
    metrics.queueDepth.set(stats.depth);
    metrics.queueOldestAge.set(stats.oldestAgeMs / 1000);
    metrics.deadLetters.set(stats.deadLettered);
  } catch (err) {
    logger.warn({ err }, 'could not read queue stats for /metrics');
  }
  return metrics.registry.metrics();
}
