/**
 * Loads, substitutes and validates the configuration; resolves every source to its adapter and
 * checks every Distinct pair the configuration can produce against the registry.
 * A bad file throws one {@link ConfigurationError} listing every problem by path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ADAPTERS } from '../../adapters';
import type { AnyAdapter } from '../core/adapter';
import { ConfigurationError } from '../core/errors';
import { isEventType, type EventType } from '../core/event-types';
import { DEFAULT_ACTIONS } from '../mapping/default-actions';
import { Registry } from '../mapping/registry';
import { formatPath, substituteEnv } from './env';
import { COMMON_SOURCE_KEYS, rootSchema, sourceCommonSchema, SOURCE_ID_PATTERN, type RootConfig } from './schema';

/** A configured source, resolved to its adapter and validated settings. */
export interface SourceConfig {
  /** Route segment: `POST /webhooks/<id>`. */
  readonly id: string;
  readonly provider: string;
  readonly adapter: AnyAdapter;
  readonly feature: string;
  readonly experienceId: string;
  /** Every type the adapter emits → Distinct action (registry spelling) or null (ignored). */
  readonly actions: Readonly<Partial<Record<EventType, string | null>>>;
  readonly publicUrl?: string;
  readonly insecure: boolean;
  /** The adapter's parsed settings (secrets inside: never log this object). */
  readonly settings: unknown;
  /** The provider-specific options as written in the file (secrets inside: never log this object). */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface AppConfig extends Omit<RootConfig, 'sources' | 'registry'> {
  readonly registry: Registry;
  readonly sources: ReadonlyMap<string, SourceConfig>;
  /** Where the file was read from (null for an in-memory config). */
  readonly path: string | null;
}

export const DEFAULT_CONFIG_PATH = './distinct.config.yml';

/** `--config`, else `$DISTINCT_ADAPTER_CONFIG`, else `./distinct.config.yml`. */
export function findConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env.DISTINCT_ADAPTER_CONFIG ?? DEFAULT_CONFIG_PATH);
}

/** Reads and validates a YAML or JSON file. */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): AppConfig {
  if (!existsSync(path)) throw new ConfigurationError([`${path}: file not found`]);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8')); // YAML is a superset of JSON
  } catch (err) {
    throw new ConfigurationError([`${path}: not valid YAML or JSON (${(err as Error).message})`]);
  }
  return buildConfig(doc, env, path);
}

/**
 * Validates an already-parsed document (also used by tests and the Lambda runtime).
 * `adapters` defaults to the built-in list; the conformance suite passes a single adapter.
 */
export function buildConfig(
  doc: unknown,
  env: NodeJS.ProcessEnv = process.env,
  path: string | null = null,
  adapters: readonly AnyAdapter[] = ADAPTERS,
): AppConfig {
  const problems: string[] = [];
  const substituted = substituteEnv(doc ?? {}, env, problems);
  const parsed = rootSchema.safeParse(substituted);
  if (!parsed.success) {
    problems.push(...zodProblems(parsed.error));
    throw new ConfigurationError(dedupe(problems));
  }
  const root = parsed.data;
  if (env.PORT !== undefined && env.PORT !== '') {
    const port = Number(env.PORT);
    if (Number.isInteger(port) && port >= 0 && port < 65536) root.server.port = port;
    else problems.push(`PORT: "${env.PORT}" is not a port number`);
  }
  // Relative paths in a file are the file's, not the current directory's (DESIGN §4): `dlq`
  // run from another folder must read the same outbox `serve` writes.
  if (path !== null && !isAbsolute(root.queue.path)) root.queue.path = resolve(dirname(path), root.queue.path);
  const registry = new Registry(root.registry);
  const sources = new Map<string, SourceConfig>();
  for (const [id, raw] of Object.entries(root.sources)) {
    const source = buildSource(id, raw, root, registry, problems, adapters);
    if (source) sources.set(id, source);
  }
  if (Object.keys(root.sources).length === 0) problems.push('sources: at least one source is required');
  if (problems.length > 0) throw new ConfigurationError(dedupe(problems));
  const { sources: _s, registry: _r, ...rest } = root;
  return { ...rest, registry, sources, path };
}

