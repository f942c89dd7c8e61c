/**
 * The shared-secret families: the provider and the vendor hold one secret (Mailgun's signing key,
 * Twilio's Auth Token, Mandrill's webhook key, Plivo's Auth Token), rotatable as a list, and an
 * HMAC proves the request. {@link sharedSecretHmac} signs body or fields; {@link urlSigned} is
 * the same with the public URL inside the signature (so `publicUrl` must be exact).
 *
 * The family brings what every such adapter repeated: throwaway credentials, the signer read from
 * a config's options (the first secret of the list), stripping the signature headers, and the
 * capabilities. The adapter brings its algorithm: `verify`, `sign`, and its settings schema.
 */
import type { z } from 'zod';
import type {
  AdapterSupports,
  SampleOptions,
  SampleRequest,
  UnsignedRequest,
  Verification,
  VerifyContext,
  VerifyResult,
} from '../core/adapter';
import { withoutHeaders, type WebhookRequest } from '../core/request';
import { firstSecret } from './settings';

/** What an adapter says about its shared-secret scheme. */
export interface SharedSecretScheme<TSettings> {
  /** The options key holding the (rotatable) secret: `signingKey`, `authToken`… */
  secretKey: string;
  /** A fresh secret shaped like the provider's (tests and `simulate --dev`). */
  generateSecret(): string;
  /** The provider's settings: the secret under `secretKey` plus anything else (a tolerance…). */
  settingsSchema: z.ZodType<TSettings>;
  /** The provider signs a timestamp (stale requests are refused). */
  timestamp: boolean;
  /** The signature covers the raw body (false when it covers only some fields, as Mailgun's). */
  signsBody: boolean;
  /** @throws WebhookVerificationError */
  verify(
    req: WebhookRequest,
    settings: TSettings,
    ctx: VerifyContext,
  ): VerifyResult | void | Promise<VerifyResult | void>;
  /** Signs as the provider would at `now`. */
  sign(req: UnsignedRequest, secret: string, now: Date): UnsignedRequest;
  /** Headers the signature travels in: `stripSignature` removes them. */
  signatureHeaders: readonly string[];
  /** Replaces the default `stripSignature` (Mailgun's signature is inside the body). */
  stripSignature?(req: UnsignedRequest): UnsignedRequest;
  sample(options: SampleOptions): SampleRequest;
}

function sharedSecret<TSettings>(
  scheme: SharedSecretScheme<TSettings>,
  signsUrl: boolean,
): Verification<TSettings, string> {
  const supports: AdapterSupports = {
    timestamp: scheme.timestamp,
    rotation: true,
    signsBody: scheme.signsBody,
    signsUrl,
  };
  return {
    supports,
    settingsSchema: scheme.settingsSchema,
    verify: scheme.verify,
    testing: {
      createCredentials() {
        const secret = scheme.generateSecret();
        return { options: { [scheme.secretKey]: secret }, signer: secret };
      },
      sign: scheme.sign,
      sample: scheme.sample,
      stripSignature:
        scheme.stripSignature ?? ((req) => ({ ...req, headers: withoutHeaders(req.headers, scheme.signatureHeaders) })),
      secretKey: scheme.secretKey,
      signerFromOptions: (options) => firstSecret(options[scheme.secretKey]),
    },
  };
}

/** A shared-secret HMAC over the body or some of its fields (Mailgun). */
export function sharedSecretHmac<TSettings>(scheme: SharedSecretScheme<TSettings>): Verification<TSettings, string> {
  return sharedSecret(scheme, false);
}

/** A shared-secret HMAC whose signed content includes the public URL (Twilio, Mandrill, Plivo). */
export function urlSigned<TSettings>(scheme: SharedSecretScheme<TSettings>): Verification<TSettings, string> {
  return sharedSecret(scheme, true);
}
