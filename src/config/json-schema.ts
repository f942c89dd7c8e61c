/**
 * A JSON Schema (draft-07) of the configuration file, generated from the zod schemas, for
 * editors (`# yaml-language-server: $schema=./distinct.config.schema.json`) and CI checks.
 * `distinct-adapter validate --print-schema` prints it; distinct.config.schema.json is the
 * committed copy (test/unit/config-schema.test.ts fails when it is stale).
 *
 * A source's options depend on its provider, so each provider has a definition (common source
 * keys + the adapter's own settings); `sources.<provider name>` uses that provider's, and any
 * other id must name its `provider:`. `${VAR}` placeholders are strings: a number written as
 * `${VAR}` is refused by the loader too.
 */
import { z } from 'zod';
import type { AnyAdapter } from '../core/adapter';
import { rootSchema, sourceCommonSchema, SOURCE_ID_PATTERN } from './schema';

type Json = Record<string, unknown>;

const OPTIONS = { io: 'input', unrepresentable: 'any', target: 'draft-7' } as const;

export const CONFIG_SCHEMA_FILE = 'distinct.config.schema.json';

/** The schema for the providers in `adapters` (the CLI passes the built-in `ADAPTERS`). */
export function configJsonSchema(adapters: readonly AnyAdapter[]): Json {
  const root = z.toJSONSchema(rootSchema, OPTIONS) as Json;
  const common = z.toJSONSchema(sourceCommonSchema, OPTIONS) as Json;
  const definitions: Json = {};
  const sourceProperties: Json = {};
  const named: Json[] = [];
  for (const adapter of adapters) {
    const settings = z.toJSONSchema(adapter.settingsSchema as z.ZodType, OPTIONS) as Json;
    const settingsRequired = (settings.required as string[] | undefined) ?? [];
    const def: Json = {
      type: 'object',
      description: `${adapter.displayName} source (provider: ${adapter.name})`,
      properties: {
        ...(common.properties as Json),
        provider: { const: adapter.name, description: 'the provider; defaults to the source id' },
        ...(settings.properties as Json),
      },
      required: ['feature', 'experienceId'],
      additionalProperties: false,
    };
    // insecure: true accepts a source without its credentials (warned at every start).
    if (settingsRequired.length > 0) {
      def.if = { properties: { insecure: { const: true } }, required: ['insecure'] };
      def.else = { required: settingsRequired };
    }
    const ref = `#/definitions/source_${adapter.name}`;
    definitions[`source_${adapter.name}`] = def;
    sourceProperties[adapter.name] = { $ref: ref };
    named.push({ allOf: [{ $ref: ref }, { required: ['provider'] }] });
  }
  const properties = { ...(root.properties as Json) };
  properties.sources = {
    type: 'object',
    description:
      'webhook sources, each served at POST /webhooks/<id>; an id that is not a provider name sets provider:',
    propertyNames: { pattern: SOURCE_ID_PATTERN.source },
    minProperties: 1,
    properties: sourceProperties,
    additionalProperties: { anyOf: named },
  };
  delete root.$schema;
  return describe(
    allowPlaceholders({
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'distinct-webhook-adapter configuration',
      description: 'Generated from the zod schemas by `distinct-adapter validate --print-schema`; do not edit by hand.',
      ...root,
      properties,
      definitions: { ...((root.definitions as Json | undefined) ?? {}), ...definitions },
    }) as Json,
  );
}

