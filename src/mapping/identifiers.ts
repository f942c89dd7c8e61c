/**
 * Recipient identifiers for Distinct (DESIGN §3.1): e-mail lower-cased and trimmed; phone to E.164
 * with libphonenumber-js after stripping channel prefixes (`whatsapp:`); short codes and
 * unparseable numbers are not phones.
 */
import { domainToASCII } from 'node:url';
import type * as LibPhoneNumber from 'libphonenumber-js';

/**
 * libphonenumber-js is loaded with the first phone number, not at import: its metadata is ≈ 25 ms
 * of the Lambda HTTP handler's cold start (bench/lambda-cold-start.js), and e-mail-only
 * deployments never need it.
 */
let parsePhone: typeof LibPhoneNumber.parsePhoneNumberFromString | undefined;

const CHANNEL_PREFIX = /^[a-z][a-z0-9+.-]*:/i;
/** Control, format (bidi overrides and isolates, zero-width characters, BOM) and separator characters: never in an address. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}]/u;
/** RFC 5322 `atext` beyond letters and digits. */
const ATEXT_SYMBOLS = "!#$%&'*+/=?^_`{|}~-";

/**
 * Normalized e-mail address (trimmed, lower-cased), or undefined when it is not one Distinct
 * accepts (DESIGN §3.1). Linear, no backtracking regex. Accepted: a dot-atom local part of at most
 * 64 bytes (RFC 5322 `atext`, plus-addresses, and non-ASCII for RFC 6531 mailboxes) and a host name
 * of at least two labels (IDN labels checked in their punycode form, each 1–63 letters, digits or
 * inner hyphens) ending in an alphabetic top-level domain of 2–63 letters; at most 254 characters.
 * Refused: display names and brackets (`<a@b.com>`), quoted local parts, IP literals
 * (`a@[127.0.0.1]`), empty labels (`a@b..com`), hyphen-edged labels, one-letter or numeric TLDs,
 * and any control, bidi, zero-width or space character anywhere (`a@b.com\u0000`).
 */
export function normalizeEmail(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const email = value.trim().toLowerCase();
  if (email.length < 6 || email.length > 254 || INVISIBLE.test(email)) return undefined;
  const at = email.indexOf('@');
  if (at <= 0 || email.indexOf('@', at + 1) !== -1) return undefined;
  return isLocalPart(email.slice(0, at)) && isHostName(email.slice(at + 1)) ? email : undefined;
}

function isLocalPart(local: string): boolean {
  if (Buffer.byteLength(local, 'utf8') > 64) return false;
  let previousDot = true; // no leading dot
  for (let i = 0; i < local.length; i += 1) {
    const c = local.charCodeAt(i);
    if (c === 0x2e) {
      if (previousDot) return false; // leading or consecutive dots
      previousDot = true;
      continue;
    }
    previousDot = false;
    if (isAsciiAlnum(c) || c >= 0x80) continue;
    if (!ATEXT_SYMBOLS.includes(local[i]!)) return false;
  }
  return !previousDot; // no trailing dot
}

function isHostName(host: string): boolean {
  const lastDot = host.lastIndexOf('.');
  if (lastDot <= 0) return false;
  // The top-level domain: ASCII letters only (no IP address, no one-letter or numeric TLD).
  const tld = host.slice(lastDot + 1);
  if (tld.length < 2 || tld.length > 63) return false;
  for (let i = 0; i < tld.length; i += 1) {
    const c = tld.charCodeAt(i);
    if (c < 0x61 || c > 0x7a) return false;
  }
  let ascii = host;
  for (let i = 0; i < host.length; i += 1) {
    if (host.charCodeAt(i) >= 0x80) {
      // IDN: the labels as DNS sees them; '' when a label cannot be one.
      ascii = domainToASCII(host);
      if (ascii === '' || !sameLabels(host, ascii)) return false;
      break;
    }
  }
  if (ascii.length > 253) return false;
  let labelStart = 0;
  for (let i = 0; i <= ascii.length; i += 1) {
    const c = i === ascii.length ? 0x2e : ascii.charCodeAt(i);
    if (c === 0x2e) {
      const length = i - labelStart;
      if (length < 1 || length > 63) return false;
      if (ascii.charCodeAt(labelStart) === 0x2d || ascii.charCodeAt(i - 1) === 0x2d) return false;
      labelStart = i + 1;
    } else if (!isAsciiAlnum(c) && c !== 0x2d) return false;
  }
  return true;
}

/**
 * domainToASCII also maps characters away (full-width `ｅ` to `e`, zero-width joiners dropped): a
 * host is kept only when each ASCII label is unchanged and each non-ASCII label became punycode.
 */
function sameLabels(host: string, ascii: string): boolean {
  const original = host.split('.');
  const mapped = ascii.split('.');
  if (original.length !== mapped.length) return false;
  for (let i = 0; i < original.length; i += 1) {
    const label = original[i]!;
    const dns = mapped[i]!;
    // eslint-disable-next-line no-control-regex
    if (/^[\x00-\x7f]*$/.test(label) ? dns !== label : !dns.startsWith('xn--')) return false;
  }
  return true;
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/** E.164 phone number, or undefined for short codes, alphanumeric senders and garbage. */
export function normalizePhone(value: string | undefined): string | undefined {
  // No phone number is this long (E.164: 15 digits); libphonenumber need not see a 40,000-character string.
  if (value === undefined || value.length > 64) return undefined;
  let text = value.trim().replace(CHANNEL_PREFIX, '').trim();
  if (text === '') return undefined;
  // Providers that omit the '+' (Vonage msisdn, Brevo) send full international numbers.
  if (!text.startsWith('+')) {
    if (!/^\d[\d\s().-]*$/.test(text)) return undefined;
    text = `+${text}`;
  }
  // Short codes (5–6 digits) are never phones, even when a country code would make them "possible".
  if (countDigits(text) < 8) return undefined;
  parsePhone ??= (require('libphonenumber-js') as typeof LibPhoneNumber).parsePhoneNumberFromString;
  const parsed = parsePhone(text);
  if (!parsed || !parsed.isPossible()) return undefined;
  return parsed.number;
}

/** The number of ASCII digits in `text` (what `text.replace(/\D/g, '').length` counts). */
function countDigits(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n += 1;
  }
  return n;
}
