/**
 * The SQLite outbox's schema (sqlite-queue.ts): the tables and indexes, their migrations (the
 * version is kept in `PRAGMA user_version`), and the statements the queue prepares over them.
 */
import type BetterSqlite3 from 'better-sqlite3';

/** Current schema version, kept in `PRAGMA user_version`. */
export const SQLITE_SCHEMA_VERSION = 1;

/** `MIGRATIONS[v]` takes the schema from version v to v + 1; append, never edit. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,          -- JSON of QueueMessage
    enqueued_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    leased_at INTEGER,              -- claim time while in flight; cleared when the owner opens the file
    last_error TEXT
  );
  -- claim() and nextDueInMs() read only due, unleased rows
  CREATE INDEX outbox_due ON outbox (due_at) WHERE leased_at IS NULL;
  -- stats().inFlight without scanning the backlog
  CREATE INDEX outbox_leased ON outbox (leased_at) WHERE leased_at IS NOT NULL;

  -- AUTOINCREMENT: operators address dead letters by id, so ids are never reused
  CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    dead_lettered_at INTEGER NOT NULL
  );
  CREATE INDEX dead_letters_reason ON dead_letters (reason);

  CREATE TABLE dedupe (key TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID;
  -- pruning walks the oldest keys first
  CREATE INDEX dedupe_seen_at ON dedupe (seen_at);
  `,
];

export interface DueRow {
  id: number;
  payload: string;
  attempts: number;
  enqueuedAt: number;
  dueAt: number;
}

export interface DeadLetterRow {
  id: number;
  payload: string;
  reason: string;
  detail: string;
  attempts: number;
  deadLetteredAt: number;
}

/** Named parameters of the dead-letter filter statements. */
export interface FilterParams {
  reason: string | null;
  id: number | null;
  limit: number;
}

type Run<P extends unknown[]> = BetterSqlite3.Statement<P, unknown>;

export interface Statements {
  pruneDedupe: Run<[number, number]>;
  insertDeadLetter: Run<[string, string, string, string, number, number]>;
  claimDue: BetterSqlite3.Statement<[number, number, number], DueRow>;
  deleteLeased: Run<[number]>;
  deleteLeasedMany: Run<[string]>;
  retry: Run<[number, string, number]>;
  release: Run<[number, number]>;
  leasedToDeadLetters: Run<[string, string, number, number]>;
  nextDue: BetterSqlite3.Statement<[], number | null>;
  countWaiting: BetterSqlite3.Statement<[], number>;
  countLeased: BetterSqlite3.Statement<[], number>;
  countDeadLetters: BetterSqlite3.Statement<[], number>;
  countDeadLettersByReason: BetterSqlite3.Statement<[], { reason: string; n: number }>;
  oldestEnqueuedAt: BetterSqlite3.Statement<[], number>;
  listDeadLetters: BetterSqlite3.Statement<[FilterParams], DeadLetterRow>;
  replayDeadLetters: BetterSqlite3.Statement<[FilterParams & { now: number }], unknown>;
  deleteDeadLetters: BetterSqlite3.Statement<[FilterParams], unknown>;
}

const DEAD_LETTER_FILTER = '(@reason IS NULL OR reason = @reason) AND (@id IS NULL OR id = @id)';
export const COUNT_DEAD_LETTERS_BY_REASON =
  'SELECT reason, count(*) AS n FROM dead_letters GROUP BY reason ORDER BY reason';
const MATCHING_DEAD_LETTER_IDS = `SELECT id FROM dead_letters WHERE ${DEAD_LETTER_FILTER} ORDER BY id DESC LIMIT @limit`;

