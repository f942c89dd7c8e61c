/**
 * Brevo (ex-Sendinblue) transactional e-mail webhooks.
 *
 * Docs:     https://developers.brevo.com/docs/transactional-webhooks
 *           https://developers.brevo.com/docs/how-to-use-webhooks
 * Security: https://developers.brevo.com/docs/secured-webhooks
 * Retries:  https://developers.brevo.com/docs/retry-mechanism
 *
 * Verification: none by Brevo (it signs nothing); HTTP basic auth (credentials in the webhook URL)
 * and/or a secret header (Brevo's bearer-token auth, or a custom header) compared in constant
 * time (src/verify/credentials.ts).
 *
 * Quirks:
 * - One JSON object per request, or an array when the webhook is created with `batched: true`.
 * - `id` is the **webhook's** id, not the event's: there is no event id, so `providerEventId` is
 *   null and the core key hashes message-id, event, recipient and time (PROVIDERS.md §8).
 * - Three clocks: `date` is a CET/CEST local string (never used), `ts`/`ts_event` seconds,
 *   `ts_epoch` documented as milliseconds UTC although the docs' own example has 10 digits.
 *   `ts_epoch` is preferred, magnitude-checked by `isoFromEpochSeconds` (13 digits → ms), because
 *   anymail (`brevo.py`) found it the only consistently-UTC field; `ts_event` is the fallback.
 * - Brevo sends both `opened` and `unique_opened` for a first open: both map to `email.opened`
 *   (so whichever the vendor ticks works) and docs/providers/brevo.md says to tick only one.
 * - `proxy_open` / `unique_proxy_open` are opens Brevo saw through a mail-privacy proxy (Apple Mail
 *   Privacy Protection: "An event where the proxy tells if the email has been opened", Brevo API
 *   reference, transactional email event names). They are machine opens: `email.opened` with
 *   `details.machineOpen: true`, forwarded unless the source sets `machineOpens: ignore` (issue
 *   #9; PROVIDERS.md §8 had left them unmapped). They arrive only if the webhook subscribes to them.
 * - `soft_bounce` → bounced, as anymail has it: Brevo reports temporary refusals it is still
 *   retrying as `deferred`; `soft_bounce` is its final "could not deliver" for a temporary cause.
 * - Sender metadata travels in the `X-Mailin-custom` header, echoed verbatim as a string: a JSON
 *   object, or `key:value|key:value` pairs (Brevo's documented header format); both are read.
 * - SMS and inbound-parse webhooks have other shapes; pointing them here is refused with a 400.
 */
import {
  describeValue,
  fieldPath,
  isObject,
  optionalString,
  parseJsonObject,
  requiredString,
} from '../src/body/read-json';
import { defineAdapter } from '../src/core/adapter';
import { detailFields, pickDetails, stringOrNumberDetail, tagsDetail } from '../src/core/details';
import { WebhookParseError } from '../src/core/errors';
import { mapEventType, type EventMap } from '../src/core/event-types';
import type { EventDetails, EventDraft } from '../src/core/normalized-event';
import type { WebhookRequest } from '../src/core/request';
import { isoFromEpochSeconds } from '../src/core/time';
import { credentialsOnly } from '../src/verify/credentials';
import { own, overridesFrom } from '../src/core/overrides';
import { sample } from './samples/brevo';

/** Brevo transactional `event` → normalized type. */
const EVENT_MAP = {
  request: 'email.sent', // Brevo accepted the message for sending (PROVIDERS.md: registration_email/sent)
  delivered: 'email.delivered',
  deferred: 'email.deferred', // temporary refusal; Brevo retries
  soft_bounce: 'email.bounced', // final failure for a temporary cause (see header)
  hard_bounce: 'email.bounced',
  invalid_email: 'email.rejected', // Brevo did not send: not a valid address
  blocked: 'email.rejected', // Brevo did not send: the contact is blocklisted
  error: 'email.failed', // Brevo could not send (internal error)
  spam: 'email.complained',
  complaint: 'email.complained', // the name Brevo's complaint payloads carry (Symfony's and anymail's tests)
  opened: 'email.opened', // every open; Brevo also sends unique_opened for the first one
  unique_opened: 'email.opened', // first open ("First opening"): details.firstOpen
  proxy_open: 'email.opened', // machine open (mail-privacy proxy): details.machineOpen
  unique_proxy_open: 'email.opened', // first machine open: details.machineOpen, details.firstOpen
  click: 'email.clicked',
  unsubscribed: 'email.unsubscribed',
  unsubscribe: 'email.unsubscribed', // spelling anymail received; kept so either arrives mapped
} as const satisfies EventMap;