/** Hover texts for editors (DESIGN §4), by property path; source keys by name. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  $schema: 'the JSON Schema of this file (for editors)',
  distinct: "Distinct's analytics API and how hard to call it",
  'distinct.baseUrl': 'default https://api.distinct.so; http://127.0.0.1:4010 for the local sandbox',
  'distinct.apiKey': 'x-distinct-api-key; keep it in the environment: ${DISTINCT_API_KEY}',
  'distinct.timeoutMs': 'per POST, default 10000',
  'distinct.concurrency': 'POSTs in flight, default 16',
  'distinct.ratePerSecond': 'POSTs per second, 0 = unlimited (default)',
  registry: 'the feature/action pairs registered with Distinct; every pair the sources can produce must be here',
  server: 'the webhook HTTP server',
  'server.port': 'default 3000; $PORT wins',
  'server.host': 'interface to bind, default 0.0.0.0 (serve --host overrides)',
  'server.publicUrl':
    'how providers reach this service, e.g. https://hooks.example.com; URL-signed providers (Twilio, Plivo, Mandrill, MessageBird) need it',
  'server.bodyLimit': 'largest accepted body, e.g. 5mb (default)',
  'server.trustProxy': 'honour X-Forwarded-Proto/Host (only behind your own proxy)',
  queue: 'where events wait for delivery',
  'queue.driver': 'sqlite (default, embedded, one process) | sqs (shared, scale-out) | memory (tests)',
  'queue.path': "SQLite outbox file, default ./data/outbox.db; relative to this file's folder",
  'queue.synchronous': 'full (default): survives power loss; normal: survives process crashes',
  'queue.sqs': 'the SQS queues (queue.driver: sqs)',
  'queue.sqs.queueUrl': 'the main queue; a .fifo URL selects FIFO de-duplication',
  'queue.sqs.deadLetterQueueUrl': "dead letters: explicit ones and the redrive policy's",
  retry: 'retries of failed deliveries (exponential backoff with full jitter)',
  'retry.maxAttempts': 'then dead-letter max_attempts (default 15)',
  'retry.maxAgeMs': 'then dead-letter max_age (default 86400000, a day)',
  'retry.userNotFoundDelayMs': '"User not found." is retried this often (default hourly)…',
  'retry.userNotFoundMaxAgeMs': '…for this long, then dead-letter user_not_found (default a day)',
  dedupe: 'de-duplication of provider re-deliveries',
  'dedupe.windowMs': 'how long an event is remembered (default 604800000, 7 days)',
  circuit: 'while Distinct answers 401/403',
  'circuit.probeIntervalMs': 'one probe this often (default 30000)',
  log: 'JSON logs on stdout',
  'log.level': 'default info',
  'log.redactPii': 'mask e-mail addresses and phone numbers (default true)',
  'source.provider': 'the provider; defaults to the source id',
  'source.feature': 'Distinct feature, e.g. registration_email',
  'source.experienceId': 'Distinct experience id',
  'source.actions': 'normalized type → Distinct action, null ignores the type, e.g. { email.bounced: null }',
  'source.publicUrl':
    'the exact URL configured at the provider (no query string); default server.publicUrl + /webhooks/<id>',
  'source.insecure': 'accept unauthenticated requests (warned at every start)',
  'source.toleranceSeconds': 'signed-timestamp window in seconds; 0 = no window',
  'source.basicAuth': 'user:pass the provider sends as HTTP Basic auth (a list while rotating)',
  'source.headerToken': '{ header, value }: a secret header the provider sends',
};

/** Adds {@link DESCRIPTIONS} to the generated schema (root sections and the source definitions). */
function describe(schema: Json): Json {
  const visit = (node: Json | undefined, path: string): void => {
    const props = node?.properties as Record<string, Json> | undefined;
    if (!props) return;
    for (const [key, child] of Object.entries(props)) {
      const at = path ? `${path}.${key}` : key;
      const text = DESCRIPTIONS[at];
      if (text !== undefined && child.description === undefined) child.description = text;
      if (at !== 'sources') visit(child, at);
    }
  };
  visit(schema, '');
  for (const def of Object.values((schema.definitions ?? {}) as Record<string, Json>)) visit(def, 'source');
  return schema;
}

/** `${VAR}` / `${VAR:-default}` somewhere in a string, as the loader substitutes it. */
export const PLACEHOLDER_PATTERN = '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}';

/**
 * A string field checked by enum, format or pattern also takes a `${VAR}` placeholder (checked
 * after substitution by the loader), e.g. `log.level: ${LOG_LEVEL:-info}`. Numbers and booleans
 * do not: the loader never turns a substituted string into one.
 */
function allowPlaceholders(node: unknown, key?: string): unknown {
  if (Array.isArray(node)) return node.map((n) => allowPlaceholders(n));
  if (typeof node !== 'object' || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node))
    out[k] = k === 'propertyNames' || k === 'const' || k === 'enum' ? v : allowPlaceholders(v, k);
  const strict = Array.isArray(out.enum)
    ? out.enum.every((v) => typeof v === 'string')
    : out.type === 'string' && (out.format !== undefined || out.pattern !== undefined);
  if (!strict || key === 'provider') return out;
  return { anyOf: [out, { type: 'string', pattern: PLACEHOLDER_PATTERN }] };
}

/** The schema as committed: two-space JSON and a final newline. */
export function configJsonSchemaText(adapters: readonly AnyAdapter[]): string {
  return `${JSON.stringify(configJsonSchema(adapters), null, 2)}\n`;
}
