/**
 * Vonage's two webhook signatures, on node:crypto only.
 *
 * SMS API (delivery receipts): the `sig` parameter, ported from @vonage/sms `SMS.verifySignature`
 * (github.com/Vonage/vonage-node-sdk `packages/sms/lib/sms.ts`):
 *   signed = for each parameter but `sig`, sorted by name: `&name=value` with `&` and `=` in the
 *   value replaced by `_`; then `md5hash` = md5_hex(signed + secret), or hex HMAC-<method>(secret, signed).
 *   Vonage compares case-insensitively (its examples use upper-case hex).
 * Messages API (status webhooks): `Authorization: Bearer <JWT>`, HS256 under the signature secret,
 * with `payload_hash` = sha256 hex of the raw body (developer.vonage.com, "Signed webhooks").
 */
import { createHash } from 'node:crypto';
import { WebhookVerificationError } from '../core/errors';
import { assertWithinTolerance, hmac, safeEqual } from './primitives';

/** The dashboard's "signature method" for the SMS API. */
export const VONAGE_SIGNATURE_METHODS = ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];

/** The string Vonage hashes: `&name=value` for every parameter but `sig`, names sorted (UTF-16 order, like the SDK). */
export function vonageSignedString(params: Readonly<Record<string, string>>): string {
  let out = '';
  for (const name of Object.keys(params).sort()) {
    if (name === 'sig') continue;
    out += `&${name}=${params[name]!.replace(/[&=]/g, '_')}`;
  }
  return out;
}

/** Lower-case hex signature of `params` under `secret`, as Vonage puts it in `sig`. */
export function computeVonageSmsSignature(
  params: Readonly<Record<string, string>>,
  secret: string,
  method: VonageSignatureMethod,
): string {
  const signed = vonageSignedString(params);
  if (method === 'md5hash')
    return createHash('md5')
      .update(signed + secret)
      .digest('hex');
  return hmac(method, secret, signed, 'hex');
}

/**
 * True when `sig` matches the parameters under any of `secrets`.
 * Security: compared in constant time on lower-cased hex (Vonage's own check is case-insensitive).
 */
export function validateVonageSmsSignature(
  params: Readonly<Record<string, string>>,
  sig: string,
  secrets: readonly string[],
  method: VonageSignatureMethod,
): boolean {
  const claimed = sig.toLowerCase();
  let ok = false;
  // Every secret is tried (no early exit), so timing does not say which one matched.
  for (const secret of secrets) ok = safeEqual(claimed, computeVonageSmsSignature(params, secret, method)) || ok;
  return ok;
}

/** sha256 hex of the exact body bytes: the JWT's `payload_hash`. */
export function vonagePayloadHash(rawBody: Buffer): string {
  return createHash('sha256').update(rawBody).digest('hex');
}

/** A JWT split and decoded; null when it is not three base64url parts with JSON header and claims. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** `<header>.<claims>` as received: what the signature covers. */
  signingInput: string;
  signature: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function decodeJsonPart(part: string): Record<string, unknown> | null {
  if (!B64URL.test(part)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Splits a compact JWS; never throws. */
export function decodeJwt(token: string): DecodedJwt | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h = '', c = '', s = ''] = parts;
  const header = decodeJsonPart(h);
  const claims = decodeJsonPart(c);
  if (!header || !claims || !B64URL.test(s)) return null;
  return { header, claims, signingInput: `${h}.${c}`, signature: s };
}

/** base64url HMAC-SHA256: the HS256 signature of a signing input. */
export function hs256(secret: string, signingInput: string): string {
  return hmac('sha256', secret, signingInput, 'base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * True when the JWT's HS256 signature verifies under any secret.
 * Security: the caller must have checked `alg === 'HS256'` first (no `none`, no algorithm
 * confusion); the compare is constant-time and every secret is tried.
 */
export function validateHs256(jwt: DecodedJwt, secrets: readonly string[]): boolean {
  let ok = false;
  for (const secret of secrets) ok = safeEqual(jwt.signature, hs256(secret, jwt.signingInput)) || ok;
  return ok;
}

/**
 * Messages API: verifies `Authorization: Bearer <JWT>` — HS256 under a signature secret, `iat`
 * within the window, and `payload_hash` equal to the sha256 of the exact body bytes.
 * @throws WebhookVerificationError
 */
export function verifyVonageJwt(
  authorization: string,
  rawBody: Buffer,
  secrets: readonly string[],
  now: Date,
  toleranceSeconds: number,
): void {
  const jwt = decodeJwt(authorization.replace(/^bearer\s+/i, '').trim());
  if (!jwt) throw new WebhookVerificationError('malformed_signature', 'Authorization does not carry a JWT');
  // Security: HS256 only — never `none`, never an algorithm the token chooses for itself.
  if (jwt.header.alg !== 'HS256')
    throw new WebhookVerificationError('malformed_signature', 'the JWT must be signed with HS256');
  if (!validateHs256(jwt, secrets)) {
    throw new WebhookVerificationError(
      'signature_mismatch',
      'the JWT does not verify with the configured signatureSecret(s)',
    );
  }
  const { iat, payload_hash: payloadHash } = jwt.claims;
  if (typeof iat !== 'number') throw new WebhookVerificationError('malformed_signature', 'the JWT has no numeric iat');
  assertWithinTolerance(iat, now, toleranceSeconds);
  if (typeof payloadHash !== 'string')
    throw new WebhookVerificationError('malformed_signature', 'the JWT has no payload_hash');
  // Security: the hash of the exact received bytes, compared in constant time.
  if (!safeEqual(payloadHash.toLowerCase(), vonagePayloadHash(rawBody))) {
    throw new WebhookVerificationError('signature_mismatch', 'the body does not hash to the JWT payload_hash');
  }
}

/** Signs claims as Vonage does (testing and `simulate` only). */
export function signVonageJwt(claims: Record<string, unknown>, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${header}.${body}.${hs256(secret, `${header}.${body}`)}`;
}
