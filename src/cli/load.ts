/** Configuration loading shared by the CLI commands: `--config`, `$DISTINCT_ADAPTER_CONFIG`, `./distinct.config.yml`, or `--dev`. */
import { existsSync } from 'node:fs';
import { ADAPTERS } from '../../adapters';
import { findConfigPath, loadConfigFile, type AppConfig } from '../config/load';
import { ConfigurationError } from '../core/errors';
import { devConfig } from './dev-defaults';

export interface ConfigFlags {
  config?: string;
  dev?: boolean;
}

export interface LoadOptions {
  /** False for commands that must leave the disk alone (dlq): no ./data/dev-credentials.json. */
  writeDevCredentials?: boolean;
}

/** Loads the configuration the flags point at; `--dev` without a file uses the embedded defaults. */
export function loadCliConfig(flags: ConfigFlags, options: LoadOptions = {}): AppConfig {
  const path = findConfigPath(flags.config);
  if (!existsSync(path)) {
    if (flags.dev && flags.config === undefined)
      return devConfig(process.env, { persist: options.writeDevCredentials ?? true });
    throw new ConfigurationError([
      `${path}: file not found (pass --config <file>, set DISTINCT_ADAPTER_CONFIG, or use --dev for the embedded development defaults)`,
    ]);
  }
  return loadConfigFile(path, process.env, ADAPTERS);
}

/** Prints a configuration error and exits 1; rethrows anything else. */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigurationError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
