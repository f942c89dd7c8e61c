/**
 * Settling one delivery: Distinct's answer → the settlement of the DESIGN §6 policy
 * (settle-policy.ts) → its queue write (settle-writes.ts), the circuit, the counters, the log
 * line and the observer. The forwarder (forwarder.ts) schedules deliveries; this decides what
 * each one's answer means and records it.
 */
import type { Logger } from 'pino';
import type { ForwardOutcome } from '../core/distinct-api';
import type { DeadLetterReason } from '../core/distinct-event';
import type { Metrics } from '../observability/metrics';
import type { DeliveryObserver } from '../observability/observers';
import type { Lease, Queue } from '../queue/queue';
import type { Circuit } from './circuit';
import { logDeadLettered, logForwarded, logRetry } from './delivery-log';
import type { RetryPolicy } from './retry-policy';
import { settlementFor } from './settle-policy';
import type { SettleWrites } from './settle-writes';

export interface SettlerDeps {
  queue: Queue;
  writes: SettleWrites;
  circuit: Circuit;
  policy: RetryPolicy;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  observer?: DeliveryObserver;
  /** Distinct rejected our credentials outside a probe: the forwarder stops sending. */
  openCircuit(outcome: ForwardOutcome): void;
  /** False once the forwarder is stopping (a held complete is then written at once). */
  running(): boolean;
}

/** Records what each delivery's answer means. */
export class Settler {
  constructor(private readonly deps: SettlerDeps) {}

  /** Settles a sent message by Distinct's answer; `probe` while the circuit is open. */
  async settle(lease: Lease, outcome: ForwardOutcome, probe: boolean, seconds: number): Promise<void> {
    const { circuit, writes, queue, metrics, logger, observer } = this.deps;
    const settlement = settlementFor(outcome, lease, this.deps.now(), this.deps.policy);
    circuit.answered(outcome);
    if (settlement.kind === 'circuit_open') {
      if (probe) circuit.probeRejected(outcome);
      else this.deps.openCircuit(outcome);
      await this.release(lease);
      return;
    }
    if (probe && circuit.close(outcome)) metrics.circuitOpen.set(0);
    const { message } = lease;
    const { attempts } = settlement;
    switch (settlement.kind) {
      case 'complete':
        await writes.persist(
          lease,
          'complete',
          () => queue.complete(lease),
          () => {
            metrics.events.inc({ source: message.source, type: message.type, outcome: 'forwarded' });
            // The hot path: at a quieter level, do not even build the log line's fields.
            if (logger.isLevelEnabled('info')) logForwarded(logger, message, attempts, Math.round(seconds * 1000));
            observer?.({ message, outcome: 'forwarded', status: outcome.status, attempts, at: circuit.lastAnswerAt! });
          },
          probe ? undefined : writes.completeSoon(lease, !this.deps.running()),
        );
        return;
      case 'retry': {
        const { delayMs, error } = settlement;
        await writes.persist(
          lease,
          'retry',
          () => queue.retry(lease, delayMs, error),
          () => {
            logRetry(logger, message, outcome, attempts, delayMs);
            observer?.({
              message,
              outcome: 'retry',
              status: outcome.status,
              detail: outcome.message,
              attempts,
              at: circuit.lastAnswerAt!,
            });
          },
        );
        return;
      }
      case 'dead_letter':
        await this.deadLetter(lease, settlement.reason, settlement.detail, outcome.status);
        return;
    }
  }

  /** Dead-letters a message (after Distinct's answer, or unsendable before any request: `status` null). */
  async deadLetter(
    lease: Lease,
    reason: DeadLetterReason,
    detail: string,
    status: number | null = null,
  ): Promise<void> {
    const { writes, queue, metrics, logger, observer } = this.deps;
    const { message } = lease;
    await writes.persist(
      lease,
      'dead_letter',
      () => queue.deadLetter(lease, reason, detail),
      () => {
        metrics.events.inc({ source: message.source, type: message.type, outcome: 'dead_lettered', reason });
        logDeadLettered(logger, lease, reason, detail);
        const attempts = lease.attempts + (reason === 'no_identifier' ? 0 : 1);
        observer?.({ message, outcome: 'dead_lettered', status, reason, detail, attempts, at: this.deps.now() });
      },
    );
  }

  /** Hands a message back untouched (circuit open, stopping, rate-limit wait aborted). */
  async release(lease: Lease): Promise<void> {
    await this.deps.writes.persist(lease, 'release', () => this.deps.queue.release(lease));
  }
}
