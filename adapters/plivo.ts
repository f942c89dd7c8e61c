/**
 * Plivo message status callbacks (SMS, MMS, WhatsApp).
 *
 * Payload:  https://www.plivo.com/docs/messaging/api/message/message-status-callbacks
 * Security: https://www.plivo.com/docs/voice/concepts/signature-validation (V3)
 * Retries:  https://support.plivo.com/hc/en-us/articles/360041344652
 * Oracle:   github.com/plivo/plivo-node `lib/utils/v3Security.js` and plivo-python
 *           `plivo/utils/signature_v3.py` (not installed; ported to src/verify/plivo-signature.ts)
 *
 * Verification: `X-Plivo-Signature-V3` = base64(HMAC-SHA256(Auth Token, public URL with its query
 * params sorted + '.' + POST params sorted as name+value + '.' + `X-Plivo-Signature-V3-Nonce`)).
 *
 * Quirks:
 * - The URL is signed, query included, so `req.url` must be exactly the callback URL given to
 *   Plivo: the source's `publicUrl` (or `server.publicUrl`) plus the received query (like Twilio).
 * - The header may hold several comma-separated signatures (one per Auth Token Plivo has active);
 *   any one matching any configured token is accepted.
 * - The signature has no timestamp: replays are only absorbed by de-duplication. The older V2
 *   scheme (URL + nonce, body not signed) is deliberately not accepted.
 * - The callback `method` may be GET: the parameters then arrive in the query string (signed
 *   with the URL) and the same parsing applies.
 * - Sender metadata rides in the callback URL's query (`distinct_user_id`…), covered by the
 *   signature; it is read from `req.query`.
 * - No per-event id: `providerEventId` is null and the core hashes MessageUUID + status + recipient.
 * - Times (`QueuedTime`, `SentTime`, `DeliveryReportTime`) are documented as
 *   `YYYY-mm-dd HH:MM:SS.SSSSSS` with no zone: they become `occurredAt` only when they carry an
 *   explicit offset; otherwise `occurredAt` is null (receipt time is used) and the raw value is
 *   kept in details. A guessed zone could be hours off; the receipt time is seconds off.
 * - Inbound messages carry no `Status`; one posted here (it has `Text`) is `received`
 *   (`sms.received`, the customer is `From`), acknowledged and ignored.
 * - WhatsApp `read` follows `delivered`: it is `sms.unknown` so a message is not counted twice.
 * - Plivo retries non-2xx (or no answer within 8 s) 3 times: after 60 s, 120 s and 240 s.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { readForm } from '../src/body/read-form';
import { optionalString } from '../src/body/read-json';
import { defineAdapter, type UnsignedRequest } from '../src/core/adapter';
import { WebhookParseError, WebhookVerificationError } from '../src/core/errors';
import { mapEventType, type EventMap, type SmsEventType } from '../src/core/event-types';
import type { EventDetails, EventDraft, EventOverrides } from '../src/core/normalized-event';
import { header, withoutHeaders, type WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import { rotatableSecret } from '../src/config/schema';
import { requireHeader } from '../src/verify/primitives';
import { computePlivoV3Signature, validatePlivoV3Signature, type PlivoParams } from '../src/verify/plivo-signature';
import { own, overridesFrom, toWireOverrides } from '../src/core/overrides';

const SIGNATURE_HEADER = 'X-Plivo-Signature-V3';
const NONCE_HEADER = 'X-Plivo-Signature-V3-Nonce';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** Plivo `Status` → normalized type. */
const EVENT_MAP = {
  queued: 'sms.queued',
  sent: 'sms.sent', // handed to the carrier
  delivered: 'sms.delivered',
  undelivered: 'sms.undelivered', // the carrier reported non-delivery; ErrorCode says why
  rejected: 'sms.undelivered', // the carrier refused it (regulation); a delivery-report outcome
  failed: 'sms.failed', // Plivo could not hand it to a carrier; ErrorCode says why
  read: 'sms.unknown', // WhatsApp read receipt after `delivered`: as sms.delivered it would count twice
  received: 'sms.received', // an inbound message posted to a status URL (no Status, see parse)
} as const satisfies EventMap;

type PlivoStatus = keyof typeof EVENT_MAP;

