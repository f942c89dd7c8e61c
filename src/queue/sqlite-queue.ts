/**
 * The default embedded queue: an SQLite outbox (better-sqlite3, WAL) owned by one process.
 *
 * - Ack-after-persist with group commit: writes made in the same event-loop turn (`enqueue`
 *   calls, and claims and settles from the forwarder) are committed in ONE transaction, flushed
 *   by `setImmediate`; each caller's promise settles only after that commit, and each call has
 *   its own savepoint so one failing call does not undo the others. better-sqlite3 commits
 *   synchronously, so one fsync per turn instead of one per call is what keeps ingest near
 *   bare-express throughput while the forwarder runs in the same process.
 * - De-duplication is atomic with the write: the key goes into `dedupe` first (insert, or
 *   refresh when expired) and the message is stored only when that changed a row. Expired keys
 *   are pruned in small batches inside normal write transactions, never in a separate sweep.
 * - One process owns the file. Leases are columns of the outbox; the owner clears them when it
 *   opens the file, so after a crash every claimed-but-unfinished row is due again. Ownership is
 *   an exclusive SQLite lock on `<path>-owner`, held while the queue is open and dropped by the
 *   OS when the process dies (even on SIGKILL). A queue opened while another live one owns the
 *   file (e.g. `distinct-adapter dlq` beside `serve`) is not the owner and leaves leases alone,
 *   so it cannot cause double deliveries. Run one forwarding process per file; scale out with
 *   the `sqs` driver.
 * - The backlog stays on disk: rows are read only when claimed, statements are prepared once
 *   (100,000 queued events: RSS flat at about 140 MB, JS heap about 4 MB).
 * - `DeadLetter.attempts` is the number of failed attempts recorded through `retry()`; the
 *   attempt that led to `deadLetter()` itself is not counted (it may not have been made).
 * - Replay bypasses de-duplication (the key stays remembered) and restarts `enqueued_at`, so a
 *   replayed message is not immediately too old for `retry.maxAgeMs`.
 * - better-sqlite3 is required in the constructor, not at import, so bundles that never open an
 *   SQLite queue (Lambda + SQS) never load the native module.
 *
 * Beside it: sqlite-schema.ts (tables, migrations, statements), sqlite-group-commit.ts (the
 * group commit) and sqlite-inspector.ts (the read-only reader `status` and `dlq` use).
 */
import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from '../core/distinct-event';
import { InternalError, QueueNotFoundError, QueueWriteError } from '../core/errors';
import type {
  DeadLetter,
  DeadLetterFilter,
  EnqueueItem,
  EnqueueResult,
  Lease,
  Queue,
  QueueMessage,
  QueueStats,
} from './queue';
import { EnqueueListeners } from './enqueue-listeners';
import { GroupCommit } from './sqlite-group-commit';
import {
  type DeadLetterRow,
  type DueRow,
  type FilterParams,
  migrate,
  prepareStatements,
  type Statements,
} from './sqlite-schema';

