import { WebhookParseError } from '../core/errors';
import { parseJsonExact, readJsonBigint } from './read-json-bigint';

/**
 * Parses the raw body as JSON; a syntax error becomes a {@link WebhookParseError}, never a bare
 * SyntaxError. Integers beyond 2^53 come back as their exact decimal strings (a `distinct_user_id`
 * of 9007199254740993 must not become another user's 9007199254740992): see {@link readJsonBigint}.
 */
export function readJson(rawBody: Buffer): unknown {
  return readJsonBigint(rawBody);
}

/**
 * The JSON object written in `text` (sender metadata a provider echoes as a string: Brevo's
 * `X-Mailin-custom`, Mailjet's `Payload`, Mailgun's `user-variables`), integers beyond 2^53 kept
 * exact; undefined for any other text. Never throws: the sender's string is not the provider's error.
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = parseJsonExact(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns `obj[key]` when it is a non-empty string (numbers are stringified), else undefined. */
export function optionalString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (typeof v === 'string') return v === '' ? undefined : v;
  // Only a safe integer's text is its digits; a float or a rounded integer is not an id.
  if (typeof v === 'number' && Number.isFinite(v))
    return Number.isSafeInteger(v) || !Number.isInteger(v) ? String(v) : undefined;
  return undefined;
}

/** The path of `key` inside the value at `path` (`[2]` + `event` → `[2].event`; `key` alone at the top). */
export function fieldPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Like {@link optionalString} but throws a parse error naming the field when absent; `path` is
 * where `obj` sits in the body (`''` at the top, `[2]`, `event-data`).
 */
export function requiredString(obj: Record<string, unknown>, key: string, path: string): string {
  const v = optionalString(obj, key);
  if (v === undefined)
    throw new WebhookParseError(`"${key}" is required and must be a non-empty string`, fieldPath(path, key));
  return v;
}

/** Returns `obj[key]` when it is a JSON object. */
export function optionalObject(obj: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = obj[key];
  return isObject(v) ? v : undefined;
}

/** How a JSON value is named in parse errors: `null`, `an array`, `an object`, `a string`… */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
