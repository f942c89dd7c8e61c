/**
 * MessageBird (legacy SMS API) status reports, SMS. Bird's newer platform uses another webhook system: not covered.
 *
 * Payload:  https://developers.messagebird.com/api/sms-messaging/
 *           https://docs.bird.com/connectivity-platform/getting-started/receiving-delivery-reports-dlrs
 *           https://docs.bird.com/connectivity-platform/troubleshooting/i-am-missing-my-delivery-reports
 * Security: github.com/messagebird/messagebird-nodejs `lib/webhook-signature-jwt.js` (+ `lib/testdata/`)
 *
 * Verification: `MessageBird-Signature-JWT` = HS256/384/512 JWT under the signing key, with the
 * full URL's SHA-256 (`url_hash`), the body's (`payload_hash`, when there is one), a 60 s
 * nbf/exp window and a `jti` (src/verify/messagebird-jwt.ts).
 *
 * Quirks:
 * - Status reports are GET requests: everything is in the query string, the body is empty, so
 *   `supports.signsBody` is false (a body, if one ever comes, is still checked via payload_hash).
 * - The URL is signed, query included, so `req.url` must be exactly the URL MessageBird calls:
 *   the source's `publicUrl` (or `server.publicUrl`) plus the raw received query.
 * - MessageBird sends status reports only for messages sent with a `reference`
 *   (support article above). The reference doubles as our metadata channel: a URL-encoded
 *   `distinct_user_id=…&distinct_feature=…` reference carries the overrides. `distinct_*`
 *   parameters of a per-message `reportUrl` (echoed in the query) work too and win.
 * - `statusDatetime` is RFC 3339 with an offset; its `+` sometimes arrives unencoded and so
 *   decodes as a space (messagebird-nodejs `lib/signature.js` repairs it the same way).
 * - `recipient` is an MSISDN without `+` (`31612345678`); the core adds it.
 * - `jti` is per request, not per event: it is the replay key (recorded once acknowledged), while
 *   de-duplication hashes id + status + recipient + statusDatetime (PROVIDERS.md §14).
 * - The deprecated `MessageBird-Signature` + `MessageBird-Request-Timestamp` HMAC scheme is not
 *   supported: it is replaced by the JWT in every current SDK.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formRecord, overridesFromForm, readForm } from '../src/body/read-form';
import { optionalString } from '../src/body/read-json';
import { defineAdapter, type UnsignedRequest, type VerifyContext, type VerifyResult } from '../src/core/adapter';
import { urlSigned } from '../src/verify/shared-secret';
import { WebhookParseError, WebhookVerificationError } from '../src/core/errors';
import { mapEventType, type EventMap } from '../src/core/event-types';
import type { EventDetails, EventDraft, EventOverrides } from '../src/core/normalized-event';
import { header, withoutHeaders, type WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import { rotatableSecret, toleranceSeconds } from '../src/verify/settings';
import { requireHeader } from '../src/verify/primitives';
import { signMessageBirdJwt, verifyMessageBirdJwt } from '../src/verify/messagebird-jwt';
import { overridesFrom } from '../src/core/overrides';
import { sample } from './samples/messagebird';

const SIGNATURE_HEADER = 'MessageBird-Signature-JWT';

/** Clock skew allowed around the token's nbf/exp, as messagebird-nodejs's `clockTolerance`. */
export const DEFAULT_TOLERANCE_SECONDS = 5;

/** `status` → normalized type (every value the SMS API documents for a recipient). */
const EVENT_MAP = {
  scheduled: 'sms.queued', // waiting for its scheduledDatetime
  sent: 'sms.sent', // handed to the carrier
  buffered: 'sms.queued', // the carrier holds it (handset unreachable); as sms.sent it would count "sent" twice
  delivered: 'sms.delivered',
  expired: 'sms.undelivered', // validity ran out before delivery (PROVIDERS.md: → failed)
  delivery_failed: 'sms.undelivered', // the carrier reported failure; statusReason/statusErrorCode say why
} as const satisfies EventMap;

/** A MessageBird `status` this adapter knows. */
export type MessageBirdStatus = keyof typeof EVENT_MAP;

/** Query parameters copied to `details` (→ Distinct metadata). Price and `ported` are left out. */
const DETAIL_PARAMS = {
  statusReason: 'statusReason', // e.g. "successfully delivered", "unknown subscriber"
  statusErrorCode: 'errorCode', // carrier error code, only when the carrier gave one
  mccmnc: 'mccmnc',
} as const;

