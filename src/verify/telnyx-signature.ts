/**
 * Telnyx's webhook signature: Ed25519 over `${telnyx-timestamp}|${rawBody}`, base64 in
 * `telnyx-signature-ed25519` (team-telnyx/telnyx-node `src/lib/webhooks.ts`). Keys are parsed
 * once, at start-up, into KeyObjects.
 */
import type { KeyObject } from 'node:crypto';
import { publicKeyFromText } from './primitives';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { AlgorithmIdentifier { 1.3.101.112 }, BIT STRING }. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * The public key as Telnyx's portal shows it (base64 of the raw 32-byte key), base64 DER SPKI, or
 * PEM; null when it is not an Ed25519 public key (a private key is refused too).
 */
export function parseTelnyxPublicKey(text: string): KeyObject | null {
  const key = publicKeyFromText(text, (bytes) => {
    if (bytes.length === 32) return Buffer.concat([ED25519_SPKI_PREFIX, bytes]);
    return bytes.length === 44 && bytes.subarray(0, 12).equals(ED25519_SPKI_PREFIX) ? bytes : null;
  });
  return key?.asymmetricKeyType === 'ed25519' ? key : null;
}

/** The raw 32-byte key in base64, as Telnyx shows it (for test credentials). */
export function rawEd25519PublicKey(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length).toString('base64');
}

/** The exact bytes Telnyx signs: the timestamp header as received, `|`, then the raw body. */
export function telnyxSignedBytes(timestamp: string, rawBody: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}|`, 'utf8'), rawBody]);
}
