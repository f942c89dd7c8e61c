/**
 * pino JSON logs. Secrets are never passed to the logger; as a second line of defence the
 * signature and credential headers are redacted, and e-mail addresses and phone numbers are
 * masked in every logged string when `redactPii` is on (the default).
 */
import pino, { type Logger } from 'pino';

export type { Logger };

/** International numbers (`+…`, optionally behind a channel prefix); bare digit runs are left alone (ids, unix times). */
const PHONE = /(?<![\w+])((?:whatsapp|tel|sms):)?\+\d[\d\s().-]{5,}\d(?![\w])/g;
/** Fields whose string values are recipients whatever their format (Vonage msisdn has no '+'); operator views use it too. */
export const RECIPIENT_KEYS = /^(phone|to|from|msisdn|recipient|email)$/i;

/**
 * Masks e-mail addresses (`j***@example.com`) and phone numbers (`+*******0604`).
 *
 * Linear in the length of `text` whatever it holds: e-mails are found by a scanner around each
 * `@` (a backtracking e-mail regex took seconds on a 16,000-character run of letters), and the
 * phone pattern only starts at a `+`, whose runs never overlap.
 */
export function redactPii(text: string): string {
  const emailed = text.includes('@') ? redactEmails(text) : text;
  return emailed.includes('+') ? emailed.replace(PHONE, maskPhone) : emailed;
}

function maskPhone(m: string, prefix: string | undefined): string {
  let digits = '';
  for (let i = 0; i < m.length; i += 1) {
    const c = m.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += m[i];
  }
  if (digits.length < 7) return m;
  return `${prefix ?? ''}+${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/** `[A-Za-z0-9]` */
function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
/** A local-part character of the masked shape: `[A-Za-z0-9._%+-]`. */
function isLocalChar(c: number): boolean {
  return isAlnum(c) || c === 0x2e || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d;
}
/** A domain character: `[A-Za-z0-9.-]`. */
function isDomainChar(c: number): boolean {
  return isAlnum(c) || c === 0x2e || c === 0x2d;
}

/**
 * Replaces every `local@domain.tld` (local `[A-Za-z0-9._%+-]+`, domain `[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
 * by `l***@domain.tld`, matching what the equivalent global regex would, in one pass: each
 * character is visited a bounded number of times (left over the local run once, since runs end at
 * the previous match or `@`; right over the domain run once, and a domain run ends at the next `@`).
 */
function redactEmails(text: string): string {
  const n = text.length;
  let out = '';
  let copied = 0;
  let at = text.indexOf('@');
  while (at !== -1) {
    let start = at;
    while (start > copied && isLocalChar(text.charCodeAt(start - 1))) start -= 1;
    let runEnd = at + 1;
    while (runEnd < n && isDomainChar(text.charCodeAt(runEnd))) runEnd += 1;
    let end = -1;
    if (start < at) {
      // The last '.' (with at least one character before it) followed by two letters ends the domain.
      for (let dot = runEnd - 3; dot > at + 1; dot -= 1) {
        if (text.charCodeAt(dot) === 0x2e && isLetter(text.charCodeAt(dot + 1)) && isLetter(text.charCodeAt(dot + 2))) {
          end = dot + 3;
          while (end < runEnd && isLetter(text.charCodeAt(end))) end += 1;
          break;
        }
      }
    }
    if (end !== -1) {
      out += `${text.slice(copied, start)}${text[start]}***@${text.slice(at + 1, end)}`;
      copied = end;
    }
    at = text.indexOf('@', Math.max(at + 1, runEnd));
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Masks a recipient value of any shape, keeping the last 4 characters (or the e-mail domain). */
function maskRecipient(value: string): string {
  const masked = redactPii(value);
  if (masked !== value) return masked;
  return value.length <= 4 ? '****' : `${'*'.repeat(value.length - 4)}${value.slice(-4)}`;
}

function redactDeep(value: unknown, depth = 0, key = ''): unknown {
  if (typeof value === 'string') return redactPii(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  // `err` is left to the err serializer (which redacts it); an error under any other key would be
  // logged as its enumerable fields only: give it the same redacted shape.
  if (value instanceof Error) return depth === 1 && key === 'err' ? value : redactError(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = typeof v === 'string' && RECIPIENT_KEYS.test(k) ? maskRecipient(v) : redactDeep(v, depth + 1, k);
  }
  return out;
}

/**
 * pino's standard error serialization (type, message and stack with their causes, own fields)
 * with every string redacted: an e-mail or phone number in a thrown error's message is in its
 * stack too.
 */
function redactError(value: unknown): unknown {
  const serialized = pino.stdSerializers.err(value as Error) as unknown;
  if (serialized === null || typeof serialized !== 'object') return redactDeep(serialized, 2);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(serialized)) {
    if (k === 'raw') continue;
    out[k] = redactDeep((serialized as Record<string, unknown>)[k], 2, k);
  }
  return out;
}

/** Header and field paths that may carry credentials; always censored. */
export const SECRET_PATHS = [
  'headers.authorization',
  'headers["x-twilio-signature"]',
  'headers["x-twilio-email-event-webhook-signature"]',
  'headers["x-distinct-api-key"]',
  'headers["x-mandrill-signature"]',
  'headers["x-plivo-signature-v3"]',
  // V2 signs no body: a logged V2 / Ma-V2 signature with its nonce would authenticate any body.
  'headers["x-plivo-signature-v2"]',
  'headers["x-plivo-signature-ma-v2"]',
  'headers["x-sinch-webhook-signature"]',
  'headers.cookie',
  'apiKey',
  'authToken',
  'signingKey',
  'secret',
];

export interface LoggerOptions {
  level?: string;
  redactPii?: boolean;
  /** Where to write (tests pass a stream). */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const piiOn = options.redactPii !== false;
  const base: pino.LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { service: 'distinct-webhook-adapter' },
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const pii: pino.LoggerOptions = piiOn
    ? {
        formatters: { log: (obj) => redactDeep(obj) as Record<string, unknown> },
        serializers: { err: redactError },
        hooks: {
          logMethod(args, method) {
            let a = args as unknown[];
            // `logger.error(err)`: pino would take the message line from err.message, unmasked.
            if (a[0] instanceof Error && typeof a[1] !== 'string') a = [{ err: a[0] }, a[0].message, ...a.slice(1)];
            for (let i = 0; i < a.length; i += 1) if (typeof a[i] === 'string') a[i] = redactPii(a[i] as string);
            return method.apply(this, a as Parameters<typeof method>);
          },
        },
      }
    : {};
  return pino({ ...base, ...pii }, options.destination);
}

/** A logger that writes nothing (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