/** A Brevo transactional `event` this adapter knows. */
export type BrevoEvent = keyof typeof EVENT_MAP;

/** Brevo events that are machine opens by definition (see header). */
const MACHINE_OPEN_EVENTS = ['proxy_open', 'unique_proxy_open'] as const;
const MACHINE_OPEN_EVENTS_SET: Readonly<Record<string, true>> = Object.fromEntries(
  MACHINE_OPEN_EVENTS.map((e) => [e, true]),
);

/** Scalar fields copied to `details` (→ Distinct metadata): Brevo name → our name. */
const DETAIL_FIELDS = detailFields(
  {
    reason: 'reason', // bounces, blocked, deferred: the server's answer or Brevo's reason
    link: 'url', // click
    template_id: 'templateId',
    id: 'webhookId', // the webhook, not the event
  },
  stringOrNumberDetail,
);

/** Fields only Brevo's SMS webhooks carry: such a payload on an e-mail source is a misconfiguration. */
const SMS_ONLY_FIELDS = ['msg_status', 'sms_count', 'credits_used'] as const;

/** `X-Mailin-custom` as key → value: a JSON object, or `key:value|key:value`. */
function customHeaderValues(value: unknown): Record<string, unknown> {
  if (typeof value !== 'string' || value.trim() === '') return {};
  const text = value.trim();
  const json = parseJsonObject(text); // unreadable JSON falls through: the sender's header never fails a request
  if (json) return json;
  const pairs: Record<string, unknown> = {};
  for (const part of text.split('|')) {
    const i = part.indexOf(':');
    if (i > 0) pairs[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return pairs;
}

function readDetails(event: string, item: Record<string, unknown>): EventDetails {
  const details = pickDetails(item, DETAIL_FIELDS);
  const tags = tagsDetail(item.tags) ?? optionalString(item, 'tag'); // a list, or a single `tag`
  if (tags !== undefined) details.tags = tags;
  if (event === 'unique_opened' || event === 'unique_proxy_open') details.firstOpen = true;
  if (own(MACHINE_OPEN_EVENTS_SET, event)) details.machineOpen = true;
  return details;
}

function toDraft(item: unknown, path: string): EventDraft {
  if (!isObject(item)) throw new WebhookParseError(`expected an event object, got ${describeValue(item)}`, path);
  const event = requiredString(item, 'event', path);
  if (item.email === undefined && SMS_ONLY_FIELDS.some((f) => item[f] !== undefined)) {
    throw new WebhookParseError(
      'this is a Brevo SMS webhook; this source takes transactional e-mail webhooks only (create the webhook with channel "email")',
      fieldPath(path, 'event'),
    );
  }
  // ts_epoch first (see header); a garbage value is not a time, and no time is ever invented.
  const occurredAt = isoFromEpochSeconds(item.ts_epoch) ?? isoFromEpochSeconds(item.ts_event);
  const email = optionalString(item, 'email');
  return {
    type: mapEventType(EVENT_MAP, event, 'email'),
    providerEvent: event,
    occurredAt,
    messageId: optionalString(item, 'message-id') ?? null,
    providerEventId: null, // `id` is the webhook's id, not the event's
    ...(email !== undefined ? { email } : {}),
    overrides: overridesFrom(customHeaderValues(item['X-Mailin-custom'])),
    details: readDetails(event, item),
    raw: item,
  };
}

/**
 * Parses one Brevo webhook: an event object, or an array of them (batched webhooks).
 * @throws WebhookParseError naming the index of a bad event (`[2].event`), or for SMS/inbound payloads
 */
function parse(req: WebhookRequest): EventDraft[] {
  const body = req.json();
  if (Array.isArray(body)) return body.map((item, index) => toDraft(item, `[${index}]`));
  if (isObject(body) && Array.isArray(body.items)) {
    throw new WebhookParseError(
      'this is a Brevo inbound-parse payload; this route takes transactional e-mail event webhooks only',
      'items',
    );
  }
  if (!isObject(body))
    throw new WebhookParseError(
      `Brevo posts a JSON event object (or an array when batched), got ${describeValue(body)}`,
    );
  return [toDraft(body, '')];
}

/** The Brevo adapter. */
export const adapter = defineAdapter({
  name: 'brevo',
  displayName: 'Brevo',
  channel: 'email',
  docsUrl: 'https://developers.brevo.com/docs/transactional-webhooks',
  methods: ['POST'],
  ...credentialsOnly('brevo', { sample }),
  eventMap: EVENT_MAP,
  machineOpenEvents: MACHINE_OPEN_EVENTS,
  parse,
});
