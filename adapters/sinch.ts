/**
 * Sinch SMS REST API delivery report callbacks, SMS.
 *
 * Payload:  https://developers.sinch.com/docs/sms/api-reference/sms/tag/Delivery-reports/
 *           https://developers.sinch.com/docs/sms/api-reference/sms/tag/Webhooks/
 *           Sinch Node SDK `Sms.RecipientDeliveryReport` / `Sms.DeliveryReport`
 *           (https://developers.sinch.com/sdk/sinch-sdk-node/1.5.0/interfaces/Sms.RecipientDeliveryReport.html)
 * Security: the Webhooks page above (Basic auth, OAuth 2.0, mutual TLS or AWS SNS, provisioned
 *           through the account manager) and the SMS release notes ("HMAC authentication
 *           configuration at the service plan level": https://developers.sinch.com/docs/sms/release-notes/).
 * Oracle:   sinch-sdk-java `HmacAuthenticationValidation` via the SMS `SinchEventsService`, and its
 *           SMS test vector (src/verify/sinch-signature.ts, test/adapters/sinch.test.ts).
 * Retries:  5xx and 429 retried (5 s, doubling, last at ~22 h 45 min); other 4xx not retried.
 *
 * Verification, every configured method must pass (at least one configured, or `insecure: true`):
 * - `signingSecret` (rotatable): `x-sinch-webhook-signature` = base64(HMAC-SHA256(secret's UTF-8
 *   bytes, rawBody + "." + nonce + "." + timestamp)), with `-nonce`, `-timestamp` (unix seconds)
 *   and `-algorithm` (`HmacSHA256`) headers; then the timestamp window `toleranceSeconds`.
 * - `basicAuth` and/or `headerToken` (src/verify/credentials.ts), alone or beside it.
 * - The window defaults to 86 400 s, not 300: Sinch does not say whether a retry is re-signed, it
 *   retries for ~22 h 45 min, and a 401 is a 4xx it never retries, so a short window could drop an
 *   authentic retry for good. The body is signed, so a replay inside the window can only repeat an
 *   event, which de-duplication absorbs.
 *
 * Quirks:
 * - Three shapes on one URL, told apart by `type`: `delivery_report_sms` (summary/full: one callback
 *   per batch once every message is final, `statuses[{code,status,count,recipients}]`),
 *   `recipient_delivery_report_sms` (per_recipient: one callback per status change) and the `_mms`
 *   twins. One draft per recipient; a summary report lists no recipients, so it yields one draft per
 *   status without a phone (Distinct then needs `distinct_user_id` from `client_reference`). A batch
 *   draft's `raw` is its `statuses[]` entry (the batch id is its `messageId`).
 * - Batch reports carry no time: `occurredAt` is null (receipt time is used). Recipient reports
 *   carry `at` (when Sinch created the report); the SMSC's own `operator_status_at` goes to details.
 * - `code` is a number in current docs and SDKs, a string ("0") in older examples: both are read.
 * - Status names are Title case in the docs (`Delivered`) but upper case in some SDK fixtures;
 *   they are matched case-insensitively and `providerEvent` keeps the spelling received.
 * - `client_reference` (set per batch) is the metadata channel: a URL-encoded
 *   `distinct_user_id=…&distinct_feature=…`. It belongs to the batch, so a batch sent to several
 *   users carries one user id for all of them: send one batch per user when using it.
 * - Inbound messages (`mo_text`, `mo_binary`, `mo_media`) posted here by a shared callback URL are
 *   acknowledged as `sms.received` (customer = `from`) and ignored by default.
 * - An unknown `type` is one `sms.unknown` draft, never an error (Sinch adds report types).
 */
