/**
 * Plivo message status callbacks (SMS, MMS, WhatsApp).
 *
 * Payload:  https://www.plivo.com/docs/messaging/api/message/message-status-callbacks
 * Security: https://www.plivo.com/docs/messaging/concepts/signature-validation (V2, what messaging sends)
 *           https://www.plivo.com/docs/voice/concepts/signature-validation (V3, the Voice scheme)
 * Retries:  https://support.plivo.com/hc/en-us/articles/360041344652
 * Oracle:   github.com/plivo/plivo-node `lib/utils/security.js` (`validateSignature`, V2) with its
 *           vectors in `test/utils.js`; `lib/utils/v3Security.js` and plivo-python
 *           `plivo/utils/signature_v3.py` (V3). Not installed; ported to src/verify/plivo-signature.ts.
 *
 * Verification: whichever signature the request carries, against every configured `authToken`:
 * - V2: `X-Plivo-Signature-V2` (account or subaccount token) and `X-Plivo-Signature-Ma-V2` (main
 *   account token) = base64(HMAC-SHA256(token, URL without query + `X-Plivo-Signature-V2-Nonce`)).
 *   This is what Plivo sends to message and status URLs (PROVIDERS.md §12, corrected).
 * - V3: `X-Plivo-Signature-V3` = base64(HMAC-SHA256(token, public URL with its query params sorted
 *   + '.' + POST params sorted as name+value + '.' + `X-Plivo-Signature-V3-Nonce`)).
 * One matching signature of either scheme is enough.
 *
 * Quirks:
 * - The URL is signed (V3: query included), so `req.url` must be exactly the callback URL given
 *   to Plivo: the source's `publicUrl` (or `server.publicUrl`) plus the received query.
 * - A V3 header may hold several comma-separated signatures (one per Auth Token Plivo has
 *   active); any one matching any configured token is accepted.
 * - V2 covers neither the body nor the query: a captured V2 request could carry another body
 *   under the same headers. Its nonce is therefore a replay key (an accepted V2 nonce is refused
 *   for the rest of the replay window, on this instance) and HTTPS keeps requests from being
 *   captured. Neither scheme has a timestamp; de-duplication absorbs true re-sends.
 * - Sub/main accounts: list every token that may sign (`authToken: [subaccount, main]`); V2
 *   matches under the subaccount's token, Ma-V2 under the main account's.
 * - The callback `method` may be GET: the parameters then arrive in the query string (signed
 *   with the URL) and the same parsing applies.
 * - Sender metadata rides in the callback URL's query (`distinct_user_id`…), covered by the V3
 *   signature only; it is read from `req.query`.
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
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formRecord, overridesFromForm, readForm } from '../src/body/read-form';
import { optionalString } from '../src/body/read-json';
import { defineAdapter, type UnsignedRequest, type VerifyContext, type VerifyResult } from '../src/core/adapter';
import { urlSigned } from '../src/verify/shared-secret';
import { detailFields, pickDetails, trimmedTextDetail } from '../src/core/details';
import { WebhookParseError, WebhookVerificationError } from '../src/core/errors';
import { mapEventType, type EventMap } from '../src/core/event-types';
import type { EventDetails, EventDraft } from '../src/core/normalized-event';
import { header, withoutHeaders, type WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import { rotatableSecret } from '../src/verify/settings';
import {
  computePlivoV2Signature,
  validatePlivoV2Signature,
  validatePlivoV3Signature,
  type PlivoParams,
} from '../src/verify/plivo-signature';
import { own } from '../src/core/overrides';
import { sample } from './samples/plivo';

const V2_HEADER = 'X-Plivo-Signature-V2';
const MA_V2_HEADER = 'X-Plivo-Signature-Ma-V2';
const V2_NONCE_HEADER = 'X-Plivo-Signature-V2-Nonce';
const V3_HEADER = 'X-Plivo-Signature-V3';
const V3_NONCE_HEADER = 'X-Plivo-Signature-V3-Nonce';
const SIGNATURE_HEADERS = [V2_HEADER, MA_V2_HEADER, V2_NONCE_HEADER, V3_HEADER, V3_NONCE_HEADER] as const;

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

/** A Plivo `Status` this adapter knows. */
export type PlivoStatus = keyof typeof EVENT_MAP;

