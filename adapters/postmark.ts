/**
 * Postmark webhooks (email).
 *
 * Docs:     https://postmarkapp.com/developer/webhooks/webhooks-overview
 *           https://postmarkapp.com/developer/webhooks/delivery-webhook (and bounce, open, click,
 *           spam-complaint, subscription-change pages)
 *           https://postmarkapp.com/developer/api/bounce-api#bounce-types
 * Security: https://postmarkapp.com/support/article/understanding-inbound-webhook-retries-in-postmark
 *
 * Verification: none by Postmark (it signs nothing); the webhook's HTTP basic auth (`HttpAuth`)
 * and/or a custom header (`HttpHeaders`) are compared in constant time (src/verify/credentials.ts).
 *
 * Quirks:
 * - Failures are answered 401, never 403: a 403 makes Postmark stop retrying at once, which would
 *   drop real events while credentials are misconfigured (PROVIDERS.md §4).
 * - One JSON object per request, discriminated by `RecordType`. The inbound-message webhook posts
 *   a different shape (no `RecordType`, `FromFull`…); pointing it here is a configuration mistake,
 *   refused with a 400 that says so (anymail `postmark.py` raises the same configuration error).
 * - `Bounce` (and `SpamComplaint`) carry a `Type` that decides the real outcome (table
 *   `BOUNCE_TYPE_MAP`, after anymail's `event_types`, differences commented there).
 * - `SubscriptionChange` is refined by `SuppressSending` (false → re-subscribed) and then by
 *   `SuppressionReason`, as anymail does: Postmark gives no other way to tell an unsubscribe from
 *   a bounce-driven suppression. A hard bounce therefore yields a `Bounce` *and* a
 *   `SubscriptionChange` (both `email.bounced`, different `providerEvent`).
 * - No event id except the bounce `ID` (Bounce, SpamComplaint); the core key hashes RecordType,
 *   MessageID, recipient and time otherwise.
 * - Times are ISO strings with 7 fraction digits (`2025-04-05T16:33:54.9070259Z`), older examples
 *   with local offsets (`-04:00`): `isoFromString` normalizes to UTC and keeps the digits.
 * - No "sent" webhook exists: `registration_email/sent` cannot come from Postmark.
 * - `UserAgent` and `Geo` (IP, city) stay in `raw` only; they are personal data.
 */
