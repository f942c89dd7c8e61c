/**
 * Vonage (ex-Nexmo) SMS status webhooks: SMS API delivery receipts and Messages API status
 * callbacks, on one route (the request itself says which API sent it).
 *
 * Payload:  https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts
 *           https://developer.vonage.com/en/messages/concepts/messages-status-callbacks
 * Security: https://developer.vonage.com/en/getting-started/concepts/signing-messages (SMS API `sig`)
 *           https://developer.vonage.com/en/messages/concepts/signed-webhooks (Messages API JWT)
 * Retries:  https://api.support.vonage.com/hc/en-us/articles/360028543292
 * Oracle:   @vonage/sms `verifySignature` (github.com/Vonage/vonage-node-sdk `packages/sms/lib/sms.ts`;
 *           not installed: ported to src/verify/vonage-signature.ts, checked against its test vectors)
 *
 * Verification: SMS API — `sig` = md5(sorted `&k=v` + secret) or hex HMAC (md5/sha1/sha256/sha512)
 * over the same string, per the account's signature method, plus the signed `timestamp` within
 * `toleranceSeconds`. Messages API — `Authorization: Bearer <JWT>`, HS256 under the same
 * signature secret, `iat` within `toleranceSeconds`, `payload_hash` = sha256 hex of the raw body.
 *
 * Quirks:
 * - DLRs arrive as GET (query), POST form or POST JSON, as set in the dashboard; all three are
 *   read. Messages API callbacks are JSON with `message_uuid` and a bearer JWT.
 * - SMS API signing covers Vonage's own parameters only. On GET they share the query with the
 *   callback URL's own parameters (`distinct_*` overrides), so the signed set is tried without
 *   and with those; on POST the query is not signed at all.
 * - The signature method is an account setting the request does not name: `signatureMethod`
 *   must match the dashboard (default `md5hash`). The Messages API always uses HS256.
 * - `scts` is not UTC: Vonage's published DLR pair shows `scts` 1810251310 for a receipt pushed at
 *   `message-timestamp` 2018-10-25 12:10:29 UTC (a UK carrier's BST). `message-timestamp` (stated
 *   UTC, when Vonage started pushing, so stable across retries) is the event time; `scts` goes to
 *   details verbatim.
 * - Overrides: `client-ref` (signed; max 40 characters on the SMS API, 100 on Messages) is read as
 *   form-encoded `distinct_user_id=u_42[&…]`; callback URL query parameters fill the keys it does
 *   not set. Anything else in `client-ref` is ignored.
 * - `err-code` "0" means no error and is left out of details. Multipart SMS send one DLR per part,
 *   each with its own `messageId`.
 * - Vonage retries only 429/5xx (backoff from 5 s up to every 15 min, for 24 h). A Messages API
 *   callback may, after an internal error at Vonage, arrive unsigned; it is refused (401), which
 *   Vonage does not retry: see docs/providers/vonage.md.
 * - No replay cache: a retried, identical request is the same event, absorbed by de-duplication.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { readForm } from '../src/body/read-form';
import { isObject, optionalObject, optionalString, readJson } from '../src/body/read-json';
import { defineAdapter, type UnsignedRequest } from '../src/core/adapter';
import { detailFields, pickDetails, textDetail } from '../src/core/details';
import { WebhookAdapterError, WebhookParseError, WebhookVerificationError } from '../src/core/errors';
import { mapEventType, type EventMap } from '../src/core/event-types';
import type { EventDetails, EventDraft, EventOverrides } from '../src/core/normalized-event';
import { createWebhookRequest } from '../src/body/webhook-request';
import { header, type WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import { firstSecret, rotatableSecret, toleranceSeconds } from '../src/verify/settings';
import { assertWithinTolerance } from '../src/verify/primitives';
import {
  computeVonageSmsSignature,
  signVonageJwt,
  validateVonageSmsSignature,
  verifyVonageJwt,
  vonagePayloadHash,
  VONAGE_SIGNATURE_METHODS,
  type VonageSignatureMethod,
} from '../src/verify/vonage-signature';
import { OVERRIDE_FIELDS, overridesFrom } from '../src/core/overrides';
import { sample } from './samples/vonage';

const DEFAULT_TOLERANCE_SECONDS = 300;

/** SMS API DLR `status` and Messages API `status` → normalized type (the two vocabularies barely overlap). */
const EVENT_MAP = {
  accepted: 'sms.sent', // SMS API: accepted for delivery by the carrier (PROVIDERS.md: registration_sms/sent)
  buffered: 'sms.queued', // SMS API: held for later delivery
  delivered: 'sms.delivered', // both
  expired: 'sms.undelivered', // SMS API: the carrier's retries ran out
  failed: 'sms.failed', // SMS API: not delivered; err-code says why
  rejected: 'sms.failed', // both: refused before delivery (carrier, or Messages API / provider)
  unknown: 'sms.unknown', // SMS API: "no useful information"
  submitted: 'sms.sent', // Messages API: passed to the provider
  undeliverable: 'sms.failed', // Messages API: could not reach the provider
  read: 'sms.unknown', // Messages API (WhatsApp, Viber…): after delivered; as sms.delivered it would count twice
} as const satisfies EventMap;