function buildSource(
  id: string,
  raw: Record<string, unknown>,
  root: RootConfig,
  registry: Registry,
  problems: string[],
  adapters: readonly AnyAdapter[],
): SourceConfig | undefined {
  const at = `sources.${id}`;
  if (!SOURCE_ID_PATTERN.test(id)) {
    problems.push(`${at}: source id must match ${SOURCE_ID_PATTERN} (it is a URL segment)`);
  }
  const common: Record<string, unknown> = {};
  const specific: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if ((COMMON_SOURCE_KEYS as readonly string[]).includes(k)) common[k] = v;
    else specific[k] = v;
  }
  const providerName = typeof common.provider === 'string' ? common.provider : id;
  const adapter = adapters.find((a) => a.name === providerName);
  if (!adapter) {
    problems.push(
      `${at}.provider: unknown provider "${providerName}" (known: ${adapters.map((a) => a.name).join(', ')})` +
        (common.provider === undefined ? '; name it with `provider:` when the source id is not a provider' : ''),
    );
    return undefined;
  }
  const c = sourceCommonSchema.safeParse(common);
  if (!c.success) {
    problems.push(...zodProblems(c.error, at));
    return undefined;
  }
  const insecure = c.data.insecure === true;
  let settings: unknown = undefined;
  const s = (adapter.settingsSchema as z.ZodType).safeParse(specific);
  if (s.success) settings = s.data;
  else if (!insecure) {
    problems.push(...zodProblems(s.error, at));
    return undefined;
  }

  const actions: Partial<Record<EventType, string | null>> = {};
  const overrides = c.data.actions ?? {};
  for (const key of Object.keys(overrides)) {
    if (!isEventType(key)) problems.push(`${at}.actions.${key}: not a normalized event type (see docs/events.md)`);
    else if (!key.startsWith(`${adapter.channel}.`)) {
      problems.push(`${at}.actions.${key}: ${adapter.displayName} is an ${adapter.channel} provider; it never emits ${key}`);
    }
  }
  const emitted = new Set<EventType>(Object.values(adapter.eventMap));
  emitted.add(`${adapter.channel}.unknown`);
  for (const type of adapter.extraTypes ?? []) emitted.add(type);
  for (const type of emitted) {
    const wanted = Object.prototype.hasOwnProperty.call(overrides, type) ? overrides[type] : DEFAULT_ACTIONS[type];
    if (wanted == null) {
      actions[type] = null;
      continue;
    }
    const pair = registry.resolve(c.data.feature, wanted);
    if (!pair) {
      problems.push(
        `${at}: ${type} would be sent as ${c.data.feature}/${wanted}, which is not in the registry` +
          ` (register it with Distinct and add it under registry:, or set actions.${type}: null)`,
      );
      continue;
    }
    actions[type] = pair.action;
  }
  const feature = registry.resolveFeature(c.data.feature) ?? c.data.feature;
  return {
    id,
    provider: adapter.name,
    adapter,
    feature,
    experienceId: c.data.experienceId,
    actions,
    publicUrl: c.data.publicUrl ?? (root.server.publicUrl ? `${root.server.publicUrl.replace(/\/+$/, '')}/webhooks/${id}` : undefined),
    insecure,
    settings,
    options: specific,
  };
}

function zodProblems(error: z.ZodError, prefix?: string): string[] {
  return error.issues.map((issue) => {
    const path = formatPath([...(prefix ? prefix.split('.') : []), ...issue.path]);
    if (issue.code === 'unrecognized_keys') return `${path}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${path}: ${issue.message}`;
  });
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
