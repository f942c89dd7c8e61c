/** `validate` and `registry`: what a configuration will do, before it runs. */
import type { Command } from 'commander';
import { ADAPTERS } from '../../../adapters';
import type { AppConfig } from '../../config/load';
import { CONFIG_SCHEMA_FILE, configJsonSchemaText } from '../../config/json-schema';
import { addHelp, CONFIG_ENV, DEV_ENV } from '../help';
import { exitOnConfigError, loadCliConfig } from '../load';
import { NO_SHARED_STORE_WARNING } from '../../dedupe/deduped-queue';

export interface MappingRow {
  source: string;
  provider: string;
  providerEvent: string;
  type: string;
  /** `feature/action`, or null when the type is ignored. */
  pair: string | null;
}

/** Every source → provider event → normalized type → Distinct pair the configuration resolves. */
export function mappingTable(config: AppConfig): MappingRow[] {
  const rows: MappingRow[] = [];
  for (const source of config.sources.values()) {
    for (const [providerEvent, type] of Object.entries(source.adapter.eventMap)) {
      // Events that are always machine opens are not sent by a source that ignores machine opens.
      const machineIgnored =
        source.machineOpens === 'ignore' && (source.adapter.machineOpenEvents ?? []).includes(providerEvent);
      const action = machineIgnored ? null : source.actions[type];
      // App events name their own pair (checked against the registry as they arrive).
      const pair =
        source.adapter.channel === 'app' ? "(the event's own pair)" : action ? `${source.feature}/${action}` : null;
      rows.push({ source: source.id, provider: source.provider, providerEvent, type, pair });
    }
  }
  return rows;
}

/** The distinct feature/action pairs this configuration can send (per-message overrides aside). */
export function producedPairs(config: AppConfig): string[] {
  const pairs = new Set<string>();
  for (const row of mappingTable(config)) if (row.pair && !row.pair.startsWith('(')) pairs.add(row.pair);
  return [...pairs].sort();
}

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Warnings worth printing even for a valid configuration. */
export function configWarnings(config: AppConfig): string[] {
  const out: string[] = [];
  if (config.queue.driver === 'sqs' && !config.dedupe.store) out.push(NO_SHARED_STORE_WARNING);
  for (const s of config.sources.values()) {
    if (s.insecure) out.push(`sources.${s.id}: insecure: true — requests to this source are not authenticated`);
    else if (s.adapter.supports.credentialsOnly) {
      out.push(
        `sources.${s.id}: ${s.adapter.displayName} signs nothing; requests are authenticated only by the credentials you` +
          ' configured (basicAuth / headerToken), so serve it over HTTPS only',
      );
    }
    if (s.adapter.supports.signsUrl && !s.publicUrl) {
      out.push(
        `sources.${s.id}: ${s.adapter.displayName} signs the URL it calls; set server.publicUrl or sources.${s.id}.publicUrl` +
          ' when the service runs behind a proxy or load balancer',
      );
    }
  }
  return out;
}

export function registerValidate(program: Command): void {
  const validate = program
    .command('validate')
    .description(
      'check the configuration (every problem at once) and print the source → provider event → Distinct pair table',
    )
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--dev', 'validate the embedded development defaults when no config file exists')
    .option('--print-schema', `print the configuration's JSON Schema (the ${CONFIG_SCHEMA_FILE} editors use) and exit`)
    .action((flags: { config?: string; dev?: boolean; printSchema?: boolean }) => {
      if (flags.printSchema) {
        process.stdout.write(configJsonSchemaText(ADAPTERS));
        return;
      }
      let config: AppConfig;
      try {
        config = loadCliConfig(flags);
      } catch (err) {
        exitOnConfigError(err);
      }
      const rows = mappingTable(config).map((r) => [
        r.source,
        r.provider,
        r.providerEvent,
        r.type,
        r.pair ?? '(ignored)',
      ]);
      process.stdout.write(`configuration OK: ${config.path ?? 'embedded development defaults'}\n\n`);
      process.stdout.write(
        `${formatTable(['source', 'provider', 'provider event', 'normalized', 'distinct pair'], rows)}\n`,
      );
      for (const w of configWarnings(config)) process.stdout.write(`\nwarning: ${w}`);
      process.stdout.write('\n');
    });

  addHelp(
    validate,
    [
      'distinct-adapter validate --config distinct.config.yml',
      'DISTINCT_API_KEY=x SENDGRID_WEBHOOK_PUBLIC_KEY=y distinct-adapter validate   # CI: exit 1 on any problem',
      'distinct-adapter validate --dev                  # the embedded development defaults',
      `distinct-adapter validate --print-schema > ${CONFIG_SCHEMA_FILE}`,
    ],
    { ...CONFIG_ENV, PORT: 'overrides server.port', ...DEV_ENV },
  );

  const registry = program
    .command('registry')
    .description('print the feature/action pairs this configuration can send, to register with Distinct')
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--dev', 'use the embedded development defaults when no config file exists')
    .action((flags: { config?: string; dev?: boolean }) => {
      let config: AppConfig;
      try {
        config = loadCliConfig(flags);
      } catch (err) {
        exitOnConfigError(err);
      }
      const byFeature = new Map<string, string[]>();
      for (const pair of producedPairs(config)) {
        const [feature, action] = pair.split('/') as [string, string];
        byFeature.set(feature, [...(byFeature.get(feature) ?? []), action]);
      }
      process.stdout.write('# feature/action pairs this configuration can send (register each with Distinct)\n');
      for (const [feature, actions] of byFeature) process.stdout.write(`${feature}: [${actions.join(', ')}]\n`);
    });
  addHelp(registry, ['distinct-adapter registry --config distinct.config.yml', 'distinct-adapter registry --dev'], {
    ...CONFIG_ENV,
    ...DEV_ENV,
  });
}
