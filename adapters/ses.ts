/**
 * Amazon SES event notifications, delivered by Amazon SNS to an HTTPS subscription; e-mail.
 *
 * Payload:  https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 *           https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html (identity notifications)
 * Envelope: https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
 * Security: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 *
 * Verification: SNS RSA signature (v1 SHA1withRSA, v2 SHA256withRSA) over the canonical envelope
 * string, checked with the certificate at `SigningCertURL` (preloaded via `certificates`, else
 * fetched once over https from `sns.<region>.amazonaws.com`), and a `TopicArn` allowlist
 * (src/verify/sns-endpoint.ts, sns-signature.ts, sns-certificates.ts).
 *
 * Quirks:
 * - The signature lives in the JSON body, not in headers; headers (`x-amz-sns-*`) are unsigned and
 *   ignored. The body is JSON sent as `Content-Type: text/plain`: we read raw bytes anyway.
 * - The allowlist is mandatory: anyone can subscribe our URL to a topic in *their* account and AWS
 *   signs those messages too. A foreign topic is `bad_credentials` (401), checked before any fetch.
 * - `SubscriptionConfirmation` is answered in `handshake`, after its signature and topic are
 *   verified, by GETting its `SubscribeURL` (https on an SNS host only); `UnsubscribeConfirmation`
 *   is acknowledged without following its URL (that would re-subscribe).
 * - SNS counts any 200–499 answer as delivered, so a failed certificate fetch or confirmation GET
 *   is answered 500 (InternalError): SNS then retries instead of dropping the message.
 * - `Message` is a string holding the SES JSON: parsed twice. Two SES formats share one map:
 *   event publishing (`eventType`, carries message tags) and identity notifications
 *   (`notificationType`: Bounce, Complaint, Delivery; no tags).
 * - One notification is one SES event, but can name several recipients: one draft per entry of the
 *   event's own list (delivery.recipients, bounce.bouncedRecipients, complaint.complainedRecipients,
 *   deliveryDelay.delayedRecipients), else per `mail.destination` (Send, Open, Click…: SES does not
 *   say which recipient opened or clicked, as anymail `amazon_ses.py` notes).
 * - `providerEventId` is the SNS `MessageId`: stable across SNS retries, per notification rather
 *   than per recipient; the core's de-dup key also hashes the recipient.
 * - Bounce `bounceType` Transient → `email.deferred` (soft bounce; refinement table), Permanent and
 *   Undetermined → `email.bounced`.
 * - The SES "Successfully validated SNS topic…" test notification is not JSON: acknowledged, no event.
 * - Overrides come from SES message tags, `mail.tags.distinct_user_id[0]` (tag values are arrays).
 * - Open/click `ipAddress` and `userAgent` are personal data: left in `raw`, not in details.
 */
