/**
 * `distinct-adapter simulate <source>`: sends a correctly signed sample webhook of the source's
 * provider to a running adapter, exactly as the provider would.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { ADAPTERS } from '../../../adapters';
import { request } from 'undici';
import { loadDevCredentials } from '../dev-defaults';
import type { SourceConfig } from '../../config/load';
import { didYouMean } from '../../config/suggest';
import { OUTCOME_HEADER, parseOutcomeHeader } from '../../pipeline/pipeline';
import { addHelp, CONFIG_ENV, DEV_ENV } from '../help';
import { exitOnConfigError, loadCliConfig } from '../load';

interface SimulateFlags {
  config?: string;
  dev?: boolean;
  event?: string;
  fixture?: string;
  url?: string;
  recipient?: string;
  userId?: string;
  signerFile?: string;
}

export function registerSimulate(program: Command): void {
  const simulate = program
    .command('simulate <source>')
    .description(
      "send a correctly signed sample webhook of the source's provider to a running adapter, and print what happened to the event (queued, duplicate, ignored, dead-lettered with its reason)",
    )
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--dev', 'use the embedded development defaults when no config file exists')
    .option('-e, --event <type>', 'normalized event type to simulate, e.g. email.delivered or sms.failed')
    .option(
      '-f, --fixture <file>',
      'send the request of a fixture file (fixtures/<provider>/*.json), signed; not with --event',
    )
    .option('-u, --url <url>', 'adapter base URL or full webhook URL (default http://127.0.0.1:<server.port>)')
    .option('--recipient <address>', 'recipient e-mail or phone number')
    .option('--user-id <id>', 'attach distinct_user_id the way the provider echoes sender metadata')
    .option(
      '--signer-file <file>',
      'private signing material for asymmetric providers (SendGrid: the PKCS#8 PEM private key)',
    )
    .action(async (sourceId: string, flags: SimulateFlags) => {
      let config;
      try {
        config = loadCliConfig({ config: flags.config, dev: flags.dev ?? flags.config === undefined });
      } catch (err) {
        exitOnConfigError(err);
      }
      if (flags.fixture !== undefined && flags.event !== undefined) {
        process.stderr.write('--fixture and --event cannot be used together: a fixture states its own events\n');
        process.exit(2);
      }
      const source = config.sources.get(sourceId);
      if (!source) {
        const ids = [...config.sources.keys()];
        process.stderr.write(
          `no source "${sourceId}" in the configuration${didYouMean(sourceId, ids)} (have: ${ids.join(', ')})\n`,
        );
        process.exit(2);
      }
      // Read before the signer: a fixture of another provider is the first thing to say.
      const fixture = flags.fixture !== undefined ? readFixture(flags.fixture, source.provider) : undefined;
      const signer = flags.signerFile ? readSignerFile(flags.signerFile) : findSigner(source);
      if (signer === undefined) {
        process.stderr.write(
          `cannot sign for ${source.adapter.displayName}: its verification key is asymmetric and the private key is unknown.\n` +
            'Pass --signer-file <private key>, or run the service with --dev (throwaway keys in ./data/dev-credentials.json).\n',
        );
        process.exit(2);
      }
      const adapter = source.adapter;
      const now = new Date();
      const base = (flags.url ?? `http://127.0.0.1:${config.server.port}`).replace(/\/+$/, '');
      const target = base.includes('/webhooks/') ? base : `${base}/webhooks/${sourceId}`;
      let type: string;
      let unsigned: { method: string; query: string; headers: Record<string, string>; body: Buffer };
      if (fixture) {
        type = fixture.label;
        unsigned = fixture.request;
      } else {
        // The vendor's own app events have no delivery type; providers default to a delivery.
        type = flags.event ?? (adapter.channel === 'app' ? 'app.event' : `${adapter.channel}.delivered`);
        const overrides: Record<string, string> = {};
        if (flags.userId) overrides.distinct_user_id = flags.userId;
        const recipient = flags.recipient ?? (adapter.channel === 'sms' ? '+15017250604' : 'jane.doe@example.com');
        const sample = adapter.testing.sample({ type, recipient, now, overrides });
        unsigned = {
          method: adapter.methods[0] ?? 'POST',
          query: sample.query ?? '',
          headers: { ...sample.headers },
          body: sample.body,
        };
      }

      const targetWithQuery = unsigned.query ? `${target}?${unsigned.query}` : target;
      // URL-signed providers sign the public URL the service reconstructs, not necessarily the one we post to.
      const signedUrl = source.publicUrl
        ? unsigned.query
          ? `${source.publicUrl}?${unsigned.query}`
          : source.publicUrl
        : targetWithQuery;
      const signed = adapter.testing.sign(
        { method: unsigned.method, url: signedUrl, headers: unsigned.headers, body: unsigned.body },
        signer,
        now,
      );
      const res = await request(targetWithQuery, {
        method: signed.method as 'POST',
        headers: signed.headers,
        body: signed.method === 'GET' ? undefined : signed.body,
      });
      const text = await res.body.text();
      process.stdout.write(`${adapter.displayName} ${type} → ${targetWithQuery}\n${res.statusCode} ${text}\n`);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      if (ok) {
        const raw = res.headers[OUTCOME_HEADER];
        process.stdout.write(`${describeOutcome(Array.isArray(raw) ? raw.join('; ') : raw, type)}\n`);
      }
      process.exit(ok ? 0 : 1);
    });
  addHelp(
    simulate,
    [
      'distinct-adapter simulate twilio                         # with `serve --dev` running: signed with the dev credentials',
      'distinct-adapter simulate sendgrid --event email.opened',
      'distinct-adapter simulate mailgun --fixture fixtures/mailgun/delivered.json   # a stored fixture, signed',
      'distinct-adapter simulate twilio --event sms.sent --recipient 12345   # a short code: dead-lettered no_identifier',
      'distinct-adapter simulate twilio-eu --config distinct.config.yml --url https://hooks.example.com',
      'distinct-adapter simulate sendgrid --config distinct.config.yml --signer-file sendgrid-private.pem',
    ],
    { ...CONFIG_ENV, ...DEV_ENV },
  );
}

/** One line saying what the adapter did with the simulated event(s), from its outcome header. */
export function describeOutcome(header: string | undefined, type: string): string {
  const o = parseOutcomeHeader(header);
  if (!o) return `outcome: unknown (no ${OUTCOME_HEADER} header in the answer; is --url a distinct-adapter?)`;
  const parts: string[] = [];
  if (o.queued > 0) parts.push(`${o.queued} queued for Distinct (see it on the sandbox page, or the forwarder's log)`);
  if (o.duplicates > 0)
    parts.push(`${o.duplicates} duplicate (already received within dedupe.windowMs; not queued again)`);
  if (o.ignored > 0) parts.push(`${o.ignored} ignored (no Distinct action mapped for ${type}; see \`validate\`)`);
  if (o.deadLettered > 0) {
    parts.push(
      `${o.deadLettered} dead-lettered: ${o.reasons.join(', ') || 'unknown reason'} (see \`distinct-adapter dlq list\`)`,
    );
  }
  if (parts.length === 0) parts.push(`nothing (the request carried ${o.received} event(s))`);
  return `outcome: ${parts.join('; ')}`;
}

