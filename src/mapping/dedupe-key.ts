/**
 * De-duplication key (DESIGN §3.2). One hash over the provider's event id (when it has one) and
 * (provider, message id, event name and type, recipient, provider-stated time): identical
 * re-deliveries collapse, while two events that differ in type, recipient or time never do,
 * even when a provider reuses an event id (SendGrid's sample batch does). Receipt time is never
 * part of the key, so a retried Twilio callback collapses with the first.
 */
import { createHash } from 'node:crypto';
import type { EventDraft } from '../core/normalized-event';

export function dedupeKey(provider: string, draft: EventDraft): string {
  const parts = [
    provider,
    draft.providerEventId ?? '',
    draft.messageId ?? '',
    draft.providerEvent,
    draft.type,
    (draft.email ?? '').trim().toLowerCase(),
    (draft.phone ?? '').trim(),
    draft.occurredAt ?? '',
  ];
  return `${provider}:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 32)}`;
}
