/**
 * An HTTPS endpoint subscribed to an Amazon SNS topic: the source options (`topicArns`,
 * `certificates`), request verification, the subscription handshake and the test signer.
 * Provider-neutral: adapters/ses.ts adds what SES puts inside `Message`.
 *
 * https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { isObject } from '../body/read-json';
import type { UnsignedRequest } from '../core/adapter';
import { InternalError, WebhookParseError, WebhookVerificationError } from '../core/errors';
import type { WebhookRequest, WebhookResponse } from '../core/request';
import { httpsGet, parseSigningKey, SnsCertificateStore, type SnsFetcher } from './sns-certificates';
import { signSnsEnvelope, snsUrlProblem, verifySnsEnvelope, type SnsMessageType } from './sns-signature';

/** Partition (aws, aws-cn, aws-us-gov…), region, 12-digit account, topic name (FIFO topics end in .fifo). */
const TOPIC_ARN = /^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

/** Parsed source options: the allowlist as a set, preloaded keys parsed once, a per-source key cache. */
export interface SnsSettings {
  /** Allowed SNS topic ARNs (exact match). */
  topicArns: ReadonlySet<string>;
  /** Preloaded `certificates` plus the cache of fetched signing keys. */
  certificates: SnsCertificateStore;
  /** GET used for certificates and SubscribeURL (undici in production; tests inject a fake). */
  fetcher: SnsFetcher;
}

/** The private material the test signer uses: a PKCS#8 PEM RSA key and the certificate URL it claims. */
export interface SnsSigner {
  /** PKCS#8 PEM RSA private key. */
  privateKey: string;
  /** The SigningCertURL written into signed envelopes (preloaded in the matching options). */
  certUrl: string;
}

const topicArnsSetting = z
  .union([z.string(), z.array(z.string())], {
    error: (issue) =>
      issue.input === undefined
        ? 'required: the SNS topic ARN(s) allowed to post here (any AWS account can point its own topic at this URL)'
        : 'must be a topic ARN or a list of them',
  })
  // One environment variable may hold several ARNs separated by commas (an ARN never contains one).
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''))
  .pipe(
    z
      .array(z.string().regex(TOPIC_ARN, 'not an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:ses-events'))
      .min(1, 'list at least one topic ARN'),
  )
  .transform((list) => new Set(list));

const certificatesSetting = z
  .record(z.string(), z.string(), { error: 'must map each SigningCertURL to a PEM certificate or public key' })
  .default({})
  .transform((entries, ctx) => {
    const keys = new Map<string, KeyObject>();
    for (const [url, pem] of Object.entries(entries)) {
      const problem = snsUrlProblem(url, 'certificate');
      if (problem)
        ctx.addIssue({
          code: 'custom',
          path: [url],
          message: `${problem}: SNS never sends such a SigningCertURL`,
          input: undefined,
        });
      const key = parseSigningKey(pem);
      if (!key)
        ctx.addIssue({
          code: 'custom',
          path: [url],
          message: 'not an RSA certificate or public key in PEM',
          input: undefined,
        });
      else keys.set(url, key);
    }
    return new SnsCertificateStore(keys);
  });

/** The settings schema of an SNS-delivered source (DESIGN §4: `topicArns`, `certificates`). */
export const snsSettingsSchema = z
  .object({ topicArns: topicArnsSetting, certificates: certificatesSetting })
  .strict()
  .transform((s): SnsSettings => ({ topicArns: s.topicArns, certificates: s.certificates, fetcher: httpsGet }));

