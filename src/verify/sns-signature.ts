/**
 * Amazon SNS message signatures (HTTP/S subscriptions), as AWS documents them:
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 *
 * SNS signs a canonical string built from the *decoded* JSON values of some envelope fields, in a
 * fixed byte-sorted order, with the RSA key of the certificate at `SigningCertURL`:
 * `SignatureVersion` 1 = SHA1withRSA, 2 = SHA256withRSA. The signature, the version and the
 * certificate URL all travel inside the JSON body, never in headers.
 *
 * Implemented from the documentation, not from aws/aws-js-sns-message-validator: that validator
 * builds the `UnsubscribeConfirmation` string with the Notification key list (PROVIDERS.md §5).
 */
import { createSign, createVerify, type KeyObject } from 'node:crypto';
import { WebhookVerificationError } from '../core/errors';

/** The three SNS message types an HTTP/S endpoint receives. */
export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

/** Envelope keys signed per message type, in the documented (byte-sorted) order. */
const SIGNED_KEYS: Readonly<Record<SnsMessageType, readonly string[]>> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/** Keys that are signed only when present (a Notification published without a subject has none). */
const OPTIONAL_SIGNED_KEYS: ReadonlySet<string> = new Set(['Subject']);

/** `SignatureVersion` → node:crypto algorithm. Anything else is refused. */
const SIGNATURE_ALGORITHMS = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' } as const;

/** The `SignatureVersion` values SNS uses: '1' (SHA1withRSA) and '2' (SHA256withRSA). */
export type SnsSignatureVersion = keyof typeof SIGNATURE_ALGORITHMS;

/**
 * The hosts SNS serves certificates and subscription URLs from: `sns.<region>.amazonaws.com`
 * (`.amazonaws.com.cn` in China). Anchored at both ends, so `sns.us-east-1.amazonaws.com.evil.net`
 * and `evil-sns.us-east-1.amazonaws.com` fail; the region label cannot contain a dot.
 */
export const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** An RSA-4096 signature is 684 base64 characters; anything far longer is not a signature. */
const MAX_SIGNATURE_CHARS = 2048;

/** True for the three types this module can verify. */
export function isSnsMessageType(value: unknown): value is SnsMessageType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SIGNED_KEYS, value);
}

/**
 * Why `text` is not an acceptable SNS URL, or undefined when it is. Security: certificates and
 * subscription confirmations are fetched only from AWS over TLS; `kind: 'certificate'` also
 * requires a `.pem` path. User info and non-default ports are refused (they can hide a host).
 */
export function snsUrlProblem(text: string, kind: 'certificate' | 'subscribe'): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:') return 'is not https';
  if (url.username || url.password) return 'carries user info';
  if (url.port !== '') return 'names a port';
  if (!SNS_HOST.test(url.hostname)) return `host ${url.hostname} is not sns.<region>.amazonaws.com`;
  if (kind === 'certificate' && !url.pathname.endsWith('.pem')) return 'path does not end in .pem';
  return undefined;
}

/**
 * The canonical string SNS signs: `Key\nValue\n` for each signed key, in order, using the decoded
 * JSON string values (escaped `\n` already turned back into newlines by JSON.parse).
 * @throws WebhookVerificationError `malformed_signature` when a signed key is missing or not a string
 */
export function snsStringToSign(envelope: Readonly<Record<string, unknown>>, type: SnsMessageType): string {
  let out = '';
  for (const key of SIGNED_KEYS[type]) {
    const value = envelope[key];
    if (value === undefined && OPTIONAL_SIGNED_KEYS.has(key)) continue;
    if (typeof value !== 'string') {
      throw new WebhookVerificationError('malformed_signature', `SNS ${type} has no string "${key}" to verify`);
    }
    out += `${key}\n${value}\n`;
  }
  return out;
}

/** What {@link verifySnsEnvelope} needs besides the envelope. */
export interface SnsVerifyOptions {
  /** Allowed `TopicArn` values (exact match). */
  topicArns: ReadonlySet<string>;
  /** Resolves the public key for a (host-checked) `SigningCertURL`: preloaded, cached or fetched. */
  keyFor(certUrl: string): Promise<KeyObject>;
}

