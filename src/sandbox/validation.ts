/**
 * The sandbox's check of an analytics request body against DESIGN §6. Distinct's own messages
 * (core/distinct-api.ts) where DESIGN §6 lists them; the format errors are ours.
 */
import { DISTINCT_MESSAGES } from '../core/distinct-api';
import { DISTINCT_EVENT_FIELDS } from '../core/distinct-event';
import type { Registry } from '../mapping/registry';

/** The outcome of validating one analytics request body. */
export type ValidationResult = { ok: true } | { ok: false; message: string };

export interface ValidationContext {
  registry: Registry;
  experienceIds?: ReadonlySet<string>;
  knownUserIds?: ReadonlySet<string>;
}

const ALLOWED_FIELDS: ReadonlySet<string> = new Set(DISTINCT_EVENT_FIELDS);
const OPTIONAL_FIELDS = ['userId', 'email', 'phone', 'metadata'] as const;
const E164 = /^\+[1-9]\d{1,14}$/;
const EMAIL = /^[^\s@"<>(),;:\\[\]]+@[^\s@"<>(),;:\\[\]]+\.[A-Za-z]{2,63}$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** Validates a parsed body against DESIGN §6; the first problem wins. */
export function validateAnalyticsBody(body: unknown, ctx: ValidationContext): ValidationResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail('Body must be a JSON object.');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!ALLOWED_FIELDS.has(key)) return fail(`Unknown field "${key}".`);
  for (const key of OPTIONAL_FIELDS) {
    if (key in b && (b[key] === null || b[key] === ''))
      return fail(
        `"${key}" must be omitted when it has no value, not ${b[key] === null ? 'null' : 'an empty string'}.`,
      );
  }
  if (b.userId === undefined && b.email === undefined && b.phone === undefined) {
    return fail('At least one of userId, email or phone is required.');
  }
  if (b.userId !== undefined && (typeof b.userId !== 'string' || b.userId.trim() === ''))
    return fail('"userId" must be a non-empty string.');
  if (b.email !== undefined && (typeof b.email !== 'string' || b.email.length > 254 || !EMAIL.test(b.email))) {
    return fail('"email" must be a valid e-mail address.');
  }
  if (b.phone !== undefined && (typeof b.phone !== 'string' || !E164.test(b.phone))) {
    return fail('"phone" must be an E.164 number such as +14155550100 (no spaces).');
  }
  if (
    typeof b.feature !== 'string' ||
    typeof b.action !== 'string' ||
    ctx.registry.resolve(b.feature, b.action) === null
  ) {
    return fail(DISTINCT_MESSAGES.invalidPair);
  }
  if (
    typeof b.experienceId !== 'string' ||
    b.experienceId === '' ||
    (ctx.experienceIds && !ctx.experienceIds.has(b.experienceId))
  ) {
    return fail(DISTINCT_MESSAGES.invalidExperience);
  }
  if (b.capturedAt === undefined || b.capturedAt === null || b.capturedAt === '')
    return fail('"capturedAt" is required.');
  if (typeof b.capturedAt !== 'string' || !isStrictIso8601(b.capturedAt)) {
    return fail('"capturedAt" must be a strict ISO 8601 date-time such as 2026-04-27T13:35:00Z.');
  }
  if (
    b.metadata !== undefined &&
    (b.metadata === null || typeof b.metadata !== 'object' || Array.isArray(b.metadata))
  ) {
    return fail('"metadata" must be a JSON object.');
  }
  if (typeof b.userId === 'string' && ctx.knownUserIds && !ctx.knownUserIds.has(b.userId))
    return fail(DISTINCT_MESSAGES.userNotFound);
  return { ok: true };
}

/** `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` naming a real calendar instant. */
export function isStrictIso8601(value: string): boolean {
  const m = ISO_8601.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return false;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return !Number.isNaN(Date.parse(value));
}

function fail(message: string): ValidationResult {
  return { ok: false, message };
}
