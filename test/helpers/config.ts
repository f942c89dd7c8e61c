/**
 * src/config/load.ts with the built-in adapter list as the default, as the CLI and the Lambda
 * runtime call it (configuration takes its adapters from the caller: docs/architecture.md).
 * Tests import the loaders from here; everything else is re-exported unchanged.
 */
import { ADAPTERS } from '../../adapters';
import * as load from '../../src/config/load';
import type { AnyAdapter } from '../../src/core/adapter';

export * from '../../src/config/load';

export function buildConfig(
  doc: unknown,
  env: NodeJS.ProcessEnv = process.env,
  path: string | null = null,
  adapters: readonly AnyAdapter[] = ADAPTERS,
): load.AppConfig {
  return load.buildConfig(doc, env, path, adapters);
}

export function loadConfigFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
  adapters: readonly AnyAdapter[] = ADAPTERS,
): load.AppConfig {
  return load.loadConfigFile(path, env, adapters);
}