/** Statuses whose time parameter says when that status was reached. */
const STATUS_TIME_FIELD: Readonly<Partial<Record<PlivoStatus, string>>> = {
  queued: 'QueuedTime',
  sent: 'SentTime',
  delivered: 'DeliveryReportTime',
  undelivered: 'DeliveryReportTime',
  rejected: 'DeliveryReportTime',
};

/** Plivo parameters copied to `details` (→ Distinct metadata). */
const DETAIL_FIELDS = {
  ErrorCode: 'errorCode', // failed/undelivered: Plivo's SMS error code
  Type: 'messageType', // sms | mms | whatsapp
  Units: 'units',
  Sequence: 'sequence', // callback order for this message
} as const;

/** Parsed settings (secrets inside: never log). */
interface PlivoSettings {
  /** Auth Tokens of the account or subaccount (rotation: old and new both valid). */
  authToken: readonly string[];
}

const settingsSchema = z.object({ authToken: rotatableSecret }).strict();

/** POST parameters (GET carries none: Plivo's are in the signed query). */
function bodyParams(method: string, rawBody: Buffer): PlivoParams {
  return method.toUpperCase() === 'GET' ? {} : readForm(rawBody).all;
}

/** @throws WebhookVerificationError */
function verify(req: WebhookRequest, settings: PlivoSettings): void {
  const signature = requireHeader(header(req, SIGNATURE_HEADER), SIGNATURE_HEADER);
  const nonce = requireHeader(header(req, NONCE_HEADER), NONCE_HEADER);
  let params: PlivoParams;
  try {
    params = bodyParams(req.method, req.rawBody);
  } catch (cause) {
    throw new WebhookVerificationError('signature_mismatch', 'the body is not UTF-8 form data, so Plivo cannot have signed it', { cause });
  }
  // Security: constant-time compares inside; the URL is never echoed (it may hold credentials).
  if (validatePlivoV3Signature(settings.authToken, signature, req.method, req.url, params, nonce)) return;
  throw new WebhookVerificationError(
    'signature_mismatch',
    `${SIGNATURE_HEADER} does not match the public URL and parameters (is publicUrl exactly the callback URL given to Plivo, and the Auth Token the right account's?)`,
  );
}

/** A Plivo time → ISO, only when it states its zone (see header). */
function isoIfZoned(value: string | undefined): string | null {
  return value !== undefined && /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value.trim()) ? isoFromString(value) : null;
}

function readOverrides(query: string): EventOverrides {
  const params = readForm(query).fields;
  return overridesFrom(params);
}

function readDetails(fields: Record<string, string>, timeField: string | undefined): EventDetails {
  const details: EventDetails = {};
  for (const [field, key] of Object.entries(DETAIL_FIELDS)) {
    const value = optionalString(fields, field)?.trim();
    if (value) details[key] = value;
  }
  const time = timeField === undefined ? undefined : optionalString(fields, timeField)?.trim();
  if (time && timeField) details[timeField.charAt(0).toLowerCase() + timeField.slice(1)] = time;
  return details;
}

/** @throws WebhookParseError naming the missing parameter */
function parse(req: WebhookRequest): EventDraft[] {
  const form = req.method.toUpperCase() === 'GET' ? readForm(req.query) : readForm(req.rawBody);
  const fields: Record<string, string> = { ...form.fields };
  const messageId = optionalString(fields, 'MessageUUID');
  if (messageId === undefined) throw new WebhookParseError('"MessageUUID" is required', 'MessageUUID');
  // Inbound messages carry no Status (PROVIDERS.md §12 calls them `received`).
  const status = optionalString(fields, 'Status') ?? (optionalString(fields, 'Text') !== undefined ? 'received' : undefined);
  if (status === undefined) throw new WebhookParseError('"Status" is required', 'Status');
  const type = mapEventType(EVENT_MAP, status, 'sms');
  const phone = optionalString(fields, type === 'sms.received' ? 'From' : 'To');
  const timeField = own(STATUS_TIME_FIELD, status);
  // Object.fromEntries defines own properties, so a parameter named __proto__ stays data.
  const raw = Object.fromEntries(Object.entries(form.all).map(([name, values]) => [name, values.length === 1 ? values[0]! : [...values]]));
  return [
    {
      type,
      providerEvent: status,
      occurredAt: timeField === undefined ? null : isoIfZoned(optionalString(fields, timeField)),
      messageId,
      providerEventId: null,
      ...(phone !== undefined ? { phone } : {}),
      overrides: readOverrides(req.query),
      details: readDetails(fields, timeField),
      raw,
    },
  ];
}

