/**
 * Plivo's request signatures, ported to node:crypto.
 *
 * V2 (`X-Plivo-Signature-V2`, `X-Plivo-Signature-Ma-V2`, `X-Plivo-Signature-V2-Nonce`) is what
 * Plivo sends to message and status URLs (Messaging → Concepts → Signature validation). Ported from
 * plivo-node `lib/utils/security.js` (`validateSignature`) and plivo-python `plivo/utils/__init__.py`
 * (`validate_signature`):
 *
 *   base      = scheme://host[:port]/path     (the URL as configured: query and fragment removed)
 *   signature = base64(HMAC-SHA256(authToken, base + nonce))
 *
 * `-V2` is made with the Auth Token of the account or subaccount that owns the message,
 * `-Ma-V2` always with the main account's. Neither covers the query or the body.
 *
 * V3 (`X-Plivo-Signature-V3` + `X-Plivo-Signature-V3-Nonce`) is the Voice scheme, ported from
 * plivo-node `lib/utils/v3Security.js` (`validateV3Signature`), cross-read with plivo-python
 * `plivo/utils/signature_v3.py`:
 *
 *   base  = scheme://host[:port]/path            (the URL as configured, query removed)
 *   query = the URL's query parameters, names sorted, each name's values sorted, `k=v` joined by `&`
 *   GET:  base + ('?' + query, when query is non-empty)   — Plivo's parameters are in the query
 *   POST: base + ('?' + query, when query or body is non-empty) + ('.', when both are non-empty)
 *              + body parameters, names sorted, values sorted, as `k` + `v` with no separators
 *   signature = base64(HMAC-SHA256(authToken, that + '.' + nonce))
 *
 * The header may carry several comma-separated signatures; any one matching is enough (V2 headers
 * are read the same way: base64 has no comma, so this can only widen what Plivo itself sends).
 */
import { parse as parseQuery } from 'node:querystring';
import { hmac, safeEqual } from './primitives';

/** Decoded parameters: every value of each name. */
export type PlivoParams = Readonly<Record<string, readonly string[]>>;

const SPLIT = /^([^:/?#]+):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/;

/** Values of a `querystring.parse` result, always as arrays (the SDK's `get_map_from_query`). */
function queryParams(query: string): Record<string, string[]> {
  const parsed = parseQuery(query);
  const out: Record<string, string[]> = Object.create(null);
  for (const name of Object.keys(parsed)) {
    const value = parsed[name];
    out[name] = value === undefined ? [] : Array.isArray(value) ? [...value] : [value];
  }
  return out;
}

function sortedQuery(params: PlivoParams): string {
  const parts: string[] = [];
  for (const name of Object.keys(params).sort()) for (const v of [...params[name]!].sort()) parts.push(`${name}=${v}`);
  return parts.join('&');
}

function sortedBody(params: PlivoParams): string {
  let out = '';
  for (const name of Object.keys(params).sort()) for (const v of [...params[name]!].sort()) out += name + v;
  return out;
}

/**
 * The string Plivo signs (before `.nonce`), or null for a URL without `scheme://`.
 * The URL is taken character for character, never normalised: Plivo signs the URL it called.
 */
export function plivoV3BaseString(method: string, url: string, bodyParams: PlivoParams): string | null {
  const m = SPLIT.exec(url);
  if (!m) return null;
  const [, scheme = '', authority = '', path = '', query = ''] = m;
  let out = `${scheme}://${authority}${path}`;
  const q = sortedQuery(queryParams(query));
  if (method.toUpperCase() === 'GET') return q ? `${out}?${q}` : out;
  const hasBody = Object.keys(bodyParams).length > 0;
  if (q || hasBody) out += `?${q}`;
  if (q && hasBody) out += '.';
  return out + sortedBody(bodyParams);
}

/** The V3 signature Plivo sends for this request (base64). */
export function computePlivoV3Signature(
  authToken: string,
  method: string,
  url: string,
  bodyParams: PlivoParams,
  nonce: string,
): string | null {
  const base = plivoV3BaseString(method, url, bodyParams);
  return base === null ? null : hmac('sha256', authToken, `${base}.${nonce}`, 'base64');
}

/**
 * plivo-node `validateV3Signature` for a list of tokens (rotation): true when any comma-separated
 * signature in the header matches under any token. Security: constant-time compares, and every
 * combination is tried so timing does not reveal which one matched.
 */
export function validatePlivoV3Signature(
  authTokens: readonly string[],
  signatureHeader: string,
  method: string,
  url: string,
  bodyParams: PlivoParams,
  nonce: string,
): boolean {
  const base = plivoV3BaseString(method, url, bodyParams);
  if (base === null) return false;
  const claimed = claimedSignatures(signatureHeader);
  let ok = false;
  for (const token of authTokens) {
    const expected = hmac('sha256', token, `${base}.${nonce}`, 'base64');
    for (const sig of claimed) ok = safeEqual(sig, expected) || ok;
  }
  return ok;
}

/** The signatures of a header: comma-separated, blanks dropped. */
function claimedSignatures(header: string): string[] {
  return header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The URL Plivo's V2 signature covers: `scheme://authority/path`, query and fragment removed,
 * otherwise character for character (plivo-python `urlunparse((scheme, netloc, path, '', '', ''))`);
 * null for a URL without `scheme://`.
 */
export function plivoV2BaseUrl(url: string): string | null {
  const m = SPLIT.exec(url);
  if (!m) return null;
  const [, scheme = '', authority = '', path = ''] = m;
  return `${scheme}://${authority}${path}`;
}

/** The V2 signature (also the Ma-V2 one, with the main account's token) for `url` and `nonce` (base64). */
export function computePlivoV2Signature(authToken: string, url: string, nonce: string): string | null {
  const base = plivoV2BaseUrl(url);
  return base === null ? null : hmac('sha256', authToken, base + nonce, 'base64');
}

/**
 * plivo-node `validateSignature` for a list of tokens and several headers (`-V2`, `-Ma-V2`): true
 * when any signature of any header matches under any token. Security: constant-time compares, and
 * every combination is tried so timing does not reveal which one matched.
 */
export function validatePlivoV2Signature(
  authTokens: readonly string[],
  signatureHeaders: readonly string[],
  url: string,
  nonce: string,
): boolean {
  const base = plivoV2BaseUrl(url);
  if (base === null) return false;
  const claimed = signatureHeaders.flatMap(claimedSignatures);
  let ok = false;
  for (const token of authTokens) {
    const expected = hmac('sha256', token, base + nonce, 'base64');
    for (const sig of claimed) ok = safeEqual(sig, expected) || ok;
  }
  return ok;
}