/** A Vonage DLR `status` this adapter knows. */
export type VonageStatus = keyof typeof EVENT_MAP;

/** SMS API DLR parameters copied to `details` (→ Distinct metadata). */
const DLR_DETAIL_FIELDS = detailFields({ 'network-code': 'networkCode', scts: 'scts' }, textDetail);

/** Parsed settings (secrets inside: never log). */
export interface VonageSettings {
  signatureSecret: readonly string[];
  signatureMethod: VonageSignatureMethod;
  toleranceSeconds: number;
}

const settingsSchema = z
  .object({
    signatureSecret: rotatableSecret,
    signatureMethod: z
      .enum(VONAGE_SIGNATURE_METHODS, {
        error: `must be one of ${VONAGE_SIGNATURE_METHODS.join(', ')} (the dashboard's signature method)`,
      })
      .default('md5hash'),
    toleranceSeconds: toleranceSeconds.default(DEFAULT_TOLERANCE_SECONDS),
  })
  .strict();

/** What a request carries: SMS API parameters, or a Messages API JSON body. */
type VonageInput =
  { api: 'sms'; params: Record<string, string>; raw: unknown } | { api: 'messages'; body: Record<string, unknown> };

/** JSON by content type, or by its first character (a DLR set to "POST-JSON" behind a proxy that drops the type). */
function isJson(headers: Readonly<Record<string, string>>, rawBody: Buffer): boolean {
  const contentType = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  return /json/i.test(contentType) || /^\s*[[{]/.test(rawBody.subarray(0, 16).toString('latin1'));
}

/** JSON DLR values as the strings Vonage signs (its JSON DLRs carry strings; numbers are stringified). */
function stringParams(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body))
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  return out;
}

/** @throws WebhookParseError */
function readInput(req: WebhookRequest): VonageInput {
  if (req.method.toUpperCase() === 'GET') {
    const params = { ...readForm(req.query).fields };
    return { api: 'sms', params, raw: params };
  }
  if (isJson(req.headers, req.rawBody)) {
    const body = req.json();
    if (!isObject(body)) throw new WebhookParseError('a Vonage webhook body must be a JSON object');
    return 'message_uuid' in body ? { api: 'messages', body } : { api: 'sms', params: stringParams(body), raw: body };
  }
  const params = { ...req.form().fields };
  return { api: 'sms', params, raw: params };
}

function withoutKeys(params: Readonly<Record<string, string>>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([k]) => !keys.includes(k)));
}

/** SMS API: the `sig` parameter. @throws WebhookVerificationError */
function verifySig(req: WebhookRequest, settings: VonageSettings): void {
  let input: VonageInput;
  try {
    input = readInput(req);
  } catch (cause) {
    throw new WebhookVerificationError('missing_signature', 'no Authorization header and no readable sig parameter', {
      cause,
    });
  }
  if (input.api === 'messages')
    throw new WebhookVerificationError(
      'missing_signature',
      'Messages API callback without an Authorization bearer JWT',
    );
  const { sig, timestamp } = input.params;
  if (!sig)
    throw new WebhookVerificationError(
      'missing_signature',
      'no sig parameter (are signed webhooks enabled for this account?)',
    );
  if (!/^[0-9a-f]{32,128}$/i.test(sig))
    throw new WebhookVerificationError('malformed_signature', 'sig is not a hex digest');
  if (!timestamp || !/^\d{1,13}$/.test(timestamp))
    throw new WebhookVerificationError('malformed_signature', 'a signed request must carry a unix timestamp');
  const candidates =
    req.method.toUpperCase() === 'GET'
      ? [withoutKeys(input.params, Object.keys(OVERRIDE_FIELDS)), input.params]
      : [input.params];
  if (
    !candidates.some((params) =>
      validateVonageSmsSignature(params, sig, settings.signatureSecret, settings.signatureMethod),
    )
  ) {
    throw new WebhookVerificationError(
      'signature_mismatch',
      `sig does not match (are signatureSecret and signatureMethod "${settings.signatureMethod}" those of the dashboard?)`,
    );
  }
  assertWithinTolerance(
    timestamp.length === 13 ? Number(timestamp) / 1000 : Number(timestamp),
    req.receivedAt,
    settings.toleranceSeconds,
  );
}

