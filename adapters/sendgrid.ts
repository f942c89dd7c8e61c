/**
 * SendGrid Event Webhook (Twilio SendGrid), e-mail.
 *
 * Payload:  https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 * Security: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 * Oracle:   github.com/sendgrid/sendgrid-nodejs `packages/eventwebhook` (`@sendgrid/eventwebhook`, tests only)
 *
 * Verification: ECDSA P-256 / SHA-256 over the `X-Twilio-Email-Event-Webhook-Timestamp` value
 * followed by the raw body; base64 DER signature in `X-Twilio-Email-Event-Webhook-Signature`.
 *
 * Quirks:
 * - The signed body is compact JSON with `\r\n` between events and after the closing `]`. Any
 *   re-serialization or trimming breaks the signature, so only the raw bytes are verified (the
 *   SDK's own spec vectors carry the CRLFs; test/adapters/sendgrid.test.ts replays them).
 * - One POST is a batch from one sending server (flushed every 30 s or at 768 KB). Any non-2xx
 *   makes SendGrid re-send the whole batch for up to 24 h, so the core de-duplicates per event.
 * - A body that is one event object rather than an array is that one event: SendGrid's own docs
 *   show Marketing Campaigns events that way (issue #9). Anything else is a 400.
 * - Event names are matched without regard to case (the docs also show `"Processed"`);
 *   `providerEvent` keeps the spelling received. The bounce `type` refinement likewise.
 * - `sg_event_id` is the documented de-dup id, but the docs' own batch example reuses the literal
 *   "sg_event_id" for every event and it can be missing on (un)subscribe events
 *   (sendgrid/docs#2862): the core's key therefore also hashes type, recipient and time.
 * - `sg_message_id` is missing on asynchronous bounces → `messageId` null.
 * - `timestamp` is unix seconds, as a number; one Single Send example shows 13-digit milliseconds,
 *   and strings occur: `isoFromEpochSeconds` takes all three and never invents a time.
 * - Sender metadata (v3 `custom_args`, legacy `unique_args`) is copied to top-level keys of every
 *   event; a nested `custom_args` / `unique_args` object is read as a fallback.
 * - `bounce` with `type: "blocked"` stays `email.bounced`, as in anymail `webhooks/sendgrid.py`
 *   (BOUNCED, reject reason "blocked"): the receiving server refused the message, whereas
 *   `email.rejected` means SendGrid itself refused to send it (`dropped`). The `type` refinement
 *   table below keeps that decision in data.
 * - `processed` → `email.sent`, not `queued` as anymail has it: `processed` is SendGrid's only
 *   "accepted for sending" event, which is what Distinct's `sent` means (PROVIDERS.md §1).
 * - `account_status_change` is account-level (no recipient), so it is left out of the map on
 *   purpose and arrives as `email.unknown`: acknowledged and counted, never forwarded.
 * - `sg_machine_open: true` on an `open` (SendGrid's Apple Machine Open Indicator) sets
 *   `details.machineOpen`, which a source with `machineOpens: ignore` does not forward.
 * - `useragent` and `ip` are not copied into details (personal data); they stay in `raw`.
 * - No replay window is documented, nor whether retries are re-signed with a fresh timestamp:
 *   `toleranceSeconds` (default 300, 0 = no window) is explained in docs/providers/sendgrid.md.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describeValue, fieldPath, isObject, optionalObject, optionalString } from '../src/body/read-json';
import { defineAdapter } from '../src/core/adapter';
import { detailFields, pickDetails, scalarOrListDetail, type DetailFields } from '../src/core/details';
import { WebhookParseError } from '../src/core/errors';
import { refineType, type Refinements, type EventMap } from '../src/core/event-types';
import { type EventDetails, type EventDraft, type EventOverrides } from '../src/core/normalized-event';
import type { WebhookRequest } from '../src/core/request';
import { isoFromEpochSeconds } from '../src/core/time';
import { timestampedKeySignature, type KeySignatureSettings } from '../src/verify/key-signature';
import { publicKeyFromText } from '../src/verify/primitives';
import { OVERRIDE_FIELDS, own } from '../src/core/overrides';
import { sample } from './samples/sendgrid';

const SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
const TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

/** SendGrid `event` → normalized type. Every documented event of the Event Webhook Reference. */
const EVENT_MAP = {
  processed: 'email.sent', // accepted for sending (anymail: QUEUED; see header)
  delivered: 'email.delivered',
  deferred: 'email.deferred', // temporary: SendGrid keeps trying; may end delivered or bounced
  bounce: 'email.bounced', // refined by `type` (BOUNCE_TYPE_MAP)
  dropped: 'email.rejected', // SendGrid refused to send: suppression list, invalid address, spam content
  open: 'email.opened', // may be a machine open (Apple MPP): sg_machine_open → details.machineOpen
  click: 'email.clicked',
  spamreport: 'email.complained',
  unsubscribe: 'email.unsubscribed', // global unsubscribe
  group_unsubscribe: 'email.unsubscribed', // one suppression group only: details.asm_group_id
  group_resubscribe: 'email.subscribed',
  // account_status_change: deliberately absent → email.unknown (account-level, no recipient).
} as const satisfies EventMap;

