/**
 * SparkPost (and Bird Email, which runs the same API) event webhooks.
 *
 * Docs:     https://developers.sparkpost.com/api/webhooks/ (github.com/SparkPost/developers.sparkpost.com
 *           `content/api/webhooks.apib`, `message-events.apib`)
 *           https://www.sparkpost.com/docs/tech-resources/webhook-authentication/
 *           https://docs.bird.com/api/email-api/webhooks
 *
 * Verification: none by SparkPost (it signs nothing); the webhook's basic auth (`auth_type:
 * basic`) and/or a secret `custom_headers` entry are compared in constant time
 * (src/verify/credentials.ts). OAuth2 client-credentials auth is not supported here.
 *
 * Quirks:
 * - A batch: a JSON array of `{"msys": {"<class>_event": {...}}}`; classes `message_event`,
 *   `track_event`, `gen_event`, `unsubscribe_event`, `relay_event`… The event name is the inner
 *   `type`. Any non-200 makes SparkPost re-send the whole batch for 8 h, so the core de-duplicates
 *   per event (`event_id`, unique per event) — `X-MessageSystems-Batch-ID` is not needed.
 * - Creating a webhook or changing its target POSTs a test batch `[{"msys":{}}]`, and an empty
 *   array is possible: both are answered 200 with nothing queued (a non-200 makes creation fail).
 * - `relay_message` (inbound relay webhooks) on this route is a configuration mistake: 400.
 * - `timestamp` is unix seconds as a string in webhooks (ISO in the Events API; both are read).
 * - `event_id`/`transmission_id` are long decimal ids, sent as strings; the body is still read
 *   with the big-int-safe reader so a numeric id can never be rounded.
 * - `open` and `initial_open` (top-of-message pixel) both fire for one open: only `open` maps to
 *   `email.opened`, as in anymail `sparkpost.py`; `initial_open` arrives as `email.unknown`.
 * - `bounce`/`out_of_band` are refined by `bounce_class` (table `BOUNCE_CLASS_MAP`).
 * - `messageId` is `transmission_id` (what the transmissions API returned to the sender, as anymail
 *   uses it); the per-recipient `message_id` goes to `details.sparkpostMessageId`.
 * - Sender metadata (transmission + recipient `metadata`) arrives merged as `rcpt_meta`.
 * - `user_agent`, `ip_address` and `geo_ip` stay in `raw` only (personal data).
 */
import { isObject, optionalObject, optionalString, describeValue } from '../src/body/read-json';
import { defineAdapter } from '../src/core/adapter';
import { detailFields, pickDetails, tagsDetail } from '../src/core/details';
import { WebhookParseError } from '../src/core/errors';
import { refineType, type Refinements, type EventMap } from '../src/core/event-types';
import { type EventDetails, type EventDraft } from '../src/core/normalized-event';
import type { WebhookRequest } from '../src/core/request';
import { isoFromEpochSeconds, isoFromString } from '../src/core/time';
import { credentialsOnly } from '../src/verify/credentials';
import { overridesFrom } from '../src/core/overrides';
import { sample } from './samples/sparkpost';

/** Inner event `type` → normalized type (anymail `sparkpost.py` `event_types`, `injection` → sent per PROVIDERS.md §9). */
const EVENT_MAP = {
  injection: 'email.sent', // SparkPost accepted the message for sending
  delivery: 'email.delivered',
  bounce: 'email.bounced', // refined by bounce_class
  out_of_band: 'email.bounced', // asynchronous bounce after acceptance; refined by bounce_class
  delay: 'email.deferred', // temporary failure; SparkPost retries
  policy_rejection: 'email.rejected', // SparkPost refused by policy
  generation_rejection: 'email.rejected', // refused while generating (e.g. suppressed recipient)
  generation_failure: 'email.failed', // template rendering / substitution failed
  spam_complaint: 'email.complained',
  open: 'email.opened', // bottom-of-message pixel; initial_open deliberately absent (see header)
  amp_open: 'email.opened',
  click: 'email.clicked',
  amp_click: 'email.clicked',
  list_unsubscribe: 'email.unsubscribed', // List-Unsubscribe header
  link_unsubscribe: 'email.unsubscribed', // unsubscribe link in the body
} as const satisfies EventMap;

/** A SparkPost event `type` this adapter knows. */
export type SparkPostEvent = keyof typeof EVENT_MAP;

/**
 * `bounce_class` refinements (https://support.sparkpost.com/docs/deliverability/bounce-classification-codes),
 * after anymail's `reject_reasons`: classes that are not failures of this message change the type.
 * Every other class (10 invalid recipient, 20–24 soft, 30/40 generic, 50–54 blocks, 70 transient…)
 * stays a bounce, with the class in `details.bounceClass`.
 */
