/**
 * Mailchimp Transactional (Mandrill) webhooks (email).
 *
 * Payload:  https://mailchimp.com/developer/transactional/docs/webhooks/
 *           https://mandrill.zendesk.com/hc/en-us/articles/360038740594 (webhook format)
 *           https://mandrill.zendesk.com/hc/en-us/articles/205583307 (message event format)
 * Security: https://mandrill.zendesk.com/hc/en-us/articles/360039232513 (authenticating requests)
 * URL check: https://mandrill.zendesk.com/hc/en-us/articles/360038740014
 * Retries:  https://mandrill.zendesk.com/hc/en-us/articles/205583277 (stopping a failed batch)
 *
 * Verification: `X-Mandrill-Signature` = base64(HMAC-SHA1(webhook key, URL + every POST field
 * sorted by name, as name + value)), over the decoded form values; the URL is the exact one
 * configured at Mandrill (`req.url`: the source's public URL plus the received query).
 *
 * Quirks:
 * - The URL is signed, as with Twilio: behind a proxy set the source's `publicUrl` (or
 *   `server.publicUrl`) to exactly the URL entered in Mandrill, trailing slash included.
 * - An `open` whose `user_agent_parsed.type` is `robot` (Mandrill's user-agent classification)
 *   sets `details.machineOpen` (issue #9 machine opens); Mandrill has no other machine-open flag.
 * - One POST carries a form field `mandrill_events`: a JSON array of up to 1000 events, posted
 *   about once a minute. A failing batch blocks the queue behind it until it succeeds or is given
 *   up in the dashboard, so answering fast and durably matters more than anywhere else.
 * - When a webhook is added, Mandrill checks the URL with a HEAD request that must answer 200; if
 *   it does not, it POSTs an empty batch (`mandrill_events=[]`) signed with the public key
 *   `test-webhook`. Both are answered 200 by `handshake` (they carry no events).
 * - No timestamp is signed: replays are absorbed only by de-duplication.
 * - No per-event id: the top-level `_id` is the message's id (Mandrill's samples repeat
 *   `msg._id`), so `providerEventId` is null and the core hashes message id + event + recipient +
 *   `ts`. Two clicks on different links in the same second therefore collapse into one.
 * - Sync events (allow/deny list changes) have `type`/`action` instead of `event`; they and
 *   inbound messages arrive as `email.unknown`, acknowledged and never forwarded by default.
 * - Sender metadata (`metadata`, merged with `recipient_metadata`) comes back as `msg.metadata`;
 *   the override keys are read from there. Values may be strings or numbers.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readForm, type FormBody } from '../src/body/read-form';
import { isObject, optionalObject, optionalString, readJson } from '../src/body/read-json';
import { defineAdapter, type UnsignedRequest } from '../src/core/adapter';
import { urlSigned } from '../src/verify/shared-secret';
import { WebhookParseError, WebhookVerificationError } from '../src/core/errors';
import { mapEventType, type EventMap } from '../src/core/event-types';
import type { EventDetails, EventDraft } from '../src/core/normalized-event';
import { detailFields, pickDetails, stringOrNumberDetail, tagsDetail } from '../src/core/details';
import { header, withoutHeaders, type WebhookRequest, type WebhookResponse } from '../src/core/request';
import { isoFromEpochSeconds } from '../src/core/time';
import { rotatableSecret } from '../src/verify/settings';
import { hmac, requireHeader, safeEqual } from '../src/verify/primitives';
import { overridesFrom } from '../src/core/overrides';
import { sample } from './samples/mandrill';

const SIGNATURE_HEADER = 'X-Mandrill-Signature';
/** The form field holding a batch of events (JSON). */
export const EVENTS_FIELD = 'mandrill_events';
/** The documented key that signs the URL-check POST sent when a webhook is added. */
const URL_CHECK_KEY = 'test-webhook';
/** Mandrill's documented batch limit; a larger batch is not from Mandrill. */
const MAX_BATCH = 1000;

/** Message `event` → normalized type. */
const EVENT_MAP = {
  send: 'email.sent', // Mandrill accepted and sent the message
  delivered: 'email.delivered', // newer docs only: the recipient's server accepted it
  deferral: 'email.deferred', // temporary failure; Mandrill retries
  hard_bounce: 'email.bounced',
  soft_bounce: 'email.bounced', // a temporary reason (mailbox full…), but Mandrill has stopped trying; `deferral` is the retrying one
  open: 'email.opened',
  click: 'email.clicked',
  spam: 'email.complained',
  unsub: 'email.unsubscribed',
  reject: 'email.rejected', // refused before sending (rejection list, policy)
} as const satisfies EventMap;