/** Statuses whose time parameter says when that status was reached. */
export const STATUS_TIME_FIELD: Readonly<Partial<Record<PlivoStatus, string>>> = {
  queued: 'QueuedTime',
  sent: 'SentTime',
  delivered: 'DeliveryReportTime',
  undelivered: 'DeliveryReportTime',
  rejected: 'DeliveryReportTime',
};

/** Plivo parameters copied to `details` (→ Distinct metadata). */
const DETAIL_FIELDS = detailFields(
  {
    ErrorCode: 'errorCode', // failed/undelivered: Plivo's SMS error code
    Type: 'messageType', // sms | mms | whatsapp
    Units: 'units',
    Sequence: 'sequence', // callback order for this message
  },
  trimmedTextDetail,
);

/** Parsed settings (secrets inside: never log). */
interface PlivoSettings {
  /** Auth Tokens of the account or subaccount (rotation: old and new both valid). */
  authToken: readonly string[];
}

const settingsSchema = z.object({ authToken: rotatableSecret }).strict();

/** POST parameters (GET carries none: Plivo's are in the signed query). */
function bodyParams(req: WebhookRequest): PlivoParams {
  return req.method.toUpperCase() === 'GET' ? {} : req.form().all;
}

/** A header's value, or undefined when absent or blank. */
function present(req: WebhookRequest, name: string): string | undefined {
  const value = header(req, name);
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** True when a V3 signature of the request matches (false when it carries none). */
function v3Matches(req: WebhookRequest, settings: PlivoSettings): boolean {
  const signature = present(req, V3_HEADER);
  const nonce = present(req, V3_NONCE_HEADER);
  if (signature === undefined || nonce === undefined) return false;
  let params: PlivoParams;
  try {
    params = bodyParams(req);
  } catch {
    return false; // not UTF-8 form data: Plivo cannot have signed it
  }
  return validatePlivoV3Signature(settings.authToken, signature, req.method, req.url, params, nonce);
}

/**
 * @throws WebhookVerificationError `missing_signature` (no complete V2 or V3 header set),
 *   `replayed` (a V2 nonce already accepted) or `signature_mismatch`
 */
function verify(req: WebhookRequest, settings: PlivoSettings, ctx: VerifyContext): VerifyResult | void {
  const v2 = [present(req, V2_HEADER), present(req, MA_V2_HEADER)].filter((v): v is string => v !== undefined);
  const v2Nonce = present(req, V2_NONCE_HEADER);
  const hasV2 = v2.length > 0 && v2Nonce !== undefined;
  const hasV3 = present(req, V3_HEADER) !== undefined && present(req, V3_NONCE_HEADER) !== undefined;
  if (!hasV2 && !hasV3) {
    throw new WebhookVerificationError(
      'missing_signature',
      `missing ${V2_HEADER} (or ${MA_V2_HEADER}) with ${V2_NONCE_HEADER}, or ${V3_HEADER} with ${V3_NONCE_HEADER}`,
    );
  }
  // Security: constant-time compares inside; the URL is never echoed (it may hold credentials).
  // V3 first: it also signs the body, so a V3 match needs no replay key.
  if (hasV3 && v3Matches(req, settings)) return;
  if (hasV2 && validatePlivoV2Signature(settings.authToken, v2, req.url, v2Nonce)) {
    const replayKey = `plivo:v2:${v2Nonce}`;
    if (ctx.replayCache.has(replayKey, req.receivedAt.getTime())) {
      throw new WebhookVerificationError(
        'replayed',
        `this ${V2_NONCE_HEADER} was already accepted (V2 does not sign the body)`,
      );
    }
    return { replayKey };
  }
  const which = [hasV2 ? `${V2_HEADER}/${MA_V2_HEADER}` : '', hasV3 ? V3_HEADER : ''].filter(Boolean).join(' and ');
  throw new WebhookVerificationError(
    'signature_mismatch',
    `${which} does not match the public URL (is publicUrl exactly the callback URL given to Plivo, and every account's Auth Token, subaccount and main, listed?)`,
  );
}

/** A Plivo time → ISO, only when it states its zone (see header). */
function isoIfZoned(value: string | undefined): string | null {
  return value !== undefined && /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value.trim()) ? isoFromString(value) : null;
}