/** A SendGrid `event` this adapter knows. */
export type SendGridEvent = keyof typeof EVENT_MAP;

/** `bounce` events refined by their `type`. Both stay bounces (anymail semantics, see header). */
const BOUNCE_TYPE_MAP = {
  bounce: 'email.bounced', // hard bounce: the address does not exist
  blocked: 'email.bounced', // the receiving server refused the message (reputation, content); not a SendGrid rejection
} as const satisfies EventMap;

/** Second-field refinements: provider event → the field that refines it and its table. */
const REFINEMENTS: Refinements = {
  bounce: [{ field: 'type', table: BOUNCE_TYPE_MAP, ignoreCase: true }],
};

/** Scalar SendGrid fields copied to `details` (→ Distinct metadata), under the same name. */
const DETAIL_FIELDS = detailFields(
  [
    'reason', // bounce/dropped: SMTP answer or suppression reason
    'status', // bounce/dropped: enhanced SMTP status code
    'response', // delivered/deferred: the receiving server's answer
    'attempt', // deferred: attempt count
    'url', // click, group (un)subscribe: the link followed
    'sg_machine_open', // open: true when SendGrid thinks a machine (Apple MPP, scanner) loaded the pixel
    'bounce_classification', // bounce: SendGrid's category (Invalid Address, Reputation…)
    'asm_group_id', // group (un)subscribe: the suppression group
    'category', // string or array (joined)
  ],
  scalarOrListDetail,
);

/** Fields renamed on the way to `details` for one event, where the SendGrid name is ambiguous. */
const EVENT_DETAIL_RENAMES: Readonly<Partial<Record<SendGridEvent, DetailFields>>> = {
  bounce: detailFields({ type: 'bounce_type' }, scalarOrListDetail), // "bounce" | "blocked"; `type` alone would read like the event type
};

/** The verification key as SendGrid shows it (base64 DER SPKI), or PEM; null when it is not a P-256 public key. */
function parsePublicKey(text: string): KeyObject | null {
  const key = publicKeyFromText(text);
  return key?.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? key : null;
}

/** SendGrid's scheme: ECDSA P-256 / SHA-256 over the timestamp header's text then the raw body. */
const verification = timestampedKeySignature({
  signatureHeader: SIGNATURE_HEADER,
  timestampHeader: TIMESTAMP_HEADER,
  digest: 'sha256',
  parseKey: parsePublicKey,
  keyMessages: {
    required: 'required: the verification key SendGrid shows (base64 DER) or PEM, or a list of them for rotation',
    invalid: 'not a P-256 public key in base64 DER or PEM',
  },
  // A DER P-256 signature is a SEQUENCE (0x30) of 8 to 72 bytes.
  signatureShape: (bytes) => bytes.length >= 8 && bytes.length <= 72 && bytes[0] === 0x30,
  malformedSignature: `${SIGNATURE_HEADER} is not a base64 DER ECDSA signature`,
  signedBytes: (timestamp, rawBody) => Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]),
  // SendGrid sends seconds; a 13-digit value is read as milliseconds rather than as the far future.
  timestampSeconds: (text, value) => (text.trim().length === 13 ? value / 1000 : value),
  testKeyPair() {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return { publicKeyText: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), privateKey };
  },
  sample,
});

