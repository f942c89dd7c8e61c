/**
 * Credentials-only authentication, for providers that sign nothing (Postmark, Brevo, SparkPost,
 * Mailjet): HTTP Basic auth the provider sends with every request, and/or a secret header the
 * vendor configured at the provider. Both are rotatable lists. Nothing here logs or returns a
 * secret, and every error message names the header, never its value.
 *
 * Source options (DESIGN §4, contract):
 *   basicAuth:   "user:pass"  or  ["old-user:old-pass", "user:pass"]
 *   headerToken: { header: "X-Webhook-Token", value: "…" | ["old", "new"] }
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SampleOptions, SampleRequest, UnsignedRequest, Verification } from '../core/adapter';
import { WebhookVerificationError } from '../core/errors';
import { header, withoutHeaders, type WebhookRequest } from '../core/request';
import { firstSecret, rotatableParsed, rotatableSecret } from './settings';
import { safeEqual } from './primitives';

const AUTHORIZATION = 'authorization';
/** RFC 9110 `token` characters: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BASIC = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i;

/** One accepted basic-auth pair, kept only as SHA-256 digests (see {@link digest}). */
export interface BasicAuthCredential {
  /** SHA-256 of the user name. */
  readonly user: Buffer;
  /** SHA-256 of the password. */
  readonly password: Buffer;
}

/** A secret header: its (lower-cased) name and the digests of every accepted value. */
export interface HeaderTokenCredential {
  /** Header name, lower-cased (requests carry lower-cased names). */
  readonly header: string;
  /** SHA-256 of each accepted value (rotation: old and new). */
  readonly values: readonly Buffer[];
}

/** Parsed credentials settings: at least one of the two is present. */
export interface CredentialsSettings {
  /** Accepted `Authorization: Basic …` pairs. */
  readonly basicAuth?: readonly BasicAuthCredential[];
  /** A header that must carry one of the configured values. */
  readonly headerToken?: HeaderTokenCredential;
}

/** JSON-serializable signing material for tests and `simulate`: the plain credentials to send. */
export interface CredentialsSigner {
  /** `user:pass` sent as `Authorization: Basic base64(user:pass)`. */
  basicAuth?: string;
  /** A header to send verbatim. */
  headerToken?: { header: string; value: string };
}

/**
 * Security: secrets are compared as SHA-256 digests, so both sides always have the same length
 * and `safeEqual` runs in constant time without revealing the configured secret's length.
 */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Splits `user:pass` at the first colon (RFC 7617: a user name cannot contain one; a password can). */
function splitUserPass(text: string): { user: string; password: string } | null {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1) return null;
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}

const basicAuthSetting = rotatableParsed(
  (text) => {
    const pair = splitUserPass(text);
    return pair && { user: digest(pair.user), password: digest(pair.password) };
  },
  {
    type: 'must be "user:password" or a list of them (old and new while rotating)',
    invalid: 'must be "user:password" with a non-empty user and password',
  },
);

const headerTokenSetting = z
  .object({
    header: z.string().regex(HEADER_NAME, 'must be an HTTP header name such as X-Webhook-Token'),
    value: rotatableSecret,
  })
  .strict()
  .transform((t): HeaderTokenCredential => ({ header: t.header.toLowerCase(), values: t.value.map(digest) }));

/** The two credential options, for composing into an adapter's own `z.object({...}).strict()`. */
export const credentialsShape = {
  /** `user:pass` (or a list while rotating), sent by the provider as HTTP Basic auth. */
  basicAuth: basicAuthSetting.optional(),
  /** `{ header, value }`: a secret header the provider sends (value may be a list while rotating). */
  headerToken: headerTokenSetting.optional(),
};

/**
 * The refinement every credentials-only provider needs: at least one credential, and no clash
 * between basic auth and a token also carried in `Authorization`.
 */
