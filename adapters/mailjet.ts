/**
 * Mailjet Event API webhooks (email).
 *
 * Docs:     https://dev.mailjet.com/email/guides/webhooks/ (source: github.com/mailjet/api-documentation
 *           `guides/_event-api.md`)
 *           https://dev.mailjet.com/email/reference/webhook/ (eventcallbackurl)
 *
 * Verification: none by Mailjet (it signs nothing); HTTP basic auth given in the callback URL
 * (`https://user:pass@host/…`, sent as an `Authorization: Basic` header) and/or a secret header,
 * compared in constant time (src/verify/credentials.ts).
 *
 * Quirks:
 * - `MessageID` is an int64 that exceeds 2^53 (`19421777835146491` would parse as …492). The body
 *   is read with `readJsonBigint`, which keeps such integers as exact strings, and the message id
 *   preferred is the string `Message_GUID` (then `mj_message_id`, then the exact `MessageID`)
 *   (PROVIDERS.md pitfall 7); the exact `MessageID` is always kept in details.
 * - One event object per request, or (webhook `Version: 2`, "group events") an array of every
 *   event of the last second for that URL, types mixed; anymail accepts both the same way.
 * - No event id: the core key hashes Message_GUID, event, recipient and time (PROVIDERS.md §10).
 *   Two clicks on different links of one message within the same second therefore collapse.
 * - `sent` means the recipient's server accepted the message, so it maps to `email.delivered`;
 *   Mailjet has no earlier "sent" signal (PROVIDERS.md §10, anymail: DELIVERED).
 * - `bounce` with `error: greylisted` and no `hard_bounce` is temporary (Mailjet retries) →
 *   `email.deferred`, as anymail has it; table `SOFT_BOUNCE_BY_ERROR`.
 * - `blocked` means Mailjet itself did not send (preblocked, spam filter) → `email.rejected`.
 * - Sender metadata: `EventPayload` (Send API) / `X-MJ-EventPayload` arrives as `Payload`, a
 *   string: a JSON object (anymail reads it so) or `key=value&key=value`. `CustomID` is read the
 *   same way as a fallback; a plain CustomID (an order number…) carries no overrides.
 * - Non-200 answers are retried every 30 s for 24 h, then the URL may be suspended: the adapter
 *   answers 200 once events are queued, and 400 only for bodies that can never parse.
 */
import { describeValue, isObject, optionalString, parseJsonObject, requiredString } from '../src/body/read-json';
import { defineAdapter } from '../src/core/adapter';
import { detailFields, pickDetails } from '../src/core/details';
import { WebhookParseError } from '../src/core/errors';
import { refineType, type Refinements, type EventMap } from '../src/core/event-types';
import { type EventDetails, type EventDraft, type EventOverrides } from '../src/core/normalized-event';
import type { WebhookRequest } from '../src/core/request';
import { isoFromEpochSeconds } from '../src/core/time';
import { credentialsOnly } from '../src/verify/credentials';
import { overridesFrom } from '../src/core/overrides';
import { sample } from './samples/mailjet';

/** Mailjet `event` → normalized type (anymail `mailjet.py`). */
const EVENT_MAP = {
  sent: 'email.delivered', // accepted by the recipient's server (see header)
  open: 'email.opened',
  click: 'email.clicked',
  bounce: 'email.bounced', // refined for soft bounces by SOFT_BOUNCE_BY_ERROR
  blocked: 'email.rejected', // Mailjet did not send (preblocked, policy, duplicate)
  spam: 'email.complained',
  unsub: 'email.unsubscribed',
} as const satisfies EventMap;

/** A Mailjet `event` this adapter knows. */
export type MailjetEvent = keyof typeof EVENT_MAP;

/** `bounce` without `hard_bounce: true`, by `error`: temporary errors Mailjet retries (anymail). */
const SOFT_BOUNCE_BY_ERROR = {
  greylisted: 'email.deferred', // "delivery will be re-attempted"
} as const satisfies EventMap;