import { isObject, optionalObject, optionalString, requiredString } from '../src/body/read-json';
import { defineAdapter } from '../src/core/adapter';
import { detailFields, pickDetails } from '../src/core/details';
import { WebhookParseError } from '../src/core/errors';
import { refineType, type EventMap, type Refinements } from '../src/core/event-types';
import { type EventDraft } from '../src/core/normalized-event';
import type { WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import { credentialsOnly } from '../src/verify/credentials';
import { own, overridesFrom } from '../src/core/overrides';
import { sample } from './samples/postmark';

/** `RecordType` → normalized type. */
const EVENT_MAP = {
  Delivery: 'email.delivered',
  Bounce: 'email.bounced', // refined by `Type` (BOUNCE_TYPE_MAP)
  SpamComplaint: 'email.complained', // refined by `Type` too (it is always SpamComplaint in practice)
  Open: 'email.opened', // every open unless the webhook sets PostFirstOpenOnly; details.firstOpen says which
  Click: 'email.clicked',
  SubscriptionChange: 'email.unsubscribed', // refined by SuppressSending, then SuppressionReason
} as const satisfies EventMap;

/** A Postmark `RecordType` this adapter knows. */
export type PostmarkRecordType = keyof typeof EVENT_MAP;

/**
 * Bounce `Type` → normalized type, after anymail's `event_types`. Differences from anymail:
 * - `SoftBounce` → deferred (anymail: bounced, "might also receive HardBounce later"): Postmark
 *   describes it as "unable to *temporarily* deliver" (mailbox full, over quota), which is our
 *   `email.deferred`; a later Delivery or HardBounce may follow.
 * - `Blocked` and `DMARCPolicy` → bounced (anymail: rejected): in our vocabulary `email.rejected`
 *   is the provider refusing to send, while these are the receiving server refusing the message
 *   (SendGrid's `blocked` bounces are treated the same way).
 * - Auto-replies (`AutoResponder`, `AddressChange`, `ChallengeVerification`; anymail
 *   AUTORESPONDED) → unknown: the message was delivered (a Delivery event exists) and we have no
 *   auto-reply type; they are acknowledged and ignored.
 */
const BOUNCE_TYPE_MAP = {
  HardBounce: 'email.bounced',
  SoftBounce: 'email.deferred', // temporary: mailbox full, over quota (see above)
  Transient: 'email.deferred', // "message delayed": Postmark keeps trying
  DnsError: 'email.deferred', // temporary DNS failure
  OpenRelayTest: 'email.deferred', // the receiving server was testing Postmark (anymail: deferred)
  Unsubscribe: 'email.unsubscribed', // the recipient replied "unsubscribe"
  Subscribe: 'email.subscribed',
  AutoResponder: 'email.unknown',
  AddressChange: 'email.unknown',
  ChallengeVerification: 'email.unknown',
  SpamNotification: 'email.complained',
  SpamComplaint: 'email.complained',
  VirusNotification: 'email.bounced', // refused by the receiving server for content
  Blocked: 'email.bounced', // ISP block: the receiving server refused (see above)
  DMARCPolicy: 'email.bounced', // refused by the receiving server's DMARC policy
  BadEmailAddress: 'email.rejected', // Postmark did not send: not a valid address
  ManuallyDeactivated: 'email.rejected', // Postmark did not send: the address is suppressed
  Unconfirmed: 'email.rejected', // Postmark did not send: sender signature not confirmed
  SMTPApiError: 'email.failed',
  TemplateRenderingFailed: 'email.failed',
  InboundError: 'email.unknown', // inbound processing, not a sent message
  Unknown: 'email.unknown',
} as const satisfies EventMap;

/** SubscriptionChange with `SuppressSending: true`, by `SuppressionReason` (anymail reuses `event_types`). */
const SUPPRESSION_REASON_MAP = {
  HardBounce: 'email.bounced',
  SpamComplaint: 'email.complained',
  ManualSuppression: 'email.unsubscribed', // the recipient unsubscribed (or the sender suppressed them)
} as const satisfies EventMap;

/** SubscriptionChange by `SuppressSending` (as text): false means the address was reactivated. */
const SUPPRESS_SENDING_MAP = {
  false: 'email.subscribed',
} as const satisfies EventMap;

/** Second-field refinements by RecordType, tried in order; the first table that matches wins. */
const REFINEMENTS: Refinements = {
  Bounce: [{ field: 'Type', table: BOUNCE_TYPE_MAP }],
  SpamComplaint: [{ field: 'Type', table: BOUNCE_TYPE_MAP }],
  SubscriptionChange: [
    { field: 'SuppressSending', table: SUPPRESS_SENDING_MAP },
    { field: 'SuppressionReason', table: SUPPRESSION_REASON_MAP },
  ],
};

/** Every time field Postmark uses; for an unknown RecordType the first one present is taken (anymail). */
const TIME_FIELDS = ['DeliveredAt', 'BouncedAt', 'ReceivedAt', 'ChangedAt'] as const;

/** The time field of each known RecordType. */
export const TIME_FIELD_OF: Readonly<Record<PostmarkRecordType, (typeof TIME_FIELDS)[number]>> = {
  Delivery: 'DeliveredAt',
  Bounce: 'BouncedAt',
  SpamComplaint: 'BouncedAt',
  Open: 'ReceivedAt',
  Click: 'ReceivedAt',
  SubscriptionChange: 'ChangedAt',
};

/** Scalar fields copied to `details` (→ Distinct metadata): Postmark name → our name. */
const DETAIL_FIELDS = detailFields({
  Tag: 'tag',
  MessageStream: 'messageStream',
  Type: 'bounceType', // Bounce/SpamComplaint: HardBounce, SoftBounce…
  TypeCode: 'bounceTypeCode',
  Description: 'description',
  Details: 'response', // the receiving server's answer (delivery or bounce)
  Inactive: 'inactive', // bounce deactivated the address
  FirstOpen: 'firstOpen', // open: false for repeat opens (a machine-open filter aid)
  Platform: 'platform',
  ReadSeconds: 'readSeconds',
  OriginalLink: 'url', // click
  ClickLocation: 'clickLocation',
  SuppressSending: 'suppressSending', // subscription change
  SuppressionReason: 'suppressionReason',
  Origin: 'origin',
  'Client.Name': 'client', // open, click
});

/** Refuses an inbound-message payload with a message that names the misconfiguration. */
function refuseInbound(record: Record<string, unknown>): void {
  if (record.RecordType === 'Inbound' || (record.RecordType === undefined && 'FromFull' in record)) {
    throw new WebhookParseError(
      'this is a Postmark inbound-message payload; this route takes tracking webhooks only ' +
        "(Delivery, Bounce, SpamComplaint, Open, Click, SubscriptionChange): point the server's inbound webhook elsewhere",
      'RecordType',
    );
  }
}

/**
 * Parses one Postmark tracking webhook (one event per request).
 * @throws WebhookParseError for a non-object body, an inbound payload or a missing `RecordType`
 */
function parse(req: WebhookRequest): EventDraft[] {
  const record = req.json();
  if (!isObject(record)) throw new WebhookParseError('Postmark posts one JSON object per event');
  refuseInbound(record);
  const recordType = requiredString(record, 'RecordType', '');
  const timeField =
    own(TIME_FIELD_OF, recordType) ?? TIME_FIELDS.find((f) => record[f] !== undefined && record[f] !== null);
  // Bounce and SpamComplaint carry the recipient as `Email`, the others as `Recipient`.
  const email = optionalString(record, 'Email') ?? optionalString(record, 'Recipient');
  return [
    {
      type: refineType(EVENT_MAP, REFINEMENTS, recordType, record, 'email'),
      providerEvent: recordType,
      occurredAt: timeField === undefined ? null : isoFromString(record[timeField]), // garbage → null, never invented
      messageId: optionalString(record, 'MessageID') ?? null,
      providerEventId: optionalString(record, 'ID') ?? null, // the bounce id (Bounce, SpamComplaint only)
      ...(email !== undefined ? { email } : {}),
      overrides: overridesFrom(optionalObject(record, 'Metadata') ?? {}), // the message's Metadata, echoed
      details: pickDetails(record, DETAIL_FIELDS),
      raw: record,
    },
  ];
}

/** The Postmark adapter. */
export const adapter = defineAdapter({
  name: 'postmark',
  displayName: 'Postmark',
  channel: 'email',
  docsUrl: 'https://postmarkapp.com/developer/webhooks/webhooks-overview',
  methods: ['POST'],
  ...credentialsOnly('postmark', { sample }),
  eventMap: EVENT_MAP,
  refinements: REFINEMENTS,
  parse,
});
