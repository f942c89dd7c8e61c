/**
 * Recipient identifiers for Distinct (DESIGN §3.1): e-mail lower-cased and trimmed; phone to E.164
 * with libphonenumber-js after stripping channel prefixes (`whatsapp:`); short codes and
 * unparseable numbers are not phones.
 */
import type * as LibPhoneNumber from 'libphonenumber-js';

/**
 * libphonenumber-js is loaded with the first phone number, not at import: its metadata is ≈ 25 ms
 * of the Lambda HTTP handler's cold start (bench/lambda-cold-start.js), and e-mail-only
 * deployments never need it.
 */
let parsePhone: typeof LibPhoneNumber.parsePhoneNumberFromString | undefined;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const CHANNEL_PREFIX = /^[a-z][a-z0-9+.-]*:/i;

/** Normalized e-mail address, or undefined when the value is not one. */
export function normalizeEmail(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const email = value.trim().toLowerCase();
  return EMAIL.test(email) ? email : undefined;
}

/** E.164 phone number, or undefined for short codes, alphanumeric senders and garbage. */
export function normalizePhone(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
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