/** Second-field refinements by event: applies when `applies` holds, then `field` looks `table` up. */
const REFINEMENTS: Refinements = {
  bounce: [{ when: (e) => e.hard_bounce !== true, field: 'error', table: SOFT_BOUNCE_BY_ERROR }],
};

/** Scalar fields copied to `details` (→ Distinct metadata): Mailjet name → our name. */
const DETAIL_FIELDS = detailFields({
  smtp_reply: 'response', // sent: the receiving server's answer
  url: 'url', // click
  error_related_to: 'errorRelatedTo', // bounce/blocked: recipient, domain, spam, content, mailjet
  error: 'error', // bounce/blocked: user unknown, quota exceeded, greylisted, preblocked…
  hard_bounce: 'hardBounce',
  source: 'source', // spam: the feedback loop that reported it
  customcampaign: 'campaign',
  mj_list_id: 'listId', // unsub
  CustomID: 'customId',
});

/** Where sender metadata travels, in order of precedence. */
const METADATA_FIELDS = ['Payload', 'EventPayload', 'CustomID'] as const;

/** A sender's metadata string: a JSON object, or `key=value&key=value`; {} for anything else. */
function metadataValues(value: unknown): Record<string, unknown> {
  if (typeof value !== 'string' || value.trim() === '') return {};
  const text = value.trim();
  if (text.startsWith('{')) return parseJsonObject(text) ?? {}; // unreadable: none, never a failed request
  return text.includes('=') ? Object.fromEntries(new URLSearchParams(text)) : {};
}

function readOverrides(event: Record<string, unknown>): EventOverrides {
  return overridesFrom(...METADATA_FIELDS.map((source) => metadataValues(event[source])));
}

/** `MessageID` digit for digit: a string (unsafe integers come as strings from readJsonBigint) or a safe number. */
function exactMessageId(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\d+$/.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  return undefined;
}

function readDetails(event: Record<string, unknown>): EventDetails {
  const details = pickDetails(event, DETAIL_FIELDS);
  const campaignId = event.mj_campaign_id;
  if (typeof campaignId === 'number' && campaignId > 0) details.campaignId = campaignId; // 0 means "no campaign"
  const messageId = exactMessageId(event.MessageID);
  if (messageId !== undefined) details.mailjetMessageId = messageId;
  return details;
}

function toDraft(item: unknown, path: string): EventDraft {
  if (!isObject(item)) throw new WebhookParseError(`expected an event object, got ${describeValue(item)}`, path);
  const name = requiredString(item, 'event', path);
  const email = optionalString(item, 'email');
  return {
    type: refineType(EVENT_MAP, REFINEMENTS, name, item, 'email'),
    providerEvent: name,
    occurredAt: isoFromEpochSeconds(item.time),
    messageId:
      optionalString(item, 'Message_GUID') ??
      optionalString(item, 'mj_message_id') ??
      exactMessageId(item.MessageID) ??
      null,
    providerEventId: null, // Mailjet has no event id
    ...(email !== undefined ? { email } : {}),
    overrides: readOverrides(item),
    details: readDetails(item),
    raw: item,
  };
}

/**
 * Parses one Mailjet webhook: an event object, or an array of them (grouped events).
 * @throws WebhookParseError naming the index of a bad event (`[1].event`)
 */
function parse(req: WebhookRequest): EventDraft[] {
  const body = req.json();
  if (Array.isArray(body)) return body.map((item, index) => toDraft(item, `[${index}]`));
  if (!isObject(body))
    throw new WebhookParseError(`Mailjet posts a JSON event object (or an array of them), got ${describeValue(body)}`);
  return [toDraft(body, '')];
}

/** The Mailjet adapter. */
export const adapter = defineAdapter({
  name: 'mailjet',
  displayName: 'Mailjet',
  channel: 'email',
  docsUrl: 'https://dev.mailjet.com/email/guides/webhooks/',
  methods: ['POST'],
  ...credentialsOnly('mailjet', { sample }),
  eventMap: EVENT_MAP,
  refinements: REFINEMENTS,
  parse,
});