function verify(req: WebhookRequest, settings: VonageSettings): void {
  const authorization = header(req, 'authorization');
  // The Messages API signs with a bearer JWT; the SMS API with a `sig` parameter.
  if (authorization !== undefined && /^bearer\s/i.test(authorization)) {
    verifyVonageJwt(authorization, req.rawBody, settings.signatureSecret, req.receivedAt, settings.toleranceSeconds);
  } else {
    verifySig(req, settings);
  }
}

/** `client-ref` (form-encoded, signed) first, then the callback URL's query for the keys it did not set. */
function readOverrides(clientRef: string | undefined, query: string): EventOverrides {
  return overridesFrom(clientRef ? readForm(clientRef).fields : {}, readForm(query).fields);
}

function required(obj: Record<string, unknown>, key: string): string {
  const value = optionalString(obj, key);
  if (value === undefined) throw new WebhookParseError(`"${key}" is required`, key);
  return value;
}

function parseDlr(params: Record<string, string>, raw: unknown, query: string): EventDraft {
  const messageId = required(params, 'messageId');
  const status = required(params, 'status');
  const phone = optionalString(params, 'msisdn');
  const details: EventDetails = {};
  const errorCode = optionalString(params, 'err-code');
  if (errorCode && errorCode !== '0') details.errorCode = errorCode;
  pickDetails(params, DLR_DETAIL_FIELDS, details);
  return {
    type: mapEventType(EVENT_MAP, status, 'sms'),
    providerEvent: status,
    occurredAt: isoFromString(params['message-timestamp']), // stated UTC, `YYYY-MM-DD HH:MM:SS`
    messageId,
    providerEventId: null,
    ...(phone !== undefined ? { phone } : {}),
    overrides: readOverrides(params['client-ref'], query),
    details,
    raw,
  };
}

function parseMessages(body: Record<string, unknown>, query: string): EventDraft {
  const messageId = required(body, 'message_uuid');
  const status = required(body, 'status');
  // `to` is a string in Messages API v1, an object {type, number} in the v0.1 format.
  const to = optionalObject(body, 'to');
  const phone = to ? optionalString(to, 'number') : optionalString(body, 'to');
  const details: EventDetails = {};
  const channel = optionalString(body, 'channel');
  if (channel) details.channel = channel;
  const error = optionalObject(body, 'error');
  const errorCode = error ? (optionalString(error, 'title') ?? optionalString(error, 'code')) : undefined;
  const errorDetail = error ? (optionalString(error, 'detail') ?? optionalString(error, 'reason')) : undefined;
  if (errorCode) details.errorCode = errorCode;
  if (errorDetail) details.errorDetail = errorDetail;
  return {
    type: mapEventType(EVENT_MAP, status, 'sms'),
    providerEvent: status,
    occurredAt: isoFromString(body.timestamp),
    messageId,
    providerEventId: null,
    ...(phone !== undefined ? { phone } : {}),
    overrides: readOverrides(optionalString(body, 'client_ref'), query),
    details,
    raw: body,
  };
}

/** @throws WebhookParseError naming the missing field */
function parse(req: WebhookRequest): EventDraft[] {
  const input = readInput(req);
  return [
    input.api === 'messages' ? parseMessages(input.body, req.query) : parseDlr(input.params, input.raw, req.query),
  ];
}

/** The signer: the secret and the dashboard's method (JSON-serialisable for the dev quick start). */
export interface VonageSigner {
  signatureSecret: string;
  signatureMethod: VonageSignatureMethod;
}

/** The parameters a signed SMS API request adds (Vonage appends them; so does the test signer). */
const SIGNATURE_FIELDS = ['timestamp', 'nonce', 'sig'] as const;

/** Signs SMS API parameters: adds timestamp, nonce and sig (over the parameters passed). */
function signedDlrParams(params: Record<string, string>, signer: VonageSigner, now: Date): Record<string, string> {
  const withStamp = { ...params, timestamp: String(Math.floor(now.getTime() / 1000)), nonce: randomUUID() };
  return { ...withStamp, sig: computeVonageSmsSignature(withStamp, signer.signatureSecret, signer.signatureMethod) };
}

