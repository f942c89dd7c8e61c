/**
 * Distinct's API as this project knows it (DESIGN §6): the one path, the documented messages and
 * how an answer is classified. The client (forwarder/distinct-client.ts) classifies with it; the
 * sandbox (sandbox/) answers with the same path and messages, so the two cannot drift apart.
 */

/** The path Distinct documents; appended to `distinct.baseUrl`. */
export const ANALYTICS_PATH = '/api/v1/user/analytics';

/** Distinct's documented messages (DESIGN §6). */
export const DISTINCT_MESSAGES = {
  ok: 'User analytics added successfully.',
  userNotFound: 'User not found.',
  invalidPair: 'Invalid feature/action.',
  invalidExperience: 'Invalid experience id.',
  unauthorized: 'Unauthorized.',
  internal: 'Internal server error.',
} as const;

/** How a POST ended, as far as the forwarder cares. */
export type ForwardResult =
  'ok' | 'user_not_found' | 'invalid_pair' | 'invalid_experience' | 'unauthorized' | 'transient' | 'unexpected';

/** The classified answer to one POST. `message` is Distinct's message (or a description of the failure). */
export type ForwardOutcome =
  | { kind: 'ok'; status: number; message: string }
  | { kind: 'user_not_found' | 'invalid_pair' | 'invalid_experience'; status: number; message: string }
  | { kind: 'unauthorized'; status: number; message: string }
  /** `status` is null for timeouts and network errors; `retryAfterMs` comes from `Retry-After`. */
  | { kind: 'transient'; status: number | null; message: string; retryAfterMs?: number }
  | { kind: 'unexpected'; status: number; message: string };

/** Longest message kept from a body that is not the documented JSON shape. */
const MAX_TEXT_MESSAGE = 200;

const HTTP_DATE_MONTH = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b/i;

/** Distinct's documented 400 messages, compared case-insensitively without the trailing dot. */
const KNOWN_400: ReadonlyArray<readonly [string, 'user_not_found' | 'invalid_pair' | 'invalid_experience']> = [
  [normalize400(DISTINCT_MESSAGES.userNotFound), 'user_not_found'],
  [normalize400(DISTINCT_MESSAGES.invalidPair), 'invalid_pair'],
  [normalize400(DISTINCT_MESSAGES.invalidExperience), 'invalid_experience'],
];

/** Maps a status, body text and `Retry-After` header onto an outcome (DESIGN §6 table). */
export function classifyResponse(
  status: number,
  body: string,
  retryAfter: string | undefined,
  now: number,
): ForwardOutcome {
  const message = extractMessage(body);
  if (status === 200) return { kind: 'ok', status, message };
  if (status === 400) {
    const normalized = normalize400(message);
    for (const [text, kind] of KNOWN_400) if (normalized === text) return { kind, status, message };
    return { kind: 'unexpected', status, message };
  }
  if (status === 401 || status === 403) return { kind: 'unauthorized', status, message };
  // 408 is a timeout reported by an intermediary: the same thing as our own timeout.
  if (status === 429 || status === 408 || (status >= 500 && status <= 599)) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return retryAfterMs === undefined
      ? { kind: 'transient', status, message }
      : { kind: 'transient', status, message, retryAfterMs };
  }
  return { kind: 'unexpected', status, message };
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds (`120`, tolerating a fraction) or an
 * HTTP date. Undefined when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // An HTTP date always names its month; Date.parse alone is lenient enough to read "-5" as a year.
  if (!HTTP_DATE_MONTH.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Distinct's `{statusCode, message, data}` message, read defensively; else the start of the text. */
export function extractMessage(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body.slice(0, MAX_TEXT_MESSAGE);
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const message: unknown = (parsed as Record<string, unknown>).message;
    if (typeof message === 'string') return message;
    // Framework validation errors sometimes carry a list of messages.
    if (Array.isArray(message) && message.every((m): m is string => typeof m === 'string')) return message.join('; ');
  }
  return body.slice(0, MAX_TEXT_MESSAGE);
}

/** A 400 message as compared: case-insensitive, surrounding space and trailing dots ignored. */
function normalize400(message: string): string {
  return message.trim().toLowerCase().replace(/\.+$/, '');
}
