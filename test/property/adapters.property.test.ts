/**
 * Property and fuzz tests over every adapter (issue #9 item 13), through the real pipeline
 * (verify → parse → map → enqueue) with real signatures from each adapter's test signer.
 *
 * For arbitrary and mutated bodies (wrong types, deep nesting, huge batches, `__proto__` keys, NUL
 * and bidi characters, endless strings), signed as the provider would sign them:
 * - the answer is never 5xx and never 403 (nothing throws out of the pipeline);
 * - an authentic request is never 401 (its answer is 2xx, or 400 for a body that is no event);
 * - every event queued for sending passes the sandbox's strict Distinct validation (DESIGN §6).
 * And a signed valid event survives byte-exact: its user id and recipient reach the queue intact.
 *
 * Seeded and bounded (numRuns), so a failure replays and the whole file takes a few seconds.
 */
import fc from 'fast-check';
import { ADAPTERS } from '../../adapters';
import type { AnyAdapter, UnsignedRequest } from '../../src/core/adapter';
import { WebhookParseError, WebhookVerificationError } from '../../src/core/errors';
import type { WebhookResponse } from '../../src/core/request';
import { createMetrics } from '../../src/observability/metrics';
import { createLogger, silentLogger } from '../../src/observability/logger';
import { Pipeline } from '../../src/pipeline/pipeline';
import { MemoryQueue } from '../../src/queue/memory-queue';
import type { EnqueueItem } from '../../src/queue/queue';
import { validateAnalyticsBody } from '../../src/sandbox/validation';
import { ReplayCache } from '../../src/core/replay-cache';
import { createTestCredentials, testConfig } from '../helpers/app';
import { toWebhookRequest } from '../helpers/fixtures';

const SEED = Number(process.env.PROPERTY_SEED ?? 20_261_207);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 20);
const PUBLIC = 'https://hooks.example.com';

const creds = createTestCredentials();
const config = testConfig({ creds, publicUrl: PUBLIC, driver: 'memory' });
const queue = new MemoryQueue({ dedupeWindowMs: 60_000 });
const enqueued: EnqueueItem[] = [];
const realEnqueue = queue.enqueue.bind(queue);
queue.enqueue = (items) => {
  enqueued.push(...items);
  return realEnqueue(items);
};
const metrics = createMetrics({ defaultMetrics: false });
// PROPERTY_LOG=1 shows the pipeline's error lines (the cause behind a 500).
const pipeline = new Pipeline({
  config,
  queue,
  logger: process.env.PROPERTY_LOG ? createLogger({ level: 'error' }) : silentLogger(),
  metrics,
});

afterAll(async () => {
  await queue.close();
});

/** Runs a signed request through the pipeline; the items it queued. */
async function handle(
  adapter: AnyAdapter,
  req: UnsignedRequest,
): Promise<{ response: WebhookResponse; items: EnqueueItem[] }> {
  enqueued.length = 0;
  const response = await pipeline.handle(adapter.name, toWebhookRequest(req, new Date()));
  return { response, items: enqueued.splice(0) };
}

/** Every event queued to be sent is one Distinct accepts. */
function expectDistinctValid(items: readonly EnqueueItem[]): void {
  for (const item of items) {
    if (item.deadLetter) continue;
    const verdict = validateAnalyticsBody(JSON.parse(JSON.stringify(item.message.event)), {
      registry: config.registry,
    });
    expect({ event: item.message.event, verdict }).toEqual({ event: item.message.event, verdict: { ok: true } });
  }
}

type Verdict = 'authentic' | 'unsigned' | 'malformed';

/**
 * What the adapter's own verifier says of `req` (a fresh replay cache, the configured settings):
 * accepted, refused (a verification error), or a body too malformed to look for a signature in
 * (a parse error: Mailgun's signature lives in its JSON body).
 */
async function verdictOf(adapter: AnyAdapter, req: UnsignedRequest): Promise<Verdict> {
  try {
    await adapter.verify(toWebhookRequest(req, new Date()), config.sources.get(adapter.name)!.settings, {
      replayCache: new ReplayCache(60_000),
    });
    return 'authentic';
  } catch (err) {
    if (err instanceof WebhookVerificationError) return 'unsigned';
    if (err instanceof WebhookParseError) return 'malformed';
    throw err; // a verifier fails with our error classes, nothing else
  }
}

