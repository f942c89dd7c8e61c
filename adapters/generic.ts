/**
 * Generic source: the vendor's own systems (web app, backend jobs) posting Distinct-shaped events
 * for the pairs no e-mail or SMS provider emits (`page_visit/viewed`, `user_collectible/viewed`,
 * `user_collectible/downloaded`, or any other registered pair).
 *
 * Format:   docs/providers/generic.md (this project's own contract)
 * Security: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 *
 * Verification: Standard Webhooks HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${rawBody}`
 * with the base64-decoded `whsec_` signing secret (src/verify/standard-webhooks.ts): any Standard
 * Webhooks or Svix library signs correctly, and `svix-*` header names are accepted too.
 *
 * Quirks:
 * - Channel `app`: the events are neither e-mail nor SMS. Each names its own `feature`/`action`;
 *   they reach the mapping stage as overrides (`overrides.action` exists for this source only), so
 *   the source's action map does not apply and the pair is checked against the registry when the
 *   event arrives: an unregistered pair is dead-lettered `invalid_pair`, never sent to fail.
 * - The normalized type only labels the event: `app.event` for the pairs in EVENT_MAP (the ones
 *   issue 3 names), `app.unknown` for any other pair, which is forwarded all the same when it is
 *   registered. The configured `feature` is required by the loader but unused; the configured
 *   `experienceId` is the default for events without one.
 * - Validation is strict and names the field and the index (`[2].capturedAt: must be ISO 8601…`):
 *   the sender is the vendor's own code, so a 400 that says what to fix beats a dead letter.
 *   Unknown fields are refused (a typo would otherwise silently drop a value); `null` is "absent".
 * - De-duplication: the event's `id` when given. Without one, a hash of the whole event stands in
 *   (`content-sha256:…`), so two events collapse only when every field is identical — two users
 *   with the same pair and time, or two downloads with different metadata, never do.
 * - `capturedAt` must carry a zone (`Z` or `±hh:mm`): a zoneless time is ambiguous, and a time is
 *   never invented, so there is no receipt-time fallback.
 */
