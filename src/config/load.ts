/**
 * Loads, substitutes and validates the configuration; resolves every source to its adapter and
 * checks every Distinct pair the configuration can produce against the registry.
 * A bad file throws one {@link ConfigurationError} listing every problem by path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { AnyAdapter } from '../core/adapter';
import { ConfigurationError } from '../core/errors';
import { resolveActions, type SourceActions } from '../mapping/actions';
import { Registry } from '../mapping/registry';
import { formatPath, substituteEnv } from './env';
import { didYouMean } from './suggest';
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
  readonly actions: SourceActions;
  readonly publicUrl?: string;
  readonly insecure: boolean;
  /** E-mail sources: what to do with opens the provider flags as machine opens (`details.machineOpen`); default forward. */
  readonly machineOpens?: 'forward' | 'ignore';
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

/**
 * Reads and validates a YAML or JSON file. `adapters` are the providers sources may name: the
 * caller's list (the CLI and the Lambda runtime pass the built-in `ADAPTERS`).
 */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv, adapters: readonly AnyAdapter[]): AppConfig {
  if (!existsSync(path)) throw new ConfigurationError([`${path}: file not found`]);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8')); // YAML is a superset of JSON
  } catch (err) {
    throw new ConfigurationError([`${path}: not valid YAML or JSON (${describeYamlError(err)})`]);
  }
  return buildConfig(doc, env, path, adapters);
}

/**
 * The parser's reason and position, without the excerpt of the file it appends: the line it
 * quotes (or the one before) can hold a secret.
 */
function describeYamlError(err: unknown): string {
  const e = err as { message?: unknown; linePos?: Array<{ line: number; col: number }> };
  const firstLine = (typeof e.message === 'string' ? e.message : 'syntax error').split('\n')[0]!;
  const reason = firstLine.replace(/ at line \d+, column \d+:?\s*$/, '').replace(/:\s*$/, '');
  const pos = e.linePos?.[0];
  return pos ? `line ${pos.line}, column ${pos.col}: ${reason}` : reason;
}

/**
 * Validates an already-parsed document (also used by tests and the Lambda runtime). `path` is the
 * file it came from (relative queue paths are the file's), null for an in-memory document;
 * `adapters` are the providers sources may name (the caller's list: configuration is generic).
 */
