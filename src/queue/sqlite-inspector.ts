/**
 * The one read-only look into an SQLite outbox, for the operator commands: `status` (counts) and
 * `dlq` (dead letters by reason without reading their payloads, and where replayed events are
 * now: queued, delivered, dead again). The file is opened read-only and never created (nor its
 * directory); it takes no ownership lock and never touches leases, so a running `serve` keeps
 * owning (and forwarding from) the file meanwhile. It reads schema version
 * SQLITE_SCHEMA_VERSION (sqlite-schema.ts) and refuses any other.
 */
import fs from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import type { QueueStats } from './queue';
import { COUNT_DEAD_LETTERS_BY_REASON, SQLITE_SCHEMA_VERSION } from './sqlite-schema';

/** What {@link inspectSqliteQueue} reads. */
export interface SqliteQueueSnapshot {
  stats: QueueStats;
  deadLettersByReason: Record<string, number>;
}

export interface ReplayProgress {
  /** Still in the outbox (waiting, in flight or retrying). */
  pending: number;
  /** Dead-lettered again since the replay, by reason. */
  deadAgain: Record<string, number>;
}

/** A read-only connection to an outbox file (see the file header). */
export class OutboxInspector {
  private readonly db: BetterSqlite3.Database;

  /** @throws when the file does not exist or is not an outbox of this schema version. */
  constructor(file: string) {
    if (!fs.existsSync(file)) throw new Error(`${file}: no such queue file`);
    const Database = require('better-sqlite3') as typeof BetterSqlite3;
    this.db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
    const version = this.db.pragma('user_version', { simple: true });
    if (version !== SQLITE_SCHEMA_VERSION) {
      this.db.close();
      throw new Error(`${file}: not an outbox of schema version ${SQLITE_SCHEMA_VERSION} (found ${String(version)})`);
    }
  }

  /** The queue's counts, read in one transaction (`status`). */
  snapshot(now: number = Date.now()): SqliteQueueSnapshot {
    const db = this.db;
    return db
      .transaction((): SqliteQueueSnapshot => {
        const count = (sql: string): number => db.prepare<[], number>(sql).pluck().get() ?? 0;
        const inFlight = count('SELECT count(*) FROM outbox WHERE leased_at IS NOT NULL');
        const oldest = db.prepare<[], number>('SELECT enqueued_at FROM outbox ORDER BY id LIMIT 1').pluck().get();
        return {
          stats: {
            depth: count('SELECT count(*) FROM outbox WHERE leased_at IS NULL') + inFlight,
            inFlight,
            deadLettered: count('SELECT count(*) FROM dead_letters'),
            oldestAgeMs: oldest === undefined ? 0 : Math.max(0, now - oldest),
          },
          deadLettersByReason: this.deadLetterCounts(),
        };
      })
      .deferred();
  }

  /** Dead letters per reason (the whole queue). */
  deadLetterCounts(): Record<string, number> {
    const rows = this.db.prepare<[], { reason: string; n: number }>(COUNT_DEAD_LETTERS_BY_REASON).all();
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  /** The highest dead-letter id so far (ids are never reused), 0 when there was none. */
  maxDeadLetterId(): number {
    return (
      (this.db
        .prepare("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'dead_letters'")
        .pluck()
        .get() as number) ?? 0
    );
  }

  /** Where the events with these de-duplication keys are, counting dead letters newer than `afterId` only. */
  progress(keys: readonly string[], afterId: number): ReplayProgress {
    const json = JSON.stringify(keys);
    const pending = this.db
      .prepare('SELECT count(*) FROM outbox WHERE key IN (SELECT value FROM json_each(?))')
      .pluck()
      .get(json) as number;
    const rows = this.db
      .prepare(
        'SELECT reason, count(DISTINCT key) AS n FROM dead_letters WHERE id > ? AND key IN (SELECT value FROM json_each(?)) GROUP BY reason',
      )
      .all(afterId, json) as Array<{ reason: string; n: number }>;
    return { pending, deadAgain: Object.fromEntries(rows.map((r) => [r.reason, r.n])) };
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Reads the queue's counts from `file` without opening it as a queue (`status`).
 * @throws when the file does not exist or is not an outbox.
 */
export function inspectSqliteQueue(file: string, now: number = Date.now()): SqliteQueueSnapshot {
  const inspector = new OutboxInspector(file);
  try {
    return inspector.snapshot(now);
  } finally {
    inspector.close();
  }
}