/** Parsed settings: the keys (parsed once at start-up) and the timestamp window. */
export type SendGridSettings = KeySignatureSettings;

/**
 * The map key for a received event name: itself when it is one (the common, allocation-free
 * case), else its lower-case form (`"Processed"` → `processed`).
 */
function eventKey(name: string): string {
  return Object.prototype.hasOwnProperty.call(EVENT_MAP, name) ? name : name.toLowerCase();
}

function readDetails(name: string, item: Record<string, unknown>): EventDetails {
  const details = pickDetails(item, DETAIL_FIELDS);
  // SendGrid's Apple Machine Open Indicator (boolean; a string "true" is read the same way).
  if (name === 'open' && (item.sg_machine_open === true || item.sg_machine_open === 'true')) details.machineOpen = true;
  const renames = own(EVENT_DETAIL_RENAMES, name);
  if (renames) pickDetails(item, renames, details);
  return details;
}

const OVERRIDE_WIRE_KEYS = Object.keys(OVERRIDE_FIELDS) as ReadonlyArray<keyof typeof OVERRIDE_FIELDS>;

/** The first non-blank `wire` value of `source`, trimmed. */
function overrideValue(source: Record<string, unknown> | undefined, wire: string): string | undefined {
  return source === undefined ? undefined : optionalString(source, wire)?.trim() || undefined;
}

function readOverrides(item: Record<string, unknown>): EventOverrides {
  // Top-level keys first (how SendGrid echoes custom_args), then a nested object if one is present.
  // No per-event arrays: this runs for every event of a batch.
  const customArgs = optionalObject(item, 'custom_args');
  const uniqueArgs = optionalObject(item, 'unique_args');
  const overrides: EventOverrides = {};
  for (const wire of OVERRIDE_WIRE_KEYS) {
    const value = overrideValue(item, wire) ?? overrideValue(customArgs, wire) ?? overrideValue(uniqueArgs, wire);
    if (value) overrides[OVERRIDE_FIELDS[wire]] = value;
  }
  return overrides;
}

function toDraft(item: unknown, path: string): EventDraft {
  if (!isObject(item)) throw new WebhookParseError(`expected an event object, got ${describeValue(item)}`, path);
  // Stricter than requiredString(): a number or blank text is no SendGrid event name (a 400, not email.unknown).
  const name = item.event;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new WebhookParseError('"event" is required and must be a non-empty string', fieldPath(path, 'event'));
  }
  const key = eventKey(name);
  const draft: EventDraft = {
    type: refineType(EVENT_MAP, REFINEMENTS, key, item, 'email'),
    providerEvent: name,
    // A number or a numeric string alike (seconds, a fraction, or 13-digit milliseconds).
    occurredAt: isoFromEpochSeconds(item.timestamp),
    messageId: optionalString(item, 'sg_message_id') ?? null,
    providerEventId: optionalString(item, 'sg_event_id') ?? null,
    overrides: readOverrides(item),
    details: readDetails(key, item),
    raw: item,
  };
  const email = optionalString(item, 'email');
  if (email !== undefined) draft.email = email;
  return draft;
}

/** @throws WebhookParseError naming the index of the bad event, e.g. `[3].event` (or `event` for a single object) */
function parse(req: WebhookRequest): EventDraft[] {
  const body = req.json();
  if (Array.isArray(body)) return body.map((item, index) => toDraft(item, `[${index}]`));
  // One event object (SendGrid's Marketing Campaigns examples): one event.
  if (isObject(body)) return [toDraft(body, '')];
  throw new WebhookParseError(
    `SendGrid posts a JSON array of events (or one event object), got ${describeValue(body)}`,
  );
}

/** The SendGrid adapter. */
export const adapter = defineAdapter({
  name: 'sendgrid',
  displayName: 'SendGrid',
  channel: 'email',
  docsUrl: 'https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event',
  methods: ['POST'],
  ...verification,
  eventMap: EVENT_MAP,
  parse,
});
