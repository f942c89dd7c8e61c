/**
 * `dlq list|replay|purge`: inspect, replay and purge dead-lettered events.
 *
 * These commands never create a queue: the SQLite outbox is opened only when it exists, and
 * every command names the file it read, so a `dlq` run against the wrong configuration (or from
 * another folder) says so instead of reporting an empty queue.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEAD_LETTER_REASONS } from '../../core/distinct-event';
import { QueueNotFoundError } from '../../core/errors';
import type { AppConfig } from '../../config/load';
import { didYouMean } from '../../config/suggest';
import type { DeadLetter, DeadLetterFilter, Queue } from '../../queue/queue';
import { createQueue } from '../../queue/create-queue';
import { redactPii } from '../../observability/logger';
import { maskedProviderEvent } from '../../observability/activity';
import { addHelp, CONFIG_ENV, DEV_ENV } from '../help';
import { exitOnConfigError, loadCliConfig } from '../load';
import { OutboxInspector } from '../../queue/sqlite-inspector';
import { formatTable } from './validate';

interface DlqFlags {
  config?: string;
  dev?: boolean;
  reason?: string;
  id?: string;
  limit?: string;
  json?: boolean;
  all?: boolean;
  showPii?: boolean;
  wait?: boolean;
  timeout?: string;
  interval?: string;
}

const REASONS = Object.keys(DEAD_LETTER_REASONS);

export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('inspect, replay and purge dead-lettered events (never creates a queue)');
  addHelp(
    dlq,
    [
      'distinct-adapter dlq list --config /etc/distinct-adapter/distinct.config.yml',
      'distinct-adapter dlq replay --reason invalid_pair --wait',
    ],
    CONFIG_ENV,
  );
  const common = (cmd: Command): Command =>
    cmd
      .option('-c, --config <file>', 'configuration file (YAML or JSON); queue.path is relative to its folder')
      .option('--dev', 'use the embedded development defaults when no config file exists')
      .option('-r, --reason <reason>', `only dead letters with this reason (${REASONS.join(', ')})`)
      .option('--id <id>', 'only the dead letter with this id');

  const list = common(dlq.command('list').description('list dead letters, newest first, with counts per reason'))
    .option('-n, --limit <n>', 'at most this many', '100')
    .option('--json', 'one JSON object per line on stdout (the summary goes to stderr)')
    .option('--show-pii', 'do not mask e-mail addresses and phone numbers')
    .action(async (flags: DlqFlags) => {
      const limit = parseCount(flags.limit ?? '100', '--limit');
      warnUnknownReason(flags.reason);
      await withQueue(flags, flags.json === true, async (queue, file) => {
        let items: DeadLetter[];
        let counts: Record<string, number>;
        let total: number;
        if (file !== null) {
          // SQLite: the page by SQL, the counts by a GROUP BY (no payload is read for them).
          items = await queue.listDeadLetters({ ...filterOf(flags), limit });
          counts = await countByReason(queue, file);
          if (flags.id !== undefined) total = (await queue.listDeadLetters(filterOf(flags))).length;
          else if (flags.reason !== undefined) total = counts[flags.reason] ?? 0;
          else total = Object.values(counts).reduce((a, b) => a + b, 0);
        } else {
          // SQS: every listing is a scan of the dead-letter queue, so scan as few times as possible.
          const everything = await queue.listDeadLetters();
          counts = countReasons(everything);
          const matching =
            flags.id === undefined && flags.reason === undefined
              ? everything
              : await queue.listDeadLetters(filterOf(flags));
          items = matching.slice(0, limit);
          total = matching.length;
        }
        const mask = (s: string): string => (flags.showPii ? s : redactPii(s));
        const summary = [
          items.length < total
            ? `showing ${items.length} of ${total} dead letter(s) (newest first; --limit ${limit})`
            : `${total} dead letter(s)`,
        ];
        if (Object.keys(counts).length > 0) {
          summary.push(
            `by reason (whole queue): ${Object.entries(counts)
              .map(([r, n]) => `${r} ${n}`)
              .join(', ')}`,
          );
        }
        if (flags.json) {
          // The provider's event (ingest-time dead letters) is masked field by field first: a
          // recipient field need not look like an address (Vonage's msisdn has no '+').
          for (const d of items) process.stdout.write(`${mask(JSON.stringify(flags.showPii ? d : maskedLetter(d)))}\n`);
          process.stderr.write(`${summary.join('\n')}\n`);
          return;
        }
        if (items.length > 0) {
          const rows = items.map((d) => [
            d.id,
            new Date(d.deadLetteredAt).toISOString(),
            d.reason,
            d.message.source,
            `${d.message.event.feature}/${d.message.event.action}`,
            mask(d.message.event.email ?? d.message.event.phone ?? d.message.event.userId ?? '-'),
            mask(d.detail).slice(0, 80),
          ]);
          process.stdout.write(
            `${formatTable(['id', 'dead-lettered at', 'reason', 'source', 'pair', 'recipient', 'detail'], rows)}\n`,
          );
        }
        process.stdout.write(`${summary.join('\n')}\n`);
      });
    });
  addHelp(
    list,
    [
      'distinct-adapter dlq list',
      'distinct-adapter dlq list --reason user_not_found --limit 20',
      'distinct-adapter dlq list --json --show-pii > dead-letters.jsonl',
    ],
    { ...CONFIG_ENV, ...DEV_ENV },
  );

  const replay = common(dlq.command('replay').description('move dead letters back to the queue (attempts reset)'))
    .option('--all', 'replay every dead letter (required when no filter is given)')
    .option(
      '--wait',
      'then show progress until every replayed event is delivered or dead again (needs a running serve/forward)',
    )
    .option('--timeout <seconds>', 'with --wait: give up after this long (exit 1)', '300')
    .option('--interval <ms>', 'with --wait: how often to look', '500')
    .action(async (flags: DlqFlags) => {
      requireFilterOrAll(flags, 'replay');
      warnUnknownReason(flags.reason);
      const timeoutMs = parseCount(flags.timeout ?? '300', '--timeout') * 1000;
      const intervalMs = Math.max(50, parseCount(flags.interval ?? '500', '--interval'));
      let keys: string[] = [];
      let afterId = 0;
      let replayed = 0;
      let file: string | null = null;
      await withQueue(flags, false, async (queue, path) => {
        file = path;
        if (flags.wait) {
          if (path === null) {
            process.stderr.write(
              `--wait reads the SQLite outbox; queue.driver ${queue.driver} is not supported (watch /metrics instead)\n`,
            );
            process.exit(2);
          }
          keys = [...new Set((await queue.listDeadLetters(filterOf(flags))).map((d: DeadLetter) => d.message.key))];
          const probe = new OutboxInspector(path);
          try {
            afterId = probe.maxDeadLetterId();
          } finally {
            probe.close();
          }
          if (isSoleOwner(queue)) {
            process.stderr.write(
              `warning: no serve or forward process has ${path} open; the replayed events wait until one starts\n`,
            );
          }
        }
        replayed = await queue.replayDeadLetters(filterOf(flags));
        process.stdout.write(
          `replayed ${replayed} dead letter(s)${flags.wait ? '' : '; a running forwarder delivers them'}\n`,
        );
      });
      // The queue is closed again before waiting, so a serve started meanwhile owns the file.
      if (flags.wait && file !== null && replayed > 0) {
        const ok = await waitForReplay(file, keys, afterId, timeoutMs, intervalMs);
        process.exit(ok ? 0 : 1);
      }
    });
  addHelp(
    replay,
    [
      'distinct-adapter dlq replay --reason invalid_pair        # after registering the pair with Distinct',
      'distinct-adapter dlq replay --id 42 --wait --timeout 60',
      'distinct-adapter dlq replay --all --wait',
    ],
    { ...CONFIG_ENV, ...DEV_ENV },
  );

  const purge = common(dlq.command('purge').description('delete dead letters for good'))
    .option('--all', 'purge every dead letter (required when no filter is given)')
    .action(async (flags: DlqFlags) => {
      requireFilterOrAll(flags, 'purge');
      warnUnknownReason(flags.reason);
      await withQueue(flags, false, async (queue) => {
        const n = await queue.purgeDeadLetters(filterOf(flags));
        process.stdout.write(`purged ${n} dead letter(s)\n`);
      });
    });
  addHelp(
    purge,
    [
      'distinct-adapter dlq purge --reason no_identifier',
      'distinct-adapter dlq purge --id 42',
      'distinct-adapter dlq purge --all',
    ],
    { ...CONFIG_ENV, ...DEV_ENV },
  );
}

function filterOf(flags: DlqFlags): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (flags.reason) filter.reason = flags.reason;
  if (flags.id) filter.id = flags.id;
  return filter;
}

function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    process.stderr.write(`${flag}: "${text}" is not a whole number\n`);
    process.exit(2);
  }
  return n;
}

function warnUnknownReason(reason: string | undefined): void {
  if (reason === undefined || REASONS.includes(reason)) return;
  process.stderr.write(
    `warning: "${reason}" is not a dead-letter reason${didYouMean(reason, REASONS)} (known: ${REASONS.join(', ')}); nothing can match it\n`,
  );
}

function requireFilterOrAll(flags: DlqFlags, verb: string): void {
  if (!flags.reason && !flags.id && !flags.all) {
    process.stderr.write(`refusing to ${verb} every dead letter: pass --reason, --id, or --all\n`);
    process.exit(2);
  }
}

/** Dead letters per reason: a cheap GROUP BY for SQLite, a scan for the other drivers. */
async function countByReason(queue: Queue, file: string | null): Promise<Record<string, number>> {
  if (file !== null) {
    const probe = new OutboxInspector(file);
    try {
      return probe.deadLetterCounts();
    } finally {
      probe.close();
    }
  }
  return countReasons(await queue.listDeadLetters());
}

