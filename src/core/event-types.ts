/**
 * The closed vocabulary of normalized event types (DESIGN §3).
 *
 * Adapters map every provider event onto exactly one of these; anything a provider
 * sends that we do not recognise becomes `<channel>.unknown`, which is never an error.
 * Each type carries a one-line meaning so the docs and the code cannot drift
 * (docs/events.md is checked against this table by test/unit/event-types.test.ts).
 */

/**
 * A message's transport. `app` is the vendor's own systems (the `generic` source): events that
 * no e-mail or SMS provider emits, each naming its own Distinct feature/action pair.
 */
export type Channel = 'email' | 'sms' | 'app';

export const EMAIL_EVENT_TYPES = {
  'email.queued': 'accepted by the provider, not yet handed to a mail server',
  'email.sent': "handed to (or accepted for sending by) the provider's sending infrastructure",
  'email.delivered': "accepted by the recipient's mail server",
  'email.deferred': 'temporarily refused; the provider will try again',
  'email.bounced': "permanently refused by the recipient's mail server",
  'email.rejected': 'refused by the provider before sending (suppression, policy, invalid address)',
  'email.failed': 'could not be sent for another reason (rendering, account, provider error)',
  'email.opened': 'the tracking pixel was loaded (may be a machine open; see details)',
  'email.clicked': 'a tracked link was followed',
  'email.complained': 'the recipient marked the message as spam',
  'email.unsubscribed': 'the recipient unsubscribed',
  'email.subscribed': 'the recipient re-subscribed',
  'email.unknown': 'an event this adapter does not recognise (acknowledged, never an error)',
} as const;

export const SMS_EVENT_TYPES = {
  'sms.queued': 'accepted by the provider and waiting to be sent',
  'sms.sent': 'handed to the carrier',
  'sms.delivered': 'the carrier reported delivery to the handset',
  'sms.undelivered': 'the carrier reported that the message could not be delivered',
  'sms.failed': 'the provider could not send the message',
  'sms.received': 'an inbound message (acknowledged and ignored on status routes)',
  'sms.unknown': 'an event this adapter does not recognise (acknowledged, never an error)',
} as const;

export const APP_EVENT_TYPES = {
  'app.event': "an event from the vendor's own systems, forwarded as the feature/action pair it names",
  'app.unknown':
    'an event naming a pair the generic source has no row for (still forwarded when the pair is registered)',
} as const;

export type EmailEventType = keyof typeof EMAIL_EVENT_TYPES;
export type SmsEventType = keyof typeof SMS_EVENT_TYPES;
export type AppEventType = keyof typeof APP_EVENT_TYPES;
/** Every normalized event type. */
export type EventType = EmailEventType | SmsEventType | AppEventType;

/** One line of documentation for every event type. */
export const EVENT_TYPE_DOCS: Readonly<Record<EventType, string>> = {
  ...EMAIL_EVENT_TYPES,
  ...SMS_EVENT_TYPES,
  ...APP_EVENT_TYPES,
};

export const EVENT_TYPES = Object.keys(EVENT_TYPE_DOCS) as EventType[];

export function isEventType(value: string): value is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_TYPE_DOCS, value);
}

/** A provider's raw-event-name → normalized-type table, written as data in each adapter. */
export type EventMap = Readonly<Record<string, EventType>>;

/**
 * Looks a provider's raw event name up in an adapter's event map.
 * Returns `<channel>.unknown` when nothing matches (never throws, never undefined).
 */
export function mapEventType(eventMap: EventMap, raw: string | undefined | null, channel: Channel): EventType {
  if (raw != null && Object.prototype.hasOwnProperty.call(eventMap, raw)) return eventMap[raw]!;
  return `${channel}.unknown`;
}

/**
 * A second-field refinement: once the raw event name is known, `record[field]` looked up in
 * `table` decides the type (Postmark's bounce `Type`, Mailgun's `severity`). Numbers and booleans
 * are looked up as their text (`'10'`, `'false'`); any other non-string never matches.
 */
export interface Refinement {
  readonly field: string;
  readonly table: EventMap;
  /** Applies only when this holds (Mailjet: a bounce that is not `hard_bounce`). */
  readonly when?: (record: Readonly<Record<string, unknown>>) => boolean;
  /** A value not in `table` is looked up lower-cased too (SendGrid's bounce `type`). */
  readonly ignoreCase?: boolean;
}

/**
 * Raw event name → the refinements tried in order (the first that matches wins); the key `'*'`
 * holds refinements tried for every name, after the name's own. The one refinement shape: the
 * types an adapter emits are derived from it ({@link refinedTypes}), never listed by hand.
 */
export type Refinements = Readonly<Partial<Record<string, readonly Refinement[]>>>;

/** The refinement key of a field value: strings as they are, finite numbers and booleans as text. */
function refinementKey(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return typeof value === 'boolean' ? String(value) : undefined;
}

function applyRefinements(
  list: readonly Refinement[],
  record: Readonly<Record<string, unknown>>,
): EventType | undefined {
  for (const r of list) {
    if (r.when !== undefined && !r.when(record)) continue;
    const key = refinementKey(record[r.field]);
    if (key === undefined) continue;
    if (Object.prototype.hasOwnProperty.call(r.table, key)) return r.table[key]!;
    if (r.ignoreCase) {
      const lower = key.toLowerCase();
      if (Object.prototype.hasOwnProperty.call(r.table, lower)) return r.table[lower]!;
    }
  }
  return undefined;
}

/**
 * The normalized type of a provider event: its refinements (by raw name, then `'*'`) looked up
 * in `record`, else {@link mapEventType}. Never throws; `<channel>.unknown` when nothing matches.
 */
export function refineType(
  eventMap: EventMap,
  refinements: Refinements,
  raw: string | undefined | null,
  record: Readonly<Record<string, unknown>>,
  channel: Channel,
): EventType {
  if (raw != null && raw !== '*' && Object.prototype.hasOwnProperty.call(refinements, raw)) {
    const refined = applyRefinements(refinements[raw]!, record);
    if (refined !== undefined) return refined;
  }
  const any = refinements['*'];
  if (any !== undefined) {
    const refined = applyRefinements(any, record);
    if (refined !== undefined) return refined;
  }
  return mapEventType(eventMap, raw, channel);
}

/** Every type a set of refinements can produce, in first-seen order. */
export function refinedTypes(refinements: Refinements | undefined): EventType[] {
  const types = new Set<EventType>();
  for (const list of Object.values(refinements ?? {}))
    for (const r of list ?? []) for (const t of Object.values(r.table)) types.add(t);
  return [...types];
}