/**
 * A fixture file as the conformance suite reads it (test/helpers/fixtures.ts): header names
 * lower-cased, a string body verbatim, a JSON body compact. Its provider is its folder's name
 * (`fixtures/<provider>/x.json`), or a top-level `provider` key.
 */
function readFixture(
  path: string,
  provider: string,
): { label: string; request: { method: string; query: string; headers: Record<string, string>; body: Buffer } } {
  let data: {
    provider?: unknown;
    request?: { method?: string; query?: string; headers?: Record<string, string>; body?: unknown };
    expect?: { events?: Array<{ type?: unknown }> };
  };
  try {
    data = JSON.parse(readFileSync(path, 'utf8')) as typeof data;
  } catch (err) {
    process.stderr.write(`cannot read fixture ${path}: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const folder = basename(dirname(resolve(path)));
  const stated =
    typeof data.provider === 'string' ? data.provider : ADAPTERS.some((a) => a.name === folder) ? folder : undefined;
  if (stated !== undefined && stated !== provider) {
    process.stderr.write(
      `fixture ${path} is a ${stated} request, but the source's provider is ${provider}: pick a fixture from fixtures/${provider}/\n`,
    );
    process.exit(2);
  }
  const req = data.request;
  if (!req || typeof req !== 'object' || req.body === undefined) {
    process.stderr.write(`fixture ${path} has no request.body\n`);
    process.exit(2);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body), 'utf8');
  const types = (data.expect?.events ?? []).map((e) => e.type).filter((t): t is string => typeof t === 'string');
  return {
    label: types.length > 0 ? [...new Set(types)].join(', ') : basename(path, '.json'),
    request: { method: (req.method ?? 'POST').toUpperCase(), query: req.query ?? '', headers, body },
  };
}

/** A signer file: JSON when it parses as JSON, else the text itself (a PEM key). */
function readSignerFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The signer for a source: derived from its options (symmetric) or from the dev credentials. */
function findSigner(source: SourceConfig): unknown {
  const derived = source.adapter.testing.signerFromOptions(source.options as Record<string, unknown>);
  if (derived !== undefined) return derived;
  const dev = loadDevCredentials(undefined, false)[source.provider];
  if (dev && JSON.stringify(dev.options) === JSON.stringify(pick(source.options, Object.keys(dev.options))))
    return dev.signer;
  return undefined;
}

function pick(obj: Readonly<Record<string, unknown>>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in obj) out[k] = obj[k];
  return out;
}