/** The status `simulate` sends for each normalized type. */
const SAMPLE_STATUS = {
  'sms.queued': 'queued',
  'sms.sent': 'sent',
  'sms.delivered': 'delivered',
  'sms.undelivered': 'undelivered',
  'sms.failed': 'failed',
  'sms.unknown': 'read',
} as const satisfies Partial<Record<SmsEventType, PlivoStatus>>;

/** Plivo SMS error codes on sample failures: 80 destination temporarily unavailable, 300 failed to dispatch. */
const SAMPLE_ERROR_CODE: Readonly<Partial<Record<PlivoStatus, string>>> = { undelivered: '80', failed: '300' };
const SAMPLE_SENDER = '14155550100';

/** Plivo's time format: `YYYY-mm-dd HH:MM:SS.SSSSSS` (microseconds). */
function plivoTime(now: Date): string {
  return `${now.toISOString().slice(0, 10)} ${now.toISOString().slice(11, 23)}000`;
}

export const adapter = defineAdapter<PlivoSettings, string>({
  name: 'plivo',
  displayName: 'Plivo',
  channel: 'sms',
  docsUrl: 'https://www.plivo.com/docs/messaging/api/message/message-status-callbacks',
  supports: { timestamp: false, rotation: true, signsBody: true, signsUrl: true, batch: false },
  methods: ['POST', 'GET'],
  settingsSchema,
  eventMap: EVENT_MAP,
  verify,
  parse,
  testing: {
    createCredentials() {
      const authToken = randomBytes(20).toString('base64url');
      return { options: { authToken }, signer: authToken };
    },
    sign(req: UnsignedRequest, signer: string): UnsignedRequest {
      // Plivo's nonces are long decimal strings.
      const nonce = BigInt(`0x${randomBytes(8).toString('hex')}`).toString().padStart(20, '1');
      const signature = computePlivoV3Signature(signer, req.method, req.url, bodyParams(req.method, req.body), nonce) ?? '';
      return {
        ...req,
        headers: { ...withoutHeaders(req.headers, [SIGNATURE_HEADER, NONCE_HEADER]), [SIGNATURE_HEADER.toLowerCase()]: signature, [NONCE_HEADER.toLowerCase()]: nonce },
      };
    },
    sample({ type, recipient, now, overrides }) {
      const status = own<PlivoStatus>(SAMPLE_STATUS, type);
      if (!status) throw new Error(`Plivo has no status for ${type}; choose one of ${Object.keys(SAMPLE_STATUS).join(', ')}`);
      const body = new URLSearchParams();
      body.set('From', SAMPLE_SENDER);
      body.set('To', recipient.replace(/^\+/, '')); // Plivo writes numbers without '+'
      body.set('Type', 'sms');
      body.set('MessageUUID', randomUUID());
      body.set('Status', status);
      body.set('Units', '1');
      body.set('TotalRate', '0.00500');
      body.set('TotalAmount', '0.00500');
      body.set('MCC', '310');
      body.set('MNC', '260');
      const errorCode = own(SAMPLE_ERROR_CODE, status);
      if (errorCode) body.set('ErrorCode', errorCode);
      body.set('Sequence', '1');
      body.set('MessageTime', plivoTime(now));
      const timeField = own(STATUS_TIME_FIELD, status);
      if (timeField) body.set(timeField, plivoTime(now));
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(toWireOverrides(overrides))) query.set(name, value);
      return {
        headers: { 'content-type': FORM_CONTENT_TYPE },
        body: Buffer.from(body.toString(), 'utf8'),
        query: query.toString(),
      };
    },
    stripSignature(req: UnsignedRequest): UnsignedRequest {
      return { ...req, headers: withoutHeaders(req.headers, [SIGNATURE_HEADER, NONCE_HEADER]) };
    },
    secretKey: 'authToken',
    signerFromOptions(options: Record<string, unknown>): string | undefined {
      const token = options.authToken;
      const first: unknown = Array.isArray(token) ? token[0] : token;
      return typeof first === 'string' && first !== '' ? first : undefined;
    },
  },
});