/** SES JSON posted directly (raw message delivery on) has none of the envelope keys. */
function looksLikeRawSes(envelope: Readonly<Record<string, unknown>>): boolean {
  return 'eventType' in envelope || 'notificationType' in envelope || 'mail' in envelope;
}

/**
 * Verifies one SNS envelope. Cheap checks come first, so an unknown topic never costs a
 * certificate fetch; the topic allowlist is what ties an AWS-valid signature to *our* topics.
 * @throws WebhookVerificationError
 */
export async function verifySnsEnvelope(
  envelope: Readonly<Record<string, unknown>>,
  options: SnsVerifyOptions,
): Promise<SnsMessageType> {
  const signature = envelope.Signature;
  if (signature === undefined || signature === '') {
    const hint = looksLikeRawSes(envelope) ? ': raw message delivery is on for this subscription; turn it off' : '';
    throw new WebhookVerificationError('missing_signature', `SNS message has no Signature${hint}`);
  }
  if (typeof signature !== 'string' || signature.length > MAX_SIGNATURE_CHARS || !BASE64.test(signature)) {
    throw new WebhookVerificationError('malformed_signature', 'SNS Signature is not base64');
  }
  const version = envelope.SignatureVersion;
  if (version !== '1' && version !== '2') {
    throw new WebhookVerificationError('malformed_signature', 'SNS SignatureVersion must be "1" or "2"');
  }
  const type = envelope.Type;
  if (!isSnsMessageType(type)) {
    throw new WebhookVerificationError(
      'malformed_signature',
      'SNS Type is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation',
    );
  }
  const signed = snsStringToSign(envelope, type);
  // Security: anyone can create a topic in their own account and subscribe our URL; AWS then signs
  // their messages too. Only the allowlist makes a valid signature mean "our SES".
  const topicArn = envelope.TopicArn as string; // a string: checked by snsStringToSign
  if (!options.topicArns.has(topicArn)) {
    throw new WebhookVerificationError('bad_credentials', `SNS TopicArn ${topicArn} is not in this source's topicArns`);
  }
  const certUrl = envelope.SigningCertURL;
  if (typeof certUrl !== 'string')
    throw new WebhookVerificationError('untrusted_certificate', 'SNS message has no SigningCertURL');
  const problem = snsUrlProblem(certUrl, 'certificate');
  // Security: checked before any lookup or fetch; the URL is never fetched otherwise.
  if (problem) throw new WebhookVerificationError('untrusted_certificate', `SNS SigningCertURL ${problem}`);
  const key = await options.keyFor(certUrl);
  if (!verifiesWith(key, version, signed, Buffer.from(signature, 'base64'))) {
    throw new WebhookVerificationError(
      'signature_mismatch',
      'SNS Signature does not verify with the certificate at SigningCertURL',
    );
  }
  return type;
}

function verifiesWith(key: KeyObject, version: SnsSignatureVersion, signed: string, signature: Buffer): boolean {
  try {
    return createVerify(SIGNATURE_ALGORITHMS[version]).update(signed, 'utf8').verify(key, signature);
  } catch {
    // OpenSSL may throw on a key or signature it cannot use: that is a mismatch, never a crash.
    return false;
  }
}

/**
 * Test/simulate signer: returns the envelope with `SignatureVersion`, `SigningCertURL` and
 * `Signature` (re)written, signed as SNS signs it. Key order of existing fields is kept.
 */
export function signSnsEnvelope(
  envelope: Readonly<Record<string, unknown>>,
  privateKey: KeyObject | string,
  certUrl: string,
  version: SnsSignatureVersion,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...envelope,
    SignatureVersion: version,
    Signature: '',
    SigningCertURL: certUrl,
  };
  const type = out.Type;
  let signed = '';
  if (isSnsMessageType(type)) {
    // Like SNS: every signed key that is present; verification insists on the required ones.
    for (const key of SIGNED_KEYS[type]) if (typeof out[key] === 'string') signed += `${key}\n${out[key] as string}\n`;
  }
  out.Signature = createSign(SIGNATURE_ALGORITHMS[version]).update(signed, 'utf8').sign(privateKey, 'base64');
  return out;
}
