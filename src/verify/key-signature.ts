/**
 * The timestamped public-key signature family (SendGrid's ECDSA P-256, Telnyx's Ed25519): the
 * provider signs a timestamp header and the exact body with its private key, and sends the
 * signature in another header; the vendor configures the provider's public key. The family
 * brings the settings (`publicKey`, rotatable; `toleranceSeconds`), the verification (headers,
 * timestamp window, signature shape, every configured key tried), and the test signer. What
 * differs per provider is data: header names, the key type, the bytes signed, the signature's
 * shape (`KeySignatureScheme`).
 */
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { SampleOptions, SampleRequest, UnsignedRequest, Verification } from '../core/adapter';
import { WebhookVerificationError } from '../core/errors';
import { header, withoutHeaders, type WebhookRequest } from '../core/request';
import { assertWithinTolerance, requireHeader, requireTimestampHeader, verifiesWithKey } from './primitives';
import { rotatableParsed, toleranceSeconds } from './settings';

/** Parsed settings: keys are parsed once at start-up, so each request only verifies. */
export interface KeySignatureSettings {
  /** Every accepted verification key (rotation: old and new). */
  readonly publicKey: readonly KeyObject[];
  /** Signed-timestamp window in seconds; 0 disables it. */
  readonly toleranceSeconds: number;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** One provider's scheme, as data. */
export interface KeySignatureScheme {
  /** Header carrying the base64 signature. */
  signatureHeader: string;
  /** Header carrying the signed unix timestamp. */
  timestampHeader: string;
  /** The digest of the signature (`sha256` for ECDSA); null where the key type fixes it (Ed25519). */
  digest: 'sha256' | null;
  /** The key as the provider shows it in its console (base64, DER, PEM); null when it is not one of its keys. */
  parseKey(text: string): KeyObject | null;
  /** `publicKey` messages: when missing, and for an entry that is not a key of this provider. */
  keyMessages: { required: string; invalid: string };
  /** True when the decoded signature has the scheme's shape (length, DER header). */
  signatureShape(bytes: Buffer): boolean;
  /** The `malformed_signature` reason when it does not. */
  malformedSignature: string;
  /** The exact bytes signed: the timestamp header exactly as received, then the raw body. */
  signedBytes(timestamp: string, rawBody: Buffer): Buffer;
  /** The timestamp header's value in seconds (default: as sent). */
  timestampSeconds?(text: string, value: number): number;
  /** Default `toleranceSeconds` (300). */
  defaultToleranceSeconds?: number;
  /** Test credentials: a fresh key pair, the public key as the provider shows it. */
  testKeyPair(): { publicKeyText: string; privateKey: KeyObject };
  /** The adapter's samples (adapters/samples/<slug>.ts). */
  sample(options: SampleOptions): SampleRequest;
}

/**
 * The family's share of an adapter: `...timestampedKeySignature({ signatureHeader, … })`.
 * Failures answer 401: `missing_signature`, `malformed_signature`, `timestamp_out_of_tolerance`,
 * `signature_mismatch`.
 */
export function timestampedKeySignature(scheme: KeySignatureScheme): Verification<KeySignatureSettings, string> {
  const { signatureHeader, timestampHeader } = scheme;
  const settingsSchema = z
    .object({
      publicKey: rotatableParsed(scheme.parseKey, {
        required: scheme.keyMessages.required,
        type: 'must be a key string or a list of key strings',
        invalid: scheme.keyMessages.invalid,
      }),
      toleranceSeconds: toleranceSeconds.default(scheme.defaultToleranceSeconds ?? 300),
    })
    .strict();

  /** @throws WebhookVerificationError */
  function verify(req: WebhookRequest, settings: KeySignatureSettings): void {
    const signatureText = requireHeader(header(req, signatureHeader), signatureHeader).trim();
    const timestampText = requireHeader(header(req, timestampHeader), timestampHeader);
    const timestamp = requireTimestampHeader(timestampText, timestampHeader);
    const seconds = scheme.timestampSeconds ? scheme.timestampSeconds(timestampText, timestamp) : timestamp;
    assertWithinTolerance(seconds, req.receivedAt, settings.toleranceSeconds);
    const signature = BASE64.test(signatureText) ? Buffer.from(signatureText, 'base64') : Buffer.alloc(0);
    if (!scheme.signatureShape(signature))
      throw new WebhookVerificationError('malformed_signature', scheme.malformedSignature);
    // Security: the timestamp text exactly as received and the exact received bytes; never
    // re-serialized JSON.
    const signed = scheme.signedBytes(timestampText, req.rawBody);
    for (const key of settings.publicKey) if (verifiesWithKey(scheme.digest, key, signed, signature)) return;
    throw new WebhookVerificationError(
      'signature_mismatch',
      `${signatureHeader} does not verify with the configured public key(s)`,
    );
  }

  const headers = [signatureHeader, timestampHeader];
  return {
    supports: { timestamp: true, rotation: true, signsBody: true, signsUrl: false },
    settingsSchema,
    verify,
    testing: {
      createCredentials() {
        const { publicKeyText, privateKey } = scheme.testKeyPair();
        return {
          options: { publicKey: publicKeyText },
          signer: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        };
      },
      sign(req: UnsignedRequest, signer: string, now: Date): UnsignedRequest {
        const timestamp = String(Math.floor(now.getTime() / 1000));
        const signed = scheme.signedBytes(timestamp, req.body);
        const signature = cryptoSign(scheme.digest, signed, createPrivateKey(signer));
        return {
          ...req,
          headers: {
            ...withoutHeaders(req.headers, headers),
            [signatureHeader.toLowerCase()]: signature.toString('base64'),
            [timestampHeader.toLowerCase()]: timestamp,
          },
        };
      },
      sample: scheme.sample,
      stripSignature: (req: UnsignedRequest): UnsignedRequest => ({
        ...req,
        headers: withoutHeaders(req.headers, headers),
      }),
      secretKey: 'publicKey',
      // Asymmetric: the private key never appears in the configuration.
      signerFromOptions: (): undefined => undefined,
    },
  };
}
