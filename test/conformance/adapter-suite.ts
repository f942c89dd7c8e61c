/**
 * The shared conformance suite (STYLE §3.8): every adapter goes through the same checks, with the
 * optional ones switched on by what the adapter says it supports. A new adapter needs no tests of
 * its own beyond its fixtures.
 */
import type { z } from 'zod';
import { buildConfig, type SourceConfig } from '../helpers/config';
import type { AnyAdapter, UnsignedRequest } from '../../src/core/adapter';
import { WebhookAdapterError, type VerificationReason } from '../../src/core/errors';
import { isEventType } from '../../src/core/event-types';
import { completeDraft } from '../../src/mapping/normalize';
import { toDistinct } from '../../src/mapping/to-distinct';
import { ReplayCache } from '../../src/core/replay-cache';
import { loadFixtures, toWebhookRequest, unsignedRequest, verdictOf, type Fixture } from '../helpers/fixtures';
import type { WebhookRequest } from '../../src/core/request';

const NOW = new Date();

function fresh(): { replayCache: ReplayCache } {
  return { replayCache: new ReplayCache(60_000) };
}

function verifyReason(
  adapter: AnyAdapter,
  req: UnsignedRequest,
  settings: unknown,
  at = NOW,
): Promise<VerificationReason | 'ok'> {
  return verdictOf(() => adapter.verify(toWebhookRequest(req, at), settings, fresh()));
}

/** A source configured the way the fixtures' expectations assume. */
function fixtureSource(
  adapter: AnyAdapter,
  options: Record<string, unknown>,
): { source: SourceConfig; config: ReturnType<typeof buildConfig> } {
  const config = buildConfig(
    {
      distinct: { apiKey: 'test-key', baseUrl: 'http://127.0.0.1:1' },
      sources: {
        [adapter.name]: { feature: `registration_${adapter.channel}`, experienceId: 'exp_fixture', ...options },
      },
    },
    {},
    null,
    [adapter],
  );
  return { source: config.sources.get(adapter.name)!, config };
}

/**
 * Every text the request carries, decoded: the body, its form fields, the query's values and every
 * string in its JSON (recursively, JSON inside strings too: SNS `Message`, Mandrill's
 * `mandrill_events`). A `raw` event must be made of these.
 */
function requestTexts(req: WebhookRequest): Set<string> {
  const texts = new Set<string>();
  const body = req.rawBody.toString('utf8');
  texts.add(body);
  const visit = (v: unknown, depth: number): void => {
    if (depth > 20) return;
    if (typeof v === 'string') {
      texts.add(v);
      const t = v.trim();
      if ((t.startsWith('{') || t.startsWith('[')) && depth < 20) {
        try {
          visit(JSON.parse(t), depth + 1);
        } catch {
          // not JSON: kept as text only
        }
      }
    } else if (Array.isArray(v)) v.forEach((x) => visit(x, depth + 1));
    else if (v !== null && typeof v === 'object') Object.values(v).forEach((x) => visit(x, depth + 1));
  };
  visit(body, 0);
  for (const part of [body, req.query]) {
    for (const [k, v] of new URLSearchParams(part)) {
      texts.add(k);
      visit(v, 0);
    }
  }
  return texts;
}

/** The scalar leaves of `raw` that the request does not carry (empty when `raw` is the provider's own data). */
function foreignLeaves(raw: unknown, texts: Set<string>): string[] {
  const all = [...texts];
  const missing: string[] = [];
  const visit = (v: unknown, path: string): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) visit(x, `${path}.${k}`);
      return;
    }
    const text = String(v);
    if (text === '' || texts.has(text)) return;
    if (!all.some((t) => t.includes(text))) missing.push(`${path}=${text}`);
  };
  visit(raw, 'raw');
  return missing;
}

function leafCount(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v !== 'object') return 1;
  return Object.values(v).reduce<number>((n, x) => n + leafCount(x), 0);
}