import { isObject, optionalObject, optionalString } from '../src/body/read-json';
import { parseJsonExact } from '../src/body/read-json-bigint';
import { defineAdapter } from '../src/core/adapter';
import { detailFields, pickDetails, type DetailFields } from '../src/core/details';
import { WebhookParseError } from '../src/core/errors';
import { refineType, type Refinements, type EventMap } from '../src/core/event-types';
import { type EventDetails, type EventDraft, type EventOverrides } from '../src/core/normalized-event';
import type { WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import {
  answerSnsHandshake,
  createSnsCredentials,
  signSnsRequest,
  snsSettingsSchema,
  stripSnsSignature,
  verifySnsRequest,
  type SnsSettings,
  type SnsSigner,
} from '../src/verify/sns-endpoint';
import { OVERRIDE_FIELDS, own } from '../src/core/overrides';
import { EXAMPLE_TOPIC_ARN, sample } from './samples/ses';

/** Where throwaway test keys claim to live; only ever resolved through the `certificates` option. */
const TEST_CERT_URL = 'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-distinct-adapter-test.pem';
/** Notifications SES publishes to a new topic that are not events (anymail ignores the same string). */
const NON_EVENT_MESSAGES: ReadonlySet<string> = new Set([
  'Successfully validated SNS topic for Amazon SES event publishing.',
]);

/** SES `eventType` / `notificationType` → normalized type. Every documented event type. */
const EVENT_MAP = {
  Send: 'email.sent', // accepted by SES for sending
  Delivery: 'email.delivered',
  Open: 'email.opened', // SES does not say which recipient: every destination gets one
  Click: 'email.clicked',
  Bounce: 'email.bounced', // refined by bounce.bounceType (BOUNCE_TYPE_MAP)
  Complaint: 'email.complained',
  Reject: 'email.rejected', // SES refused to send (virus found)
  DeliveryDelay: 'email.deferred', // SES keeps trying until expirationTime
  'Rendering Failure': 'email.failed', // template could not be rendered: never sent
  Subscription: 'email.unsubscribed', // preferences changed via List-Unsubscribe or the subscription page
} as const satisfies EventMap;

type SesEvent = keyof typeof EVENT_MAP;

/** Bounce refinement: SES publishes only bounces it has given up on; Transient ones are soft. */
const BOUNCE_TYPE_MAP = {
  Permanent: 'email.bounced',
  Transient: 'email.deferred', // soft bounce (mailbox full, message too large…): a later message may succeed
  Undetermined: 'email.bounced',
} as const satisfies EventMap;

/** Second-field refinements: event → the field of its event object that refines it, and its table. */
const REFINEMENTS: Refinements = {
  Bounce: [{ field: 'bounceType', table: BOUNCE_TYPE_MAP }],
};

/** The key of each event's own object in the SES message (`Rendering Failure` breaks the pattern). */
const EVENT_OBJECT: Readonly<Record<SesEvent, string>> = {
  Send: 'send',
  Delivery: 'delivery',
  Open: 'open',
  Click: 'click',
  Bounce: 'bounce',
  Complaint: 'complaint',
  Reject: 'reject',
  DeliveryDelay: 'deliveryDelay',
  'Rendering Failure': 'failure',
  Subscription: 'subscription',
};

/** Events that list their own recipients (strings, or objects with `emailAddress`); others use mail.destination. */
const RECIPIENT_LISTS: Readonly<Partial<Record<SesEvent, string>>> = {
  Delivery: 'recipients',
  Bounce: 'bouncedRecipients',
  Complaint: 'complainedRecipients', // ISPs redact: SES lists every recipient on that domain
  DeliveryDelay: 'delayedRecipients',
};

/** Details per event: fields (paths) of the event object, kept under their own name unless renamed. */
const EVENT_DETAILS: Readonly<Partial<Record<SesEvent, DetailFields>>> = {
  Delivery: detailFields(['smtpResponse', 'processingTimeMillis', 'reportingMTA']),
  Bounce: detailFields(['bounceType', 'bounceSubType', 'reportingMTA', 'feedbackId']),
  Complaint: detailFields(['complaintFeedbackType', 'complaintSubType', 'feedbackId']),
  Click: detailFields(['link']),
  Reject: detailFields(['reason']),
  DeliveryDelay: detailFields(['delayType', 'expirationTime', 'reportingMTA']),
  'Rendering Failure': detailFields(['errorMessage', 'templateName']),
  Subscription: detailFields({
    contactList: 'contactList',
    source: 'subscriptionSource',
    'newTopicPreferences.unsubscribeAll': 'unsubscribeAll',
  }),
};

/** Per-recipient fields of bounce and delay recipients (enhanced status code, DSN action, SMTP answer). */
const RECIPIENT_DETAILS = detailFields(['status', 'action', 'diagnosticCode']);

/** First element of a tag (SES tags are `{ name: [value] }`); a bare string is accepted too. */
function tagValue(tags: Record<string, unknown>, name: string): string | undefined {
  const v = tags[name];
  const first: unknown = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' && first.trim() !== '' ? first.trim() : undefined;
}

interface Recipient {
  email?: string;
  entry?: Record<string, unknown>;
}

function readRecipients(name: string, event: Record<string, unknown>, mail: Record<string, unknown>): Recipient[] {
  const listKey = own(RECIPIENT_LISTS, name);
  const read = (list: unknown): Recipient[] =>
    (Array.isArray(list) ? list : []).flatMap((item: unknown): Recipient[] => {
      if (typeof item === 'string') return item.trim() === '' ? [] : [{ email: item }];
      const address = isObject(item) ? optionalString(item, 'emailAddress') : undefined;
      return address !== undefined && isObject(item) ? [{ email: address, entry: item }] : []; // entries we cannot read are skipped
    });
  const listed = listKey ? read(event[listKey]) : [];
  if (listed.length > 0) return listed;
  const destination = read(mail.destination);
  // No recipient at all (e.g. AmazonSnsSubscriptionSucceeded): still one event, so it is counted.
  return destination.length > 0 ? destination : [{}];
}

function eventDetails(name: string, event: Record<string, unknown>, mail: Record<string, unknown>): EventDetails {
  const details: EventDetails = {};
  const configurationSet = tagValue(optionalObject(mail, 'tags') ?? {}, 'ses:configuration-set');
  if (configurationSet) details.configurationSet = configurationSet;
  const fields = own(EVENT_DETAILS, name);
  return fields ? pickDetails(event, fields, details) : details;
}

function readOverrides(mail: Record<string, unknown>): EventOverrides {
  const tags = optionalObject(mail, 'tags') ?? {};
  const overrides: EventOverrides = {};
  for (const [tag, key] of Object.entries(OVERRIDE_FIELDS)) {
    const value = tagValue(tags, tag);
    if (value) overrides[key] = value;
  }
  return overrides;
}

/** @throws WebhookParseError naming the envelope or SES field, e.g. `Message.eventType` */
function parse(req: WebhookRequest): EventDraft[] {
  const envelope = req.json();
  if (!isObject(envelope)) throw new WebhookParseError('SNS posts a JSON object (the message envelope)');
  const snsType = envelope.Type;
  // Confirmations are answered by handshake; they carry no SES event.
  if (snsType === 'SubscriptionConfirmation' || snsType === 'UnsubscribeConfirmation') return [];
  if (snsType !== 'Notification') throw new WebhookParseError('expected an SNS Notification', 'Type');
  const text = envelope.Message;
  if (typeof text !== 'string') throw new WebhookParseError('"Message" is required and must be a string', 'Message');
  if (NON_EVENT_MESSAGES.has(text.trim())) return [];
  let message: unknown;
  try {
    message = parseJsonExact(text);
  } catch {
    throw new WebhookParseError('is not SES JSON: does this topic carry SES notifications?', 'Message');
  }
  if (!isObject(message)) throw new WebhookParseError('is not an SES notification object', 'Message');
  const name = optionalString(message, 'eventType') ?? optionalString(message, 'notificationType');
  if (!name)
    throw new WebhookParseError('SES message has neither "eventType" nor "notificationType"', 'Message.eventType');
  const mail = optionalObject(message, 'mail') ?? {};
  const objectKey = own(EVENT_OBJECT, name) ?? name.charAt(0).toLowerCase() + name.slice(1);
  const event = optionalObject(message, objectKey) ?? {};
  const common = {
    type: refineType(EVENT_MAP, REFINEMENTS, name, event, 'email'),
    providerEvent: name,
    occurredAt: isoFromString(event.timestamp) ?? isoFromString(mail.timestamp),
    messageId: optionalString(mail, 'messageId') ?? null,
    providerEventId: optionalString(envelope, 'MessageId') ?? null,
    raw: message,
  };
  const details = eventDetails(name, event, mail);
  return readRecipients(name, event, mail).map(({ email, entry }): EventDraft => {
    const perRecipient = entry ? pickDetails(entry, RECIPIENT_DETAILS) : {};
    return {
      ...common,
      ...(email !== undefined ? { email } : {}),
      overrides: readOverrides(mail),
      details: { ...details, ...perRecipient },
    };
  });
}

/** The Amazon SES adapter. */
export const adapter = defineAdapter<SnsSettings, SnsSigner>({
  name: 'ses',
  displayName: 'Amazon SES',
  channel: 'email',
  docsUrl: 'https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html',
  // signsBody: the signature covers every envelope field parse reads (Type, MessageId, TopicArn,
  // Message…), so a changed byte there fails; unsigned fields (SigningCertURL, UnsubscribeURL,
  // MessageAttributes) are never read by parse. batch: one SES event per request (it may name
  // several recipients). No timestamp window: SNS retries re-send the original, signed Timestamp.
  supports: { timestamp: false, rotation: false, signsBody: true, signsUrl: false },
  methods: ['POST'],
  settingsSchema: snsSettingsSchema,
  eventMap: EVENT_MAP,
  verify: verifySnsRequest,
  parse,
  handshake: answerSnsHandshake,
  testing: {
    createCredentials: () => createSnsCredentials(EXAMPLE_TOPIC_ARN, TEST_CERT_URL),
    sign: signSnsRequest,
    sample,
    stripSignature: stripSnsSignature,
    // No shared secret: the verification material is the certificates map (rotation is by URL).
    secretKey: 'certificates',
    signerFromOptions(): undefined {
      return undefined; // asymmetric: the private key is AWS's
    },
  },
});
