/**
 * Resend webhooks (email), delivered by Svix.
 *
 * Payload:  https://resend.com/docs/dashboard/webhooks/event-types
 *           https://resend.com/docs/webhooks/emails/clicked (one page per event)
 * Security: https://resend.com/docs/dashboard/webhooks/verify-webhooks-requests
 *           https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 * Retries:  https://docs.svix.com/retries
 * SDK:      github.com/resend/resend-node `src/webhooks/` (verifies with `standardwebhooks`)
 *
 * Verification: Standard Webhooks HMAC-SHA256 over `${svix-id}.${svix-timestamp}.${rawBody}` with
 * the base64-decoded `whsec_` signing secret; `svix-signature` lists `v1,<base64>` entries
 * (src/verify/standard-webhooks.ts), plus a timestamp window.
 *
 * Quirks:
 * - Svix names the headers `svix-*`; the `webhook-*` names of the spec are accepted too (the SDK
 *   maps one onto the other), read as one family, never mixed.
 * - One event per request, but `data.to` is a list: one draft per recipient, so each address gets
 *   its own `sent`/`delivered`. All share the `svix-id`, which is stable across Svix's retries and
 *   is the provider event id; the core's key also hashes the recipient, so they never collapse.
 * - The event time is the top-level `created_at` (ISO, milliseconds kept); `data.created_at` is
 *   when the e-mail was created, not when this event happened.
 * - The event-types page once typed the delayed event `email.delivered_delayed`; the SDK and the
 *   event list say `email.delivery_delayed`. Both are mapped (PROVIDERS.md §6).
 * - Tags (`tags: [{name, value}]` on send) come back as an object map in current payloads; the
 *   array form is read too. Overrides ride in tags named `distinct_user_id`…
 * - `email.received` (inbound), `contact.*`, `domain.*` and `suppression.*` are not about a sent
 *   message: they arrive as `email.unknown`, acknowledged and never forwarded by default.
 * - Svix re-sends everything that is not a 2xx within ~15 s; replays of one request are absorbed
 *   by de-duplication on the `svix-id`, so no replay cache is kept (it would refuse real retries).
 */
import { isObject, optionalString, requiredString } from '../src/body/read-json';
import { defineAdapter } from '../src/core/adapter';
import { detailFields, pickDetails, stringDetail } from '../src/core/details';
import { WebhookParseError } from '../src/core/errors';
import { mapEventType, type EventMap } from '../src/core/event-types';
import type { EventDraft } from '../src/core/normalized-event';
import { header, type WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import { headerFamily, standardWebhooks, SVIX_HEADERS } from '../src/verify/standard-webhooks';
import { overridesFrom } from '../src/core/overrides';
import { sample } from './samples/resend';

/** Resend `type` → normalized type. */
const EVENT_MAP = {
  'email.sent': 'email.sent', // accepted by Resend's API and handed to its sending infrastructure
  'email.scheduled': 'email.queued', // will be sent at `scheduled_at`
  'email.delivered': 'email.delivered',
  'email.delivery_delayed': 'email.deferred', // temporary issue; Resend keeps trying
  'email.delivered_delayed': 'email.deferred', // the event-types page's spelling of the same event
  'email.bounced': 'email.bounced', // permanent rejection by the recipient's server; data.bounce says why
  'email.complained': 'email.complained',
  'email.opened': 'email.opened',
  'email.clicked': 'email.clicked',
  'email.failed': 'email.failed', // never sent: invalid recipient, quota, domain not verified (data.failed.reason)
  'email.suppressed': 'email.rejected', // not sent: the address is on the suppression list
} as const satisfies EventMap;

/** A Resend event `type` this adapter knows. */
export type ResendEvent = keyof typeof EVENT_MAP;

/** `data.<object>.<field>` → details key, for the objects some events carry. */
const DETAIL_FIELDS = detailFields(
  {
    'bounce.type': 'bounceType', // Permanent, Transient, Undetermined (SES vocabulary)
    'bounce.subType': 'bounceSubType',
    'bounce.message': 'bounceMessage',
    'click.link': 'url',
    'failed.reason': 'failedReason',
  },
  stringDetail,
);

/** `tags` as a map: an object `{name: value}` or a list `[{name, value}]`; scalar values only. */
function readTags(value: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  const put = (name: unknown, v: unknown): void => {
    if (typeof name !== 'string' || name === '' || name === '__proto__') return;
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) tags[name] = String(v);
  };
  if (Array.isArray(value)) {
    for (const t of value) if (isObject(t)) put(t.name, t.value);
  } else if (isObject(value)) {
    for (const [name, v] of Object.entries(value)) put(name, v);
  }
  return tags;
}

/** `a@b`, or the address inside `Name <a@b>`. */
function address(value: string): string {
  return /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value)?.[1] ?? value.trim();
}

/** `data.to`: a list (or, defensively, one string) of addresses; empty when absent. */
function recipients(data: Record<string, unknown>): string[] {
  const to = data.to;
  const list = Array.isArray(to) ? to : typeof to === 'string' ? [to] : [];
  return list.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map(address);
}

/**
 * Parses one Resend event into one draft per recipient (one draft without recipient when the
 * event has none, e.g. `contact.created`).
 * @throws WebhookParseError naming the path of the problem (`type`, `created_at`, `data`)
 */
function parse(req: WebhookRequest): EventDraft[] {
  const body = req.json();
  if (!isObject(body)) throw new WebhookParseError('a Resend webhook body must be a JSON object');
  const type = requiredString(body, 'type', '');
  const data = body.data;
  if (!isObject(data)) throw new WebhookParseError('"data" must be an object', 'data');
  let occurredAt: string | null = null;
  if (body.created_at !== undefined && body.created_at !== null) {
    occurredAt = isoFromString(body.created_at);
    if (occurredAt === null) throw new WebhookParseError('not an ISO 8601 time', 'created_at');
  }
  const names = headerFamily(req.headers);
  const base = {
    type: mapEventType(EVENT_MAP, type, 'email'),
    providerEvent: type,
    occurredAt,
    messageId: optionalString(data, 'email_id') ?? null,
    providerEventId: header(req, names.id)?.trim() || null,
    overrides: overridesFrom(readTags(data.tags)),
    details: pickDetails(data, DETAIL_FIELDS),
    raw: body,
  };
  const to = recipients(data);
  if (to.length === 0) return [{ ...base }];
  return to.map((email) => ({ ...base, email, overrides: { ...base.overrides }, details: { ...base.details } }));
}

/** The Resend adapter. */
export const adapter = defineAdapter({
  name: 'resend',
  displayName: 'Resend',
  channel: 'email',
  docsUrl: 'https://resend.com/docs/dashboard/webhooks/event-types',
  methods: ['POST'],
  ...standardWebhooks(SVIX_HEADERS, { sample }),
  eventMap: EVENT_MAP,
  parse,
});