import { randomBytes } from 'node:crypto';
import { overridesFromForm } from '../src/body/read-form';
import { isObject, optionalString, requiredString } from '../src/body/read-json';
import { z } from 'zod';
import { defineAdapter, type UnsignedRequest } from '../src/core/adapter';
import { WebhookParseError, WebhookVerificationError } from '../src/core/errors';
import { mapEventType, type EventMap, type EventType } from '../src/core/event-types';
import type { EventDetails, EventDraft, EventOverrides } from '../src/core/normalized-event';
import { header, withoutHeaders, type WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import { firstSecret, rotatableSecret, toleranceSeconds } from '../src/verify/settings';
import {
  credentialsShape,
  signerFromCredentialsOptions,
  signWithCredentials,
  stripCredentials,
  verifyCredentials,
  type CredentialsSettings,
  type CredentialsSigner,
} from '../src/verify/credentials';
import { assertWithinTolerance, requireHeader, requireTimestampHeader } from '../src/verify/primitives';
import {
  computeSinchSignature,
  SINCH_ALGORITHM,
  SINCH_ALGORITHM_HEADER,
  SINCH_NONCE_HEADER,
  SINCH_SIGNATURE_HEADER,
  SINCH_TIMESTAMP_HEADER,
  validateSinchSignature,
} from '../src/verify/sinch-signature';
import { own } from '../src/core/overrides';
import { sample } from './samples/sinch';

/** Delivery report `status` → normalized type (every status the Delivery reports page lists). */
const EVENT_MAP = {
  Queued: 'sms.queued', // intermediate: waiting for the account's rate
  Dispatched: 'sms.sent', // intermediate: accepted for delivery by the SMSC
  Aborted: 'sms.failed', // final: aborted before reaching the SMSC
  Rejected: 'sms.failed', // final: rejected by the SMSC
  Cancelled: 'sms.unknown', // final: cancelled by the sender before the SMSC, a choice rather than a failure
  Delivered: 'sms.delivered',
  Failed: 'sms.undelivered', // final: failed to be delivered; `code` says why
  Expired: 'sms.undelivered', // final: validity ran out
  Deleted: 'sms.undelivered', // final: deleted by a remote SMSC (invalid MSISDN, opted-out subscriber)
  Unknown: 'sms.unknown', // final: the operator never said
} as const satisfies EventMap;

/** A Sinch delivery report `status` this adapter knows. */
export type SinchStatus = keyof typeof EVENT_MAP;

/** Case-insensitive lookup of a received status. */
const STATUS_BY_LOWER: ReadonlyMap<string, SinchStatus> = new Map(
  (Object.keys(EVENT_MAP) as SinchStatus[]).map((s) => [s.toLowerCase(), s]),
);

/** Callback `type` → shape. `_mms` twins have the same fields. */
const REPORT_SHAPES: Readonly<Record<string, 'batch' | 'recipient' | 'inbound'>> = {
  delivery_report_sms: 'batch',
  delivery_report_mms: 'batch',
  recipient_delivery_report_sms: 'recipient',
  recipient_delivery_report_mms: 'recipient',
  mo_text: 'inbound',
  mo_binary: 'inbound',
  mo_media: 'inbound',
};

/** Inbound message `type` → normalized type (acknowledged, ignored on status routes). */
const INBOUND_MAP = {
  mo_text: 'sms.received',
  mo_binary: 'sms.received',
  mo_media: 'sms.received',
} as const satisfies EventMap;

/** Default signed-timestamp window: a day, covering Sinch's ~22 h 45 min retry schedule (see header). */
const DEFAULT_TOLERANCE_SECONDS = 86_400;
const SIGNING_HEADERS = [
  SINCH_SIGNATURE_HEADER,
  SINCH_NONCE_HEADER,
  SINCH_TIMESTAMP_HEADER,
  SINCH_ALGORITHM_HEADER,
] as const;

/** Parsed Sinch settings (secrets inside: never log). */
export interface SinchSettings extends CredentialsSettings {
  /** HMAC signing secrets (rotation: old and new both valid). */
  readonly signingSecret?: readonly string[];
  /** Signed-timestamp window in seconds; 0 disables it. */
  readonly toleranceSeconds: number;
}

/** What the test signer and `simulate` send: the HMAC secret and/or the plain credentials. */
export interface SinchSigner extends CredentialsSigner {
  signingSecret?: string;
}

const settingsSchema = z
  .object({
    ...credentialsShape,
    /** Sinch's HMAC signing secret (or a list while rotating). */
    signingSecret: rotatableSecret.optional(),
    toleranceSeconds: toleranceSeconds.default(DEFAULT_TOLERANCE_SECONDS),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.signingSecret === undefined && s.basicAuth === undefined && s.headerToken === undefined) {
      ctx.addIssue({
        code: 'custom',
        message:
          "sinch: configure signingSecret (Sinch's HMAC signing) and/or basicAuth / headerToken, or mark the source insecure: true",
      });
    }
    if (s.basicAuth !== undefined && s.headerToken?.header === 'authorization') {
      ctx.addIssue({
        code: 'custom',
        path: ['headerToken', 'header'],
        message: 'cannot be Authorization while basicAuth is set: both would travel in the same header',
      });
    }
  }) satisfies z.ZodType<SinchSettings, unknown>;

