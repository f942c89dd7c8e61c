/**
 * Mailgun webhooks (email).
 *
 * Docs: https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads
 *       https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
 *       https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-retries
 *
 * Verification: hex(HMAC-SHA256(signingKey, timestamp + token)) from the body's `signature`
 * block, compared in constant time, then a timestamp window and a per-token replay check.
 *
 * Quirks:
 * - An `opened` event with a non-empty `client-info.bot` (`apple`, `gmail`, `generic`: Mailgun's
 *   "Open and Click Bot Detection") sets `details.machineOpen` (issue #9 machine opens).
 * - Mailgun signs only `timestamp + token`, never the event data (its docs say so, for payload
 *   size), so `supports.signsBody` is false: the body is integrity-protected by TLS only. The
 *   token replay cache and the timestamp window are what stop a captured request being re-posted.
 * - Subaccount events carry `signature.parent-signature`, the same formula under the parent
 *   account's key; both values are checked against every configured key, so either account's
 *   key verifies (PROVIDERS.md §3).
 * - `event-data.id` is unique only within a day (anymail `mailgun.py` uses `signature.token`
 *   instead). We keep `event-data.id` as the provider event id because the token changes with
 *   every signature, and the core's de-duplication key also hashes the event time.
 * - `failed` is one event for hard and soft failures: the `severity` field decides (table
 *   `FAILED_BY_SEVERITY`). Like anymail, the `reason` (`bounce`, `suppress-bounce`, `generic`…)
 *   does not change the type; it is passed through in `details.reason`.
 * - `event-data.timestamp` is a float with microseconds. Mailgun writes Python's shortest
 *   round-trip repr, which JavaScript's number-to-string reproduces digit for digit, so the
 *   fraction survives `JSON.parse` and is kept exactly.
 * - `user-variables` is normally an object, but has been seen as a JSON string; both are read.
 * - `rejected` events may lack `recipient`; the address is then taken from the `to` header
 *   (anymail does the same).
 * - Legacy (pre-2018) webhooks are form-encoded, with `timestamp`/`token`/`signature` as fields
 *   and user variables merged in as extra fields. Supported modestly: the signature fields use
 *   the *last* value (a user variable of the same name comes first, per anymail), event fields
 *   the first; the signed timestamp is the only event time they carry. Multipart legacy bodies
 *   are refused with a parse error.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isObject, optionalObject, optionalString, parseJsonObject, requiredString } from '../src/body/read-json';
import { formRecord, type FormBody } from '../src/body/read-form';
import { defineAdapter, type UnsignedRequest, type VerifyContext, type VerifyResult } from '../src/core/adapter';
import { sharedSecretHmac } from '../src/verify/shared-secret';
import { detailFields, pickDetails, tagsDetail, type DetailReader } from '../src/core/details';
import { WebhookParseError, WebhookVerificationError } from '../src/core/errors';
import { mapEventType, refineType, type Refinements, type EventMap, type EventType } from '../src/core/event-types';
import { detailValue, type EventDetails, type EventDraft } from '../src/core/normalized-event';
import { header, type WebhookRequest } from '../src/core/request';
import { isoFromEpochSeconds } from '../src/core/time';
import { rotatableSecret, toleranceSeconds } from '../src/verify/settings';
import { assertWithinTolerance, hmac, safeEqual } from '../src/verify/primitives';
import { overridesFrom } from '../src/core/overrides';
import { sample } from './samples/mailgun';

/** Signed-timestamp window when the source does not set `toleranceSeconds`. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Current webhooks: `event-data.event` → normalized type. */
const EVENT_MAP = {
  accepted: 'email.sent', // Mailgun accepted the message for sending (PROVIDERS.md: registration_email/sent)
  rejected: 'email.rejected', // refused before sending (sandbox limits, policy)
  delivered: 'email.delivered',
  failed: 'email.bounced', // refined by `severity`, see FAILED_BY_SEVERITY
  opened: 'email.opened', // may be a machine open: details.bot
  clicked: 'email.clicked',
  unsubscribed: 'email.unsubscribed',
  complained: 'email.complained',
  // `stored` (inbound storage) and list events are deliberately absent: they become email.unknown.
} as const satisfies EventMap;

/** `failed` refined by `event-data.severity` (anymail's `severities` table). */
const FAILED_BY_SEVERITY = {
  permanent: 'email.bounced',
  temporary: 'email.deferred', // Mailgun retries; a later `failed`/permanent or `delivered` may follow
} as const satisfies Readonly<Record<string, EventType>>;

/** Second-field refinements, by raw event name: which field, and its value → type. */
const REFINEMENTS: Refinements = {
  failed: [{ field: 'severity', table: FAILED_BY_SEVERITY }],
};

