/**
 * The SQLite outbox's group commit (sqlite-queue.ts, first point of its header): writes made in
 * the same event-loop turn are committed in ONE transaction, flushed by `setImmediate`; each
 * caller's promise settles only after that commit, and each write has its own savepoint so one
 * failing call does not undo the others.
 */
import type BetterSqlite3 from 'better-sqlite3';

/** A write waiting for the next group commit. */
interface PendingWrite {
  /** Runs inside the batch transaction, in its own savepoint. */
  run: () => unknown;
  /** Must survive power loss (enqueue); settles and claims need not. */
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** What the queue does around each batch. */
export interface GroupCommitHooks {
  /** Before a batch runs. */
  starting(): void;
  /** Inside the batch transaction, after every write (bounded housekeeping). */
  inTransaction(): void;
  /** After the batch committed and every caller was settled. */
  committed(): void;
}

export class GroupCommit {
  private readonly batchTx: BetterSqlite3.Transaction<(batch: readonly PendingWrite[], outcomes: Outcome[]) => void>;
  private readonly savepoint: BetterSqlite3.Transaction<(write: PendingWrite) => unknown>;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private commitCount = 0;
  /** The `synchronous` pragma in force now. */
  private syncLevel: 'FULL' | 'NORMAL';

  /** `fullSync`: the connection was opened with `synchronous = FULL` (else NORMAL). */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly fullSync: boolean,
    private readonly hooks: GroupCommitHooks,
  ) {
    this.syncLevel = fullSync ? 'FULL' : 'NORMAL';
    // Called inside batchTx, better-sqlite3 turns this into a SAVEPOINT: a write that fails
    // undoes only its own changes and rejects only its own caller.
    this.savepoint = db.transaction((write: PendingWrite) => write.run());
    this.batchTx = db.transaction((batch: readonly PendingWrite[], outcomes: Outcome[]) => {
      for (const write of batch) {
        try {
          outcomes.push({ ok: true, value: this.savepoint(write) });
        } catch (error) {
          // SQLite rolls the whole transaction back on some errors (disk full, I/O): then
          // nothing of the batch is kept, and every caller must hear so.
          if (!db.inTransaction) throw error;
          outcomes.push({ ok: false, error });
        }
      }
      this.hooks.inTransaction();
    });
  }

  /** Write transactions committed (group commit makes this far fewer than write calls). */
  get commits(): number {
    return this.commitCount;
  }

  /**
   * Queues a write for the next group commit. Every write goes this way (claims and settles
   * too): better-sqlite3 commits synchronously, so one fsync per event-loop turn instead of one
   * per call is what keeps forwarding from stalling ingest.
   */
  write<T>(run: () => T, wrapError: (err: unknown) => unknown, durable: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        run,
        durable,
        resolve: (value) => resolve(value as T),
        reject: (err) => reject(wrapError(err)),
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every pending write in one transaction, then settles each caller. */
  flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.hooks.starting();
    const outcomes: Outcome[] = [];
    // A commit that holds no enqueue needs no fsync: losing it re-delivers (same idempotency
    // key) or re-claims; WAL keeps the order, so the next FULL commit makes it durable too.
    const level = this.fullSync && batch.some((w) => w.durable) ? 'FULL' : 'NORMAL';
    if (level !== this.syncLevel) {
      this.db.pragma(`synchronous = ${level}`);
      this.syncLevel = level;
    }
    try {
      this.batchTx.immediate(batch, outcomes);
    } catch (err) {
      for (const write of batch) write.reject(err);
      return;
    }
    this.commitCount += 1;
    batch.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) write.resolve(outcome.value);
      else write.reject(outcome?.error);
    });
    this.hooks.committed();
  }
}