function countReasons(letters: readonly DeadLetter[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of letters) counts[d.reason] = (counts[d.reason] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

function isSoleOwner(queue: Queue): boolean {
  return (queue as { isOwner?: boolean }).isOwner === true;
}

/**
 * Opens the configured queue without ever creating it, names it, and runs `fn`. `file` is the
 * SQLite file, or null for the SQS driver. The name goes to stderr when stdout carries data.
 */
async function withQueue(
  flags: DlqFlags,
  quiet: boolean,
  fn: (queue: Queue, file: string | null) => Promise<void>,
): Promise<void> {
  let config: AppConfig;
  try {
    config = loadCliConfig(flags, { writeDevCredentials: false });
  } catch (err) {
    exitOnConfigError(err);
  }
  const from = config.path === null ? 'the embedded development defaults' : config.path;
  if (config.queue.driver === 'memory') {
    process.stderr.write(
      `queue.driver is memory (in ${from}): its dead letters live only inside the serving process; there is nothing to read\n`,
    );
    process.exit(1);
  }
  const file = config.queue.driver === 'sqlite' ? resolve(config.queue.path) : null;
  const name =
    file !== null
      ? `queue: ${file} (sqlite, queue.path in ${from})`
      : `queue: ${config.queue.sqs?.deadLetterQueueUrl ?? '?'} (sqs)`;
  (quiet ? process.stderr : process.stdout).write(`${name}\n`);
  let queue: Queue;
  try {
    queue = createQueue({ ...config.queue, dedupeWindowMs: config.dedupe.windowMs, mustExist: true });
  } catch (err) {
    if (err instanceof QueueNotFoundError) {
      process.stderr.write(
        `${err.code}: no queue at ${err.path}; dlq never creates one.\n` +
          `queue.path comes from ${from}${config.path === null ? ' (relative to the current directory)' : ' (relative paths are resolved against its folder)'}.\n` +
          'Point --config (or DISTINCT_ADAPTER_CONFIG) at the configuration serve runs with.\n',
      );
      process.exit(1);
    }
    throw err;
  }
  try {
    await fn(queue, file);
  } finally {
    await queue.close();
  }
}

/** Polls the outbox until every replayed key is delivered (gone) or dead again; true when all were delivered. */
async function waitForReplay(
  file: string,
  keys: readonly string[],
  afterId: number,
  timeoutMs: number,
  intervalMs: number,
): Promise<boolean> {
  const started = Date.now();
  const total = keys.length;
  let last = '';
  let lastPrintedAt = 0;
  for (;;) {
    const probe = new OutboxInspector(file);
    let progress;
    try {
      progress = probe.progress(keys, afterId);
    } finally {
      probe.close();
    }
    const dead = Object.values(progress.deadAgain).reduce((a, b) => a + b, 0);
    const delivered = Math.max(0, total - progress.pending - dead);
    const reasons = Object.entries(progress.deadAgain)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    const line = `${delivered}/${total} delivered, ${dead} dead again${reasons ? ` (${reasons})` : ''}, ${progress.pending} pending`;
    const elapsed = Date.now() - started;
    if (progress.pending === 0) {
      process.stdout.write(`done after ${(elapsed / 1000).toFixed(1)}s: ${line}\n`);
      if (dead > 0) process.stdout.write('see them with: distinct-adapter dlq list\n');
      return dead === 0;
    }
    if (line !== last || Date.now() - lastPrintedAt >= 5_000) {
      process.stdout.write(`waiting ${(elapsed / 1000).toFixed(0)}s: ${line}\n`);
      last = line;
      lastPrintedAt = Date.now();
    }
    if (elapsed >= timeoutMs) {
      process.stdout.write(
        `timed out after ${(timeoutMs / 1000).toFixed(0)}s with ${progress.pending} still pending (is serve or forward running on this queue?)\n`,
      );
      return false;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The dead letter with the provider's event (when kept) masked field by field. */
function maskedLetter(d: DeadLetter): DeadLetter {
  if (d.message.raw === undefined) return d;
  return { ...d, message: { ...d.message, raw: maskedProviderEvent(d.message.raw) } };
}
