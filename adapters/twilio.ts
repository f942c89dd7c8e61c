/**
 * Twilio Programmable Messaging status callbacks, SMS (and WhatsApp/other channels through the same API).
 *
 * Payload:  https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 *           https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
 * Security: https://www.twilio.com/docs/usage/webhooks/webhooks-security
 *           https://www.twilio.com/docs/usage/webhooks/webhook-shared-keys (beta)
 * Retries:  https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides
 * Oracle:   github.com/twilio/twilio-node `src/webhooks/webhooks.ts` (`twilio`, tests only)
 *
 * Verification: `X-Twilio-Signature` = base64(HMAC-SHA1(Auth Token, public URL + form params sorted
 * by name, each as name+value)), on every URL spelling twilio-node v6 accepts
 * (src/verify/twilio-signature.ts). JSON bodies: the URL carries `bodySHA256`, the URL alone is
 * signed and the raw body must hash to it.
 *
 * Quirks:
 * - The URL is signed, query included, so `req.url` must be exactly the URL configured at Twilio:
 *   the source's `publicUrl` (or `server.publicUrl`) plus the raw received query. Behind a
 *   TLS-terminating proxy the request's own URL never matches.
 * - Twilio signs decoded form values, not bytes: `%2B` and `%2b` are the same request to it, and so
 *   to us. Parameters are all signed (Twilio adds new ones without notice), never a whitelist.
 * - Sender metadata rides in the StatusCallback URL's query (`distinct_user_id`…), which the
 *   signature covers; it is read from `req.query`, never from the body.
 * - No event time: `occurredAt` is null (the core uses the receipt time), except the carrier's
 *   `RawDlrDoneDate` (YYMMDDhhmm, zone unstated, read as UTC) on delivered/undelivered.
 * - No per-event id: `providerEventId` is null and the core hashes message id + status. The
 *   `I-Twilio-Idempotency-Token` header (same across retries of one callback) goes to details only.
 * - Callbacks are unordered (`delivered` may precede `sent`) and one status per request.
 * - WhatsApp sends `read` after `delivered`; mapping it to `sms.delivered` would count one message
 *   delivered twice, so it is `sms.unknown` (acknowledged, never forwarded by default).
 * - An inbound message posted to a status URL has `SmsStatus=received` and no `MessageStatus`; its
 *   customer is `From`, not `To`. It is acknowledged (`sms.received`) and ignored by default.
 * - The acknowledgement is an empty TwiML `<Response/>` (text/xml): an inbound message posted
 *   here gets "no reply" instead of a JSON body that Twilio would try to read as TwiML.
 * - The signature has no timestamp: replays are only absorbed by de-duplication.
 * - Webhook Settings (beta) may sign with a SharedKey and `X-Twilio-Webhooks-Signature-Settings:
 *   key=…,algorithm=HMAC_SHA256`: only the hash and key change. Opt in with `sharedKeySecret`.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formRecord, overridesFromForm, readForm } from '../src/body/read-form';
import { isObject, optionalString } from '../src/body/read-json';
import { defineAdapter, type UnsignedRequest } from '../src/core/adapter';
import { urlSigned } from '../src/verify/shared-secret';
import { detailFields, pickDetails, trimmedTextDetail } from '../src/core/details';
import { WebhookParseError, WebhookVerificationError } from '../src/core/errors';
import { mapEventType, type EventMap, type EventType } from '../src/core/event-types';
import type { EventDetails, EventDraft } from '../src/core/normalized-event';
import { header, withoutHeaders, type WebhookRequest } from '../src/core/request';
import { rotatableSecret } from '../src/verify/settings';
import { requireHeader } from '../src/verify/primitives';
import {
  computeTwilioSignature,
  twilioBodyHash,
  validateTwilioSignature,
  validateTwilioSignatureWithBody,
  type TwilioHmacAlgorithm,
  type TwilioParams,
} from '../src/verify/twilio-signature';
import { own } from '../src/core/overrides';
import { sample } from './samples/twilio';

const SIGNATURE_HEADER = 'X-Twilio-Signature';
const SETTINGS_HEADER = 'X-Twilio-Webhooks-Signature-Settings';
const IDEMPOTENCY_HEADER = 'I-Twilio-Idempotency-Token';
const BODY_HASH_PARAM = 'bodySHA256';

/** Twilio `MessageStatus` (or `SmsStatus`) → normalized type. Every value of the Message resource's `status`. */
export const EVENT_MAP = {
  queued: 'sms.queued',
  accepted: 'sms.queued', // Messaging Service took it; no sender chosen yet
  scheduled: 'sms.queued', // Messaging Service will send it at the scheduled time
  sending: 'sms.queued', // being dispatched, not yet confirmed with the carrier: as sms.sent it would count "sent" twice
  sent: 'sms.sent',
  delivered: 'sms.delivered',
  undelivered: 'sms.undelivered', // the carrier reported non-delivery; ErrorCode says why
  failed: 'sms.failed', // never left Twilio; ErrorCode says why
  canceled: 'sms.unknown', // a scheduled message the sender canceled: a choice, not a failure, so never counted as failed
  read: 'sms.unknown', // WhatsApp/RCS read receipt after `delivered`: as sms.delivered it would count delivered twice
  partially_delivered: 'sms.unknown', // only part of the message arrived: neither delivered nor failed
  receiving: 'sms.received', // inbound message still arriving (MMS)
  received: 'sms.received', // inbound message: acknowledged and ignored on a status route
} as const satisfies EventMap;