/** A Mandrill message `event` this adapter knows. */
export type MandrillEvent = keyof typeof EVENT_MAP;

/** Settings for a Mandrill source (secrets inside: never log). */
const settingsSchema = z
  .object({
    /** The webhook's key (Settings → Webhooks → Key); a list while rotating or for several webhooks. */
    webhookKey: rotatableSecret,
  })
  .strict();

/** Parsed Mandrill source settings. */
export type MandrillSettings = z.output<typeof settingsSchema>;

/** base64(HMAC-SHA1(key, url + each field sorted by name as name + value)). */
export function mandrillSignature(key: string, url: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  // A stable sort by name (code units, as PHP's ksort on ASCII names); every pair is signed, so a
  // repeated field cannot smuggle an unsigned value past the check.
  const sorted = [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return hmac('sha1', key, url + sorted.map(([name, value]) => name + value).join(''), 'base64');
}

function signatureMatches(keys: readonly string[], signature: string, url: string, form: FormBody): boolean {
  let matched = false;
  for (const key of keys) {
    // Security: constant-time compare, every key tried, so timing does not reveal which matched.
    matched = safeEqual(mandrillSignature(key, url, form.pairs), signature.trim()) || matched;
  }
  return matched;
}

function readFormForVerification(req: WebhookRequest): FormBody {
  try {
    return req.form();
  } catch (cause) {
    throw new WebhookVerificationError(
      'signature_mismatch',
      'the body is not UTF-8 form data, so Mandrill cannot have signed it',
      { cause },
    );
  }
}

/**
 * Proves a request comes from Mandrill.
 * @throws WebhookVerificationError `missing_signature` or `signature_mismatch`
 */
function verify(req: WebhookRequest, settings: MandrillSettings): void {
  const signature = requireHeader(header(req, SIGNATURE_HEADER), SIGNATURE_HEADER);
  if (signatureMatches(settings.webhookKey, signature, req.url, readFormForVerification(req))) return;
  // The URL is never echoed: it may hold credentials.
  throw new WebhookVerificationError(
    'signature_mismatch',
    `${SIGNATURE_HEADER} does not match the public URL and form fields (is publicUrl exactly the URL entered in Mandrill, and webhookKey that webhook's key?)`,
  );
}

/**
 * Answers Mandrill's URL check: the HEAD request, and the empty batch it falls back to, signed
 * with the public `test-webhook` key. Neither carries an event, so neither can inject one.
 */
function handshake(req: WebhookRequest): WebhookResponse | undefined {
  if (req.method === 'HEAD') return { status: 200 };
  if (req.method !== 'POST') return undefined;
  const signature = header(req, SIGNATURE_HEADER);
  if (signature === undefined) return undefined;
  let form: FormBody;
  try {
    form = req.form();
  } catch {
    return undefined;
  }
  const events = form.fields[EVENTS_FIELD];
  if (form.pairs.length !== 1 || events === undefined || events.trim() !== '[]') return undefined;
  return signatureMatches([URL_CHECK_KEY], signature, req.url, form)
    ? { status: 200, body: { ok: true, received: 0 } }
    : undefined;
}

/** Event fields copied to `details` (→ Distinct metadata): Mandrill path → our name. */
const EVENT_DETAILS = detailFields(
  {
    url: 'url', // clicks
    'user_agent_parsed.type': 'userAgentType', // "robot" marks machine opens/clicks
  },
  stringOrNumberDetail,
);
/** `msg` fields copied to `details`. */
const MESSAGE_DETAILS = detailFields({ bounce_description: 'bounceDescription', diag: 'diag' }, stringOrNumberDetail);
/** Sync events (no `event` field): what happened to the allow/deny-list entry. */
const SYNC_DETAILS = detailFields({ action: 'syncAction' }, stringOrNumberDetail); // add, change, remove
/** The last SMTP event's diagnostic, for deferrals (which carry it there only). */
const SMTP_DETAILS = detailFields({ diag: 'diag' }, stringOrNumberDetail);

function readDetails(item: Record<string, unknown>, msg: Record<string, unknown> | undefined): EventDetails {
  const details = pickDetails(item, EVENT_DETAILS);
  if (!msg) return details;
  pickDetails(msg, MESSAGE_DETAILS, details);
  const smtp = Array.isArray(msg.smtp_events) ? msg.smtp_events : [];
  const last: unknown = smtp[smtp.length - 1];
  if (details.diag === undefined && isObject(last)) pickDetails(last, SMTP_DETAILS, details);
  const tags = tagsDetail(msg.tags);
  if (tags !== undefined) details.tags = tags;
  return details;
}

function toDraft(item: unknown, path: string): EventDraft {
  if (!isObject(item)) throw new WebhookParseError('each event must be an object', path);
  // Message and inbound events have `event`; sync events have `type` (whitelist, blacklist).
  const name = optionalString(item, 'event') ?? optionalString(item, 'type');
  if (name === undefined)
    throw new WebhookParseError('"event" (or, for sync events, "type") is required', `${path}.event`);
  let occurredAt: string | null = null;
  if (item.ts !== undefined && item.ts !== null) {
    occurredAt = isoFromEpochSeconds(item.ts);
    if (occurredAt === null) throw new WebhookParseError('not a unix time in seconds', `${path}.ts`);
  }
  const msg = optionalObject(item, 'msg');
  const email = (msg && optionalString(msg, 'email')) ?? optionalString(optionalObject(item, 'reject') ?? {}, 'email');
  const details = readDetails(item, msg);
  if (optionalString(item, 'event') === undefined) pickDetails(item, SYNC_DETAILS, details);
  // Mandrill's own user-agent classification says a robot loaded the pixel: a machine open.
  if (name === 'open' && typeof details.userAgentType === 'string' && details.userAgentType.toLowerCase() === 'robot')
    details.machineOpen = true;
  return {
    type: mapEventType(EVENT_MAP, optionalString(item, 'event'), 'email'),
    providerEvent: name,
    occurredAt,
    messageId: (msg && optionalString(msg, '_id')) ?? optionalString(item, '_id') ?? null,
    providerEventId: null,
    ...(email !== undefined ? { email } : {}),
    overrides: overridesFrom((msg && optionalObject(msg, 'metadata')) ?? {}),
    details,
    raw: item,
  };
}

/**
 * Parses one batch (`mandrill_events`) into one draft per event; an empty batch gives none.
 * @throws WebhookParseError naming the path of the problem (`mandrill_events[3].ts`…)
 */
function parse(req: WebhookRequest): EventDraft[] {
  const value = req.form().fields[EVENTS_FIELD];
  if (value === undefined) throw new WebhookParseError(`the form field "${EVENTS_FIELD}" is required`, EVENTS_FIELD);
  const events = readJson(Buffer.from(value, 'utf8'));
  if (!Array.isArray(events)) throw new WebhookParseError('must be a JSON array of events', EVENTS_FIELD);
  if (events.length > MAX_BATCH)
    throw new WebhookParseError(`holds ${events.length} events; Mandrill sends at most ${MAX_BATCH}`, EVENTS_FIELD);
  return events.map((item, i) => toDraft(item, `${EVENTS_FIELD}[${i}]`));
}

// ---- testing helpers -------------------------------------------------------------------------

/** Signs as Mandrill does; a body that is not UTF-8 form data is signed as the URL alone. */
function sign(req: UnsignedRequest, signer: string): UnsignedRequest {
  let pairs: ReadonlyArray<readonly [string, string]> = [];
  try {
    pairs = readForm(req.body).pairs;
  } catch {
    // Junk bodies: any signature will do, verification rejects them anyway.
  }
  return {
    ...req,
    headers: {
      ...withoutHeaders(req.headers, [SIGNATURE_HEADER]),
      [SIGNATURE_HEADER.toLowerCase()]: mandrillSignature(signer, req.url, pairs),
    },
  };
}

/** The Mandrill adapter. */
export const adapter = defineAdapter({
  name: 'mandrill',
  displayName: 'Mailchimp Transactional (Mandrill)',
  channel: 'email',
  docsUrl: 'https://mailchimp.com/developer/transactional/docs/webhooks/',
  methods: ['POST'],
  ...urlSigned({
    secretKey: 'webhookKey',
    generateSecret: () => randomBytes(16).toString('base64url').slice(0, 22), // 22 base64-ish characters, like Mandrill's
    settingsSchema,
    timestamp: false,
    signsBody: true,
    verify,
    signatureHeaders: [SIGNATURE_HEADER],
    sign,
    sample,
  }),
  eventMap: EVENT_MAP,
  parse,
  handshake,
});
