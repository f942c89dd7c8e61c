/**
 * JSON parsing that never loses integer precision. `JSON.parse` silently rounds integers beyond
 * 2^53 (Mailjet's `MessageID` 19421777835146490 would come back as …488); here every integer
 * literal whose magnitude exceeds `Number.MAX_SAFE_INTEGER` is kept as its exact decimal string.
 * Everything else parses exactly as `JSON.parse` would (PROVIDERS.md pitfall 7).
 */
import { WebhookParseError } from '../core/errors';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Sixteen digits in a row: the cheapest sign that an unsafe integer may be present. */
const LONG_DIGITS = /\d{16}/;
/** A JSON integer literal (no leading zeros), so an invalid body is never made valid. */
const JSON_INTEGER = /^-?(?:0|[1-9]\d*)$/;

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isUnsafeInteger(token: string): boolean {
  if (!JSON_INTEGER.test(token)) return false;
  const value = BigInt(token);
  return value > MAX_SAFE || value < -MAX_SAFE;
}

/**
 * Rewrites the JSON text so that unsafe integer literals outside strings become string literals
 * (`19421777835146490` → `"19421777835146490"`). Never throws; text that is not JSON stays not JSON.
 */
export function quoteUnsafeIntegers(text: string): string {
  if (!LONG_DIGITS.test(text)) return text;
  let out = '';
  let copied = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote, honouring backslash escapes.
      i += 1;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else {
          i += 1;
          if (d === 0x22) break;
        }
      }
      continue;
    }
    if (c === 0x2d || isDigit(c)) {
      const start = i;
      i += 1;
      while (i < n && isDigit(text.charCodeAt(i))) i += 1;
      const integerEnd = i;
      let integer = true;
      if (text[i] === '.') {
        integer = false;
        i += 1;
        while (i < n && isDigit(text.charCodeAt(i))) i += 1;
      }
      if (text[i] === 'e' || text[i] === 'E') {
        integer = false;
        i += 1;
        if (text[i] === '+' || text[i] === '-') i += 1;
        while (i < n && isDigit(text.charCodeAt(i))) i += 1;
      }
      const token = text.slice(start, integerEnd);
      if (integer && isUnsafeInteger(token)) {
        out += `${text.slice(copied, start)}"${token}"`;
        copied = integerEnd;
      }
      continue;
    }
    i += 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Parses the raw body as JSON, keeping integers beyond 2^53 as exact strings.
 * @throws WebhookParseError for an empty body or invalid JSON (never a bare SyntaxError)
 */
export function readJsonBigint(rawBody: Buffer): unknown {
  if (rawBody.length === 0) throw new WebhookParseError('request body is empty');
  try {
    return JSON.parse(quoteUnsafeIntegers(rawBody.toString('utf8')));
  } catch (cause) {
    throw new WebhookParseError(`body is not valid JSON (${(cause as Error).message})`, '', { cause });
  }
}

/** `JSON.parse` of a JSON text nested in a payload (a metadata string), integers beyond 2^53 kept as exact strings. Throws SyntaxError as JSON.parse does. */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(quoteUnsafeIntegers(text));
}