const ANSWERS: Record<Verdict, readonly number[]> = {
  // 2xx, or 400 for a body that is no event at all; never 401/403.
  authentic: [200, 204, 400],
  // A body the provider's scheme cannot have signed (no SNS envelope for SES, a changed signed field).
  unsigned: [401],
  malformed: [400],
};

/** Never 5xx or 403; an authentic request never 401. */
function expectAnswer(name: string, verdict: Verdict, response: WebhookResponse): void {
  const { status } = response;
  const ok = ANSWERS[verdict].includes(status);
  expect({ name, verdict, status, body: ok ? undefined : response.body }).toEqual({
    name,
    verdict,
    status: ok ? status : ANSWERS[verdict].join(' or '),
    body: undefined,
  });
}

function sampleFor(
  adapter: AnyAdapter,
  type: string,
  recipient: string,
  overrides: Record<string, string>,
): UnsignedRequest {
  const now = new Date();
  const sample = adapter.testing.sample({ type, recipient, now, overrides });
  const url = `${PUBLIC}/webhooks/${adapter.name}${sample.query ? `?${sample.query}` : ''}`;
  return {
    method: adapter.methods.includes('POST') ? 'POST' : adapter.methods[0]!,
    url,
    headers: { ...sample.headers },
    body: sample.body,
  };
}

/** The request signed as the provider would; undefined when the provider could not have signed it (a form body that is not UTF-8). */
function sign(adapter: AnyAdapter, req: UnsignedRequest): UnsignedRequest | undefined {
  try {
    return adapter.testing.sign({ ...req, headers: { ...req.headers } }, creds[adapter.name]!.signer, new Date());
  } catch (err) {
    // Signers that re-serialize the body (Mailgun, SES) cannot write 20,000 levels of nesting back.
    if (err instanceof WebhookParseError || err instanceof RangeError) return undefined;
    throw err;
  }
}

const typesOf = (adapter: AnyAdapter): string[] =>
  adapter.channel === 'app'
    ? ['app.event', 'app.unknown', 'user_collectible/downloaded']
    : [...new Set([...Object.values(adapter.eventMap), `${adapter.channel}.delivered`])];

const defaultRecipient = (adapter: AnyAdapter): string =>
  adapter.channel === 'sms' ? '+15017250604' : 'jane.doe@example.com';

// ---------------------------------------------------------------------------------------------
// Hostile values

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a@example.com\u0000',
    '<a@example.com>',
    'a@[127.0.0.1]',
    'a@example..com',
    'a\u202e@example.com',
    '+1\u202e5017250604',
    '9007199254740993',
    '__proto__',
    'constructor',
    'null',
    '1e309',
    '-0',
    '2026-02-30T25:61:61Z',
    '+275760-09-13T00:00:00.000Z',
    '\ud800',
  ),
  fc.nat({ max: 20_000 }).map((n) => 'a'.repeat(n)),
  fc.nat({ max: 5_000 }).map((n) => `${'a'.repeat(n)}@${'b.'.repeat(n)}`),
);

/**
 * A value nested `depth` levels deep (arrays or objects). It stays a placeholder until the body is
 * serialized, then becomes JSON text ({@link stringify}): JSON.stringify, and fast-check's reporter,
 * recurse and would overflow first.
 */
class Deep {
  constructor(
    readonly depth: number,
    readonly objects: boolean,
  ) {}
  get placeholder(): string {
    return `@@deep:${this.depth}:${this.objects ? 1 : 0}@@`;
  }
  toString(): string {
    return `Deep(${this.depth}, ${this.objects ? 'objects' : 'arrays'})`;
  }
}
const deep = fc
  .record({ depth: fc.integer({ min: 50, max: 20_000 }), objects: fc.boolean() })
  .map(({ depth, objects }) => new Deep(depth, objects));
const DEEP_PLACEHOLDER = /"@@deep:(\d+):([01])@@"/g;

