import { WebhookParseError } from '../core/errors';

/** Parses the raw body as JSON; a syntax error becomes a {@link WebhookParseError}, never a bare SyntaxError. */
export function readJson(rawBody: Buffer): unknown {
  if (rawBody.length === 0) throw new WebhookParseError('request body is empty');
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch (cause) {
    throw new WebhookParseError(`body is not valid JSON (${(cause as Error).message})`, '', { cause });
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
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Like {@link optionalString} but throws a parse error naming `path` when absent. */
export function requiredString(obj: Record<string, unknown>, key: string, path: string): string {
  const v = optionalString(obj, key);
  if (v === undefined) throw new WebhookParseError(`"${key}" is required and must be a non-empty string`, path ? `${path}.${key}` : key);
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
