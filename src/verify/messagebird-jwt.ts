/**
 * MessageBird's request signature: a JWT in `MessageBird-Signature-JWT`, implemented with
 * node:crypto after messagebird-nodejs `lib/webhook-signature-jwt.js` (which uses `jose`) and
 * checked against its published vectors (`lib/testdata/webhook-signature-jwt-reference.json`,
 * test/adapters/messagebird.test.ts).
 *
 * token = base64url(header) . base64url(claims) . base64url(HMAC-SHA256/384/512(signingKey, h.c))
 * claims: iss "MessageBird", nbf, exp (60 s lifetime), jti, url_hash = hex sha256(full URL),
 * payload_hash = hex sha256(raw body), present only when there is a body.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { WebhookVerificationError } from '../core/errors';
import { safeEqual } from './primitives';

/** The HMAC algorithms MessageBird signs with; anything else (`none` included) is refused. */
export const MESSAGEBIRD_JWT_ALGORITHMS = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;

export type MessageBirdJwtAlgorithm = keyof typeof MESSAGEBIRD_JWT_ALGORITHMS;

/** The claims MessageBird puts in the token (the ones this service reads). */
export interface MessageBirdClaims {
  iss: string;
  nbf?: number;
  exp: number;
  jti: string;
  url_hash: string;
  payload_hash?: string;
}

const ISSUER = 'MessageBird';
/** MessageBird's tokens live 60 s (nbf → exp), as in every published vector. */
export const MESSAGEBIRD_JWT_LIFETIME_SECONDS = 60;
const SEGMENT = /^[A-Za-z0-9_-]*$/;

