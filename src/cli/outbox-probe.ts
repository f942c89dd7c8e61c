/**
 * A read-only look into an SQLite outbox for the `dlq` commands: dead letters counted by reason
 * without reading their payloads, and where replayed events are now (queued, delivered, dead
 * again). Opened read-only and never created; it takes no ownership lock, so a running `serve`
 * keeps owning (and forwarding from) the file while `dlq replay --wait` watches it.
 *
 * It reads the outbox schema of src/queue/sqlite-queue.ts (version SQLITE_SCHEMA_VERSION) and
 * refuses any other version.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { SQLITE_SCHEMA_VERSION } from '../queue/sqlite-queue';

export interface ReplayProgress {
  /** Still in the outbox (waiting, in flight or retrying). */
  pending: number;
  /** Dead-lettered again since the replay, by reason. */
  deadAgain: Record<string, number>;
}

export class OutboxProbe {
  private readonly db: BetterSqlite3.Database;

  constructor(file: string) {
    const Database = require('better-sqlite3') as typeof BetterSqlite3;
    this.db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
    const version = this.db.pragma('user_version', { simple: true });
    if (version !== SQLITE_SCHEMA_VERSION) {
      this.db.close();
      throw new Error(`${file} has outbox schema version ${String(version)}; this build reads version ${SQLITE_SCHEMA_VERSION}`);
    }
  }

  /** Dead letters per reason (the whole queue). */
  deadLetterCounts(): Record<string, number> {
    const rows = this.db.prepare('SELECT reason, count(*) AS n FROM dead_letters GROUP BY reason ORDER BY reason').all() as Array<{
      reason: string;
      n: number;
    }>;
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  /** The highest dead-letter id so far (ids are never reused), 0 when there was none. */
  maxDeadLetterId(): number {
    return (this.db.prepare("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'dead_letters'").pluck().get() as number) ?? 0;
  }

  /** Where the events with these de-duplication keys are, counting dead letters newer than `afterId` only. */
  progress(keys: readonly string[], afterId: number): ReplayProgress {
    const json = JSON.stringify(keys);
    const pending = this.db
      .prepare('SELECT count(*) FROM outbox WHERE key IN (SELECT value FROM json_each(?))')
      .pluck()
      .get(json) as number;
    const rows = this.db
      .prepare('SELECT reason, count(DISTINCT key) AS n FROM dead_letters WHERE id > ? AND key IN (SELECT value FROM json_each(?)) GROUP BY reason')
      .all(afterId, json) as Array<{ reason: string; n: number }>;
    return { pending, deadAgain: Object.fromEntries(rows.map((r) => [r.reason, r.n])) };
  }

  close(): void {
    this.db.close();
  }
}
