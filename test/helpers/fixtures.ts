/**
 * Loads `fixtures/<provider>/*.json` (STYLE §3.8). Fixtures are stored unsigned; tests sign them
 * at run time with the adapter's `testing` helpers, so no real secret is ever committed.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { UnsignedRequest } from '../../src/core/adapter';
import { createWebhookRequest } from '../../src/body/webhook-request';
import type { WebhookRequest } from '../../src/core/request';

export const FIXTURES_DIR = join(__dirname, '..', '..', 'fixtures');
export const FIXTURE_BASE_URL = 'https://hooks.example.com';

/**
 * Where a fixture taken from a public source comes from (issue #9 item 5): a URL, or a repository
 * path at a commit, and the source's licence. Composed fixtures have none and say `composed` in
 * their provenance.
 */
export interface FixtureSource {
  url?: string;
  repo?: string;
  path?: string;
  commit?: string;
  /** The source's licence (SPDX id where there is one), or how the docs publish the sample. */
  licence: string;
  /** What was changed from the published payload (`none` when verbatim). */
  changes?: string;
}

export interface Fixture {
  provider: string;
  name: string;
  description: string;
  provenance: string;
  source?: FixtureSource;
  request: { method: string; query: string; headers: Record<string, string>; body: Buffer };
  expect:
    | { events: Array<Record<string, unknown>>; distinct: Array<Record<string, unknown> | null>; error?: undefined }
    | { error: string; events?: undefined; distinct?: undefined };
}

interface FixtureFile {
  description: string;
  provenance: string;
  source?: FixtureSource;
  request: { method?: string; query?: string; headers?: Record<string, string>; body: unknown };
  expect: Fixture['expect'];
}

export function loadFixtures(provider: string): Fixture[] {
  const dir = join(FIXTURES_DIR, provider);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const data = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FixtureFile;
      const body = data.request.body;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(data.request.headers ?? {})) headers[k.toLowerCase()] = v;
      return {
        provider,
        name: file.replace(/\.json$/, ''),
        description: data.description,
        provenance: data.provenance,
        source: data.source,
        request: {
          method: (data.request.method ?? 'POST').toUpperCase(),
          query: data.request.query ?? '',
          headers,
          body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8'),
        },
        expect: data.expect,
      };
    });
}

/** The URL a provider would call for this fixture on a source named after the provider. */
export function fixtureUrl(fixture: Fixture, sourceId = fixture.provider): string {
  const base = `${FIXTURE_BASE_URL}/webhooks/${sourceId}`;
  return fixture.request.query ? `${base}?${fixture.request.query}` : base;
}

export function unsignedRequest(fixture: Fixture, sourceId = fixture.provider): UnsignedRequest {
  return {
    method: fixture.request.method,
    url: fixtureUrl(fixture, sourceId),
    headers: { ...fixture.request.headers },
    body: Buffer.from(fixture.request.body),
  };
}

/** Turns a (signed) request into what the pipeline sees. */
export function toWebhookRequest(req: UnsignedRequest, receivedAt: Date): WebhookRequest {
  const q = req.url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  return createWebhookRequest({
    method: req.method,
    url: req.url,
    query: q === -1 ? '' : req.url.slice(q + 1),
    headers,
    rawBody: req.body,
    receivedAt,
  });
}