export function runAdapterConformance(adapter: AnyAdapter): void {
  const fixtures = loadFixtures(adapter.name);
  const valid = fixtures.filter((f) => f.expect.events !== undefined);
  const creds = adapter.testing.createCredentials();
  const other = adapter.testing.createCredentials();
  const settings = (adapter.settingsSchema as z.ZodType).parse(creds.options);
  const { source, config } = fixtureSource(adapter, creds.options);

  /** The types this adapter says it can emit (derived by defineAdapter from its map, refinements and other tables). */
  const declared = new Set<string>(adapter.emittedTypes);

  const signed = (f: Fixture, signer: unknown = creds.signer, at: Date = NOW): UnsignedRequest =>
    adapter.testing.sign(unsignedRequest(f), signer, at);

  describe('manifest', () => {
    test('slug, display name and docs URL are present', () => {
      expect(adapter.name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(adapter.displayName.length).toBeGreaterThan(0);
      expect(adapter.docsUrl).toMatch(/^https:\/\//);
    });

    test("every event-map value is a type of the adapter's channel", () => {
      for (const [raw, type] of Object.entries(adapter.eventMap)) {
        expect({ raw, ok: isEventType(type) && type.startsWith(`${adapter.channel}.`) }).toEqual({ raw, ok: true });
      }
    });

    test("every emitted type (map, refinements, other tables) is a type of the adapter's channel, unknown included", () => {
      for (const type of adapter.emittedTypes) {
        expect({ type, ok: isEventType(type) && type.startsWith(`${adapter.channel}.`) }).toEqual({ type, ok: true });
      }
      expect(adapter.emittedTypes).toContain(`${adapter.channel}.unknown`);
      for (const type of Object.values(adapter.eventMap)) expect(adapter.emittedTypes).toContain(type);
    });

    test('has valid fixtures, an unknown-event fixture and an invalid-* fixture', () => {
      expect(valid.length).toBeGreaterThan(0);
      expect(fixtures.map((f) => f.name)).toContain('unknown-event');
      expect(fixtures.some((f) => f.name.startsWith('invalid-') && f.expect.error)).toBe(true);
    });

    test('every event-map key is covered by a fixture', () => {
      const covered = new Set<string>();
      for (const f of valid) for (const e of f.expect.events ?? []) covered.add(String(e.providerEvent));
      const missing = Object.keys(adapter.eventMap).filter((k) => !covered.has(k));
      expect(missing).toEqual([]);
    });

    test('every fixture states its provenance; one taken from a public source names it and its licence', () => {
      const problems: string[] = [];
      for (const f of fixtures) {
        if (typeof f.provenance !== 'string' || f.provenance.trim() === '') problems.push(`${f.name}: no provenance`);
        const s = f.source;
        if (s === undefined) {
          if (!/^composed\b/i.test(f.provenance ?? ''))
            problems.push(`${f.name}: provenance is not "composed…" but there is no source`);
          continue;
        }
        const byUrl = typeof s.url === 'string' && /^https:\/\/\S+$/.test(s.url);
        const byRepo =
          typeof s.repo === 'string' &&
          /^[\w.-]+\/[\w.-]+$/.test(s.repo) &&
          typeof s.path === 'string' &&
          s.path.length > 0 &&
          typeof s.commit === 'string' &&
          /^[0-9a-f]{7,40}$/.test(s.commit);
        if (!byUrl && !byRepo) problems.push(`${f.name}: source names neither an https URL nor repo+path+commit`);
        if (typeof s.licence !== 'string' || s.licence.trim() === '')
          problems.push(`${f.name}: source has no licence note`);
      }
      expect(problems).toEqual([]);
    });

    test('every expected event names at least its type and provider event', () => {
      const problems: string[] = [];
      for (const f of valid) {
        f.expect.events!.forEach((e, i) => {
          for (const k of ['type', 'providerEvent']) if (!(k in e)) problems.push(`${f.name} #${i}: no ${k}`);
        });
        if (f.expect.distinct!.length !== f.expect.events!.length)
          problems.push(
            `${f.name}: ${f.expect.events!.length} events but ${f.expect.distinct!.length} distinct outcomes`,
          );
      }
      expect(problems).toEqual([]);
    });

    test('the options from createCredentials() validate with the settings schema', () => {
      expect((adapter.settingsSchema as z.ZodType).safeParse(creds.options).success).toBe(true);
    });
  });

  describe('verification', () => {
    test.each(valid.map((f) => [f.name, f] as const))('accepts the signed fixture %s', async (_n, f) => {
      expect(await verifyReason(adapter, signed(f), settings)).toBe('ok');
    });

    const first = valid[0]!;

    if (adapter.supports.signsBody) {
      test('rejects a body changed by one byte (signature_mismatch)', async () => {
        const req = signed(first);
        const body = Buffer.from(req.body);
        const i = Math.floor(body.length / 2);
        body[i] = body[i]! ^ 0x01;
        expect(await verifyReason(adapter, { ...req, body }, settings)).toBe('signature_mismatch');
      });
    }

    test('rejects a request without its signature (missing_signature)', async () => {
      const req = adapter.testing.stripSignature(signed(first));
      expect(await verifyReason(adapter, req, settings)).toBe('missing_signature');
    });

    test('rejects a request signed with another secret', async () => {
      expect(['signature_mismatch', 'bad_credentials']).toContain(
        await verifyReason(adapter, signed(first, other.signer), settings),
      );
    });

    if (adapter.supports.timestamp) {
      test('rejects a stale signed timestamp (timestamp_out_of_tolerance)', async () => {
        const req = signed(first, creds.signer, new Date(NOW.getTime() - 3_600_000));
        expect(await verifyReason(adapter, req, settings)).toBe('timestamp_out_of_tolerance');
      });
      test('rejects a future signed timestamp (timestamp_out_of_tolerance)', async () => {
        const req = signed(first, creds.signer, new Date(NOW.getTime() + 3_600_000));
        expect(await verifyReason(adapter, req, settings)).toBe('timestamp_out_of_tolerance');
      });
    }

    if (adapter.supports.rotation) {
      test('accepts a rotated secret list [old, current]', async () => {
        const key = adapter.testing.secretKey;
        const rotated = (adapter.settingsSchema as z.ZodType).parse({
          ...creds.options,
          [key]: [other.options[key], creds.options[key]],
        });
        expect(await verifyReason(adapter, signed(first), rotated)).toBe('ok');
      });
    }

    if (adapter.supports.signsUrl) {
      test('rejects a request whose URL differs from the signed one', async () => {
        const req = signed(first);
        const moved = { ...req, url: req.url.replace('hooks.example.com', 'evil.example.net') };
        expect(await verifyReason(adapter, moved, settings)).toBe('signature_mismatch');
      });
    }
  });

  describe('parsing', () => {
    test.each(valid.map((f) => [f.name, f] as const))('%s parses to the events it states', (_n, f) => {
      const req = toWebhookRequest(signed(f), NOW);
      const drafts = adapter.parse(req);
      const expected = f.expect.events!;
      expect(drafts).toHaveLength(expected.length);
      drafts.forEach((d, i) => expect(d).toMatchObject(expected[i]!));

      const again = adapter.parse(req).map((d) => completeDraft(d, adapter, adapter.name, NOW).dedupeKey);
      const events = drafts.map((d) => completeDraft(d, adapter, adapter.name, NOW));
      expect(events.map((e) => e.dedupeKey)).toEqual(again);
      // DESIGN §3.2: two events of one request that differ in type, recipient, time or id never share a key.
      const identity = (e: (typeof events)[number]): string =>
        JSON.stringify([
          e.type,
          e.providerEvent,
          e.email ?? null,
          e.phone ?? null,
          e.occurredAt,
          e.messageId,
          e.providerEventId,
        ]);
      for (let i = 0; i < events.length; i++) {
        for (let j = i + 1; j < events.length; j++) {
          if (identity(events[i]!) !== identity(events[j]!))
            expect({ i, j, sameKey: events[i]!.dedupeKey === events[j]!.dedupeKey }).toEqual({ i, j, sameKey: false });
        }
      }

      const texts = requestTexts(req);
      for (const e of events) {
        expect(isEventType(e.type)).toBe(true);
        expect({ type: e.type, declared: declared.has(e.type) }).toEqual({ type: e.type, declared: true });
        // raw is the provider's own event: a non-empty object made only of what the request carried.
        expect(typeof e.raw === 'object' && e.raw !== null && leafCount(e.raw) > 0).toBe(true);
        expect(foreignLeaves(e.raw, texts)).toEqual([]);
        expect(e.occurredAt === null || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(e.occurredAt)).toBe(true);
      }

      const outcomes = events.map((e) => toDistinct(e, source, config.registry));
      expect(outcomes).toHaveLength(f.expect.distinct!.length);
      outcomes.forEach((o, i) => {
        const want = f.expect.distinct![i];
        if (want === null) expect(o.kind).toBe('ignore');
        else if (want && typeof want.deadLetter === 'string')
          expect({ kind: o.kind, reason: o.kind === 'dead_letter' ? o.reason : undefined }).toEqual({
            kind: 'dead_letter',
            reason: want.deadLetter,
          });
        else {
          expect(o.kind).toBe('forward');
          if (o.kind === 'forward') {
            expect(o.event).toMatchObject(want!);
            expect(o.event.metadata).toMatchObject({ provider: adapter.name });
            for (const v of Object.values(o.event.metadata ?? {})) expect(v === '' || v === null).toBe(false);
          }
        }
      });
    });

    const invalid = fixtures.filter((f) => f.expect.error !== undefined);
    const publishedInvalid = invalid.filter((f) => f.source !== undefined);
    if (publishedInvalid.length > 0) {
      test.each(publishedInvalid.map((f) => [f.name, f] as const))(
        '%s (published, no event) still verifies: an authentic request is answered 400, never 401',
        async (_n, f) => {
          expect(await verifyReason(adapter, signed(f), settings)).toBe('ok');
        },
      );
    }

    test.each(invalid.map((f) => [f.name, f] as const))('%s is rejected with its stated error', (_n, f) => {
      const req = toWebhookRequest(signed(f), NOW);
      let code: string | undefined;
      let status: number | undefined;
      try {
        adapter.parse(req);
      } catch (err) {
        expect(err).toBeInstanceOf(WebhookAdapterError);
        code = (err as WebhookAdapterError).code;
        status = (err as WebhookAdapterError).statusCode;
      }
      expect(code).toBe(f.expect.error);
      // A body that is no event is answered 400, never 401/403 (providers stop retrying or misreport on those).
      expect({ status, authFailure: status === 401 || status === 403 }).toEqual({
        status: code === 'ERR_WEBHOOK_PARSE' ? 400 : status,
        authFailure: false,
      });
    });

    test('unknown-event yields <channel>.unknown without throwing', () => {
      const f = fixtures.find((x) => x.name === 'unknown-event');
      expect(f).toBeDefined();
      const drafts = adapter.parse(toWebhookRequest(signed(f!), NOW));
      expect(drafts.map((d) => d.type)).toContain(`${adapter.channel}.unknown`);
    });

    test.each([
      ['empty', ''],
      ['not json', 'not json'],
      ['truncated JSON', '{"event":'],
      ['a wrong top-level type', '42'],
      ['null', 'null'],
      ['a string', '"hello"'],
    ])('a junk body (%s) raises only our error classes', (_n, body) => {
      const base = valid[0]!;
      const req = toWebhookRequest({ ...unsignedRequest(base), body: Buffer.from(body) }, NOW);
      try {
        expect(Array.isArray(adapter.parse(req))).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(WebhookAdapterError);
      }
    });
  });
}