/** Legacy (form-encoded) webhooks: `event` field → normalized type. */
const LEGACY_EVENT_MAP = {
  delivered: 'email.delivered',
  dropped: 'email.rejected', // Mailgun did not send (suppressed address, repeated failures)
  bounced: 'email.bounced',
  complained: 'email.complained',
  unsubscribed: 'email.unsubscribed',
  opened: 'email.opened',
  clicked: 'email.clicked',
} as const satisfies EventMap;

const settingsSchema = z
  .object({
    /** HTTP webhook signing key (a list while rotating, or to hold a parent account's key too). */
    signingKey: rotatableSecret,
    /** Signed-timestamp window in seconds; 0 disables it. */
    toleranceSeconds: toleranceSeconds.default(DEFAULT_TOLERANCE_SECONDS),
  })
  .strict();

/** Parsed Mailgun source settings. */
export type MailgunSettings = z.output<typeof settingsSchema>;

/** The signature fields, from either body format. */
interface SignatureFields {
  timestamp: string;
  token: string;
  /** `signature` and, for subaccount events, `parent-signature`. */
  signatures: string[];
}

type BodyFormat = 'json' | 'form';

/** Current webhooks are JSON; anything declared form-urlencoded is a legacy webhook. */
function bodyFormat(headers: Readonly<Record<string, string>>): BodyFormat {
  const type = (header({ headers }, 'content-type') ?? '').toLowerCase();
  if (type.startsWith('multipart/')) {
    throw new WebhookParseError(
      "multipart legacy webhooks are not supported; use Mailgun's current (JSON) webhooks",
      'content-type',
    );
  }
  return type.includes('application/x-www-form-urlencoded') ? 'form' : 'json';
}

/** The JSON body as an object; a parse error otherwise. */
function readJsonObject(req: WebhookRequest): Record<string, unknown> {
  const body = req.json();
  if (!isObject(body)) throw new WebhookParseError('body must be a JSON object');
  return body;
}

/** Last value of a form field: Mailgun appends its own signature fields after same-named user variables. */
function lastField(form: FormBody, name: string): string | undefined {
  const values = form.all[name];
  return values === undefined ? undefined : values[values.length - 1];
}

function signatureFields(req: WebhookRequest): SignatureFields {
  let timestamp: string | undefined;
  let token: string | undefined;
  const signatures: string[] = [];
  if (bodyFormat(req.headers) === 'json') {
    const block = readJsonObject(req).signature;
    if (!isObject(block)) throw new WebhookVerificationError('missing_signature', 'body has no "signature" block');
    timestamp = optionalString(block, 'timestamp');
    token = optionalString(block, 'token');
    for (const name of ['signature', 'parent-signature']) {
      const value = optionalString(block, name);
      if (value !== undefined) signatures.push(value);
    }
  } else {
    const form = req.form();
    timestamp = lastField(form, 'timestamp');
    token = lastField(form, 'token');
    const value = lastField(form, 'signature');
    if (value) signatures.push(value);
  }
  if (signatures.length === 0)
    throw new WebhookVerificationError('missing_signature', 'no "signature" value in the body');
  if (timestamp === undefined || !/^\d{1,13}$/.test(timestamp)) {
    throw new WebhookVerificationError('malformed_signature', 'signature "timestamp" is missing or not unix seconds');
  }
  if (token === undefined) throw new WebhookVerificationError('malformed_signature', 'signature "token" is missing');
  return { timestamp, token, signatures };
}

/** hex(HMAC-SHA256(key, timestamp + token)): plain concatenation, no separator. */
function mailgunSignature(key: string, timestamp: string, token: string): string {
  return hmac('sha256', key, timestamp + token, 'hex');
}

/**
 * Proves a request comes from Mailgun.
 * @throws WebhookVerificationError `missing_signature`, `malformed_signature`, `signature_mismatch`,
 *   `timestamp_out_of_tolerance` or `replayed`
 * @throws WebhookParseError when the body is not JSON (or form) at all
 */
