/**
 * What to do after one POST to Distinct (DESIGN §6 table), as pure functions of the outcome, the
 * lease, the clock and the retry configuration. Retry only what can succeed on a retry (STYLE
 * habit 10): transient failures back off exponentially with full jitter and honour `Retry-After`;
 * "User not found" waits on a slow schedule; configuration errors are dead-lettered at once.
 */
import type { z } from 'zod';
import type { retrySchema } from '../config/schema';
import type { DeadLetterReason } from '../core/distinct-event';
import type { Lease } from '../queue/queue';
import type { ForwardOutcome } from '../core/distinct-api';

/** The `retry` configuration section (DESIGN §4). */
export type RetryPolicyConfig = z.output<typeof retrySchema>;

/** The configuration plus an injectable random source in [0, 1) (tests pin it). */
export interface RetryPolicy extends RetryPolicyConfig {
  random?: () => number;
}

/** The forwarder's next step for a message. */
export type Decision =
  | { kind: 'complete' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'dead_letter'; reason: DeadLetterReason; detail: string }
  /** Distinct rejected the key or the IP: stop sending, hand the message back untouched. */
  | { kind: 'circuit_open' };

/**
 * Full-jitter backoff for the failure after `attempt` earlier attempts:
 * random(0, min(maxDelayMs, baseDelayMs · 2^attempt)).
 */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const random = policy.random ?? Math.random;
  // 2^attempt overflows to Infinity for huge attempt counts; min() then yields maxDelayMs.
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** The transient delay: the jittered backoff, but never sooner than `Retry-After`; capped at maxDelayMs. */
export function transientDelay(attempt: number, retryAfterMs: number | undefined, policy: RetryPolicy): number {
  const jittered = backoffDelay(attempt, policy);
  const wanted = retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
  return Math.min(policy.maxDelayMs, Math.max(0, Math.ceil(wanted)));
}

/** Decides what happens to `lease` after the POST that produced `outcome`, at `now` (ms since epoch). */
export function decide(outcome: ForwardOutcome, lease: Lease, now: number, policy: RetryPolicy): Decision {
  const age = Math.max(0, now - lease.enqueuedAt);
  switch (outcome.kind) {
    case 'ok':
      return { kind: 'complete' };
    case 'unauthorized':
      return { kind: 'circuit_open' };
    case 'invalid_pair':
      return { kind: 'dead_letter', reason: 'invalid_pair', detail: describe(outcome) };
    case 'invalid_experience':
      return { kind: 'dead_letter', reason: 'invalid_experience', detail: describe(outcome) };
    case 'unexpected':
      return { kind: 'dead_letter', reason: 'unexpected_response', detail: describe(outcome) };
    case 'user_not_found': {
      // The user may be created later (sign-up races the welcome e-mail): retry slowly. Attempts are
      // not counted against maxAttempts here; the slow window has its own limit.
      if (age >= policy.userNotFoundMaxAgeMs) {
        return {
          kind: 'dead_letter',
          reason: 'user_not_found',
          detail: `${describe(outcome)} for ${formatMs(age)} (${lease.attempts + 1} attempts)`,
        };
      }
      // The last try lands exactly at the end of the window rather than after it.
      return { kind: 'retry', delayMs: Math.min(policy.userNotFoundDelayMs, policy.userNotFoundMaxAgeMs - age) };
    }
    case 'transient': {
      const made = lease.attempts + 1;
      if (made >= policy.maxAttempts) {
        return { kind: 'dead_letter', reason: 'max_attempts', detail: `${made} attempts; last: ${describe(outcome)}` };
      }
      if (age >= policy.maxAgeMs) {
        return {
          kind: 'dead_letter',
          reason: 'max_age',
          detail: `queued ${formatMs(age)} ago; last: ${describe(outcome)}`,
        };
      }
      return { kind: 'retry', delayMs: transientDelay(lease.attempts, outcome.retryAfterMs, policy) };
    }
  }
}

/** `HTTP 400: Invalid feature/action.` or the network error text; never contains the API key. */
export function describe(outcome: ForwardOutcome): string {
  return outcome.status === null ? outcome.message : `HTTP ${outcome.status}: ${outcome.message}`;
}

function formatMs(ms: number): string {
  if (ms < 10_000) return `${ms} ms`;
  if (ms < 7_200_000) return `${Math.round(ms / 1000)} s`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
