/**
 * Copying provider fields into an event's `details` (→ Distinct metadata), written as data: each
 * adapter declares a table of `path → details key` once with {@link detailFields} and reads it
 * with {@link pickDetails}. Paths are dotted (`Client.Name`, `bounce.type`).
 */
import { detailValue, type EventDetails } from './normalized-event';

/** Turns a field's value into a details value, or undefined to leave the key out. */
export type DetailReader = (value: unknown) => string | number | boolean | undefined;

/** A compiled details table (paths split once, at module load). */
export interface DetailFields {
  readonly entries: ReadonlyArray<readonly [path: string | readonly string[], key: string]>;
  readonly read: DetailReader;
}

/**
 * Compiles a details table: `{ providerPath: detailsKey }`, or a list of paths kept under their
 * own (last-segment) name. `read` decides which values are kept (default {@link detailValue}:
 * non-blank strings, finite numbers, booleans).
 */
export function detailFields(
  spec: Readonly<Record<string, string>> | readonly string[],
  read: DetailReader = detailValue,
): DetailFields {
  const pairs: Array<readonly [string, string]> = Array.isArray(spec)
    ? (spec as readonly string[]).map((path) => [path, path.slice(path.lastIndexOf('.') + 1)] as const)
    : Object.entries(spec as Readonly<Record<string, string>>);
  return { entries: pairs.map(([path, key]) => [path.includes('.') ? path.split('.') : path, key] as const), read };
}

/** The value at a dotted path; undefined when a step is not an object. */
function valueAt(record: Readonly<Record<string, unknown>>, path: string | readonly string[]): unknown {
  if (typeof path === 'string') return record[path];
  let value: unknown = record;
  for (const step of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** Copies every field of `fields` that `record` holds a keepable value for into `into` (a new object by default). */
export function pickDetails(
  record: Readonly<Record<string, unknown>>,
  fields: DetailFields,
  into: EventDetails = {},
): EventDetails {
  const { entries, read } = fields;
  for (let i = 0; i < entries.length; i++) {
    const [path, key] = entries[i]!;
    const value = read(valueAt(record, path));
    if (value !== undefined) into[key] = value;
  }
  return into;
}

/** Text as `optionalString` reads it (non-empty strings; safe integers and fractions as their digits). */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value))
    return Number.isSafeInteger(value) || !Number.isInteger(value) ? String(value) : undefined;
  return undefined;
}

/** Reader: the value as text (see `optionalString`), kept as received when non-empty. */
export const textDetail: DetailReader = text;

/** Reader: the value as text, trimmed; blank text is left out (form parameters). */
export const trimmedTextDetail: DetailReader = (value) => text(value)?.trim() || undefined;

/** Reader: non-blank strings only, kept as received. */
export const stringDetail: DetailReader = (value) =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/** Reader: non-blank strings and finite numbers (no booleans). */
export const stringOrNumberDetail: DetailReader = (value) =>
  typeof value === 'boolean' ? undefined : detailValue(value);

/**
 * Reader: a provider's list of tags as one details value, its non-empty strings joined with ','
 * (Brevo `tags`, Mailgun `tags`, Mandrill `msg.tags`, SparkPost `rcpt_tags`); none for an empty
 * list or anything that is not a list.
 */
export const tagsDetail = (value: unknown): string | undefined => {
  if (!Array.isArray(value)) return undefined;
  const tags = value.filter((t): t is string => typeof t === 'string' && t !== '');
  return tags.length > 0 ? tags.join(',') : undefined;
};

/** Reader: {@link detailValue}, and one level of array joined with ', ' (strings and numbers only). */
export const scalarOrListDetail: DetailReader = (value) => {
  if (Array.isArray(value)) {
    // One level: nested arrays are no details (and a hostile body nests them thousands deep).
    const parts = value
      .map(detailValue)
      .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number');
    return parts.length > 0 ? parts.join(', ') : undefined;
  }
  return detailValue(value);
};