import { createHash } from 'node:crypto';
import { isObject } from '../src/body/read-json';
import { defineAdapter } from '../src/core/adapter';
import { WebhookParseError } from '../src/core/errors';
import { DISTINCT_EVENT_FIELDS } from '../src/core/distinct-event';
import { mapEventType, type EventMap } from '../src/core/event-types';
import type { EventDetails, EventDraft, EventOverrides } from '../src/core/normalized-event';
import type { WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import { normalizeEmail, normalizePhone } from '../src/mapping/identifiers';
import { standardWebhooks, WEBHOOK_HEADERS } from '../src/verify/standard-webhooks';
import { sample } from './samples/generic';

/** `feature/action` (lower-cased) → normalized type: the pairs this source exists for. */
const EVENT_MAP = {
  'page_visit/viewed': 'app.event',
  'user_collectible/viewed': 'app.event',
  'user_collectible/downloaded': 'app.event',
} as const satisfies EventMap;

/** At most this many events per request, like the largest provider batches (Mandrill). */
const MAX_BATCH = 1000;
const MAX_METADATA_KEYS = 50;
/** The fields an event may carry: its own `id` and Distinct's; anything else is refused. */
const FIELDS = ['id', ...DISTINCT_EVENT_FIELDS] as const;
/** Metadata keys the service itself writes (src/mapping/to-distinct.ts); a sender may not set them. */
const RESERVED_METADATA = new Set([
  'provider',
  'providerEvent',
  'eventType',
  'messageId',
  'providerEventId',
  'capturedAtSource',
]);
/** A full date-time with a zone; `isoFromString` then normalizes it to UTC. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Reads one event's fields, each check naming `<prefix>.<field>`. */
class EventReader {
  constructor(
    private readonly item: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  path(field: string): string {
    return this.prefix ? `${this.prefix}.${field}` : field;
  }

  fail(field: string, message: string): never {
    throw new WebhookParseError(message, this.path(field));
  }

  /** A non-empty string (trimmed), or undefined when absent or null. */
  text(field: string, required: boolean, allowInteger = false): string | undefined {
    const v = this.item[field];
    if (v === undefined || v === null) return required ? this.fail(field, 'is required') : undefined;
    if (allowInteger && typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    if (typeof v !== 'string' || v.trim() === '') return this.fail(field, 'must be a non-empty string');
    return v.trim();
  }
}

function readMetadata(r: EventReader, value: unknown): EventDetails {
  const details: EventDetails = {};
  if (value === undefined || value === null) return details;
  if (!isObject(value)) return r.fail('metadata', 'must be a JSON object of strings, numbers and booleans');
  const entries = Object.entries(value);
  if (entries.length > MAX_METADATA_KEYS)
    r.fail('metadata', `has ${entries.length} keys; at most ${MAX_METADATA_KEYS}`);
  for (const [key, v] of entries) {
    const at = `metadata.${key}`;
    if (key.trim() === '' || key === '__proto__') r.fail(at, 'is not a usable key');
    if (RESERVED_METADATA.has(key)) r.fail(at, 'is reserved: the service sets it');
    if (v === null || v === '') continue; // "absent", as Distinct never gets null or "" (DESIGN §3.1)
    if (typeof v === 'string' || typeof v === 'boolean') details[key] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) details[key] = v;
    else r.fail(at, 'must be a string, number or boolean (nested values are not supported)');
  }
  return details;
}

/** A stand-in event id: a hash of every field, canonical (sorted metadata), for de-duplication. */
function contentId(fields: ReadonlyArray<string | undefined>, details: EventDetails): string {
  const metadata = Object.entries(details).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const digest = createHash('sha256')
    .update(JSON.stringify([fields.map((f) => f ?? null), metadata]))
    .digest('base64url');
  return `content-sha256:${digest.slice(0, 32)}`;
}

function toDraft(item: unknown, prefix: string): EventDraft {
  if (!isObject(item)) throw new WebhookParseError('each event must be a JSON object', prefix);
  const r: EventReader = new EventReader(item, prefix); // explicitly typed, so r.fail() narrows
  for (const key of Object.keys(item)) {
    if (!(FIELDS as readonly string[]).includes(key)) r.fail(key, `unknown field (allowed: ${FIELDS.join(', ')})`);
  }
  const feature = r.text('feature', true)!;
  const action = r.text('action', true)!;
  const userId = r.text('userId', false, true);
  const email = r.text('email', false);
  if (email !== undefined && normalizeEmail(email) === undefined) r.fail('email', 'must be an e-mail address');
  const phone = r.text('phone', false);
  if (phone !== undefined && normalizePhone(phone) === undefined)
    r.fail('phone', 'must be a phone number in E.164 form, e.g. +14155550100');
  if (userId === undefined && email === undefined && phone === undefined) {
    throw new WebhookParseError('needs at least one of userId, email, phone', prefix);
  }
  const experienceId = r.text('experienceId', false);
  const capturedAtText = r.text('capturedAt', true)!;
  const capturedAt = ISO_WITH_ZONE.test(capturedAtText) ? isoFromString(capturedAtText) : null;
  if (capturedAt === null) r.fail('capturedAt', 'must be ISO 8601 with a time zone, e.g. 2026-04-27T13:35:00Z');
  const id = r.text('id', false, true);
  const details = readMetadata(r, item.metadata);

  const providerEvent = `${feature}/${action}`;
  const overrides: EventOverrides = { feature, action };
  if (userId !== undefined) overrides.userId = userId;
  if (experienceId !== undefined) overrides.experienceId = experienceId;
  return {
    type: mapEventType(EVENT_MAP, providerEvent.toLowerCase(), 'app'),
    providerEvent,
    occurredAt: capturedAt,
    messageId: null,
    providerEventId: id ?? contentId([userId, email, phone, feature, action, experienceId, capturedAt], details),
    ...(email !== undefined ? { email } : {}),
    ...(phone !== undefined ? { phone } : {}),
    overrides,
    details,
    raw: item,
  };
}

/**
 * Parses one event (a JSON object) or a batch (a JSON array of them).
 * @throws WebhookParseError naming the index and field (`[2].capturedAt`)
 */
function parse(req: WebhookRequest): EventDraft[] {
  const body = req.json();
  if (Array.isArray(body)) {
    if (body.length > MAX_BATCH)
      throw new WebhookParseError(`holds ${body.length} events; send at most ${MAX_BATCH} per request`);
    return body.map((item, i) => toDraft(item, `[${i}]`));
  }
  if (!isObject(body))
    throw new WebhookParseError('the body must be one event (a JSON object) or a JSON array of events');
  return [toDraft(body, '')];
}

/** The generic (vendor's own systems) adapter. */
export const adapter = defineAdapter({
  name: 'generic',
  displayName: 'Generic (your own systems)',
  channel: 'app',
  docsUrl: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
  methods: ['POST'],
  ...standardWebhooks(WEBHOOK_HEADERS, { sample }),
  eventMap: EVENT_MAP,
  parse,
});