function deepText(depth: number, objects: boolean): string {
  return objects ? `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}` : `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
}

/** JSON text of `value`, deep placeholders expanded. */
function stringify(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(DEEP_PLACEHOLDER, (_m, depth: string, objects: string) =>
    deepText(Number(depth), objects === '1'),
  );
}

const protoObject = fc.jsonValue({ maxDepth: 2 }).map((inner) => {
  const o: Record<string, unknown> = {};
  Object.defineProperty(o, '__proto__', { value: inner, enumerable: true, configurable: true, writable: true });
  Object.defineProperty(o, 'constructor', {
    value: { prototype: { polluted: true } },
    enumerable: true,
    configurable: true,
    writable: true,
  });
  return o;
});

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    1e21,
    -1e-7,
    Number.MAX_SAFE_INTEGER,
    1_700_000_000,
    1_700_000_000_000,
    253_402_300_800,
    [],
    {},
  ),
  deep,
  protoObject,
);

type Mutation = { path: number[]; op: 'replace' | 'delete' | 'proto' | 'multiply'; value: unknown; times: number };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.array(fc.nat(), { maxLength: 6 }),
  op: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'proto', 'multiply'),
  value: hostileValue,
  times: fc.integer({ min: 2, max: 1000 }),
});

/** Applies `m` at the container/key `m.path` leads to (indices modulo the keys found on the way). */
function mutate(root: unknown, mutation: Mutation): unknown {
  const m = mutation.value instanceof Deep ? { ...mutation, value: mutation.value.placeholder } : mutation;
  if (root === null || typeof root !== 'object') return m.op === 'delete' ? root : m.value;
  let container = root as Record<string, unknown>;
  let key: string | undefined;
  for (const step of m.path) {
    const keys = Object.keys(container);
    if (keys.length === 0) break;
    key = keys[step % keys.length]!;
    const next = container[key];
    if (next === null || typeof next !== 'object') break;
    // A string holding JSON (SES Message, Mandrill events, user-variables) is mutated inside.
    container = next as Record<string, unknown>;
    key = undefined;
  }
  const keys = Object.keys(container);
  const k = key ?? (keys.length > 0 ? keys[(m.path.at(-1) ?? 0) % keys.length]! : '0');
  const current = container[k];
  if (typeof current === 'string' && /^\s*[[{]/.test(current)) {
    try {
      container[k] = stringify(mutate(JSON.parse(current), { ...mutation, path: m.path.slice(1) }));
      return root;
    } catch {
      // not JSON after all
    }
  }
  switch (m.op) {
    case 'replace':
      container[k] = m.value;
      break;
    case 'delete':
      if (Array.isArray(container)) container.splice(Number(k), 1);
      else delete container[k];
      break;
    case 'proto':
      Object.defineProperty(container, '__proto__', {
        value: m.value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
      break;
    case 'multiply':
      // A huge batch: the element (or the whole body) repeated.
      if (Array.isArray(container))
        container.push(...Array.from({ length: m.times }, () => structuredClone(container[0])));
      else container[k] = Array.from({ length: m.times }, () => current);
      break;
  }
  return root;
}

/** The sample's body with the mutations applied, in the sample's own format (JSON or form). */
function mutateBody(req: UnsignedRequest, mutations: readonly Mutation[]): UnsignedRequest | undefined {
  const text = req.body.toString('utf8');
  const type = (req.headers['content-type'] ?? req.headers['Content-Type'] ?? '').toLowerCase();
  let parsed: unknown;
  let form = false;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (!type.includes('x-www-form-urlencoded')) return req;
    form = true;
    parsed = Object.fromEntries(new URLSearchParams(text));
  }
  let body: string;
  try {
    for (const m of mutations) parsed = mutate(parsed, m);
    body = serialize(parsed, form);
  } catch (err) {
    if (err instanceof RangeError) return undefined; // a batch of batches beyond any string length
    throw err;
  }
  return { ...req, body: Buffer.from(body) };
}

function serialize(parsed: unknown, form: boolean): string {
  let body: string;
  if (form) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>))
      params.append(
        k,
        stringify(v).replace(/^"(.*)"$/s, (_m, inner: string) => JSON.parse(`"${inner}"`) as string),
      );
    body = params.toString();
  } else {
    body = stringify(parsed);
  }
  return body;
}

// ---------------------------------------------------------------------------------------------

describe.each(ADAPTERS.map((a) => [a.name, a] as const))('%s', (_name, adapter) => {
  const types = typesOf(adapter);
  const overridesArb = fc.dictionary(fc.constantFrom('userId', 'feature', 'experienceId'), hostileString, {
    maxKeys: 3,
  });
  const recipientArb = fc.oneof(fc.constant(defaultRecipient(adapter)), hostileString);

  test('mutated signed samples: never 5xx/403, never 401 when authentic, nothing Distinct-invalid queued to send', async () => {
    let verified = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...types),
        recipientArb,
        overridesArb,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (type, recipient, overrides, mutations) => {
          let base: UnsignedRequest;
          try {
            base = sampleFor(adapter, type, recipient, overrides);
          } catch {
            return; // the sample builder refuses this input (e.g. a recipient its format cannot carry)
          }
          const mutated = mutateBody(base, mutations);
          // Over server.bodyLimit the HTTP layer answers 413 before the pipeline: not this property's concern.
          if (mutated === undefined || mutated.body.length > 1024 * 1024) return;
          const signed = sign(adapter, mutated);
          if (signed === undefined) return;
          const verdict = await verdictOf(adapter, signed);
          if (verdict === 'authentic') verified += 1;
          const { response, items } = await handle(adapter, signed);
          expectAnswer(adapter.name, verdict, response);
          expectDistinctValid(items);
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Not vacuous: many mutated samples are still authentic and reach parsing (SES mutations often hit its signed envelope).
    expect(verified).toBeGreaterThanOrEqual(RUNS / 5);
  });

  test('arbitrary signed bytes: never 5xx/403, never 401 when authentic, nothing Distinct-invalid queued to send', async () => {
    const base = sampleFor(adapter, types[0]!, defaultRecipient(adapter), {});
    const bodyArb = fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
    );
    await fc.assert(
      fc.asyncProperty(bodyArb, async (body) => {
        const signed = sign(adapter, { ...base, body });
        if (signed === undefined) return;
        const { response, items } = await handle(adapter, signed);
        expectAnswer(adapter.name, await verdictOf(adapter, signed), response);
        expectDistinctValid(items);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  test('a signed valid event survives byte-exact: user id and recipient reach the queue intact', async () => {
    const userIdArb = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .filter((s) => s.trim() === s && s !== '' && !/[\p{Cc}\p{Cf}\p{Z}&=+%#?]/u.test(s));
    const localArb = fc.stringMatching(/^[a-z0-9](?:[a-z0-9_+-]{0,15}[a-z0-9])?$/);
    const domainArb = fc
      .array(fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/), { minLength: 1, maxLength: 3 })
      .map((labels) => `${labels.join('.')}.com`);
    const phoneArb = fc.integer({ min: 2_000_000, max: 9_999_999 }).map((n) => `+1415${n}`);
    const recipientArb2 =
      adapter.channel === 'sms' ? phoneArb : fc.tuple(localArb, domainArb).map(([l, d]) => `${l}@${d}`);
    const forwardType = adapter.channel === 'app' ? 'app.event' : `${adapter.channel}.delivered`;
    await fc.assert(
      fc.asyncProperty(userIdArb, recipientArb2, async (userId, recipient) => {
        const req = sign(adapter, sampleFor(adapter, forwardType, recipient, { userId }))!;
        const bytes = Buffer.from(req.body);
        const { response, items } = await handle(adapter, req);
        expect(req.body.equals(bytes)).toBe(true);
        expect(response.status).toBeLessThan(300);
        const sent = items.filter((i) => !i.deadLetter);
        expect(sent.length + items.filter((i) => i.deadLetter).length).toBe(items.length);
        expectDistinctValid(items);
        for (const item of sent) {
          const ev = item.message.event;
          if (ev.userId !== undefined) expect(ev.userId).toBe(userId);
          if (adapter.channel === 'sms' && ev.phone !== undefined) expect(ev.phone).toBe(recipient);
          if (adapter.channel === 'email' && ev.email !== undefined) expect(ev.email).toBe(recipient);
        }
        expect(sent.length).toBeGreaterThan(0);
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / 2), endOnFailure: true },
    );
  });
});