const settingsSchema = z
  .object({
    /** Dashboard → Developers → API access → signing key (a list while rotating). */
    signingKey: rotatableSecret,
    /** Seconds of clock skew accepted around the token's nbf/exp; 0 disables the time check. */
    toleranceSeconds: toleranceSeconds.default(DEFAULT_TOLERANCE_SECONDS),
  })
  .strict();

/** Parsed MessageBird source settings (secrets inside: never log). */
export type MessageBirdSettings = z.output<typeof settingsSchema>;

/**
 * Proves a request comes from MessageBird.
 * @throws WebhookVerificationError `missing_signature`, `malformed_signature`, `signature_mismatch`,
 *   `timestamp_out_of_tolerance` or `replayed`
 */
function verify(req: WebhookRequest, settings: MessageBirdSettings, ctx: VerifyContext): VerifyResult {
  const token = requireHeader(header(req, SIGNATURE_HEADER), SIGNATURE_HEADER);
  const claims = verifyMessageBirdJwt(token, settings.signingKey, {
    url: req.url,
    body: req.rawBody,
    now: req.receivedAt,
    toleranceSeconds: settings.toleranceSeconds,
  });
  const replayKey = `messagebird:${claims.jti}`;
  // Security: a token is single-use; the pipeline records it once the request is acknowledged.
  if (ctx.replayCache.has(replayKey, req.receivedAt.getTime())) {
    throw new WebhookVerificationError('replayed', 'this MessageBird signature token (jti) was already accepted');
  }
  return { replayKey };
}

/** RFC 3339 → ISO; repairs a `+` offset that arrived unencoded and decoded as a space. */
function isoFromStatusDatetime(value: string | undefined): string | null {
  if (value === undefined) return null;
  return isoFromString(value.trim().replace(/(T\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\d{2}:?\d{2})$/, '$1+$2'));
}

/** Overrides from the reference (URL-encoded form) and the query; the query's own params win. */
function readOverrides(
  query: Readonly<Record<string, string>>,
  reference: string | undefined,
): { overrides: EventOverrides; fromReference: boolean } {
  const fromRef = overridesFromForm(reference);
  return { overrides: { ...fromRef, ...overridesFrom(query) }, fromReference: Object.keys(fromRef).length > 0 };
}

/** @throws WebhookParseError naming the missing parameter (`id`, `status`) */
function parse(req: WebhookRequest): EventDraft[] {
  const form = readForm(req.query);
  const params: Record<string, unknown> = { ...form.fields };
  const id = optionalString(params, 'id');
  if (id === undefined) throw new WebhookParseError('"id" is required in the status report query', 'id');
  const status = optionalString(params, 'status');
  if (status === undefined) throw new WebhookParseError('"status" is required in the status report query', 'status');
  const reference = optionalString(params, 'reference');
  const { overrides, fromReference } = readOverrides(form.fields, reference);
  const details: EventDetails = {};
  for (const [param, key] of Object.entries(DETAIL_PARAMS)) {
    const value = optionalString(params, param)?.trim();
    if (value) details[key] = value;
  }
  // A plain reference is the sender's own id: worth keeping. One carrying overrides is already read.
  if (reference !== undefined && !fromReference) details.reference = reference;
  const phone = optionalString(params, 'recipient');
  return [
    {
      type: mapEventType(EVENT_MAP, status, 'sms'),
      providerEvent: status,
      occurredAt: isoFromStatusDatetime(optionalString(params, 'statusDatetime')),
      messageId: id,
      providerEventId: null,
      ...(phone !== undefined ? { phone } : {}),
      overrides,
      details,
      raw: formRecord(form),
    },
  ];
}

/** The MessageBird adapter. */
export const adapter = defineAdapter({
  name: 'messagebird',
  displayName: 'MessageBird',
  channel: 'sms',
  docsUrl: 'https://developers.messagebird.com/api/sms-messaging/',
  methods: ['GET'],
  ...urlSigned({
    secretKey: 'signingKey',
    generateSecret: () => randomBytes(32).toString('hex'),
    settingsSchema,
    timestamp: true,
    signsBody: false,
    verify,
    signatureHeaders: [SIGNATURE_HEADER],
    /** Signs URL (and body, when there is one) as MessageBird does, at `now`. */
    sign(req: UnsignedRequest, signer: string, now: Date): UnsignedRequest {
      const token = signMessageBirdJwt(signer, { url: req.url, body: req.body }, now);
      return {
        ...req,
        headers: { ...withoutHeaders(req.headers, [SIGNATURE_HEADER]), [SIGNATURE_HEADER.toLowerCase()]: token },
      };
    },
    sample,
  }),
  eventMap: EVENT_MAP,
  parse,
});