/** Options of {@link SqliteQueue}. */
export interface SqliteQueueOptions {
  /** Database file; its directory is created when missing. */
  path: string;
  /** SQLite `synchronous`: `full` (default) survives power loss, `normal` survives process crashes (WAL). */
  synchronous?: 'full' | 'normal';
  /** How long a de-duplication key is remembered, in ms. */
  dedupeWindowMs: number;
  /** Clock in ms since epoch; injectable for tests. */
  now?: () => number;
  /** How long a write waits for a lock held by another connection, in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Open an existing outbox only (never create the file or its folder): the `dlq` commands. */
  mustExist?: boolean;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/** Expired de-duplication keys are pruned at most this often while nothing is left over... */
const PRUNE_INTERVAL_MS = 60_000;
/** ...and at most this many per transaction, so the hot path never does unbounded work. */
const PRUNE_BATCH = 500;
/** Below this much free disk space the queue reports itself not writable (readiness). */
const FREE_SPACE_FLOOR_BYTES = 1024 * 1024;
/** `LIMIT -1` is SQLite for "no limit". */
const NO_LIMIT = -1;
/** Rows per multi-row statement of an enqueue; a shorter remainder gets a statement of its own size. */
const ROWS_PER_STATEMENT = 64;

const SYNCHRONOUS_PRAGMA = { full: 'FULL', normal: 'NORMAL' } as const;

/** One item serialized at `enqueue` time (later mutations by the caller do not leak in). */
interface PreparedItem {
  key: string;
  payload: string;
  deadLetter?: { reason: DeadLetterReason; detail: string };
}

/** The SQLite outbox driver (see the file header for its guarantees). */
export class SqliteQueue implements Queue {
  readonly driver = 'sqlite';
  private readonly db: BetterSqlite3.Database;
  private readonly stmts: Statements;
  private readonly now: () => number;
  private readonly dedupeWindowMs: number;
  private readonly busyTimeoutMs: number;
  private readonly directory: string;
  private readonly listeners = new EnqueueListeners();
  /** Multi-row enqueue statements by row count, prepared on first use. */
  private readonly dedupeUpserts = new Map<number, BetterSqlite3.Statement<unknown[], string>>();
  private readonly outboxInserts = new Map<number, BetterSqlite3.Statement<unknown[], unknown>>();
  /** Open connection to `<path>-owner` holding the ownership lock; null when not the owner. */
  private readonly ownerLock: BetterSqlite3.Database | null;
  private readonly group: GroupCommit;
  /** Set by writes that made messages due; listeners are told after the commit. */
  private madeDue = false;
  private nextPruneAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  /** Opens (creating or migrating) the outbox; as the owner, makes every leased row due again. */
  constructor(options: SqliteQueueOptions) {
    this.now = options.now ?? Date.now;
    this.dedupeWindowMs = options.dedupeWindowMs;
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    const file = path.resolve(options.path);
    this.directory = path.dirname(file);
    if (options.mustExist && !fs.existsSync(file)) throw new QueueNotFoundError(file);
    fs.mkdirSync(this.directory, { recursive: true });

    // Lazy on purpose: see the file header.
    const Database = require('better-sqlite3') as typeof BetterSqlite3;
    const ownerLock = acquireOwnership(Database, file);
    let db: BetterSqlite3.Database | undefined;
    try {
      db = new Database(file, { timeout: this.busyTimeoutMs, fileMustExist: options.mustExist === true });
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${SYNCHRONOUS_PRAGMA[options.synchronous ?? 'full']}`);
      db.pragma(`busy_timeout = ${Math.floor(this.busyTimeoutMs)}`);
      // Checkpoint every ~40 MB of WAL instead of ~4 MB: random de-duplication keys dirty many
      // pages per commit, and a page rewritten between checkpoints is copied to the file once.
      db.pragma('wal_autocheckpoint = 10000');
      // ...and give the disk space back once a checkpoint has emptied the WAL.
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      // Each write's savepoint journals the pages it changes; keep that journal in memory
      // instead of spilling it to a temporary file past 64 KB (an enqueue of 100 events does).
      db.pragma('temp_store = MEMORY');
      migrate(db, file);
      if (ownerLock) {
        // Whatever is in flight belongs to a previous owner, and that process is gone.
        db.prepare('UPDATE outbox SET leased_at = NULL WHERE leased_at IS NOT NULL').run();
      }
      this.stmts = prepareStatements(db);
    } catch (err) {
      db?.close();
      ownerLock?.close();
      throw err;
    }
    this.db = db;
    this.ownerLock = ownerLock;
    this.group = new GroupCommit(db, (options.synchronous ?? 'full') === 'full', {
      starting: () => {
        this.madeDue = false;
      },
      inTransaction: () => this.pruneDedupe(this.now()),
      committed: () => {
        if (this.madeDue) this.listeners.notify();
      },
    });
  }

  /** True when this queue owns the file (recovered leases at open); false beside a live owner. */
  get isOwner(): boolean {
    return this.ownerLock !== null;
  }

  /** Write transactions committed (group commit makes this far fewer than write calls). */
  get commits(): number {
    return this.group.commits;
  }

  enqueue(items: readonly EnqueueItem[]): Promise<EnqueueResult> {
    if (this.closed) return Promise.reject(new QueueWriteError('the queue is closed'));
    if (items.length === 0) return Promise.resolve({ queued: 0, deadLettered: 0, duplicates: 0 });
    let prepared: PreparedItem[];
    try {
      prepared = items.map(prepareItem);
    } catch (err) {
      // Not a storage problem: a message that cannot be serialized is a bug upstream.
      return Promise.reject(new InternalError({ cause: err }));
    }
    const now = this.now();
    return this.write(
      () => this.insertItems(prepared, now),
      (err) =>
        new QueueWriteError(`could not persist ${prepared.length} event(s): ${describeSqliteError(err)}`, {
          cause: err,
        }),
      true,
    );
  }

  async claim(limit: number): Promise<Lease[]> {
    if (!Number.isInteger(limit) || limit <= 0) {
      this.assertOpen();
      return [];
    }
    const now = this.now();
    // One statement marks and returns the rows; RETURNING has no order, so sort them here.
    const rows = await this.write(() => this.stmts.claimDue.all(now, now, limit));
    rows.sort(byDueThenId);
    // Parsed after the commit: a corrupt row stays leased (until the next open) instead of
    // failing every future claim.
    return rows.map((row) => ({
      handle: String(row.id),
      message: parseMessage(row.payload, row.id),
      attempts: row.attempts,
      enqueuedAt: row.enqueuedAt,
    }));
  }

  /** Completes asked for in this event-loop turn, deleted by one statement in one savepoint. */
  private completing: { ids: number[]; done: Promise<void> } | null = null;

  async complete(lease: Lease): Promise<void> {
    const id = parseHandle(lease);
    const open = this.completing;
    if (open) {
      open.ids.push(id);
      return open.done;
    }
    const batch = { ids: [id], done: Promise.resolve() };
    // Sealed when the group commit runs it (or fails it): later completes start a new batch.
    const seal = (): void => {
      if (this.completing === batch) this.completing = null;
    };
    batch.done = this.write(() => {
      seal();
      this.stmts.deleteLeasedMany.run(JSON.stringify(batch.ids));
    }).finally(seal);
    if (!this.closed) this.completing = batch;
    return batch.done;
  }

  async retry(lease: Lease, delayMs: number, lastError: string): Promise<void> {
    const id = parseHandle(lease);
    const dueAt = this.now() + Math.max(0, delayMs);
    await this.write(() => this.stmts.retry.run(dueAt, lastError, id));
  }

  async release(lease: Lease, delayMs = 0): Promise<void> {
    const id = parseHandle(lease);
    const dueAt = this.now() + Math.max(0, delayMs);
    await this.write(() => this.stmts.release.run(dueAt, id));
  }

  async deadLetter(lease: Lease, reason: DeadLetterReason, detail: string): Promise<void> {
    const id = parseHandle(lease);
    const now = this.now();
    await this.write(() => {
      if (this.stmts.leasedToDeadLetters.run(reason, detail, now, id).changes > 0) this.stmts.deleteLeased.run(id);
    });
  }

  async nextDueInMs(): Promise<number | null> {
    this.assertOpen();
    const dueAt = this.stmts.nextDue.get() ?? null;
    return dueAt === null ? null : Math.max(0, dueAt - this.now());
  }

  onEnqueued(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  async stats(): Promise<QueueStats> {
    this.assertOpen();
    const now = this.now();
    return this.db
      .transaction((): QueueStats => {
        const oldest = this.stmts.oldestEnqueuedAt.get();
        const inFlight = this.stmts.countLeased.get() ?? 0;
        return {
          depth: (this.stmts.countWaiting.get() ?? 0) + inFlight,
          inFlight,
          deadLettered: this.stmts.countDeadLetters.get() ?? 0,
          oldestAgeMs: oldest === undefined ? 0 : Math.max(0, now - oldest),
        };
      })
      .deferred();
  }

  async isWritable(): Promise<boolean> {
    if (this.closed || this.db.readonly) return false;
    try {
      // A full disk makes every commit fail while BEGIN/ROLLBACK still succeed.
      const space = fs.statfsSync(this.directory);
      if (space.bavail * space.bsize < FREE_SPACE_FLOOR_BYTES) return false;
      // Probe without waiting: a readiness check must not block the event loop for busy_timeout.
      this.db.pragma('busy_timeout = 0');
      try {
        this.db.exec('BEGIN IMMEDIATE');
        this.db.exec('ROLLBACK');
      } finally {
        this.db.pragma(`busy_timeout = ${Math.floor(this.busyTimeoutMs)}`);
      }
      return true;
    } catch {
      return false;
    }
  }

  async deadLetterCounts(): Promise<Record<string, number>> {
    this.assertOpen();
    const counts: Record<string, number> = {};
    for (const row of this.stmts.countDeadLettersByReason.all()) counts[row.reason] = row.n;
    return counts;
  }

  async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    this.assertOpen();
    const params = filterParams(filter);
    if (params === null) return [];
    return this.stmts.listDeadLetters.all(params).map(toDeadLetter);
  }

  async replayDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    const params = filterParams(filter);
    if (params === null) {
      this.assertOpen();
      return 0;
    }
    const now = this.now();
    // Bypasses `dedupe` on purpose: the key is still remembered, and the replayed message must
    // not be rejected as its own duplicate. enqueued_at restarts so max-age counts from now.
    return this.write(() => {
      const moved = this.stmts.replayDeadLetters.run({ ...params, now }).changes;
      this.stmts.deleteDeadLetters.run(params);
      if (moved > 0) this.madeDue = true;
      return moved;
    });
  }

  async purgeDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    const params = filterParams(filter);
    if (params === null) {
      this.assertOpen();
      return 0;
    }
    return this.write(() => this.stmts.deleteDeadLetters.run(params).changes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.group.flush(); // acknowledged callers must not lose their group commit
    this.closed = true;
    this.listeners.clear();
    this.db.close();
    this.ownerLock?.close(); // last: the file is consistent before another process may own it
  }

  /** Queues a write for the next group commit (see sqlite-group-commit.ts). */
  private write<T>(run: () => T, wrapError: (err: unknown) => unknown = (err) => err, durable = false): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the queue is closed'));
    return this.group.write(run, wrapError, durable);
  }

  /** One `enqueue` call, inside the batch transaction. */
  private insertItems(items: readonly PreparedItem[], now: number): EnqueueResult {
    const expiredBefore = now - this.dedupeWindowMs;
    const result: EnqueueResult = { queued: 0, deadLettered: 0, duplicates: 0 };
    // One statement per ROWS_PER_STATEMENT items instead of two per item: per-statement work
    // was a large part of an enqueue's cost.
    const outboxRows: Array<string | number> = [];
    for (let start = 0; start < items.length; start += ROWS_PER_STATEMENT) {
      const chunk = items.slice(start, start + ROWS_PER_STATEMENT);
      const keyRows: Array<string | number> = [];
      for (const item of chunk) keyRows.push(item.key, now);
      keyRows.push(expiredBefore);
      // Inserts each key, or refreshes it when it expired but was not pruned yet; RETURNING names
      // the keys that changed a row. Any other key was seen within the window (also earlier in
      // this same call or batch), and a key repeated in the chunk is new for its first item only.
      const fresh = new Set(this.dedupeUpsert(chunk.length).all(keyRows));
      for (const item of chunk) {
        if (!fresh.delete(item.key)) {
          result.duplicates += 1;
        } else if (item.deadLetter) {
          this.stmts.insertDeadLetter.run(
            item.key,
            item.payload,
            item.deadLetter.reason,
            item.deadLetter.detail,
            0,
            now,
          );
          result.deadLettered += 1;
        } else {
          outboxRows.push(item.key, item.payload, now, now);
          result.queued += 1;
        }
      }
    }
    for (let start = 0; start < outboxRows.length; start += ROWS_PER_STATEMENT * 4) {
      const rows = outboxRows.slice(start, start + ROWS_PER_STATEMENT * 4);
      this.outboxInsert(rows.length / 4).run(rows);
    }
    if (result.queued > 0) this.madeDue = true;
    return result;
  }

  /** `INSERT INTO dedupe` of `rows` keys (parameters: key, seen_at per row, then the expiry bound), returning the keys that changed a row. */
  private dedupeUpsert(rows: number): BetterSqlite3.Statement<unknown[], string> {
    let stmt = this.dedupeUpserts.get(rows);
    if (!stmt) {
      stmt = this.db
        .prepare<unknown[], string>(
          `INSERT INTO dedupe (key, seen_at) VALUES ${Array(rows).fill('(?, ?)').join(', ')} ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at WHERE dedupe.seen_at <= ? RETURNING key`,
        )
        .pluck();
      this.dedupeUpserts.set(rows, stmt);
    }
    return stmt;
  }

  /** `INSERT INTO outbox` of `rows` messages (parameters: key, payload, enqueued_at, due_at per row). */
  private outboxInsert(rows: number): BetterSqlite3.Statement<unknown[], unknown> {
    let stmt = this.outboxInserts.get(rows);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], unknown>(
        `INSERT INTO outbox (key, payload, enqueued_at, due_at, attempts) VALUES ${Array(rows).fill('(?, ?, ?, ?, 0)').join(', ')}`,
      );
      this.outboxInserts.set(rows, stmt);
    }
    return stmt;
  }

  /** Inside the batch transaction: one bounded batch of expired keys, at most once a minute. */
  private pruneDedupe(now: number): void {
    if (now < this.nextPruneAt) return;
    const pruned = this.stmts.pruneDedupe.run(now - this.dedupeWindowMs, PRUNE_BATCH).changes;
    // A full batch means more are waiting: prune again on the next commit instead of in a minute.
    this.nextPruneAt = pruned < PRUNE_BATCH ? now + PRUNE_INTERVAL_MS : now;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the queue is closed');
  }
}

/**
 * Takes the ownership lock on `<file>-owner`, or returns null when a live queue holds it.
 * In EXCLUSIVE locking mode the lock taken by the first write transaction is kept until the
 * connection closes, and the OS releases it when the process dies: held means "owner alive".
 */
function acquireOwnership(Database: typeof BetterSqlite3, file: string): BetterSqlite3.Database | null {
  const lock = new Database(`${file}-owner`, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    lock.exec('COMMIT');
    return lock;
  } catch (err) {
    lock.close();
    if (sqliteCode(err) === 'SQLITE_BUSY') return null;
    throw err;
  }
}

function prepareItem(item: EnqueueItem): PreparedItem {
  const prepared: PreparedItem = { key: item.message.key, payload: JSON.stringify(item.message) };
  if (item.deadLetter) prepared.deadLetter = { reason: item.deadLetter.reason, detail: item.deadLetter.detail };
  return prepared;
}

/** SQL parameters for a filter, or null when it can match nothing (an id that is no row id). */
function filterParams(filter: DeadLetterFilter): FilterParams | null {
  let id: number | null = null;
  if (filter.id !== undefined) {
    if (!/^[1-9]\d{0,15}$/.test(filter.id)) return null;
    id = Number(filter.id);
  }
  return { reason: filter.reason ?? null, id, limit: checkedLimit(filter.limit) ?? NO_LIMIT };
}

/** Validates `DeadLetterFilter.limit`; undefined means no limit. */
function checkedLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  return limit;
}

function byDueThenId(a: DueRow, b: DueRow): number {
  return a.dueAt - b.dueAt || a.id - b.id;
}

function parseHandle(lease: Lease): number {
  if (!/^[1-9]\d{0,15}$/.test(lease.handle)) throw new Error(`not a lease of the sqlite queue: ${lease.handle}`);
  return Number(lease.handle);
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  if (!isDeadLetterReason(row.reason)) throw new Error(`dead letter ${row.id} has an unknown reason "${row.reason}"`);
  return {
    id: String(row.id),
    reason: row.reason,
    detail: row.detail,
    attempts: row.attempts,
    deadLetteredAt: row.deadLetteredAt,
    message: parseMessage(row.payload, row.id),
  };
}

function isDeadLetterReason(value: string): value is DeadLetterReason {
  return Object.hasOwn(DEAD_LETTER_REASONS, value);
}

function parseMessage(payload: string, id: number): QueueMessage {
  const value: unknown = JSON.parse(payload);
  if (!isQueueMessage(value)) throw new Error(`row ${id} does not hold a queue message`);
  return value;
}

function isQueueMessage(value: unknown): value is QueueMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.key === 'string' &&
    typeof v.source === 'string' &&
    typeof v.provider === 'string' &&
    typeof v.type === 'string' &&
    typeof v.receivedAt === 'number' &&
    typeof v.event === 'object' &&
    v.event !== null
  );
}

function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/**
 * `SQLITE_FULL: database or disk is full`, without a stack. Duck-typed, not `instanceof`: the
 * native addon keeps the SqliteError class of the realm that loaded it first (jest sandboxes).
 */
function describeSqliteError(err: unknown): string {
  const message =
    typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string'
      ? err.message
      : String(err);
  const code = sqliteCode(err);
  return code === undefined ? message : `${code}: ${message}`;
}
