/**
 * The per-message override keys a sender attaches to a message (DESIGN §3.3, contract) and the
 * {@link EventOverrides} field each one fills. Every adapter reads them from wherever its provider
 * echoes sender metadata (custom_args, user-variables, Metadata, tags, the callback query…).
 */
import type { EventOverrides } from './normalized-event';

export const OVERRIDE_FIELDS = {
  distinct_user_id: 'userId',
  distinct_feature: 'feature',
  distinct_experience_id: 'experienceId',
} as const satisfies Readonly<Record<string, keyof EventOverrides>>;

/** `table[key]` when `key` is a string and an own property (never a prototype key such as `constructor`). */
export function own<T>(table: Readonly<Partial<Record<string, T>>>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/**
 * The overrides found in flat records of sender metadata (a parsed query string, custom args,
 * tags…). For each key the first record holding a non-empty value wins; strings are trimmed and
 * safe integers (a numeric user id) are kept as text; other numbers (rounded or fractional) are no id.
 */
export function overridesFrom(...sources: ReadonlyArray<Readonly<Record<string, unknown>>>): EventOverrides {
  const overrides: EventOverrides = {};
  for (const [wire, key] of Object.entries(OVERRIDE_FIELDS)) {
    for (const source of sources) {
      const raw = own(source, wire);
      // A number is kept as text only when its digits are exact (unsafe integers arrive as strings).
      const value =
        typeof raw === 'string' ? raw.trim() : typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : '';
      if (value) {
        overrides[key] = value;
        break;
      }
    }
  }
  return overrides;
}

/** The wire key of each {@link EventOverrides} field (`userId` → `distinct_user_id`): OVERRIDE_FIELDS inverted. */
const WIRE_KEYS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(OVERRIDE_FIELDS).map(([wire, field]) => [field, wire]),
);

/**
 * `overrides` keyed by their wire names, as a sender attaches them to a message; keys that are
 * not override fields pass through unchanged. Test signers use it to build provider payloads.
 */
export function toWireOverrides(overrides: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const wire: Record<string, string> = {};
  for (const [key, value] of Object.entries(overrides ?? {})) wire[own(WIRE_KEYS, key) ?? key] = value;
  return wire;
}