/** Hex SHA-256, as the `url_hash` and `payload_hash` claims carry it. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function b64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function signingInput(key: string, algorithm: MessageBirdJwtAlgorithm, input: string): Buffer {
  // The SDK builds the key from the signing key's UTF-8 bytes (createSecretKey(Buffer.from(secret, 'utf8'))).
  return createHmac(MESSAGEBIRD_JWT_ALGORITHMS[algorithm], Buffer.from(key, 'utf8')).update(input).digest();
}

/** The token MessageBird sends for `url` and `body` at `now` (the test signer; `simulate` uses it too). */
export function signMessageBirdJwt(
  key: string,
  request: { url: string; body: Buffer },
  now: Date,
  options: { algorithm?: MessageBirdJwtAlgorithm; jti?: string } = {},
): string {
  const algorithm = options.algorithm ?? 'HS256';
  const nbf = Math.floor(now.getTime() / 1000);
  const claims: MessageBirdClaims = {
    iss: ISSUER,
    nbf,
    exp: nbf + MESSAGEBIRD_JWT_LIFETIME_SECONDS,
    jti: options.jti ?? randomUUID(),
    url_hash: sha256Hex(request.url),
    ...(request.body.length > 0 ? { payload_hash: sha256Hex(request.body) } : {}),
  };
  const input = `${b64urlJson({ alg: algorithm, typ: 'JWT' })}.${b64urlJson(claims)}`;
  return `${input}.${signingInput(key, algorithm, input).toString('base64url')}`;
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new WebhookVerificationError('malformed_signature', `the JWT ${what} is not base64url JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WebhookVerificationError('malformed_signature', `the JWT ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function isAlgorithm(value: unknown): value is MessageBirdJwtAlgorithm {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(MESSAGEBIRD_JWT_ALGORITHMS, value);
}

function numericClaim(claims: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const value = claims[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new WebhookVerificationError(
      'malformed_signature',
      `the JWT ${name} claim is ${value === undefined ? 'missing' : 'not a number'}`,
    );
  }
  return value;
}

function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Verifies a MessageBird signature JWT for the request it came with and returns its claims.
 * Order: structure and algorithm, signature (any key, rotation), then issuer, time window
 * (`toleranceSeconds` of clock skew around nbf/exp; 0 disables the window), jti, url_hash and
 * payload_hash. Security: every compare is constant-time; nothing in the token is trusted before
 * its signature is.
 * @throws WebhookVerificationError (`malformed_signature`, `signature_mismatch`, `timestamp_out_of_tolerance`)
 */
export function verifyMessageBirdJwt(
  token: string,
  keys: readonly string[],
  request: { url: string; body: Buffer; now: Date; toleranceSeconds: number },
): MessageBirdClaims {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p)) || parts[0] === '' || parts[1] === '') {
    throw new WebhookVerificationError('malformed_signature', 'MessageBird-Signature-JWT is not a compact JWT');
  }
  const [h, c, s] = parts as [string, string, string];
  const header = decodeSegment(h, 'header');
  // Security: the algorithm is allow-listed before anything is computed; `none` and asymmetric
  // algorithms (key confusion) never reach the HMAC.
  if (!isAlgorithm(header.alg)) {
    throw new WebhookVerificationError(
      'malformed_signature',
      `JWT algorithm ${JSON.stringify(header.alg ?? null)} is not accepted (HS256, HS384, HS512 only)`,
    );
  }
  const algorithm = header.alg;
  const signature = Buffer.from(s, 'base64url');
  let matched = false;
  for (const key of keys) {
    // Security: constant-time; every key is tried so timing does not reveal which one matched.
    matched = safeEqual(signingInput(key, algorithm, `${h}.${c}`), signature) || matched;
  }
  if (!matched)
    throw new WebhookVerificationError(
      'signature_mismatch',
      'the JWT signature does not match any configured signingKey',
    );

  const claims = decodeSegment(c, 'claims');
  if (claims.iss !== ISSUER)
    throw new WebhookVerificationError('malformed_signature', 'the JWT issuer is not MessageBird');
  const exp = numericClaim(claims, 'exp', true)!;
  const nbf = numericClaim(claims, 'nbf', false);
  if (request.toleranceSeconds > 0) {
    const nowSeconds = request.now.getTime() / 1000;
    if (
      (nbf !== undefined && nowSeconds < nbf - request.toleranceSeconds) ||
      nowSeconds > exp + request.toleranceSeconds
    ) {
      throw new WebhookVerificationError(
        'timestamp_out_of_tolerance',
        `the JWT is valid from ${nbf ?? '(unstated)'} to ${exp}; now is ${Math.floor(nowSeconds)} (tolerance ${request.toleranceSeconds} s)`,
      );
    }
  }
  const jti = stringClaim(claims, 'jti');
  if (jti === undefined) throw new WebhookVerificationError('malformed_signature', 'the JWT has no jti claim');
  const urlHash = stringClaim(claims, 'url_hash');
  if (urlHash === undefined) throw new WebhookVerificationError('malformed_signature', 'the JWT has no url_hash claim');
  if (!safeEqual(urlHash.toLowerCase(), sha256Hex(request.url))) {
    throw new WebhookVerificationError(
      'signature_mismatch',
      'url_hash does not match the public URL (is publicUrl exactly the URL MessageBird calls?)',
    );
  }
  const payloadHash = stringClaim(claims, 'payload_hash');
  if (payloadHash !== undefined) {
    // Security: hashed over the exact bytes received; an empty body against a stated hash fails too.
    if (!safeEqual(payloadHash.toLowerCase(), sha256Hex(request.body))) {
      throw new WebhookVerificationError('signature_mismatch', 'payload_hash does not match the body');
    }
  } else if (request.body.length > 0) {
    throw new WebhookVerificationError('signature_mismatch', 'the request has a body but the JWT has no payload_hash');
  }
  return {
    iss: ISSUER,
    ...(nbf !== undefined ? { nbf } : {}),
    exp,
    jti,
    url_hash: urlHash,
    ...(payloadHash !== undefined ? { payload_hash: payloadHash } : {}),
  };
}
