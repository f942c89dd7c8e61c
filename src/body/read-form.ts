import { WebhookParseError } from '../core/errors';
import type { EventOverrides } from '../core/normalized-event';
import { overridesFrom } from '../core/overrides';
import type { FormBody } from '../core/request';

export type { FormBody } from '../core/request';

/** Decodes a form body (or a query string) with WHATWG rules (`+` is a space). */
export function readForm(raw: Buffer | string): FormBody {
  // A decoded body is well-formed UTF-16 (strict UTF-8), which the fast decoder needs; a string
  // (a query) may hold lone surrogates, which URLSearchParams turns into U+FFFD.
  const text = typeof raw === 'string' ? raw : decodeUtf8(raw);
  const params: Iterable<readonly [string, string]> =
    (typeof raw === 'string' ? undefined : decodePairs(text)) ?? new URLSearchParams(text);
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

/**
 * A form as an event's `raw`: each name with its value, or the list of its values when repeated.
 * Own properties only (`Object.fromEntries`), so a parameter named `__proto__` stays data.
 */
export function formRecord(form: FormBody): Record<string, string | string[]> {
  return Object.fromEntries(
    Object.entries(form.all).map(([name, values]) => [name, values.length === 1 ? values[0]! : [...values]]),
  );
}

/**
 * The sender's overrides in URL-encoded text (`distinct_user_id=…&distinct_feature=…`): a
 * callback URL's query, or a per-message reference the provider echoes (Infobip `callbackData`,
 * Sinch `client_reference`, MessageBird `reference`). Text without `=` (a plain reference) has none.
 */
export function overridesFromForm(text: string | undefined): EventOverrides {
  return text !== undefined && text.includes('=') ? overridesFrom(readForm(text).fields) : {};
}

/**
 * The WHATWG urlencoded parser for well-formed text, or undefined when a component has a `%` that
 * does not start valid UTF-8 escapes (URLSearchParams then decodes it, keeping such `%` literally
 * and replacing bad bytes with U+FFFD). Where `decodeURIComponent` succeeds it decodes exactly as
 * URLSearchParams does.
 */
function decodePairs(text: string): Array<readonly [string, string]> | undefined {
  const out: Array<readonly [string, string]> = [];
  const end = text.length;
  let start = text.charCodeAt(0) === 0x3f ? 1 : 0; // URLSearchParams drops one leading '?'
  while (start <= end) {
    let stop = text.indexOf('&', start);
    if (stop === -1) stop = end;
    if (stop > start) {
      const eq = text.indexOf('=', start);
      const name = decodeComponent(text.slice(start, eq === -1 || eq > stop ? stop : eq));
      const value = eq === -1 || eq > stop ? '' : decodeComponent(text.slice(eq + 1, stop));
      if (name === undefined || value === undefined) return undefined;
      out.push([name, value]);
    }
    start = stop + 1;
  }
  return out;
}

function decodeComponent(component: string): string | undefined {
  const spaced = component.includes('+') ? component.replaceAll('+', ' ') : component;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return undefined;
  }
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
