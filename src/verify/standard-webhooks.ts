/**
 * Standard Webhooks (and Svix, which it was extracted from) symmetric signatures: the shared
 * primitive behind the `resend` and `generic` adapters.
 *
 * Spec:      https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 * Reference: standard-webhooks `libraries/javascript/src/index.ts`; svix `javascript/src/webhook.ts`.
 *
 * - Secret: `whsec_` + base64 of random bytes; the HMAC key is the *decoded* bytes (the prefix is
 *   optional, as in the reference library).
 * - Signed content: `${id}.${timestamp}.${rawBody}`; signature `v1,` + base64(HMAC-SHA256).
 * - Headers `webhook-id`, `webhook-timestamp` (unix seconds), `webhook-signature` — or the
 *   `svix-*` names, which Svix (and so Resend) sends. One family is read, never a mix.
 * - The signature header is a space-separated list (the producer signs with old and new secrets
 *   while rotating); entries of other versions (`v1a`, ed25519) are skipped.
 */
import type { SampleOptions, SampleRequest, UnsignedRequest, Verification } from '../core/adapter';
import { withoutHeaders } from '../core/request';
import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { toleranceSeconds } from './settings';
import { WebhookVerificationError } from '../core/errors';
import { assertWithinTolerance, requireHeader, requireTimestampHeader, safeEqual } from './primitives';

/** The producers' default window (the reference libraries use 5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The spec's minimum symmetric secret size (Svix and Resend secrets are exactly this). */
export const MIN_SECRET_BYTES = 24;

/** Prefix of a serialized symmetric secret. */
export const SECRET_PREFIX = 'whsec_';

/** One family of header names. */
export interface StandardWebhookHeaderNames {
  id: string;
  timestamp: string;
  signature: string;
}

/** The spec's own header names. */
export const WEBHOOK_HEADERS: StandardWebhookHeaderNames = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
};

/** The names Svix (and so Resend) sends. */
export const SVIX_HEADERS: StandardWebhookHeaderNames = {
  id: 'svix-id',
  timestamp: 'svix-timestamp',
  signature: 'svix-signature',
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The HMAC key of a `whsec_…` secret, or null when the text after the prefix is not base64 of at
 * least one byte. Never echoes the secret.
 */
export function decodeSigningSecret(secret: string): Buffer | null {
  const text = secret.trim().startsWith(SECRET_PREFIX) ? secret.trim().slice(SECRET_PREFIX.length) : secret.trim();
  if (text === '' || !BASE64.test(text)) return null;
  const key = Buffer.from(text, 'base64');
  return key.length > 0 ? key : null;
}

/**
 * `signingSecret` option: one `whsec_…` secret or a list (old and new while rotating) → key bytes.
 * A bad value is reported by format and position, never echoed.
 */
export const signingSecretList = z
  .union([z.string(), z.array(z.string()).min(1, 'must list at least one secret')])
  .transform((value, ctx): readonly Buffer[] => {
    const list = Array.isArray(value) ? value : [value];
    const keys: Buffer[] = [];
    list.forEach((secret, i) => {
      const key = decodeSigningSecret(secret);
      const path = Array.isArray(value) ? [i] : [];
      if (key === null) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: 'must be a Standard Webhooks secret: whsec_ followed by base64 (copy it exactly as shown)',
        });
      } else if (key.length < MIN_SECRET_BYTES) {
        // A short key is almost always a truncated paste; the spec asks producers for 24+ bytes.
        ctx.addIssue({
          code: 'custom',
          path,
          message: `decodes to ${key.length} bytes; Standard Webhooks secrets have at least ${MIN_SECRET_BYTES} (copy it again in full)`,
        });
      } else {
        keys.push(key);
      }
    });
    return keys;
  });

/** A fresh `whsec_…` secret (32 random bytes; the spec asks for at least 24). */
export function generateSigningSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)), without the `v1,` prefix. */
export function computeSignature(key: Buffer, id: string, timestamp: number | string, body: Buffer | string): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64');
}