/** The body as a JSON object, or undefined: verify and handshake must not raise parse errors. */
export function snsEnvelopeOf(body: Buffer | WebhookRequest): Record<string, unknown> | undefined {
  try {
    // A request's memoised JSON is shared with `parse`: decoded once for handshake, verify and parse.
    const value: unknown = Buffer.isBuffer(body) ? JSON.parse(body.toString('utf8')) : body.json();
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function verifyEnvelope(envelope: Record<string, unknown>, settings: SnsSettings): Promise<SnsMessageType> {
  return verifySnsEnvelope(envelope, {
    topicArns: settings.topicArns,
    keyFor: (url) => settings.certificates.keyFor(url, settings.fetcher),
  });
}

/** Verifies any SNS message posted to the endpoint. @throws WebhookVerificationError */
export async function verifySnsRequest(req: WebhookRequest, settings: SnsSettings): Promise<void> {
  const envelope = snsEnvelopeOf(req);
  if (!envelope)
    throw new WebhookVerificationError(
      'missing_signature',
      'body is not an SNS message (a JSON object carrying Signature)',
    );
  await verifyEnvelope(envelope, settings);
}

/**
 * Answers SNS subscription handshakes once their signature and topic verify; undefined for
 * anything else. A `SubscriptionConfirmation` is confirmed by GETting its `SubscribeURL` (https on
 * an SNS host only); an `UnsubscribeConfirmation` is acknowledged without following its URL, which
 * would re-subscribe.
 * @throws WebhookVerificationError (401), WebhookParseError (400), InternalError (500, so SNS retries)
 */
export async function answerSnsHandshake(
  req: WebhookRequest,
  settings: SnsSettings,
): Promise<WebhookResponse | undefined> {
  const envelope = req.method === 'POST' ? snsEnvelopeOf(req) : undefined;
  const type = envelope?.Type;
  if (!envelope || (type !== 'SubscriptionConfirmation' && type !== 'UnsubscribeConfirmation')) return undefined;
  await verifyEnvelope(envelope, settings);
  const topicArn = String(envelope.TopicArn);
  if (type === 'UnsubscribeConfirmation') return { status: 200, body: { ok: true, unsubscribed: topicArn } };
  const subscribeUrl = String(envelope.SubscribeURL); // a string: it is signed
  const problem = snsUrlProblem(subscribeUrl, 'subscribe');
  if (problem) throw new WebhookParseError(`${problem}; the subscription is not confirmed`, 'SubscribeURL');
  // Security: the URL carries the confirmation token, so errors name only its host.
  const host = new URL(subscribeUrl).host;
  let status: number;
  try {
    status = (await settings.fetcher(subscribeUrl)).status;
  } catch (cause) {
    throw new InternalError({ cause: new Error(`could not confirm the SNS subscription at ${host}`, { cause }) });
  }
  // SNS counts 200–499 as delivered and would not re-send the confirmation: any failure is a 500.
  if (status !== 200) throw new InternalError({ cause: new Error(`SNS SubscribeURL at ${host} answered ${status}`) });
  return { status: 200, body: { ok: true, confirmed: topicArn } };
}

/**
 * Throwaway credentials: a fresh RSA key, preloaded under `certUrl` as a bare public key PEM
 * (node:crypto cannot issue X.509 certificates), and `topicArn` allowlisted.
 */
export function createSnsCredentials(
  topicArn: string,
  certUrl: string,
): { options: Record<string, unknown>; signer: SnsSigner } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    options: {
      topicArns: [topicArn],
      certificates: { [certUrl]: publicKey.export({ format: 'pem', type: 'spki' }).toString() },
    },
    signer: { privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), certUrl },
  };
}

function rewriteEnvelope(
  req: UnsignedRequest,
  change: (e: Record<string, unknown>) => Record<string, unknown>,
): UnsignedRequest {
  const envelope = snsEnvelopeOf(req.body);
  // Not an SNS envelope (an invalid-* fixture): nothing to sign or strip.
  return envelope ? { ...req, body: Buffer.from(JSON.stringify(change(envelope)), 'utf8') } : req;
}

/** Signs the JSON body as SNS would; the envelope's own SignatureVersion is kept when valid, else SNS's default 1. */
export function signSnsRequest(req: UnsignedRequest, signer: SnsSigner): UnsignedRequest {
  const key = createPrivateKey(signer.privateKey);
  return rewriteEnvelope(req, (e) => signSnsEnvelope(e, key, signer.certUrl, e.SignatureVersion === '2' ? '2' : '1'));
}

/** The request with `Signature` removed from its JSON body. */
export function stripSnsSignature(req: UnsignedRequest): UnsignedRequest {
  return rewriteEnvelope(req, ({ Signature: _dropped, ...rest }) => rest);
}
