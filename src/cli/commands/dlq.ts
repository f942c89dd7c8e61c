/** `dlq list|replay|purge`: inspect and replay dead-lettered events. */
import type { Command } from 'commander';
import type { AppConfig } from '../../config/load';
import type { DeadLetterFilter } from '../../queue/queue';
import { createQueue } from '../../queue/create-queue';
import { redactPii } from '../../observability/logger';
import { exitOnConfigError, loadCliConfig } from '../load';
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
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('inspect, replay and purge dead-lettered events');
  const common = (cmd: Command): Command =>
    cmd
      .option('-c, --config <file>', 'configuration file (YAML or JSON)')
      .option('--dev', 'use the embedded development defaults when no config file exists')
      .option('-r, --reason <reason>', 'only dead letters with this reason (no_identifier, invalid_pair, …)')
      .option('--id <id>', 'only the dead letter with this id');

  common(dlq.command('list').description('list dead letters, newest first'))
    .option('-n, --limit <n>', 'at most this many', '100')
    .option('--json', 'one JSON object per line')
    .option('--show-pii', 'do not mask e-mail addresses and phone numbers')
    .action(async (flags: DlqFlags) => {
      await withQueue(flags, async (queue) => {
        const items = await queue.listDeadLetters({ ...filterOf(flags), limit: Number(flags.limit ?? 100) });
        const mask = (s: string): string => (flags.showPii ? s : redactPii(s));
        if (flags.json) {
          for (const d of items) process.stdout.write(`${mask(JSON.stringify(d))}\n`);
          return;
        }
        const rows = items.map((d) => [
          d.id,
          new Date(d.deadLetteredAt).toISOString(),
          d.reason,
          d.message.source,
          `${d.message.event.feature}/${d.message.event.action}`,
          mask(d.message.event.email ?? d.message.event.phone ?? d.message.event.userId ?? '-'),
          mask(d.detail).slice(0, 80),
        ]);
        process.stdout.write(`${formatTable(['id', 'dead-lettered at', 'reason', 'source', 'pair', 'recipient', 'detail'], rows)}\n`);
        process.stdout.write(`${items.length} dead letter(s)\n`);
      });
    });

  common(dlq.command('replay').description('move dead letters back to the queue (attempts reset)'))
    .option('--all', 'replay every dead letter (required when no filter is given)')
    .action(async (flags: DlqFlags) => {
      requireFilterOrAll(flags, 'replay');
      await withQueue(flags, async (queue) => {
        const n = await queue.replayDeadLetters(filterOf(flags));
        process.stdout.write(`replayed ${n} dead letter(s); a running forwarder delivers them\n`);
      });
    });

  common(dlq.command('purge').description('delete dead letters for good'))
    .option('--all', 'purge every dead letter (required when no filter is given)')
    .action(async (flags: DlqFlags) => {
      requireFilterOrAll(flags, 'purge');
      await withQueue(flags, async (queue) => {
        const n = await queue.purgeDeadLetters(filterOf(flags));
        process.stdout.write(`purged ${n} dead letter(s)\n`);
      });
    });
}

function filterOf(flags: DlqFlags): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (flags.reason) filter.reason = flags.reason;
  if (flags.id) filter.id = flags.id;
  return filter;
}

function requireFilterOrAll(flags: DlqFlags, verb: string): void {
  if (!flags.reason && !flags.id && !flags.all) {
    process.stderr.write(`refusing to ${verb} every dead letter: pass --reason, --id, or --all\n`);
    process.exit(2);
  }
}

async function withQueue(flags: DlqFlags, fn: (queue: ReturnType<typeof createQueue>) => Promise<void>): Promise<void> {
  let config: AppConfig;
  try {
    config = loadCliConfig(flags);
  } catch (err) {
    exitOnConfigError(err);
  }
  const queue = createQueue({ ...config.queue, dedupeWindowMs: config.dedupe.windowMs });
  try {
    await fn(queue);
  } finally {
    await queue.close();
  }
}