/** The header value a producer sends: `v1,<sig>` for each key, space-separated (rotation). */
export function signatureHeader(keys: readonly Buffer[], id: string, timestamp: number, body: Buffer | string): string {
  return keys.map((key) => `v1,${computeSignature(key, id, timestamp, body)}`).join(' ');
}

/** The three values a request carries, read from one header family. */
export interface StandardWebhookHeaders {
  id: string;
  timestamp: number;
  /** Every `v1` signature of the list (base64). */
  signatures: string[];
  /** Which family carried them. */
  names: StandardWebhookHeaderNames;
}

/** `webhook-*` when `webhook-signature` is present, else `svix-*` (and `webhook-*` for the messages when neither is). */
export function headerFamily(headers: Readonly<Record<string, string | undefined>>): StandardWebhookHeaderNames {
  if (headers[WEBHOOK_HEADERS.signature] !== undefined) return WEBHOOK_HEADERS;
  if (headers[SVIX_HEADERS.signature] !== undefined || headers[SVIX_HEADERS.id] !== undefined) return SVIX_HEADERS;
  return WEBHOOK_HEADERS;
}

/**
 * Reads id, timestamp and `v1` signatures (header names lower-cased).
 * @throws WebhookVerificationError `missing_signature` or `malformed_signature`
 */
export function readStandardWebhookHeaders(
  headers: Readonly<Record<string, string | undefined>>,
): StandardWebhookHeaders {
  const names = headerFamily(headers);
  const signature = requireHeader(headers[names.signature]?.trim(), names.signature);
  const id = requireHeader(headers[names.id]?.trim(), names.id);
  const timestamp = requireTimestampHeader(headers[names.timestamp], names.timestamp);
  const entries = signature.split(/\s+/).filter((e) => e !== '');
  const versioned = entries.map((e) => /^(v[0-9a-z]+),(\S+)$/.exec(e)).filter((m): m is RegExpExecArray => m !== null);
  if (versioned.length === 0) {
    throw new WebhookVerificationError('malformed_signature', `${names.signature} holds no "v1,<base64>" entry`);
  }
  return { id, timestamp, signatures: versioned.filter((m) => m[1] === 'v1').map((m) => m[2]!), names };
}

/** What {@link verifyStandardWebhook} needs of a request. */
export interface SignedRequestParts {
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
  receivedAt: Date;
}

/**
 * Verifies a Standard Webhooks / Svix request against every key: any `v1` entry matching any key
 * passes; then the signed timestamp must be within `toleranceSeconds` of receipt (0 = no window).
 * Returns the (now authenticated) message id and timestamp.
 * @throws WebhookVerificationError `missing_signature`, `malformed_signature`, `signature_mismatch`
 *   or `timestamp_out_of_tolerance`
 */
export function verifyStandardWebhook(
  req: SignedRequestParts,
  keys: readonly Buffer[],
  toleranceSeconds: number,
): { id: string; timestamp: number } {
  const { id, timestamp, signatures, names } = readStandardWebhookHeaders(req.headers);
  // Security: the signature is computed over the exact bytes received, before anything is parsed,
  // and over the timestamp exactly as received (already checked to be digits only).
  const timestampText = req.headers[names.timestamp]!.trim();
  let matched = false;
  for (const key of keys) {
    const expected = computeSignature(key, id, timestampText, req.rawBody);
    // Security: constant-time compare (safeEqual checks the public length first on purpose); every
    // candidate is compared whatever matched before, so timing does not reveal which key matched.
    for (const candidate of signatures) matched = safeEqual(expected, candidate) || matched;
  }
  if (!matched) {
    throw new WebhookVerificationError(
      'signature_mismatch',
      signatures.length === 0
        ? `${names.signature} carries no v1 (HMAC) signature`
        : `${names.signature} does not match any configured signingSecret`,
    );
  }
  // After the signature, so an unauthenticated timestamp is never trusted or probed.
  assertWithinTolerance(timestamp, req.receivedAt, toleranceSeconds);
  return { id, timestamp };
}

