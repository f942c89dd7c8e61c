/**
 * The embedded development defaults behind the quick start (`distinct-adapter serve --dev` with
 * no configuration file): the local Distinct sandbox, the SQLite queue, and one source per
 * built-in provider with throwaway credentials generated on first run and kept in
 * `./data/dev-credentials.json` (mode 0600) so `simulate` can sign with them.
 *
 * Never used unless `--dev` is given: a production start without a configuration file fails.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ADAPTERS } from '../../adapters';
import { buildConfig, type AppConfig } from '../config/load';

export const DEV_SANDBOX_PORT = 4010;
export const DEV_SANDBOX_API_KEY = 'sandbox';
export const DEV_CREDENTIALS_PATH = './data/dev-credentials.json';

export interface DevCredentials {
  /** provider → the source options a config file would hold, and the private signer. */
  [provider: string]: { options: Record<string, unknown>; signer: unknown };
}

/**
 * Reads the dev credentials, creating any that are missing unless `create` is false; with
 * `persist` false, missing ones are generated in memory only (commands that must not write).
 */
export function loadDevCredentials(path = DEV_CREDENTIALS_PATH, create = true, persist = true): DevCredentials {
  const file = resolve(path);
  let creds: DevCredentials = {};
  if (existsSync(file)) creds = JSON.parse(readFileSync(file, 'utf8')) as DevCredentials;
  if (!create) return creds;
  let changed = false;
  for (const adapter of ADAPTERS) {
    if (!creds[adapter.name]) {
      creds[adapter.name] = adapter.testing.createCredentials();
      changed = true;
    }
  }
  if (changed && persist) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return creds;
}

/** The development configuration document (before validation). */
export function devConfigDocument(
  creds: DevCredentials,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, unknown> {
  const sources: Record<string, unknown> = {};
  for (const adapter of ADAPTERS) {
    sources[adapter.name] = {
      // The generic (app) source takes each event's own pair; its feature is only a default.
      feature:
        adapter.channel === 'sms'
          ? 'registration_sms'
          : adapter.channel === 'email'
            ? 'registration_email'
            : 'page_visit',
      experienceId: 'exp_quickstart',
      ...creds[adapter.name]!.options,
    };
  }
  return {
    distinct: {
      baseUrl: env.DISTINCT_BASE_URL ?? `http://127.0.0.1:${DEV_SANDBOX_PORT}`,
      apiKey: env.DISTINCT_API_KEY ?? DEV_SANDBOX_API_KEY,
    },
    server: { host: '127.0.0.1' },
    queue: { driver: 'sqlite', path: './data/outbox.db' },
    sources,
  };
}

/** The development configuration; `persist: false` writes no credentials file (dlq). */
export function devConfig(env: NodeJS.ProcessEnv = process.env, options: { persist?: boolean } = {}): AppConfig {
  return buildConfig(
    devConfigDocument(loadDevCredentials(undefined, true, options.persist ?? true), env),
    env,
    null,
    ADAPTERS,
  );
}
