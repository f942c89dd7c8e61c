/**
 * Plumbing for the simulation samples (`adapters/samples/<slug>.ts`): the canonical requests
 * `simulate` sends and the conformance suite signs. What a provider sends is each sample file's
 * own knowledge; picking its template and wrapping the body are the same everywhere.
 */
import type { SampleRequest } from './adapter';
import { own } from './overrides';

/** A sample request whose body is `body` as compact JSON (UTF-8). */
export function jsonSample(
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  query = '',
): SampleRequest {
  return { headers, body: Buffer.from(JSON.stringify(body), 'utf8'), query };
}

/**
 * The template `samples` holds for a normalized `type` (an own key only, never `constructor`).
 * @throws Error `<provider> has no <what> for <type>; choose one of <the types it has>`
 */
export function sampleTemplate<T>(
  samples: Readonly<Partial<Record<string, T>>>,
  type: string,
  provider: string,
  what = 'event',
): T {
  const template = own(samples, type);
  if (template === undefined)
    throw new Error(`${provider} has no ${what} for ${type}; choose one of ${Object.keys(samples).join(', ')}`);
  return template;
}