function verify(req: WebhookRequest, settings: MailgunSettings, ctx: VerifyContext): VerifyResult {
  const { timestamp, token, signatures } = signatureFields(req);
  // Signature first, so nothing unauthenticated (timestamp, token) is trusted or probed.
  let matched = false;
  for (const key of settings.signingKey) {
    const expected = mailgunSignature(key, timestamp, token);
    // Security: constant-time compare (safeEqual checks the public length first on purpose).
    // Every candidate is compared, whatever matched before, so timing does not reveal which one.
    for (const candidate of signatures) matched = safeEqual(expected, candidate.toLowerCase()) || matched;
  }
  if (!matched)
    throw new WebhookVerificationError(
      'signature_mismatch',
      'Mailgun signature does not match any configured signingKey',
    );
  assertWithinTolerance(Number(timestamp), req.receivedAt, settings.toleranceSeconds);
  const replayKey = `mailgun:${token}`;
  // Security: a token is single-use; the pipeline records it once the request is acknowledged.
  if (ctx.replayCache.has(replayKey, req.receivedAt.getTime())) {
    throw new WebhookVerificationError('replayed', 'this Mailgun signature token was already accepted');
  }
  return { replayKey };
}

/** Reads `user-variables`: an object, or a JSON string holding one (unreadable: none). */
function userVariables(value: unknown): Record<string, unknown> {
  if (isObject(value)) return value;
  return (typeof value === 'string' ? parseJsonObject(value) : undefined) ?? {};
}

/** Details values: non-blank strings, finite numbers and `true` (a `false` flag says nothing). */
const keepDetail: DetailReader = (value) => (value === false ? undefined : detailValue(value));

/** `event-data` fields copied to `details`, before the machine-open flag. */
const DETAIL_FIELDS = detailFields(
  {
    severity: 'severity',
    reason: 'reason',
    'delivery-status.code': 'deliveryStatusCode',
    'delivery-status.message': 'deliveryStatusMessage',
    'delivery-status.description': 'deliveryStatusDescription',
    'reject.reason': 'rejectReason',
    'reject.description': 'rejectDescription',
    'client-info.bot': 'bot', // machine-open / scanner hint ('apple', 'gmail', 'generic')
  },
  keepDetail,
);

/** After the machine-open flag: the link followed, and the tags (joined). */
const LINK_FIELDS = detailFields({ url: 'url' }, keepDetail);

/** Legacy (form) fields copied to `details`; `code` is read apart (digits become a number). */
const LEGACY_DETAIL_FIELDS = detailFields(
  { description: 'deliveryStatusDescription', reason: 'reason', url: 'url' },
  keepDetail,
);

/** A single address from a `To` header (`Name <a@b>` or `a@b`); undefined for lists or garbage. */
function addressFromHeader(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const angled = /^[^<>]*<([^<>\s,]+@[^<>\s,]+)>\s*$/.exec(value.trim());
  if (angled) return angled[1];
  return /^[^\s<>,]+@[^\s<>,]+$/.test(value.trim()) ? value.trim() : undefined;
}

function parseJsonEvent(body: Record<string, unknown>): EventDraft {
  const data = body['event-data'];
  if (!isObject(data)) throw new WebhookParseError('"event-data" must be an object', 'event-data');
  const event = requiredString(data, 'event', 'event-data');
  const type = refineType(EVENT_MAP, REFINEMENTS, event, data, 'email');

  let occurredAt: string | null = null;
  if (data.timestamp !== undefined && data.timestamp !== null) {
    occurredAt = isoFromEpochSeconds(data.timestamp);
    if (occurredAt === null) throw new WebhookParseError('not a unix time in seconds', 'event-data.timestamp');
  }

  const message = optionalObject(data, 'message');
  const headers = message ? optionalObject(message, 'headers') : undefined;
  const email =
    optionalString(data, 'recipient') ?? (event === 'rejected' ? addressFromHeader(headers?.to) : undefined);

  const details = pickDetails(data, DETAIL_FIELDS);
  // Mailgun's bot detection: a non-empty `client-info.bot` on an open is a machine open (its "Open and Click Bot Detection").
  if (type === 'email.opened' && typeof details.bot === 'string') details.machineOpen = true;
  pickDetails(data, LINK_FIELDS, details);
  const tags = tagsDetail(data.tags);
  if (tags !== undefined) details.tags = tags;

  const variables = userVariables(data['user-variables']);
  return {
    type,
    providerEvent: event,
    occurredAt,
    messageId: headers ? (optionalString(headers, 'message-id') ?? null) : null,
    providerEventId: optionalString(data, 'id') ?? null,
    ...(email !== undefined ? { email } : {}),
    overrides: overridesFrom(variables),
    details,
    raw: body,
  };
}