/** A Twilio message status this adapter knows. */
export type TwilioStatus = keyof typeof EVENT_MAP;

/** Which parameter holds the customer's number, when it is not `To`: inbound messages come from them. */
const PHONE_FIELD: Readonly<Partial<Record<EventType, string>>> = {
  'sms.received': 'From',
};

/** Statuses whose `RawDlrDoneDate` is the carrier's delivery-report time (Twilio passes the DLR field through). */
export const DONE_DATE_STATUSES: ReadonlySet<string> = new Set<TwilioStatus>(['delivered', 'undelivered']);

/** Twilio parameters copied to `details` (→ Distinct metadata). AccountSid is left out on purpose. */
const DETAIL_FIELDS = detailFields(
  {
    ErrorCode: 'errorCode', // failed/undelivered: https://www.twilio.com/docs/api/errors
    ChannelPrefix: 'channelPrefix', // whatsapp, rcs…: absent for plain SMS
    MessagingServiceSid: 'messagingServiceSid',
  },
  trimmedTextDetail,
);

/** `algorithm=` of the Webhook Settings header (beta) → HMAC hash. */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, TwilioHmacAlgorithm> = new Map([
  ['HMAC_SHA1', 'sha1'],
  ['HMAC_SHA256', 'sha256'],
]);

/** Parsed settings (secrets inside: never log). */
interface TwilioSettings {
  /** Account Auth Tokens (rotation: primary and secondary both valid). */
  authToken: readonly string[];
  /** SharedKey secrets, for requests carrying `X-Twilio-Webhooks-Signature-Settings` (beta). */
  sharedKeySecret?: readonly string[] | undefined;
}

const settingsSchema = z
  .object({
    authToken: rotatableSecret,
    sharedKeySecret: rotatableSecret.optional(),
  })
  .strict();

/** True when the URL's query names `bodySHA256` (Twilio's JSON-body scheme). */
function hasBodyHash(url: string): boolean {
  // Without a query, or without the name in it (plain or percent-encoded), there is nothing to parse.
  const q = url.indexOf('?');
  if (q === -1 || (!url.includes(BODY_HASH_PARAM, q) && !url.includes('%', q))) return false;
  try {
    return new URL(url).searchParams.has(BODY_HASH_PARAM);
  } catch {
    return false;
  }
}

/** The keys and hash to verify with: the Auth Token and SHA-1, unless a Webhook Setting (beta) signed the request. */
function signingKeys(
  req: WebhookRequest,
  settings: TwilioSettings,
): { keys: readonly string[]; algorithm: TwilioHmacAlgorithm } {
  const signatureSettings = header(req, SETTINGS_HEADER);
  if (signatureSettings === undefined) return { keys: settings.authToken, algorithm: 'sha1' };
  const name = /(?:^|,)\s*algorithm\s*=\s*([^,\s]+)/i.exec(signatureSettings)?.[1]?.toUpperCase() ?? '';
  const algorithm = SIGNATURE_ALGORITHMS.get(name);
  if (!algorithm) {
    throw new WebhookVerificationError('malformed_signature', `${SETTINGS_HEADER} names an unsupported algorithm`);
  }
  // Without a configured SharedKey the Auth Token is tried: still a secret only Twilio and we hold.
  return { keys: settings.sharedKeySecret ?? settings.authToken, algorithm };
}

/** @throws WebhookVerificationError */
function verify(req: WebhookRequest, settings: TwilioSettings): void {
  const signature = requireHeader(header(req, SIGNATURE_HEADER), SIGNATURE_HEADER);
  const { keys, algorithm } = signingKeys(req, settings);
  const hint =
    header(req, SETTINGS_HEADER) !== undefined && !settings.sharedKeySecret
      ? ' (signed with a SharedKey: set sharedKeySecret)'
      : '';
  if (hasBodyHash(req.url)) {
    // Security: the hash is checked over the exact bytes received, in constant time.
    if (validateTwilioSignatureWithBody(keys, signature, req.url, req.rawBody, algorithm)) return;
    throw new WebhookVerificationError(
      'signature_mismatch',
      `${SIGNATURE_HEADER} does not match the public URL, or the body does not hash to its bodySHA256${hint}`,
    );
  }
  let params: TwilioParams;
  try {
    params = req.form().all;
  } catch (cause) {
    throw new WebhookVerificationError(
      'signature_mismatch',
      'the body is not UTF-8 form data, so Twilio cannot have signed it',
      { cause },
    );
  }
  if (validateTwilioSignature(keys, signature, req.url, params, algorithm)) return;
  // The URL is never echoed: it may hold user:pass@ credentials.
  throw new WebhookVerificationError(
    'signature_mismatch',
    `${SIGNATURE_HEADER} does not match the public URL and form parameters (is publicUrl exactly the URL configured at Twilio?)${hint}`,
  );
}

