/**
 * Loads `fixtures/<provider>/*.json` (STYLE §3.8). Fixtures are stored unsigned; tests sign them
 * at run time with the adapter's `testing` helpers, so no real secret is ever committed. Also the
 * adapter tests' ways to hand a body to `adapter.parse` and read what it throws.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyAdapter, UnsignedRequest } from '../../src/core/adapter';
import type { EventDraft } from '../../src/core/normalized-event';
import { createWebhookRequest } from '../../src/body/webhook-request';
import { WebhookParseError, WebhookVerificationError, type VerificationReason } from '../../src/core/errors';
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

/**
 * `parse(body)` for one adapter's own tests: `adapter.parse` of a POST received at `now` on
 * `${FIXTURE_BASE_URL}/webhooks/<adapter>`, the body sent as is when a string or Buffer, JSON otherwise.
 */
export function bodyParser(
  adapter: AnyAdapter,
  now: Date,
): (body: unknown, headers?: Record<string, string>) => EventDraft[] {
  return (body, headers = { 'content-type': 'application/json' }) =>
    adapter.parse(
      toWebhookRequest(
        {
          method: 'POST',
          url: `${FIXTURE_BASE_URL}/webhooks/${adapter.name}`,
          headers,
          body: Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
        },
        now,
      ),
    );
}

/**
 * What `simulate` sends: `adapter`'s own sample of `type` for `recipient`, signed with `signer` at
 * `now` as a POST to `${FIXTURE_BASE_URL}/webhooks/<adapter>` (with the sample's query, if any).
 */
export function signedOwnSample(
  adapter: AnyAdapter,
  signer: unknown,
  sample: { type: string; recipient: string; overrides: Record<string, string>; now: Date },
): UnsignedRequest {
  const s = adapter.testing.sample(sample);
  const url = `${FIXTURE_BASE_URL}/webhooks/${adapter.name}`;
  return adapter.testing.sign(
    { method: 'POST', url: s.query ? `${url}?${s.query}` : url, headers: { ...s.headers }, body: s.body },
    signer,
    sample.now,
  );
}

/** The one draft of `drafts`, asserting there is exactly one. */
export function onlyDraft(drafts: EventDraft[]): EventDraft {
  expect(drafts).toHaveLength(1);
  return drafts[0]!;
}

/** The WebhookParseError `parse()` throws; fails the test when it throws anything else, or nothing. */
export function parseErrorOf(parse: () => unknown): WebhookParseError {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookParseError);
    return err as WebhookParseError;
  }
  throw new Error('expected a WebhookParseError');
}

/** What verifying comes to: 'ok', or the reason of the WebhookVerificationError `verify()` throws or rejects with. */
export async function verdictOf(verify: () => unknown): Promise<VerificationReason | 'ok'> {
  try {
    await verify();
    return 'ok';
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.reason;
    throw err;
  }
}
