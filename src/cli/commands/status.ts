/**
 * `status [--config F] [--json]`: what the running service reports at `/status` (DESIGN §5), found
 * through the configuration's `server.port` (`$PORT` wins, as for `serve`). When nothing answers,
 * the same document is built from the queue alone: the SQLite file is read read-only and never
 * created (a missing file is an error naming it); per-source totals and the circuit are only known
 * to a running process.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { AppConfig } from '../../config/load';
import { createQueue } from '../../queue/create-queue';
import { inspectSqliteQueue } from '../../queue/sqlite-inspector';
import type { StatusDocument } from '../../observability/status-document';
import { offlineStatus } from '../../runtime/status';
import { addHelp, CONFIG_ENV, DEV_ENV } from '../help';
import { exitOnConfigError, loadCliConfig } from '../load';
import { formatTable } from './validate';

interface StatusFlags {
  config?: string;
  dev?: boolean;
  json?: boolean;
  url?: string;
}

/** How long to wait for a running service before reading the queue instead. */
const ASK_TIMEOUT_MS = 3000;

export function registerStatus(program: Command): void {
  const status = program
    .command('status')
    .description(
      'show queue depth and age, dead letters, circuit state, per-source totals (from the running service, else from the queue)',
    )
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--dev', 'use the embedded development defaults when no config file exists')
    .option('--json', 'print the /status JSON document')
    .option('--url <url>', 'the service to ask (default: http://127.0.0.1:<server.port>)')
    .action(async (flags: StatusFlags) => {
      let config: AppConfig;
      try {
        config = loadCliConfig(flags);
      } catch (err) {
        exitOnConfigError(err);
      }
      const base = (flags.url ?? `http://${connectHost(config.server.host)}:${config.server.port}`).replace(/\/+$/, '');
      let doc = await ask(`${base}/status`);
      let note: string | undefined;
      if (typeof doc === 'string') {
        note = doc;
        doc = await fromQueue(config, base, doc);
      }
      if (flags.json) {
        // Byte for byte what GET /status answers (compact JSON), plus a newline.
        process.stdout.write(`${JSON.stringify(doc)}\n`);
        if (note) process.stderr.write(`${note}; read the queue instead (running: false)\n`);
        return;
      }
      process.stdout.write(`${human(doc, note ? null : base)}\n`);
      if (note) process.stderr.write(`${note}; the figures above come from the queue alone\n`);
    });
  addHelp(
    status,
    [
      'distinct-adapter status --config /etc/distinct-adapter/distinct.config.yml',
      'distinct-adapter status --json | jq .queue',
      'distinct-adapter status --url http://10.0.0.7:3000',
    ],
    { ...CONFIG_ENV, PORT: 'overrides server.port when finding the running service (as for serve)', ...DEV_ENV },
  );
}

/** The service's document, or why none came. */
async function ask(url: string): Promise<StatusDocument | string> {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(ASK_TIMEOUT_MS),
      headers: { accept: 'application/json' },
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      return `${url} answered HTTP ${res.status} (not a distinct-adapter serve or forward?)`;
    }
    const doc = (await res.json()) as StatusDocument;
    if (typeof doc !== 'object' || doc === null || typeof doc.queue !== 'object')
      return `${url} answered something that is not a status document`;
    return doc;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    return `no service answered at ${url} (${cause})`;
  }
}

/** Builds the document from the queue; exits non-zero when there is no queue to read. */
async function fromQueue(config: AppConfig, base: string, why: string): Promise<StatusDocument> {
  const fail = (message: string): never => {
    process.stderr.write(`${why}\n${message}\n`);
    process.exit(1);
  };
  switch (config.queue.driver) {
    case 'sqlite': {
      const file = resolve(config.queue.path);
      // Never created: a status check must not leave an empty outbox behind.
      if (!existsSync(file))
        return fail(
          `queue file ${file} does not exist: nothing has run with this configuration (queue.path), or --config points elsewhere`,
        );
      try {
        const { stats, deadLettersByReason } = inspectSqliteQueue(file);
        return offlineStatus('sqlite', stats, deadLettersByReason);
      } catch (err) {
        return fail(`could not read queue file ${file}: ${(err as Error).message}`);
      }
    }
    case 'sqs': {
      try {
        const queue = createQueue({ ...config.queue, dedupeWindowMs: config.dedupe.windowMs });
        try {
          return offlineStatus('sqs', await queue.stats(), {});
        } finally {
          await queue.close();
        }
      } catch (err) {
        return fail(`could not read the SQS queues: ${(err as Error).message}`);
      }
    }
    default:
      return fail(
        `queue.driver ${config.queue.driver} keeps nothing outside the process: start the service (expected at ${base})`,
      );
  }
}