/** @throws WebhookVerificationError `missing_signature`, `malformed_signature`, `timestamp_out_of_tolerance`, `signature_mismatch` */
function verifySignature(req: WebhookRequest, secrets: readonly string[], tolerance: number): void {
  const signature = requireHeader(header(req, SINCH_SIGNATURE_HEADER), SINCH_SIGNATURE_HEADER);
  const nonce = requireHeader(header(req, SINCH_NONCE_HEADER), SINCH_NONCE_HEADER);
  const timestampText = requireHeader(header(req, SINCH_TIMESTAMP_HEADER), SINCH_TIMESTAMP_HEADER);
  const algorithm = header(req, SINCH_ALGORITHM_HEADER)?.trim();
  // The SDKs require the header; when absent, HmacSHA256 (the only algorithm Sinch documents) is assumed.
  if (algorithm !== undefined && algorithm !== '' && algorithm.toLowerCase() !== SINCH_ALGORITHM.toLowerCase()) {
    throw new WebhookVerificationError(
      'malformed_signature',
      `${SINCH_ALGORITHM_HEADER} names an algorithm other than ${SINCH_ALGORITHM}`,
    );
  }
  const timestamp = requireTimestampHeader(timestampText, SINCH_TIMESTAMP_HEADER);
  assertWithinTolerance(timestamp, req.receivedAt, tolerance);
  // Security: the exact received bytes and header texts; constant-time compares inside.
  if (!validateSinchSignature(secrets, signature, req.rawBody, nonce, timestampText)) {
    throw new WebhookVerificationError(
      'signature_mismatch',
      `${SINCH_SIGNATURE_HEADER} does not match the body under the configured signingSecret(s)`,
    );
  }
}

function statusType(status: string): EventType {
  return mapEventType(EVENT_MAP, STATUS_BY_LOWER.get(status.toLowerCase()), 'sms');
}

/** Details common to every draft of a report: a plain (non-override) client_reference is kept. */
function baseDetails(body: Record<string, unknown>, overrides: EventOverrides): EventDetails {
  const details: EventDetails = {};
  const reference = optionalString(body, 'client_reference');
  if (reference !== undefined && Object.keys(overrides).length === 0) details.clientReference = reference;
  return details;
}

function codeOf(obj: Record<string, unknown>): number | undefined {
  const code = optionalString(obj, 'code');
  return code !== undefined && /^\d+$/.test(code) ? Number(code) : undefined;
}

function recipientReport(body: Record<string, unknown>): EventDraft[] {
  const batchId = requiredString(body, 'batch_id', '');
  const status = requiredString(body, 'status', '');
  const overrides = overridesFromForm(optionalString(body, 'client_reference'));
  const details = baseDetails(body, overrides);
  const code = codeOf(body);
  if (code !== undefined) details.code = code;
  const message = optionalString(body, 'status_message');
  if (message) details.statusMessage = message;
  const operatorAt = isoFromString(body.operator_status_at);
  if (operatorAt) details.operatorStatusAt = operatorAt;
  const operator = optionalString(body, 'operator');
  if (operator) details.operator = operator;
  const phone = optionalString(body, 'recipient');
  return [
    {
      type: statusType(status),
      providerEvent: status,
      occurredAt: isoFromString(body.at),
      messageId: batchId,
      providerEventId: null,
      ...(phone !== undefined ? { phone } : {}),
      overrides,
      details,
      raw: body,
    },
  ];
}

function batchReport(body: Record<string, unknown>): EventDraft[] {
  const batchId = requiredString(body, 'batch_id', '');
  const statuses = body.statuses;
  if (!Array.isArray(statuses)) throw new WebhookParseError('"statuses" must be an array', 'statuses');
  const overrides = overridesFromForm(optionalString(body, 'client_reference'));
  const drafts: EventDraft[] = [];
  statuses.forEach((entry: unknown, i) => {
    const path = `statuses[${i}]`;
    if (!isObject(entry)) throw new WebhookParseError('must be an object', path);
    const status = requiredString(entry, 'status', path);
    const details = baseDetails(body, overrides);
    const code = codeOf(entry);
    if (code !== undefined) details.code = code;
    const recipients = entry.recipients;
    if (recipients !== undefined && !Array.isArray(recipients))
      throw new WebhookParseError('must be an array of MSISDNs', `${path}.recipients`);
    const phones = (recipients ?? []).filter((r): r is string => typeof r === 'string' && r !== '');
    // A summary report names no recipients: one draft per status, carrying how many it covers.
    if (phones.length === 0) {
      const count = countOf(entry);
      if (count !== undefined) details.count = count;
    }
    const base = {
      type: statusType(status),
      providerEvent: status,
      occurredAt: null,
      messageId: batchId,
      providerEventId: null,
      raw: entry,
    };
    if (phones.length === 0) drafts.push({ ...base, overrides: { ...overrides }, details });
    for (const phone of phones) drafts.push({ ...base, phone, overrides: { ...overrides }, details: { ...details } });
  });
  return drafts;
}

