/** The "Examples" and "Environment" sections every command's `--help` ends with. */
import type { Command } from 'commander';

/** Variables read by every command that loads a configuration file. */
export const CONFIG_ENV: Readonly<Record<string, string>> = {
  DISTINCT_ADAPTER_CONFIG: 'configuration file when --config is not given (default ./distinct.config.yml)',
  '${VAR}': 'any variable the configuration file names as ${VAR} or ${VAR:-default} (secrets live there)',
};

/** Variables the embedded development defaults (`--dev` without a file) read. */
export const DEV_ENV: Readonly<Record<string, string>> = {
  DISTINCT_BASE_URL: '--dev: Distinct API to forward to (default the local sandbox, http://127.0.0.1:4010)',
  DISTINCT_API_KEY: '--dev: Distinct API key (default "sandbox", the local sandbox\'s)',
};

export function addHelp(cmd: Command, examples: readonly string[], env: Readonly<Record<string, string>>): Command {
  const width = Math.max(0, ...Object.keys(env).map((k) => k.length));
  const lines = ['', 'Examples:', ...examples.map((e) => `  $ ${e}`)];
  if (Object.keys(env).length > 0) {
    lines.push('', 'Environment:', ...Object.entries(env).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`));
  }
  return cmd.addHelpText('after', lines.join('\n'));
}