/** `YYMMDDhhmm` (carrier DLR done date, read as UTC) → ISO; null for anything that is not a real minute. */
function isoFromDoneDate(value: string | undefined): string | null {
  const m = value === undefined ? null : /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const [, yy, mo, dd, hh, mi] = m;
  const year = 2000 + Number(yy);
  const month = Number(mo);
  const day = Number(dd);
  // No rolling over: 31 February or minute 75 is not a date (Date.UTC would make it March or the next hour).
  const real =
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && Number(hh) <= 23 && Number(mi) <= 59;
  return real ? `20${yy}-${mo}-${dd}T${hh}:${mi}:00Z` : null;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The body's parameters and its raw form: form-encoded (Twilio's default) or a JSON object. */
function readParams(req: WebhookRequest): { fields: Record<string, unknown>; raw: unknown } {
  if (/json/i.test(header(req, 'content-type') ?? '')) {
    const body = req.json();
    if (!isObject(body)) throw new WebhookParseError('a JSON status callback must be an object of parameters');
    return { fields: body, raw: body };
  }
  const form = req.form();
  // The fields object has no prototype, so a parameter can never shadow an inherited name.
  return { fields: form.fields, raw: formRecord(form) };
}

function readDetails(req: WebhookRequest, fields: Record<string, unknown>): EventDetails {
  const details = pickDetails(fields, DETAIL_FIELDS);
  const token = header(req, IDEMPOTENCY_HEADER)?.trim();
  if (token) details.idempotencyToken = token;
  return details;
}

/** @throws WebhookParseError naming the missing parameter (`MessageSid`, `MessageStatus`) */
function parse(req: WebhookRequest): EventDraft[] {
  const { fields, raw } = readParams(req);
  const messageId = optionalString(fields, 'MessageSid') ?? optionalString(fields, 'SmsSid');
  if (messageId === undefined) throw new WebhookParseError('"MessageSid" (or "SmsSid") is required', 'MessageSid');
  // Inbound messages carry only SmsStatus; status callbacks carry both, with the same value.
  const status = optionalString(fields, 'MessageStatus') ?? optionalString(fields, 'SmsStatus');
  if (status === undefined)
    throw new WebhookParseError('"MessageStatus" (or "SmsStatus") is required', 'MessageStatus');
  const type = mapEventType(EVENT_MAP, status, 'sms');
  const phone = optionalString(fields, own(PHONE_FIELD, type) ?? 'To');
  return [
    {
      type,
      providerEvent: status,
      occurredAt: DONE_DATE_STATUSES.has(status) ? isoFromDoneDate(optionalString(fields, 'RawDlrDoneDate')) : null,
      messageId,
      providerEventId: null,
      ...(phone !== undefined ? { phone } : {}),
      overrides: overridesFromForm(req.query), // the callback URL's query
      details: readDetails(req, fields),
      raw,
    },
  ];
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  return Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

/** The Twilio adapter. */
export const adapter = defineAdapter({
  name: 'twilio',
  displayName: 'Twilio',
  channel: 'sms',
  docsUrl: 'https://www.twilio.com/docs/messaging/guides/track-outbound-message-status',
  methods: ['POST'],
  ...urlSigned({
    secretKey: 'authToken',
    generateSecret: () => randomBytes(16).toString('hex'),
    settingsSchema,
    timestamp: false,
    signsBody: true,
    verify,
    signatureHeaders: [SIGNATURE_HEADER],
    /** Form bodies: URL + sorted params. JSON bodies: appends `bodySHA256` to the URL (as Twilio does) and signs the URL. */
    sign(req: UnsignedRequest, signer: string): UnsignedRequest {
      let url = req.url;
      let signature: string;
      if (/json/i.test(headerOf(req.headers, 'content-type') ?? '') || hasBodyHash(url)) {
        if (!hasBodyHash(url)) url += `${url.includes('?') ? '&' : '?'}${BODY_HASH_PARAM}=${twilioBodyHash(req.body)}`;
        signature = computeTwilioSignature(signer, url, {});
      } else {
        signature = computeTwilioSignature(signer, url, readForm(req.body).all);
      }
      return {
        ...req,
        url,
        headers: { ...withoutHeaders(req.headers, [SIGNATURE_HEADER]), [SIGNATURE_HEADER.toLowerCase()]: signature },
      };
    },
    sample,
  }),
  eventMap: EVENT_MAP,
  parse,
  acknowledgement: { status: 200, headers: { 'content-type': 'text/xml' }, body: '<Response/>' },
});
