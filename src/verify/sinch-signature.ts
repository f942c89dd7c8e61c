/**
 * Sinch's HMAC callback signature (SMS callbacks, when HMAC signing is configured on the service
 * plan; Sinch SMS release notes). Ported to node:crypto from sinch-sdk-java
 * `com.sinch.sdk.auth.HmacAuthenticationValidation.validateAuthenticationHeader`, which the SMS
 * `SinchEventsService.validateAuthenticationHeader` calls (its SMS test vector, in
 * `SinchEventsServiceTest.checkApplicationAuthentication`, is the oracle in
 * test/adapters/sinch.test.ts):
 *
 *   x-sinch-webhook-signature = base64(HMAC-<x-sinch-webhook-signature-algorithm>(
 *       secret as UTF-8 bytes, rawBody + "." + x-sinch-webhook-signature-nonce + "." + x-sinch-webhook-signature-timestamp))
 *
 * The algorithm header names `HmacSHA256`, the only one Sinch's SDKs support (sinch-sdk-dotnet
 * refuses any other), so it is the only one accepted here.
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from './primitives';

export const SINCH_SIGNATURE_HEADER = 'x-sinch-webhook-signature';
export const SINCH_NONCE_HEADER = 'x-sinch-webhook-signature-nonce';
export const SINCH_TIMESTAMP_HEADER = 'x-sinch-webhook-signature-timestamp';
export const SINCH_ALGORITHM_HEADER = 'x-sinch-webhook-signature-algorithm';
export const SINCH_ALGORITHM = 'HmacSHA256';

/** The bytes Sinch signs: the raw body, then `.nonce.timestamp` exactly as received. */
function signedBytes(rawBody: Buffer, nonce: string, timestamp: string): Buffer {
  return Buffer.concat([rawBody, Buffer.from(`.${nonce}.${timestamp}`, 'utf8')]);
}

/** The signature Sinch sends for this body, nonce and timestamp (base64). */
export function computeSinchSignature(secret: string, rawBody: Buffer, nonce: string, timestamp: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(signedBytes(rawBody, nonce, timestamp))
    .digest('base64');
}

/**
 * True when `signature` matches under any of `secrets` (rotation). Security: constant-time
 * compares, every secret tried so timing does not reveal which one matched.
 */
export function validateSinchSignature(
  secrets: readonly string[],
  signature: string,
  rawBody: Buffer,
  nonce: string,
  timestamp: string,
): boolean {
  const data = signedBytes(rawBody, nonce, timestamp);
  const claimed = signature.trim();
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(data).digest('base64');
    ok = safeEqual(claimed, expected) || ok;
  }
  return ok;
}
