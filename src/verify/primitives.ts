/**
 * Shared verification primitives. Adapters compose these; none of them logs or returns a secret.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { WebhookVerificationError } from '../core/errors';

/** A secret that may be rotated: one value, or a list where any entry is accepted. */
export type Rotatable<T = string> = T | readonly T[];

/** Normalizes a rotatable secret to a non-empty list. */
export function secretList<T>(value: Rotatable<T>): readonly T[] {
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/**
 * Constant-time equality of two strings or buffers.
 * Security: the length is checked first on purpose (timingSafeEqual requires equal lengths and
 * the length of an HMAC digest is public); the content comparison never short-circuits.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}

/** HMAC of `data` under `key`, encoded as asked. */
export function hmac(
  algorithm: 'sha1' | 'sha256' | 'sha512' | 'md5',
  key: string | Buffer,
  data: string | Buffer,
  encoding: 'hex' | 'base64',
): string {
  return createHmac(algorithm, key).update(data).digest(encoding);
}

/**
 * Throws `timestamp_out_of_tolerance` unless `timestampSeconds` is within `toleranceSeconds` of
 * `now`, in either direction (stale and future). A tolerance of 0 disables the window.
 */
export function assertWithinTolerance(timestampSeconds: number, now: Date, toleranceSeconds: number): void {
  if (!Number.isFinite(timestampSeconds)) {
    throw new WebhookVerificationError('malformed_signature', 'signed timestamp is not a number');
  }
  if (toleranceSeconds <= 0) return;
  const skew = Math.abs(now.getTime() / 1000 - timestampSeconds);
  if (skew > toleranceSeconds) {
    throw new WebhookVerificationError(
      'timestamp_out_of_tolerance',
      `signed timestamp is ${Math.round(skew)} s away from now; the tolerance is ${toleranceSeconds} s`,
    );
  }
}

/** Parses a unix-seconds timestamp header; throws `missing_signature` / `malformed_signature`. */
export function requireTimestampHeader(value: string | undefined, headerName: string): number {
  if (value === undefined || value === '') {
    throw new WebhookVerificationError('missing_signature', `missing ${headerName} header`);
  }
  if (!/^\d{1,13}$/.test(value.trim())) {
    throw new WebhookVerificationError('malformed_signature', `${headerName} is not a unix timestamp`);
  }
  return Number(value.trim());
}

/** Throws `missing_signature` when a required header is absent or empty; returns it otherwise. */
export function requireHeader(value: string | undefined, headerName: string): string {
  if (value === undefined || value === '') {
    throw new WebhookVerificationError('missing_signature', `missing ${headerName} header`);
  }
  return value;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A public key from configuration text: PEM (with literal "\n", as environment variables often
 * carry it; a private key is refused outright), or base64 whose bytes `toDer` turns into SPKI DER
 * (null: not a key of this provider). Null for anything else; the caller checks the key type.
 */
export function publicKeyFromText(
  text: string,
  toDer: (bytes: Buffer) => Buffer | null = (bytes) => bytes,
): KeyObject | null {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('-----')) {
      const pem = trimmed.replace(/\\n/g, '\n');
      if (!pem.startsWith('-----BEGIN PUBLIC KEY-----')) return null;
      return createPublicKey({ key: pem, format: 'pem' });
    }
    const compact = trimmed.replace(/\s+/g, '');
    if (!BASE64.test(compact)) return null;
    const der = toDer(Buffer.from(compact, 'base64'));
    return der && createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

/**
 * A public-key signature check that never throws: OpenSSL may throw on a signature it cannot
 * read (bad DER, wrong length), which is a mismatch, never a crash. `digest` null for key types
 * that fix their own (Ed25519).
 */
export function verifiesWithKey(digest: string | null, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return cryptoVerify(digest, data, key, signature);
  } catch {
    return false;
  }
}