function connectHost(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

const when = (iso: string | null): string => (iso === null ? '–' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
const kv = (o: Record<string, number>): string =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

function age(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** The human rendering of a status document. */
export function human(doc: StatusDocument, url: string | null): string {
  const lines: string[] = [];
  const q = doc.queue;
  const c = doc.circuit;
  lines.push(
    doc.running
      ? `distinct-adapter ${doc.version}: ${doc.role} at ${url ?? '?'}, running since ${when(doc.startedAt)}`
      : `distinct-adapter ${doc.version}: no running service; read from the ${q.driver} queue`,
  );
  if (doc.running)
    lines.push(
      `ready:       ${doc.ready ? 'yes (accepting and queuing webhooks)' : 'NO (queue not writable, or shutting down)'}`,
    );
  lines.push(
    `queue:       ${q.depth} waiting or in flight (${q.inFlight} in flight), oldest ${age(q.oldestAgeSeconds)} [${q.driver}]`,
  );
  lines.push(
    `dead:        ${q.deadLetters}${q.deadLetters > 0 && Object.keys(q.deadLettersByReason).length > 0 ? ` (${kv(q.deadLettersByReason)}); see: distinct-adapter dlq list` : ''}`,
  );
  if (doc.forwarding) {
    const last =
      c.lastAnswerAt === null
        ? 'none yet'
        : `${c.lastStatus === null ? 'no answer (timeout or network)' : `HTTP ${c.lastStatus}`}${c.lastMessage ? ` "${c.lastMessage}"` : ''} at ${when(c.lastAnswerAt)}`;
    lines.push(
      c.state === 'open'
        ? `forwarding:  PAUSED since ${when(c.since)}: Distinct rejects the API key or this IP; events stay queued; next probe ${when(c.nextProbeAt)}`
        : `forwarding:  on (circuit closed since ${when(c.since)})`,
    );
    lines.push(`last answer: ${last}`);
    lines.push(`forwarded:   ${doc.forwarded} since start`);
  } else if (doc.running) {
    lines.push('forwarding:  not in this process (serve --no-forward)');
  }
  const all = Object.keys(doc.sources);
  const active = (id: string): boolean => {
    const s = doc.sources[id]!;
    return s.requests > 0 || s.forwarded > 0 || s.deadLettered > 0;
  };
  const ids = all.filter(active);
  const idle = all.filter((id) => !active(id));
  if (all.length > 0 && ids.length === 0) {
    lines.push('', `no webhook requests since start (sources: ${all.join(', ')})`);
  } else if (ids.length > 0) {
    const rows = ids.map((id) => {
      const s = doc.sources[id]!;
      return [id, s.requests, s.rejected, s.queued, s.duplicates, s.ignored, s.deadLettered, s.forwarded].map(String);
    });
    lines.push(
      '',
      formatTable(
        ['source', 'requests', 'rejected', 'queued', 'duplicates', 'ignored', 'dead-lettered', 'forwarded'],
        rows,
      ),
    );
    for (const id of ids) {
      const s = doc.sources[id]!;
      if (s.ignored > 0) lines.push(`  ${id} ignored: ${kv(s.ignoredEvents)}`);
      if (s.deadLettered > 0) lines.push(`  ${id} dead-lettered: ${kv(s.deadLetteredByReason)}`);
      if (s.rejected > 0)
        lines.push(
          `  ${id} rejected: ${Object.entries(s.rejectedByStatus)
            .map(([k, v]) => `HTTP ${k} ${v}`)
            .join(', ')}`,
        );
    }
    if (idle.length > 0) lines.push(`  no requests since start: ${idle.join(', ')}`);
  } else if (!doc.running) {
    lines.push('(per-source totals and the circuit are only known to a running service)');
  }
  return lines.join('\n');
}
