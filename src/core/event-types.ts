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
  'email.sent': 'handed to (or accepted for sending by) the provider\'s sending infrastructure',
  'email.delivered': 'accepted by the recipient\'s mail server',
  'email.deferred': 'temporarily refused; the provider will try again',
  'email.bounced': 'permanently refused by the recipient\'s mail server',
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
  'app.event': 'an event from the vendor\'s own systems, forwarded as the feature/action pair it names',
  'app.unknown': 'an event naming a pair the generic source has no row for (still forwarded when the pair is registered)',
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
