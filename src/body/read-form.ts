import { WebhookParseError } from '../core/errors';

/** An `application/x-www-form-urlencoded` body: every pair in order, and a first-value lookup. */
export interface FormBody {
  /** Every name/value pair in received order (repeated names kept). */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** First value of each name. */
  readonly fields: Readonly<Record<string, string>>;
  /** Every value of each name, for signature schemes that sign repeated parameters. */
  readonly all: Readonly<Record<string, string[]>>;
}

/** Decodes a form body (or a query string) with WHATWG rules (`+` is a space). */
export function readForm(raw: Buffer | string): FormBody {
  const text = typeof raw === 'string' ? raw : decodeUtf8(raw);
  const params = new URLSearchParams(text);
  const pairs: Array<readonly [string, string]> = [];
  const fields: Record<string, string> = Object.create(null);
  const all: Record<string, string[]> = Object.create(null);
  for (const [name, value] of params) {
    pairs.push([name, value]);
    if (!(name in fields)) fields[name] = value;
    (all[name] ??= []).push(value);
  }
  return { pairs, fields, all };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8: invalid bytes are a parse error, not silently replaced. */
function decodeUtf8(raw: Buffer): string {
  try {
    return UTF8.decode(raw);
  } catch (cause) {
    throw new WebhookParseError('form body is not valid UTF-8', '', { cause });
  }
}