export function requireCredentials(provider: string) {
  return (
    s: { basicAuth?: readonly BasicAuthCredential[]; headerToken?: HeaderTokenCredential },
    ctx: z.RefinementCtx,
  ): void => {
    if (s.basicAuth === undefined && s.headerToken === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${provider} signs nothing: configure basicAuth and/or headerToken, or mark the source insecure: true`,
      });
    }
    if (s.basicAuth !== undefined && s.headerToken?.header === AUTHORIZATION) {
      ctx.addIssue({
        code: 'custom',
        path: ['headerToken', 'header'],
        message: 'cannot be Authorization while basicAuth is set: both would travel in the same header',
      });
    }
  };
}

/**
 * The settings schema of a provider that signs nothing: `basicAuth` and/or `headerToken`,
 * nothing else, and a clear message when neither is configured.
 */
export function credentialsSettings(provider: string) {
  return z.object(credentialsShape).strict().superRefine(requireCredentials(provider));
}

type Outcome = 'ok' | 'missing' | 'bad';

/** Decodes `Authorization: Basic …`; null when the header is not a well-formed Basic credential. */
function decodeBasic(value: string): { user: string; password: string } | null {
  const m = BASIC.exec(value);
  if (!m) return null;
  // Node's base64 decoder also accepts the URL-safe alphabet.
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? null : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

function checkBasicAuth(req: Pick<WebhookRequest, 'headers'>, accepted: readonly BasicAuthCredential[]): Outcome {
  const value = header(req, AUTHORIZATION);
  if (value === undefined || value.trim() === '') return 'missing';
  const pair = decodeBasic(value);
  const user = digest(pair?.user ?? '');
  const password = digest(pair?.password ?? '');
  let matched = false;
  for (const c of accepted) {
    // Security: constant-time compares of both parts against every configured pair, whatever
    // matched before, so timing reveals neither which pair nor which part was wrong.
    const userOk = safeEqual(user, c.user);
    const passwordOk = safeEqual(password, c.password);
    matched = (userOk && passwordOk) || matched;
  }
  return pair !== null && matched ? 'ok' : 'bad';
}

function checkHeaderToken(req: Pick<WebhookRequest, 'headers'>, token: HeaderTokenCredential): Outcome {
  const value = header(req, token.header);
  if (value === undefined || value === '') return 'missing';
  const received = digest(value);
  let matched = false;
  // Security: constant-time compare against every accepted value (rotation), no short-circuit.
  for (const v of token.values) matched = safeEqual(received, v) || matched;
  return matched ? 'ok' : 'bad';
}

/**
 * Checks every configured credential (both must pass when both are configured).
 * @throws WebhookVerificationError `missing_signature` when a configured credential is absent
 *   from the request, `bad_credentials` when one is wrong or none is configured (fail closed)
 */
export function verifyCredentials(req: Pick<WebhookRequest, 'headers'>, settings: CredentialsSettings): void {
  const checks: Array<{ what: string; outcome: Outcome }> = [];
  if (settings.basicAuth !== undefined) {
    checks.push({ what: 'HTTP basic auth (Authorization header)', outcome: checkBasicAuth(req, settings.basicAuth) });
  }
  if (settings.headerToken !== undefined) {
    checks.push({
      what: `${settings.headerToken.header} header`,
      outcome: checkHeaderToken(req, settings.headerToken),
    });
  }
  if (checks.length === 0)
    throw new WebhookVerificationError('bad_credentials', 'source has no basicAuth or headerToken configured');
  const missing = checks.find((c) => c.outcome === 'missing');
  if (missing) throw new WebhookVerificationError('missing_signature', `missing ${missing.what}`);
  const bad = checks.find((c) => c.outcome === 'bad');
  if (bad)
    throw new WebhookVerificationError('bad_credentials', `${bad.what} does not match the configured credentials`);
}

// ---- testing helpers (AdapterTesting members for credentials-only adapters) -------------------

/** Header name `createCredentials({ headerToken: true })` uses. */
export const TEST_TOKEN_HEADER = 'x-webhook-token';

/** `length` random base64url characters (never a colon, so safe in `user:pass`). */
function randomSecret(length: number): string {
  return randomBytes(length).toString('base64url').slice(0, length);
}

/**
 * Throwaway credentials: `options` as a config file holds them, `signer` the same plain values.
 * Basic auth by default (every credentials-only provider supports it); a header token on request.
 */
export function createCredentials(kind: { basicAuth?: boolean; headerToken?: boolean } = { basicAuth: true }): {
  options: Record<string, unknown>;
  signer: CredentialsSigner;
} {
  const options: Record<string, unknown> = {};
  const signer: CredentialsSigner = {};
  if (kind.basicAuth !== false) {
    const pair = `hook-${randomSecret(8)}:${randomSecret(24)}`;
    options.basicAuth = pair;
    signer.basicAuth = pair;
  }
  if (kind.headerToken === true) {
    const value = randomSecret(32);
    options.headerToken = { header: TEST_TOKEN_HEADER, value };
    signer.headerToken = { header: TEST_TOKEN_HEADER, value };
  }
  return { options, signer };
}

/** The `Authorization` value a provider sends for `user:pass`. */
export function basicAuthorization(userPass: string): string {
  return `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;
}

/** The request with the signer's credentials set, as the provider sends them. */
export function signWithCredentials(req: UnsignedRequest, signer: CredentialsSigner): UnsignedRequest {
  const headers = { ...req.headers };
  if (signer.basicAuth !== undefined) {
    for (const name of Object.keys(headers)) if (name.toLowerCase() === AUTHORIZATION) delete headers[name];
    headers[AUTHORIZATION] = basicAuthorization(signer.basicAuth);
  }
  if (signer.headerToken !== undefined) {
    const name = signer.headerToken.header.toLowerCase();
    for (const k of Object.keys(headers)) if (k.toLowerCase() === name) delete headers[k];
    headers[name] = signer.headerToken.value;
  }
  return { ...req, headers };
}

/** The request without any credential: `Authorization` and the given token headers removed. */
export function stripCredentials(
  req: UnsignedRequest,
  tokenHeaders: readonly string[] = [TEST_TOKEN_HEADER],
): UnsignedRequest {
  return { ...req, headers: withoutHeaders(req.headers, [AUTHORIZATION, ...tokenHeaders]) };
}

/** The signer for a config's options (symmetric: the credentials are the configuration). */
export function signerFromCredentialsOptions(options: Record<string, unknown>): CredentialsSigner | undefined {
  const signer: CredentialsSigner = {};
  const basic = firstSecret(options.basicAuth);
  if (basic !== undefined) signer.basicAuth = basic;
  const token = options.headerToken;
  if (typeof token === 'object' && token !== null && !Array.isArray(token)) {
    const name = (token as Record<string, unknown>).header;
    const value = firstSecret((token as Record<string, unknown>).value);
    if (typeof name === 'string' && name !== '' && value !== undefined) signer.headerToken = { header: name, value };
  }
  return signer.basicAuth === undefined && signer.headerToken === undefined ? undefined : signer;
}

/**
 * The `AdapterTesting` members every credentials-only adapter shares (it adds its own `sample`).
 * `tokenHeaders` are removed by `stripSignature` besides `Authorization`.
 */
export function credentialsTesting(tokenHeaders: readonly string[] = [TEST_TOKEN_HEADER]) {
  return {
    createCredentials: () => createCredentials(),
    sign: (req: UnsignedRequest, signer: CredentialsSigner, _now: Date): UnsignedRequest =>
      signWithCredentials(req, signer),
    stripSignature: (req: UnsignedRequest): UnsignedRequest => stripCredentials(req, tokenHeaders),
    secretKey: 'basicAuth',
    signerFromOptions: signerFromCredentialsOptions,
  };
}

/**
 * The credentials-only verification family (providers that sign nothing): the `basicAuth` /
 * `headerToken` settings of `provider`, their constant-time check, and the test signer.
 * `sample` is the adapter's own (it knows the provider's payloads).
 */
export function credentialsOnly(
  provider: string,
  options: { sample: (options: SampleOptions) => SampleRequest; tokenHeaders?: readonly string[] },
): Verification<CredentialsSettings, CredentialsSigner> {
  return {
    supports: { timestamp: false, rotation: true, signsBody: false, signsUrl: false, credentialsOnly: true },
    settingsSchema: credentialsSettings(provider),
    /** @throws WebhookVerificationError `missing_signature` or `bad_credentials` (answered 401, never 403) */
    verify: (req, settings) => verifyCredentials(req, settings),
    testing: { ...credentialsTesting(options.tokenHeaders), sample: options.sample },
  };
}