const BOUNCE_CLASS_MAP = {
  '25': 'email.rejected', // Admin Failure: SparkPost's own policy (suppression list) refused it
  '60': 'email.unknown', // Auto-Reply: the message was delivered; no auto-reply type (anymail AUTORESPONDED)
  '80': 'email.subscribed', // Subscribe request
  '90': 'email.unsubscribed', // Unsubscribe request
  '100': 'email.unknown', // Challenge-Response: delivered, pending a sender check (anymail AUTORESPONDED)
} as const satisfies EventMap;

/** Second-field refinements by event type. */
const REFINEMENTS: Refinements = {
  bounce: [{ field: 'bounce_class', table: BOUNCE_CLASS_MAP }],
  out_of_band: [{ field: 'bounce_class', table: BOUNCE_CLASS_MAP }],
};

/** Scalar fields copied to `details` (→ Distinct metadata): SparkPost name → our name. */
const DETAIL_FIELDS = detailFields({
  bounce_class: 'bounceClass',
  reason: 'reason', // the server's answer, with the address redacted (raw_reason is not copied)
  error_code: 'errorCode',
  num_retries: 'numRetries', // delay
  target_link_url: 'url', // click
  campaign_id: 'campaignId',
  template_id: 'templateId',
  subaccount_id: 'subaccountId',
  message_id: 'sparkpostMessageId', // per-recipient message id (messageId is the transmission id)
});

function readDetails(event: Record<string, unknown>): EventDetails {
  const details = pickDetails(event, DETAIL_FIELDS);
  const tags = tagsDetail(event.rcpt_tags);
  if (tags !== undefined) details.tags = tags;
  return details;
}

/** The one `<class>_event` inside `msys`; undefined for the empty test/ping element. */
function unwrap(item: unknown, path: string): { eventClass: string; event: Record<string, unknown> } | undefined {
  if (!isObject(item)) throw new WebhookParseError(`expected {"msys": {...}}, got ${describeValue(item)}`, path);
  const msys = item.msys;
  if (!isObject(msys)) throw new WebhookParseError('"msys" must be an object', `${path}.msys`);
  const classes = Object.keys(msys);
  if (classes.length === 0) return undefined; // SparkPost's test batch / ping: nothing to queue
  if (classes.length > 1)
    throw new WebhookParseError(`expected one event class, got ${classes.join(', ')}`, `${path}.msys`);
  const eventClass = classes[0]!;
  const event = msys[eventClass];
  if (!isObject(event))
    throw new WebhookParseError(`expected an event object, got ${describeValue(event)}`, `${path}.msys.${eventClass}`);
  // `relay_message` is an inbound message (relay webhooks); `relay_event` status events are fine.
  if (eventClass === 'relay_message') {
    throw new WebhookParseError(
      'this is a SparkPost inbound relay webhook; this route takes event webhooks only',
      `${path}.msys.${eventClass}`,
    );
  }
  return { eventClass, event };
}

function toDraft(eventClass: string, event: Record<string, unknown>): EventDraft {
  // An unknown class without `type` is still acknowledged (as email.unknown) rather than failing
  // the whole batch, which SparkPost would retry for 8 hours and then drop.
  const name = optionalString(event, 'type') ?? eventClass;
  const email = optionalString(event, 'raw_rcpt_to') ?? optionalString(event, 'rcpt_to');
  return {
    type: refineType(EVENT_MAP, REFINEMENTS, name, event, 'email'),
    providerEvent: name,
    occurredAt: isoFromEpochSeconds(event.timestamp) ?? isoFromString(event.timestamp),
    messageId: optionalString(event, 'transmission_id') ?? optionalString(event, 'message_id') ?? null,
    providerEventId: optionalString(event, 'event_id') ?? null,
    ...(email !== undefined ? { email } : {}),
    overrides: overridesFrom(optionalObject(event, 'rcpt_meta') ?? {}), // sender metadata, merged
    details: readDetails(event),
    raw: event,
  };
}

/**
 * Parses one SparkPost batch; the empty test element and an empty array yield no events.
 * @throws WebhookParseError naming the element (`[2].msys`) for a malformed batch or a relay payload
 */
function parse(req: WebhookRequest): EventDraft[] {
  const body = req.json();
  if (!Array.isArray(body))
    throw new WebhookParseError(`SparkPost posts a JSON array of {"msys": …} events, got ${describeValue(body)}`);
  const drafts: EventDraft[] = [];
  body.forEach((item, index) => {
    const unwrapped = unwrap(item, `[${index}]`);
    if (unwrapped) drafts.push(toDraft(unwrapped.eventClass, unwrapped.event));
  });
  return drafts;
}

/** The SparkPost adapter. */
export const adapter = defineAdapter({
  name: 'sparkpost',
  displayName: 'SparkPost',
  channel: 'email',
  docsUrl: 'https://developers.sparkpost.com/api/webhooks/',
  methods: ['POST'],
  ...credentialsOnly('sparkpost', { sample }),
  eventMap: EVENT_MAP,
  refinements: REFINEMENTS,
  parse,
});
