/**
 * How both forwarders (the long-running one and the SQS Lambda) settle a message: the events
 * never sent ({@link unsendable}) and, after a POST, the {@link decide} decision with the attempt
 * it counts and the text a retry records. Each forwarder then writes it its own way (queue
 * writes and held completes; Lambda batch failures and visibility changes).
 */
import type { ForwardOutcome } from '../core/distinct-api';
import type { DeadLetterReason } from '../core/distinct-event';
import type { Lease } from '../queue/queue';
import { hasIdentifier } from './delivery-log';
import { decide, describe, type RetryPolicy } from './retry-policy';

/** What the queue is told about a message. `attempts` includes the attempt that led here. */
export type Settlement =
  | { kind: 'complete'; attempts: number }
  | { kind: 'retry'; attempts: number; delayMs: number; error: string }
  | { kind: 'dead_letter'; attempts: number; reason: DeadLetterReason; detail: string }
  /** Distinct rejected the key or the IP: the circuit opens, the message goes back untouched. */
  | { kind: 'circuit_open' };

/** DESIGN §3.1: an event without userId, e-mail or phone is dead-lettered, never sent to fail at Distinct. */
export function unsendable(lease: Lease): { reason: 'no_identifier'; detail: string } | null {
  return hasIdentifier(lease.message.event) ? null : { reason: 'no_identifier', detail: 'no userId, email or phone' };
}

/** The settlement for the POST of `lease` that produced `outcome`, at `now` (ms since epoch). */
export function settlementFor(outcome: ForwardOutcome, lease: Lease, now: number, policy: RetryPolicy): Settlement {
  const decision = decide(outcome, lease, now, policy);
  const attempts = lease.attempts + 1;
  switch (decision.kind) {
    case 'complete':
      return { kind: 'complete', attempts };
    case 'retry':
      return { kind: 'retry', attempts, delayMs: decision.delayMs, error: describe(outcome) };
    case 'dead_letter':
      return { kind: 'dead_letter', attempts, reason: decision.reason, detail: decision.detail };
    case 'circuit_open':
      return decision;
  }
}
