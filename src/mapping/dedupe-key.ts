/**
 * De-duplication key (DESIGN §3.2). One hash over the provider's event id (when it has one) and
 * (provider, message id, event name and type, recipient, provider-stated time): identical
 * re-deliveries collapse, while two events that differ in type, recipient or time never do,
 * even when a provider reuses an event id (SendGrid's sample batch does). Receipt time is never
 * part of the key, so a retried Twilio callback collapses with the first.
 *
 * Shape: `<provider>:<time><hash>`, printable ASCII (also the `Idempotency-Key` and the SQS FIFO
 * MessageDeduplicationId). `<time>` is the provider-stated time in epoch seconds as 9 hex digits
 * (`NO_TIME` when the provider states none), so keys sort roughly in arrival order and the outbox's
 * de-dup index grows at its right edge instead of at random leaves. `<hash>` is 22 base64url
 * characters (132 bits) of SHA-256 over the length-prefixed parts. Keys stored by builds before
 * this shape do not match these (a re-delivery spanning the upgrade is forwarded again, with
 * a new Idempotency-Key).
 */
import { hash as oneShotHash } from 'node:crypto';
import type { EventDraft } from '../core/normalized-event';

/** The time part for events without a provider-stated time (or one outside 1970…4147). */
export const NO_TIME = '000000000';
/** 9 hex digits of epoch seconds: until the year 4147. */
const TIME_LIMIT_SECONDS = 16 ** 9;

export function dedupeKey(provider: string, draft: EventDraft): string {
  const occurredAt = draft.occurredAt ?? '';
  // Length-prefixed, so no part can run into the next whatever characters it holds.
  let text = '';
  for (const part of [
    provider,
    draft.providerEventId ?? '',
    draft.messageId ?? '',
    draft.providerEvent,
    draft.type,
    (draft.email ?? '').trim().toLowerCase(),
    (draft.phone ?? '').trim(),
    occurredAt,
  ]) {
    text += `${part.length}:${part}`;
  }
  // One-shot crypto.hash (Node ≥ 20.12): no Hash object per event.
  return `${provider}:${timePart(occurredAt)}${oneShotHash('sha256', text, 'base64url').slice(0, 22)}`;
}

/** `occurredAt` (ISO 8601) → 9 hex digits of epoch seconds, or {@link NO_TIME}. */
function timePart(occurredAt: string): string {
  if (occurredAt === '') return NO_TIME;
  const seconds = Math.floor(Date.parse(occurredAt) / 1000);
  if (!(seconds >= 0 && seconds < TIME_LIMIT_SECONDS)) return NO_TIME;
  return seconds.toString(16).padStart(9, '0');
}
