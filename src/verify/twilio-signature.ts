/**
 * Twilio's request signature (`X-Twilio-Signature`), ported from twilio-node v6.2.0
 * `src/webhooks/webhooks.ts` (lib/webhooks/webhooks.js) to node:crypto so the runtime never loads
 * the `twilio` package (Lambda cold start). The `twilio` devDependency is the test oracle
 * (test/adapters/twilio.test.ts); keep this file byte-for-byte equivalent to it.
 *
 * signature = base64(HMAC(key, url + for each name sorted: name + value [per sorted unique value]))
 */
import { createHash } from 'node:crypto';
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring';
import { hmac, safeEqual } from './primitives';

/** Decoded POST parameters: one value, or every value of a repeated name. */
export type TwilioParams = Readonly<Record<string, string | readonly string[]>>;

/** The HMAC hash: `sha1` for the Auth Token; a Webhook Setting (beta) may name `sha256`. */
export type TwilioHmacAlgorithm = 'sha1' | 'sha256';

const SPLIT_URL = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

/** twilio-node `splitUrl`: no `new URL()` normalisation, so the exact signed characters survive. */
function splitUrl(url: string): { scheme: string; userInfo: string; host: string; port: string; rest: string } | null {
  const match = SPLIT_URL.exec(url);
  if (!match) return null;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

/** twilio-node `addPort`: adds `:443`/`:80` when the URL has no port. */
function addPort(url: string, p = splitUrl(url)): string {
  if (!p || p.port) return url;
  return p.scheme + p.userInfo + p.host + (p.scheme.toLowerCase() === 'https://' ? ':443' : ':80') + p.rest;
}

/** twilio-node `removePort`: drops any port, default or not. */
function removePort(url: string, p = splitUrl(url)): string {
  return p ? p.scheme + p.userInfo + p.host + p.rest : url;
}

/** twilio-node `withLegacyQuerystring`: the query re-serialised by Node's legacy `querystring`. */
function withLegacyQuerystring(url: string): string {
  const q = url.indexOf('?');
  if (q === -1 || q === url.length - 1) return url;
  return `${url.slice(0, q)}?${stringifyQuery(parseQuery(url.slice(q + 1)))}`;
}

/**
 * The URL spellings twilio-node's `validateRequest` accepts, in its order: as received without and
 * with the default port, then WHATWG-normalised (`'` → `%27`…) without/with port, each also with
 * the legacy querystring. An unparseable URL keeps only the as-received spellings (twilio-node throws).
 */
export function twilioCandidateUrls(url: string): string[] {
  return [...new Set([...receivedUrls(url), ...normalizedUrls(url)])];
}

/** The as-received spellings: without and with the default port. */
function receivedUrls(url: string): string[] {
  const p = splitUrl(url);
  return [removePort(url, p), addPort(url, p)];
}

/** The WHATWG-normalised spellings (none for an unparseable URL). */
function normalizedUrls(url: string): string[] {
  let normalized: string;
  try {
    normalized = new URL(url).toString();
  } catch {
    return [];
  }
  const without = removePort(normalized);
  const withPort = addPort(normalized);
  return [without, withPort, withLegacyQuerystring(without), withLegacyQuerystring(withPort)];
}

/** twilio-node `getExpectedTwilioSignature` suffix: names sorted, repeated values de-duplicated and sorted. */
function paramsSuffix(params: TwilioParams): string {
  let out = '';
  for (const name of Object.keys(params).sort()) {
    const value = params[name]!;
    if (typeof value === 'string') out += name + value;
    else if (value.length === 1) out += name + value[0]!;
    else for (const v of [...new Set(value)].sort()) out += name + v;
  }
  return out;
}

/** The signature Twilio sends for `url` and `params` (twilio-node `getExpectedTwilioSignature`). */
export function computeTwilioSignature(
  key: string,
  url: string,
  params: TwilioParams,
  algorithm: TwilioHmacAlgorithm = 'sha1',
): string {
  return hmac(algorithm, key, url + paramsSuffix(params), 'base64');
}

/**
 * twilio-node `validateRequest`, for a list of keys (rotation): true when `signature` matches any
 * key on any accepted URL spelling. Security: constant-time compare (`safeEqual`).
 */
export function validateTwilioSignature(
  keys: readonly string[],
  signature: string,
  url: string,
  params: TwilioParams,
  algorithm: TwilioHmacAlgorithm = 'sha1',
): boolean {
  const suffix = paramsSuffix(params);
  const matches = (urls: readonly string[]): boolean =>
    keys.some((key) => urls.some((u) => safeEqual(signature, hmac(algorithm, key, u + suffix, 'base64'))));
  // The normalised spellings (a URL parse each) are built only when the received ones do not match;
  // the accepted set is twilioCandidateUrls either way.
  return matches(receivedUrls(url)) || matches(normalizedUrls(url));
}

/** Hex SHA-256 of the raw body bytes, as Twilio puts it in the `bodySHA256` query parameter. */
export function twilioBodyHash(rawBody: Buffer | string): string {
  return createHash('sha256').update(rawBody).digest('hex');
}

/**
 * twilio-node `validateRequestWithBody` (JSON bodies): the URL, which carries `bodySHA256`, is
 * signed with no params, and the raw body must hash to that value. Security: both compares are
 * constant-time, and the hash is taken over the exact bytes received.
 */
export function validateTwilioSignatureWithBody(
  keys: readonly string[],
  signature: string,
  url: string,
  rawBody: Buffer,
  algorithm: TwilioHmacAlgorithm = 'sha1',
): boolean {
  let claimed: string;
  try {
    claimed = new URL(url).searchParams.get('bodySHA256') ?? '';
  } catch {
    return false;
  }
  const signed = validateTwilioSignature(keys, signature, url, {}, algorithm);
  return safeEqual(claimed, twilioBodyHash(rawBody)) && signed;
}
