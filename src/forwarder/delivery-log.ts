/**
 * What both forwarders (the long-running one and the SQS Lambda) check before sending and write
 * after each answer, so operators read the same fields from either (docs/operations.md).
 */
import type { DeadLetterReason, DistinctEvent } from '../core/distinct-event';
import type { Logger } from '../observability/logger';
import type { Lease, QueueMessage } from '../queue/queue';
import type { ForwardOutcome } from '../core/distinct-api';

/** DESIGN §3.1: an event without userId, e-mail or phone is never sent (it would fail at Distinct). */
export function hasIdentifier(event: DistinctEvent): boolean {
  return [event.userId, event.email, event.phone].some((v) => typeof v === 'string' && v.trim() !== '');
}

export const CIRCUIT_OPENED =
  'Distinct rejected the API key or this IP (401/403): forwarding paused, events stay queued; one probe per interval until it is accepted';
export const CIRCUIT_CLOSED = 'Distinct accepted the credentials again: forwarding resumed';

export function logForwarded(logger: Logger, message: QueueMessage, attempts: number, ms: number): void {
  logger.info(
    {
      key: message.key,
      source: message.source,
      type: message.type,
      feature: message.event.feature,
      action: message.event.action,
      attempts,
      ms,
    },
    'event forwarded to Distinct',
  );
}

export function logRetry(
  logger: Logger,
  message: QueueMessage,
  outcome: ForwardOutcome,
  attempts: number,
  retryInMs: number,
): void {
  logger.info(
    {
      key: message.key,
      source: message.source,
      type: message.type,
      result: outcome.kind,
      status: outcome.status,
      error: outcome.message,
      attempts,
      retryInMs,
    },
    'delivery failed; will retry',
  );
}

/** `attempts` counts the attempt that led here, except for `no_identifier` (never sent). */
export function logDeadLettered(logger: Logger, lease: Lease, reason: DeadLetterReason, detail: string): void {
  const { message } = lease;
  logger.warn(
    {
      key: message.key,
      source: message.source,
      type: message.type,
      reason,
      detail,
      attempts: lease.attempts + (reason === 'no_identifier' ? 0 : 1),
      // Registry drift and a wrong experience id are configuration errors: someone must act.
      alert: reason === 'invalid_pair' || reason === 'invalid_experience' ? true : undefined,
    },
    'event dead-lettered',
  );
}
