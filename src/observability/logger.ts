/**
 * pino JSON logs. Secrets are never passed to the logger; as a second line of defence the
 * signature and credential headers are redacted, and e-mail addresses and phone numbers are
 * masked in every logged string when `redactPii` is on (the default).
 */
import pino, { type Logger } from 'pino';

export type { Logger };

const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
/** International numbers (`+…`, optionally behind a channel prefix); bare digit runs are left alone (ids, unix times). */
const PHONE = /(?<![\w+])((?:whatsapp|tel|sms):)?\+\d[\d\s().-]{5,}\d(?![\w])/g;
/** Fields whose string values are recipients whatever their format (Vonage msisdn has no '+'). */
const RECIPIENT_KEYS = /^(phone|to|from|msisdn|recipient|email)$/i;

/** Masks e-mail addresses (`j***@example.com`) and phone numbers (`+*******0604`). */
export function redactPii(text: string): string {
  return text
    .replace(EMAIL, (_m, first: string, domain: string) => `${first}***@${domain}`)
    .replace(PHONE, (m, prefix: string | undefined) => {
      const digits = m.replace(/\D/g, '');
      if (digits.length < 7) return m;
      return `${prefix ?? ''}+${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
    });
}

/** Masks a recipient value of any shape, keeping the last 4 characters (or the e-mail domain). */
function maskRecipient(value: string): string {
  const masked = redactPii(value);
  if (masked !== value) return masked;
  return value.length <= 4 ? '****' : `${'*'.repeat(value.length - 4)}${value.slice(-4)}`;
}

function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactPii(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = typeof v === 'string' && RECIPIENT_KEYS.test(k) ? maskRecipient(v) : redactDeep(v, depth + 1);
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
        hooks: {
          logMethod(args, method) {
            const a = args as unknown[];
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