function readDetails(fields: Record<string, string>, timeField: string | undefined): EventDetails {
  const details = pickDetails(fields, DETAIL_FIELDS);
  const time = timeField === undefined ? undefined : optionalString(fields, timeField)?.trim();
  if (time && timeField) details[timeField.charAt(0).toLowerCase() + timeField.slice(1)] = time;
  return details;
}

/** @throws WebhookParseError naming the missing parameter */
function parse(req: WebhookRequest): EventDraft[] {
  const form = req.method.toUpperCase() === 'GET' ? readForm(req.query) : req.form();
  const fields: Record<string, string> = { ...form.fields };
  const messageId = optionalString(fields, 'MessageUUID');
  if (messageId === undefined) throw new WebhookParseError('"MessageUUID" is required', 'MessageUUID');
  // Inbound messages carry no Status (PROVIDERS.md §12 calls them `received`).
  const status =
    optionalString(fields, 'Status') ?? (optionalString(fields, 'Text') !== undefined ? 'received' : undefined);
  if (status === undefined) throw new WebhookParseError('"Status" is required', 'Status');
  const type = mapEventType(EVENT_MAP, status, 'sms');
  const phone = optionalString(fields, type === 'sms.received' ? 'From' : 'To');
  const timeField = own(STATUS_TIME_FIELD, status);
  return [
    {
      type,
      providerEvent: status,
      occurredAt: timeField === undefined ? null : isoIfZoned(optionalString(fields, timeField)),
      messageId,
      providerEventId: null,
      ...(phone !== undefined ? { phone } : {}),
      overrides: overridesFromForm(req.query), // the callback URL's query
      details: readDetails(fields, timeField),
      raw: formRecord(form),
    },
  ];
}

/** The Plivo adapter. */
export const adapter = defineAdapter({
  name: 'plivo',
  displayName: 'Plivo',
  channel: 'sms',
  docsUrl: 'https://www.plivo.com/docs/messaging/api/message/message-status-callbacks',
  methods: ['POST', 'GET'],
  ...urlSigned({
    secretKey: 'authToken',
    generateSecret: () => randomBytes(20).toString('base64url'),
    settingsSchema,
    timestamp: false,
    signsBody: false, // V2, what messaging sends, covers the URL without query and the nonce only
    verify,
    signatureHeaders: SIGNATURE_HEADERS,
    /** Signs the way Plivo signs message callbacks: V2 and Ma-V2 (the signer plays both the account and the main account). */
    sign(req: UnsignedRequest, signer: string): UnsignedRequest {
      // Plivo's nonces are long decimal strings.
      const nonce = BigInt(`0x${randomBytes(8).toString('hex')}`)
        .toString()
        .padStart(20, '1');
      const signature = computePlivoV2Signature(signer, req.url, nonce) ?? '';
      return {
        ...req,
        headers: {
          ...withoutHeaders(req.headers, SIGNATURE_HEADERS),
          [V2_HEADER.toLowerCase()]: signature,
          [MA_V2_HEADER.toLowerCase()]: signature,
          [V2_NONCE_HEADER.toLowerCase()]: nonce,
        },
      };
    },
    sample,
  }),
  eventMap: EVENT_MAP,
  parse,
});