/** Mailgun's own form fields, which are never the sender's variables. */
function parseLegacyEvent(req: WebhookRequest): EventDraft {
  const form = req.form();
  const first = (name: string): string | undefined => {
    const value = form.fields[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const event = first('event');
  if (event === undefined) {
    const hint =
      first('sender') !== undefined ? ' (this looks like an inbound route; point only tracking webhooks here)' : '';
    throw new WebhookParseError(`"event" is required${hint}`, 'event');
  }
  // Legacy events carry no event time of their own: the signed timestamp is when Mailgun posted it.
  const timestamp = lastField(form, 'timestamp');
  const occurredAt = timestamp === undefined ? null : isoFromEpochSeconds(timestamp);
  if (timestamp !== undefined && occurredAt === null)
    throw new WebhookParseError('not a unix time in seconds', 'timestamp');
  // Spelled `Message-Id` or `message-id`, with or without <>; stored without, like current webhooks.
  const messageId = (first('Message-Id') ?? first('message-id'))?.replace(/^<(.*)>$/, '$1') ?? null;

  const details: EventDetails = {};
  const code = first('code');
  const codeValue = code === undefined ? undefined : keepDetail(/^\d+$/.test(code) ? Number(code) : code);
  if (codeValue !== undefined) details.deliveryStatusCode = codeValue;
  const message = keepDetail(first('error') ?? first('notification'));
  if (message !== undefined) details.deliveryStatusMessage = message;
  pickDetails(form.fields, LEGACY_DETAIL_FIELDS, details);
  const tags = tagsDetail(form.all.tag ?? form.all['X-Mailgun-Tag']);
  if (tags !== undefined) details.tags = tags;

  const recipient = first('recipient');
  return {
    type: mapEventType(LEGACY_EVENT_MAP, event, 'email'),
    providerEvent: event,
    occurredAt,
    messageId,
    providerEventId: null,
    ...(recipient !== undefined ? { email: recipient } : {}),
    // User variables arrive as extra form fields (`distinct_user_id=…`).
    overrides: overridesFrom(form.fields),
    details,
    raw: formRecord(form),
  };
}

/**
 * Parses one Mailgun webhook (one event per request).
 * @throws WebhookParseError naming the path of the problem (`event-data.event`…)
 */
function parse(req: WebhookRequest): EventDraft[] {
  if (bodyFormat(req.headers) === 'form') return [parseLegacyEvent(req)];
  return [parseJsonEvent(readJsonObject(req))];
}

// ---- testing helpers -------------------------------------------------------------------------

/** A 50-character token, like Mailgun's. */
function randomToken(): string {
  return randomBytes(25).toString('hex');
}

function withBody(req: UnsignedRequest, body: Buffer): UnsignedRequest {
  return { ...req, headers: { ...req.headers }, body };
}

function formatOf(req: UnsignedRequest): BodyFormat | undefined {
  try {
    return bodyFormat(req.headers);
  } catch {
    return undefined;
  }
}

function sign(req: UnsignedRequest, signer: string, now: Date): UnsignedRequest {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const token = randomToken();
  const signature = mailgunSignature(signer, timestamp, token);
  const format = formatOf(req);
  if (format === 'form') {
    const params = new URLSearchParams(req.body.toString('utf8'));
    for (const name of ['timestamp', 'token', 'signature']) params.delete(name);
    params.append('timestamp', timestamp);
    params.append('token', token);
    params.append('signature', signature);
    return withBody(req, Buffer.from(params.toString(), 'utf8'));
  }
  const body = format === 'json' ? parseJsonObject(req.body.toString('utf8')) : undefined;
  if (!body) return req;
  const { signature: _old, ...rest } = body;
  return withBody(req, Buffer.from(JSON.stringify({ signature: { timestamp, token, signature }, ...rest }), 'utf8'));
}

function stripSignature(req: UnsignedRequest): UnsignedRequest {
  const format = formatOf(req);
  if (format === 'form') {
    const params = new URLSearchParams(req.body.toString('utf8'));
    for (const name of ['timestamp', 'token', 'signature']) params.delete(name);
    return withBody(req, Buffer.from(params.toString(), 'utf8'));
  }
  const body = format === 'json' ? parseJsonObject(req.body.toString('utf8')) : undefined;
  if (!body) return req;
  const { signature: _old, ...rest } = body;
  return withBody(req, Buffer.from(JSON.stringify(rest), 'utf8'));
}

/** The Mailgun adapter. */
export const adapter = defineAdapter({
  name: 'mailgun',
  displayName: 'Mailgun',
  channel: 'email',
  docsUrl: 'https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads',
  methods: ['POST'],
  ...sharedSecretHmac({
    secretKey: 'signingKey',
    generateSecret: () => randomBytes(16).toString('hex'),
    settingsSchema,
    timestamp: true,
    signsBody: false, // timestamp + token only
    verify,
    sign,
    signatureHeaders: [],
    stripSignature, // the signature block is inside the body
    sample,
  }),
  eventMap: EVENT_MAP,
  refinements: REFINEMENTS,
  otherEventMaps: [LEGACY_EVENT_MAP],
  parse,
});
