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
import { ADAPTERS } from '../../adapters';
import type { AnyAdapter } from '../core/adapter';
import { rootSchema, sourceCommonSchema, SOURCE_ID_PATTERN } from './schema';

type Json = Record<string, unknown>;

const OPTIONS = { io: 'input', unrepresentable: 'any', target: 'draft-7' } as const;

export const CONFIG_SCHEMA_FILE = 'distinct.config.schema.json';

export function configJsonSchema(adapters: readonly AnyAdapter[] = ADAPTERS): Json {
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
    description: 'webhook sources, each served at POST /webhooks/<id>; an id that is not a provider name sets provider:',
    propertyNames: { pattern: SOURCE_ID_PATTERN.source },
    minProperties: 1,
    properties: sourceProperties,
    additionalProperties: { anyOf: named },
  };
  delete root.$schema;
  return allowPlaceholders({
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'distinct-webhook-adapter configuration',
    description: 'Generated from the zod schemas by `distinct-adapter validate --print-schema`; do not edit by hand.',
    ...root,
    properties,
    definitions: { ...((root.definitions as Json | undefined) ?? {}), ...definitions },
  }) as Json;
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
  for (const [k, v] of Object.entries(node)) out[k] = k === 'propertyNames' || k === 'const' || k === 'enum' ? v : allowPlaceholders(v, k);
  const strict = Array.isArray(out.enum) ? out.enum.every((v) => typeof v === 'string') : out.type === 'string' && (out.format !== undefined || out.pattern !== undefined);
  if (!strict || key === 'provider') return out;
  return { anyOf: [out, { type: 'string', pattern: PLACEHOLDER_PATTERN }] };
}

/** The schema as committed: two-space JSON and a final newline. */
export function configJsonSchemaText(adapters: readonly AnyAdapter[] = ADAPTERS): string {
  return `${JSON.stringify(configJsonSchema(adapters), null, 2)}\n`;
}