function countOf(entry: Record<string, unknown>): number | undefined {
  return typeof entry.count === 'number' && Number.isInteger(entry.count) ? entry.count : undefined;
}

/** An inbound message on the callback URL: acknowledged, customer = `from`. */
function inbound(body: Record<string, unknown>, type: string): EventDraft[] {
  const phone = optionalString(body, 'from');
  return [
    {
      type: mapEventType(INBOUND_MAP, type, 'sms'),
      providerEvent: type,
      occurredAt: isoFromString(body.received_at),
      messageId: optionalString(body, 'id') ?? null,
      providerEventId: null,
      ...(phone !== undefined ? { phone } : {}),
      overrides: {},
      details: {},
      raw: body,
    },
  ];
}

/** @throws WebhookParseError naming the path of the problem (`type`, `batch_id`, `statuses[2].status`…) */
function parse(req: WebhookRequest): EventDraft[] {
  const body = req.json();
  if (!isObject(body)) throw new WebhookParseError('a Sinch callback must be a JSON object');
  const type = requiredString(body, 'type', '');
  const shape = own(REPORT_SHAPES, type);
  if (shape === 'batch') return batchReport(body);
  if (shape === 'recipient') return recipientReport(body);
  if (shape === 'inbound') return inbound(body, type);
  return [
    {
      type: 'sms.unknown',
      providerEvent: type,
      occurredAt: null,
      messageId: optionalString(body, 'batch_id') ?? optionalString(body, 'id') ?? null,
      providerEventId: null,
      overrides: {},
      details: {},
      raw: body,
    },
  ];
}

/** The Sinch adapter. */
export const adapter = defineAdapter<SinchSettings, SinchSigner>({
  name: 'sinch',
  displayName: 'Sinch',
  channel: 'sms',
  docsUrl: 'https://developers.sinch.com/docs/sms/api-reference/sms/tag/Delivery-reports/',
  // The test signer signs with signingSecret (body and timestamp); credentials-only use stays possible.
  supports: { timestamp: true, rotation: true, signsBody: true, signsUrl: false },
  methods: ['POST'],
  settingsSchema,
  eventMap: EVENT_MAP,
  otherEventMaps: [INBOUND_MAP],
  /** @throws WebhookVerificationError (see verifySignature) or `missing_signature` / `bad_credentials` */
  verify(req: WebhookRequest, settings: SinchSettings): void {
    if (settings.signingSecret !== undefined) verifySignature(req, settings.signingSecret, settings.toleranceSeconds);
    if (settings.basicAuth !== undefined || settings.headerToken !== undefined) verifyCredentials(req, settings);
    else if (settings.signingSecret === undefined)
      throw new WebhookVerificationError(
        'bad_credentials',
        'source has no signingSecret, basicAuth or headerToken configured',
      );
  },
  parse,
  testing: {
    createCredentials() {
      const signingSecret = randomBytes(24).toString('base64url');
      // A 5-minute window (not the day-long default) so a test can tell stale from fresh within an hour.
      return { options: { signingSecret, toleranceSeconds: 300 }, signer: { signingSecret } };
    },
    sign(req: UnsignedRequest, signer: SinchSigner, now: Date): UnsignedRequest {
      let out = signWithCredentials(req, signer);
      if (signer.signingSecret !== undefined) {
        const nonce = randomBytes(13).toString('hex').toUpperCase().slice(0, 26); // Sinch's nonces are ULIDs
        const timestamp = String(Math.floor(now.getTime() / 1000));
        out = {
          ...out,
          headers: {
            ...withoutHeaders(out.headers, SIGNING_HEADERS),
            [SINCH_SIGNATURE_HEADER]: computeSinchSignature(signer.signingSecret, req.body, nonce, timestamp),
            [SINCH_ALGORITHM_HEADER]: SINCH_ALGORITHM,
            [SINCH_NONCE_HEADER]: nonce,
            [SINCH_TIMESTAMP_HEADER]: timestamp,
          },
        };
      }
      return out;
    },
    stripSignature(req: UnsignedRequest): UnsignedRequest {
      const stripped = stripCredentials(req);
      return { ...stripped, headers: withoutHeaders(stripped.headers, SIGNING_HEADERS) };
    },
    secretKey: 'signingSecret',
    signerFromOptions(options: Record<string, unknown>): SinchSigner | undefined {
      const signer: SinchSigner = { ...signerFromCredentialsOptions(options) };
      const secret = firstSecret(options.signingSecret);
      if (secret !== undefined) signer.signingSecret = secret;
      return Object.keys(signer).length > 0 ? signer : undefined;
    },
    sample,
  },
});
