import type { Channel, EventType } from './event-types';

/** Per-message overrides a sender attaches to a message and gets back in the webhook (DESIGN §3.3). */
export interface EventOverrides {
  /** `distinct_user_id`: the Distinct user the message was sent to. */
  userId?: string;
  /** `distinct_feature`: replaces the source's configured feature. */
  feature?: string;
  /** `distinct_experience_id`: replaces the source's configured experience id. */
  experienceId?: string;
  /**
   * The Distinct action, for sources whose events name their own pair (the `generic` source):
   * replaces the source's action map, and the pair is checked against the registry on arrival.
   * Provider adapters never set it.
   */
  action?: string;
}

/** Scalar provider details passed through to Distinct's `metadata` (error code, bounce reason, machine-open hint, click URL…). */
export type EventDetails = Record<string, string | number | boolean>;

/** `value` when it fits {@link EventDetails} (a non-blank string, a finite number, a boolean), else undefined. */
export function detailValue(value: unknown): string | number | boolean | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return typeof value === 'boolean' ? value : undefined;
}

/**
 * What an adapter's `parse` returns for one provider event. The pipeline completes it into a
 * {@link NormalizedEvent} (provider, channel, receipt time, de-duplication key), so common fields
 * cannot drift between adapters.
 */
export interface EventDraft {
  /** Normalized type, from the adapter's event map. */
  type: EventType;
  /** The provider's own event name, verbatim (`processed`, `delivered`, `MessageStatus=sent`…). */
  providerEvent: string;
  /** Event time as the provider states it, UTC ISO 8601 with `Z`; null when the provider gives none. Never invented. */
  occurredAt: string | null;
  /** The provider's message id, when present. */
  messageId: string | null;
  /** The provider's per-event id, when it has one. */
  providerEventId: string | null;
  /** Recipient e-mail address, verbatim (normalized later). */
  email?: string;
  /** Recipient phone number, verbatim (normalized later: E.164, channel prefixes stripped). */
  phone?: string;
  /** Sender's custom metadata echoed back by the provider. */
  overrides: EventOverrides;
  /** Provider details worth keeping in Distinct's metadata. Optional fields are omitted, never empty. */
  details: EventDetails;
  /** The provider's raw event, as parsed. */
  raw: unknown;
}

/** A provider event in the closed vocabulary, with everything the mapping stage needs. */
export interface NormalizedEvent extends EventDraft {
  /** Adapter slug (`sendgrid`). */
  provider: string;
  /** Source id the request arrived on (`/webhooks/<source>`). */
  source: string;
  channel: Channel;
  /** When this service received the request, UTC ISO 8601. */
  receivedAt: string;
  /** Stable de-duplication key (DESIGN §3.2). */
  dedupeKey: string;
}