function signRequest(req: UnsignedRequest, signer: VonageSigner, now: Date): UnsignedRequest {
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
  const q = req.url.indexOf('?');
  const input = readInput(
    createWebhookRequest({
      method: req.method,
      url: req.url,
      query: q === -1 ? '' : req.url.slice(q + 1),
      headers,
      rawBody: req.body,
      receivedAt: now,
    }),
  );
  if (input.api === 'messages') {
    const claims = {
      iat: Math.floor(now.getTime() / 1000),
      jti: randomUUID(),
      iss: 'Vonage',
      payload_hash: vonagePayloadHash(req.body),
      api_key: 'a1b2c3d',
      application_id: randomUUID(),
    };
    return {
      ...req,
      headers: { ...headers, authorization: `Bearer ${signVonageJwt(claims, signer.signatureSecret)}` },
    };
  }
  if (req.method.toUpperCase() === 'GET') {
    // Vonage signs its own parameters; the callback URL's (overrides) ride along unsigned.
    const query = new URLSearchParams(q === -1 ? '' : req.url.slice(q + 1));
    for (const k of SIGNATURE_FIELDS) query.delete(k);
    const signed = signedDlrParams(withoutKeys(Object.fromEntries(query), Object.keys(OVERRIDE_FIELDS)), signer, now);
    for (const k of SIGNATURE_FIELDS) query.set(k, signed[k]!);
    return { ...req, url: `${q === -1 ? req.url : req.url.slice(0, q)}?${query.toString()}` };
  }
  const signed = signedDlrParams(withoutKeys(input.params, SIGNATURE_FIELDS), signer, now);
  if (isJson(headers, req.body)) {
    const body = {
      ...(input.raw as Record<string, unknown>),
      timestamp: signed.timestamp,
      nonce: signed.nonce,
      sig: signed.sig,
    };
    return { ...req, body: Buffer.from(JSON.stringify(body), 'utf8') };
  }
  const tail = SIGNATURE_FIELDS.map((k) => `${k}=${encodeURIComponent(signed[k]!)}`).join('&');
  const text = req.body.toString('utf8');
  return { ...req, body: Buffer.from(text ? `${text}&${tail}` : tail, 'utf8') };
}

/** The request with `sig` / the bearer JWT removed (testing). */
function stripSignature(req: UnsignedRequest): UnsignedRequest {
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
  const dropSig = (text: string): string =>
    new URLSearchParams([...new URLSearchParams(text)].filter(([k]) => k !== 'sig')).toString();
  const q = req.url.indexOf('?');
  const url = q === -1 ? req.url : `${req.url.slice(0, q)}?${dropSig(req.url.slice(q + 1))}`;
  if (req.method.toUpperCase() === 'GET' || req.body.length === 0) return { ...req, url, headers };
  const json = isJson(headers, req.body) ? readJson(req.body) : undefined;
  if (isObject(json)) delete json.sig;
  const body = json === undefined ? dropSig(req.body.toString('utf8')) : JSON.stringify(json);
  return { ...req, url, headers, body: Buffer.from(body, 'utf8') };
}

/** The Vonage adapter. */
export const adapter = defineAdapter<VonageSettings, VonageSigner>({
  name: 'vonage',
  displayName: 'Vonage',
  channel: 'sms',
  docsUrl: 'https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts',
  supports: { timestamp: true, rotation: true, signsBody: true, signsUrl: false },
  methods: ['POST', 'GET'],
  settingsSchema,
  eventMap: EVENT_MAP,
  verify,
  parse,
  testing: {
    createCredentials() {
      const signatureSecret = randomBytes(24).toString('base64url');
      return {
        options: { signatureSecret, signatureMethod: 'sha256' },
        signer: { signatureSecret, signatureMethod: 'sha256' },
      };
    },
    sign(req: UnsignedRequest, signer: VonageSigner, now: Date): UnsignedRequest {
      try {
        return signRequest(req, signer, now);
      } catch (err) {
        // An unreadable body cannot be signed as Vonage would; send it unsigned.
        if (err instanceof WebhookAdapterError) return req;
        throw err;
      }
    },
    sample,
    stripSignature,
    secretKey: 'signatureSecret',
    signerFromOptions(options: Record<string, unknown>): VonageSigner | undefined {
      const first = firstSecret(options.signatureSecret);
      const method = options.signatureMethod ?? 'md5hash';
      if (first === undefined || !VONAGE_SIGNATURE_METHODS.includes(method as VonageSignatureMethod)) return undefined;
      return { signatureSecret: first, signatureMethod: method as VonageSignatureMethod };
    },
  },
});