/** Test/simulate signing: the three headers for `body`, under `names`, keeping an existing id. */
export function signStandardWebhook(
  headers: Record<string, string>,
  body: Buffer,
  secret: string,
  now: Date,
  names: StandardWebhookHeaderNames,
): Record<string, string> {
  const key = decodeSigningSecret(secret);
  if (key === null) throw new Error('the signer is not a whsec_ secret');
  // Keeping an existing id lets fixtures state the provider event id they expect.
  const id = headerOf(headers, names.id) ?? `msg_${randomBytes(16).toString('base64url')}`;
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    ...withoutHeaders(headers, [names.id, names.timestamp, names.signature]),
    [names.id]: id,
    [names.timestamp]: String(timestamp),
    [names.signature]: signatureHeader([key], id, timestamp, body),
  };
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  return Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

/**
 * The `testing` members every Standard Webhooks adapter shares (all but `sample`): throwaway
 * `whsec_` secrets, signing with the header family the provider sends (`webhook-*` or `svix-*`),
 * and stripping either family's signature.
 */
export function standardWebhookTesting(family: StandardWebhookHeaderNames) {
  return {
    createCredentials(): { options: Record<string, unknown>; signer: string } {
      const secret = generateSigningSecret();
      return { options: { signingSecret: secret }, signer: secret };
    },
    /** Signs with `family` (an existing id header is kept). */
    sign(req: UnsignedRequest, signer: string, now: Date): UnsignedRequest {
      return { ...req, headers: signStandardWebhook(req.headers, req.body, signer, now, family) };
    },
    stripSignature(req: UnsignedRequest): UnsignedRequest {
      return { ...req, headers: withoutHeaders(req.headers, [WEBHOOK_HEADERS.signature, SVIX_HEADERS.signature]) };
    },
    secretKey: 'signingSecret',
    /** The first configured `signingSecret`. */
    signerFromOptions(options: Record<string, unknown>): string | undefined {
      const value = options.signingSecret;
      const first: unknown = Array.isArray(value) ? value[0] : value;
      return typeof first === 'string' && first !== '' ? first : undefined;
    },
  };
}

/** The Standard Webhooks family's settings: the `whsec_` secrets (rotatable) and the timestamp window. */
export const standardWebhookSettings = z
  .object({
    /** The endpoint's signing secret (`whsec_…`); a list while rotating. */
    signingSecret: signingSecretList,
    /** Signed-timestamp window in seconds; 0 disables it. */
    toleranceSeconds: toleranceSeconds.default(DEFAULT_TOLERANCE_SECONDS),
  })
  .strict();

/** Parsed Standard Webhooks settings (key bytes inside: never log). */
export type StandardWebhookSettings = z.output<typeof standardWebhookSettings>;

/**
 * The Standard Webhooks verification family (HMAC-SHA256 over `id.timestamp.body`, `whsec_`
 * secrets, a timestamp window): settings, `verify`, and the test signer for the header family
 * the provider sends (`webhook-*` or Svix's `svix-*`; both are accepted when verifying).
 */
export function standardWebhooks(
  family: StandardWebhookHeaderNames,
  options: { sample: (options: SampleOptions) => SampleRequest },
): Verification<StandardWebhookSettings, string> {
  return {
    supports: { timestamp: true, rotation: true, signsBody: true, signsUrl: false },
    settingsSchema: standardWebhookSettings,
    /**
     * @throws WebhookVerificationError `missing_signature`, `malformed_signature`, `signature_mismatch`
     *   or `timestamp_out_of_tolerance`
     */
    verify(req, settings) {
      verifyStandardWebhook(req, settings.signingSecret, settings.toleranceSeconds);
    },
    testing: { ...standardWebhookTesting(family), sample: options.sample },
  };
}