export function buildConfig(
  doc: unknown,
  env: NodeJS.ProcessEnv,
  path: string | null,
  adapters: readonly AnyAdapter[],
): AppConfig {
  const problems: string[] = [];
  const missing = new Set<string>();
  const substituted = substituteEnv(doc ?? {}, env, problems, [], missing);
  const parsed = rootSchema.safeParse(substituted);
  if (!parsed.success) {
    problems.push(...zodProblems(parsed.error, [], (p) => knownKeysAt(rootSchema, p), missing, substituted));
    // Keep going: the sources' own problems belong in the same report.
    const raw = isRecord(substituted) ? substituted : {};
    if (isRecord(raw.sources)) {
      const reg = rootSchema.shape.registry.safeParse(raw.registry);
      const registry = reg.success ? new Registry(reg.data) : null;
      for (const [id, source] of Object.entries(raw.sources)) {
        if (isRecord(source)) buildSource(id, source, undefined, registry, problems, adapters, missing);
      }
    }
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
    const source = buildSource(id, raw, root.server.publicUrl, registry, problems, adapters, missing);
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
  serverPublicUrl: string | undefined,
  /** null when the registry itself is invalid: pairs are then not checked. */
  registry: Registry | null,
  problems: string[],
  adapters: readonly AnyAdapter[],
  missing: ReadonlySet<string>,
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
    const names = adapters.map((a) => a.name);
    problems.push(
      `${at}.provider: unknown provider "${providerName}"${didYouMean(providerName, names)} (known: ${names.join(', ')})` +
        (common.provider === undefined ? '; name it with `provider:` when the source id is not a provider' : ''),
    );
    return undefined;
  }
  const settingsSchema = adapter.settingsSchema as z.ZodType;
  const known = (p: readonly PropertyKey[]): string[] | undefined =>
    p.length === 0
      ? [...COMMON_SOURCE_KEYS, ...(knownKeysAt(settingsSchema, []) ?? [])]
      : knownKeysAt(settingsSchema, p);
  const prefix = ['sources', id];
  const c = sourceCommonSchema.safeParse(common);
  const s = settingsSchema.safeParse(specific);
  const insecure = c.success && c.data.insecure === true;
  // Both halves are reported at once: a missing feature does not hide a misspelt key.
  if (!s.success && !insecure) problems.push(...zodProblems(s.error, prefix, known, missing, specific));
  if (!c.success) {
    problems.push(...zodProblems(c.error, prefix, known, missing, common));
    return undefined;
  }
  if (c.data.machineOpens !== undefined && adapter.channel !== 'email') {
    problems.push(
      `${at}.machineOpens: only e-mail sources have machine opens; ${adapter.displayName} is an ${adapter.channel} provider`,
    );
  }
  if (!s.success && !insecure) return undefined;
  const settings: unknown = s.success ? s.data : undefined;

  const actions = resolveActions(at, adapter, c.data.feature, c.data.actions ?? {}, registry, problems);
  const feature = registry?.resolveFeature(c.data.feature) ?? c.data.feature;
  return {
    id,
    provider: adapter.name,
    adapter,
    feature,
    experienceId: c.data.experienceId,
    actions,
    publicUrl:
      c.data.publicUrl ?? (serverPublicUrl ? `${serverPublicUrl.replace(/\/+$/, '')}/webhooks/${id}` : undefined),
    insecure,
    ...(adapter.channel === 'email' ? { machineOpens: c.data.machineOpens ?? 'forward' } : {}),
    settings,
    options: specific,
  };
}

/**
 * One line per zod issue, by path: unknown keys get "did you mean" against the keys `known`
 * lists for their object, a value left out for a missing variable is not reported again, and a
 * missing value says "required". Messages never quote a value (it may be a secret).
 */
function zodProblems(
  error: z.ZodError,
  prefix: readonly string[],
  known: (path: readonly PropertyKey[]) => string[] | undefined,
  missing: ReadonlySet<string>,
  input: unknown,
): string[] {
  const out: string[] = [];
  for (const issue of error.issues) {
    const full = [...prefix, ...issue.path];
    const path = formatPath(full);
    if ([...missing].some((m) => path === m || path.startsWith(`${m}.`))) continue;
    if (issue.code === 'unrecognized_keys') {
      const keys = known(issue.path) ?? [];
      for (const k of issue.keys) out.push(`${formatPath([...full, k])}: unknown key${didYouMean(k, keys)}`);
    } else if (
      (issue.code === 'invalid_type' || issue.code === 'invalid_union') &&
      issue.message.startsWith('Invalid input') && // zod's generic text; a schema's own message says more
      valueAt(input, issue.path) === undefined
    ) {
      out.push(`${path}: required`);
    } else out.push(`${path}: ${issue.message}`);
  }
  return out;
}

/** The keys an object schema at `path` inside `schema` accepts (through optional, default, pipes, records). */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let node: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (node === undefined) return undefined;
    const def = node._zod.def as {
      type: string;
      shape?: Record<string, z.ZodType>;
      valueType?: z.ZodType;
      element?: z.ZodType;
    };
    if (def.type === 'object') node = def.shape?.[String(segment)];
    else if (def.type === 'record') node = def.valueType;
    else if (def.type === 'array') node = def.element;
    else return undefined;
    node = node === undefined ? undefined : unwrap(node);
  }
  const def = node?._zod.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let node = schema;
  for (;;) {
    const def = node._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (
      def.innerType !== undefined &&
      ['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type)
    ) {
      node = def.innerType;
    } else if (def.type === 'pipe' && def.in !== undefined) node = def.in;
    else return node;
  }
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let node = value;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