/** Creates the schema in a new file, or brings an older one up to {@link SQLITE_SCHEMA_VERSION}; refuses a newer one. */
export function migrate(db: BetterSqlite3.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true });
  if (typeof version !== 'number') throw new Error(`cannot read the schema version of ${file}`);
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new Error(
      `${file} has outbox schema version ${version}, newer than this build understands (${SQLITE_SCHEMA_VERSION}); upgrade the adapter`,
    );
  }
  if (version === SQLITE_SCHEMA_VERSION) return;
  db.transaction(() => {
    for (const step of MIGRATIONS.slice(version, SQLITE_SCHEMA_VERSION)) db.exec(step);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}

/** The queue's statements, prepared once per connection. */
export function prepareStatements(db: BetterSqlite3.Database): Statements {
  return {
    pruneDedupe: db.prepare(
      'DELETE FROM dedupe WHERE key IN (SELECT key FROM dedupe WHERE seen_at <= ? ORDER BY seen_at LIMIT ?)',
    ),
    insertDeadLetter: db.prepare(
      'INSERT INTO dead_letters (key, payload, reason, detail, attempts, dead_lettered_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    claimDue: db.prepare(
      'UPDATE outbox SET leased_at = ? WHERE id IN (SELECT id FROM outbox WHERE leased_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?) ' +
        'RETURNING id, payload, attempts, enqueued_at AS enqueuedAt, due_at AS dueAt',
    ),
    // Every lease operation requires the row to be leased, so a stale handle cannot touch a row
    // somebody else owns.
    deleteLeased: db.prepare('DELETE FROM outbox WHERE id = ? AND leased_at IS NOT NULL'),
    deleteLeasedMany: db.prepare(
      'DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?)) AND leased_at IS NOT NULL',
    ),
    retry: db.prepare(
      'UPDATE outbox SET attempts = attempts + 1, due_at = ?, last_error = ?, leased_at = NULL WHERE id = ? AND leased_at IS NOT NULL',
    ),
    release: db.prepare('UPDATE outbox SET due_at = ?, leased_at = NULL WHERE id = ? AND leased_at IS NOT NULL'),
    leasedToDeadLetters: db.prepare(
      'INSERT INTO dead_letters (key, payload, reason, detail, attempts, dead_lettered_at) SELECT key, payload, ?, ?, attempts, ? FROM outbox WHERE id = ? AND leased_at IS NOT NULL',
    ),
    nextDue: db.prepare<[], number | null>('SELECT min(due_at) FROM outbox WHERE leased_at IS NULL').pluck(),
    // Counted through the partial indexes: a bare count(*) reads every page of the table
    // (about 10x slower with 100k queued).
    countWaiting: db.prepare<[], number>('SELECT count(*) FROM outbox WHERE leased_at IS NULL').pluck(),
    countLeased: db.prepare<[], number>('SELECT count(*) FROM outbox WHERE leased_at IS NOT NULL').pluck(),
    countDeadLetters: db.prepare<[], number>('SELECT count(*) FROM dead_letters').pluck(),
    // Walks the reason index, not the payloads.
    countDeadLettersByReason: db.prepare<[], { reason: string; n: number }>(COUNT_DEAD_LETTERS_BY_REASON),
    // Lowest id = first enqueued (ids and the clock both grow), read from the primary key in O(1)
    // instead of scanning the backlog for min(enqueued_at).
    oldestEnqueuedAt: db.prepare<[], number>('SELECT enqueued_at FROM outbox ORDER BY id LIMIT 1').pluck(),
    listDeadLetters: db.prepare(
      `SELECT id, payload, reason, detail, attempts, dead_lettered_at AS deadLetteredAt FROM dead_letters WHERE ${DEAD_LETTER_FILTER} ORDER BY id DESC LIMIT @limit`,
    ),
    replayDeadLetters: db.prepare(
      `INSERT INTO outbox (key, payload, enqueued_at, due_at, attempts) SELECT key, payload, @now, @now, 0 FROM dead_letters WHERE id IN (${MATCHING_DEAD_LETTER_IDS}) ORDER BY id`,
    ),
    deleteDeadLetters: db.prepare(`DELETE FROM dead_letters WHERE id IN (${MATCHING_DEAD_LETTER_IDS})`),
  };
}
