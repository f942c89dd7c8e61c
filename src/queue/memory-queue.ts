/**
 * An in-memory queue with the same observable semantics as the SQLite outbox (de-duplication
 * window, due order, leases, dead letters, replay), for tests and benchmarks. Nothing survives
 * the process, so it is never a production choice.
 *
 * Messages are kept as JSON strings, exactly like the outbox stores them: what `claim` hands out
 * is what a real driver would, and later mutations of the caller's object cannot leak in.
 * One difference that cannot be seen through awaited calls: writes apply at once instead of at
 * the next group commit.
 */
import type { DeadLetterReason } from '../core/distinct-event';
import { InternalError, QueueWriteError } from '../core/errors';
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

/** Options of {@link MemoryQueue}. */
export interface MemoryQueueOptions {
  /** How long a de-duplication key is remembered, in ms. */
  dedupeWindowMs: number;
  /** Clock in ms since epoch; injectable for tests. */
  now?: () => number;
}

/** Same cadence as the SQLite driver, so expiry behaves the same under an injected clock. */
const PRUNE_INTERVAL_MS = 60_000;

interface Row {
  id: number;
  key: string;
  payload: string;
  enqueuedAt: number;
  dueAt: number;
  attempts: number;
  leased: boolean;
  lastError: string | null;
}

interface StoredDeadLetter {
  id: number;
  key: string;
  payload: string;
  reason: DeadLetterReason;
  detail: string;
  attempts: number;
  deadLetteredAt: number;
}

/** The in-memory driver (see the file header). */
export class MemoryQueue implements Queue {
  readonly driver = 'memory';
  private readonly now: () => number;
  private readonly dedupeWindowMs: number;
  /** Insertion order = id order, which `stats().oldestAgeMs` relies on. */
  private readonly rows = new Map<number, Row>();
  private readonly due = new DueHeap();
  /** Insertion order ≈ seen order (refreshed keys move to the end), so pruning stops early. */
  private readonly dedupe = new Map<string, number>();
  private readonly deadLetters = new Map<number, StoredDeadLetter>();
  private readonly listeners = new EnqueueListeners();
  private nextId = 1;
  private nextDeadLetterId = 1;
  private inFlight = 0;
  private nextPruneAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(options: MemoryQueueOptions) {
    this.now = options.now ?? Date.now;
    this.dedupeWindowMs = options.dedupeWindowMs;
  }

  async enqueue(items: readonly EnqueueItem[]): Promise<EnqueueResult> {
    if (this.closed) throw new QueueWriteError('the queue is closed');
    let payloads: string[];
    try {
      payloads = items.map((item) => JSON.stringify(item.message));
    } catch (err) {
      throw new InternalError({ cause: err });
    }
    const now = this.now();
    const expiredBefore = now - this.dedupeWindowMs;
    this.pruneDedupe(now, expiredBefore);
    const result: EnqueueResult = { queued: 0, deadLettered: 0, duplicates: 0 };
    items.forEach((item, index) => {
      const payload = payloads[index] ?? '';
      const key = item.message.key;
      const seenAt = this.dedupe.get(key);
      if (seenAt !== undefined && seenAt > expiredBefore) {
        result.duplicates += 1;
        return;
      }
      this.dedupe.delete(key); // re-insert at the end to keep the map in seen order
      this.dedupe.set(key, now);
      if (item.deadLetter) {
        this.storeDeadLetter(key, payload, item.deadLetter.reason, item.deadLetter.detail, 0, now);
        result.deadLettered += 1;
      } else {
        this.insertRow(key, payload, now);
        result.queued += 1;
      }
    });
    if (result.queued > 0) this.listeners.notify();
    return result;
  }

  async claim(limit: number): Promise<Lease[]> {
    this.assertOpen();
    if (!Number.isInteger(limit) || limit <= 0) return [];
    const now = this.now();
    const leases: Lease[] = [];
    while (leases.length < limit) {
      const row = this.peekDue();
      if (!row || row.dueAt > now) break;
      this.due.pop();
      row.leased = true;
      this.inFlight += 1;
      leases.push({
        handle: String(row.id),
        message: JSON.parse(row.payload) as QueueMessage,
        attempts: row.attempts,
        enqueuedAt: row.enqueuedAt,
      });
    }
    return leases;
  }

  async complete(lease: Lease): Promise<void> {
    this.assertOpen();
    const row = this.leasedRow(lease);
    if (!row) return;
    this.rows.delete(row.id);
    this.inFlight -= 1;
  }

  async retry(lease: Lease, delayMs: number, lastError: string): Promise<void> {
    this.assertOpen();
    const row = this.leasedRow(lease);
    if (!row) return;
    row.attempts += 1;
    row.lastError = lastError;
    this.unlease(row, this.now() + Math.max(0, delayMs));
  }

  async release(lease: Lease, delayMs = 0): Promise<void> {
    this.assertOpen();
    const row = this.leasedRow(lease);
    if (!row) return;
    this.unlease(row, this.now() + Math.max(0, delayMs));
  }

  async deadLetter(lease: Lease, reason: DeadLetterReason, detail: string): Promise<void> {
    this.assertOpen();
    const row = this.leasedRow(lease);
    if (!row) return;
    this.rows.delete(row.id);
    this.inFlight -= 1;
    this.storeDeadLetter(row.key, row.payload, reason, detail, row.attempts, this.now());
  }

  async nextDueInMs(): Promise<number | null> {
    this.assertOpen();
    const row = this.peekDue();
    return row ? Math.max(0, row.dueAt - this.now()) : null;
  }

  onEnqueued(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  async stats(): Promise<QueueStats> {
    this.assertOpen();
    const oldest = this.rows.values().next();
    return {
      depth: this.rows.size,
      inFlight: this.inFlight,
      deadLettered: this.deadLetters.size,
      oldestAgeMs: oldest.done ? 0 : Math.max(0, this.now() - oldest.value.enqueuedAt),
    };
  }

  async isWritable(): Promise<boolean> {
    return !this.closed;
  }

  async deadLetterCounts(): Promise<Record<string, number>> {
    this.assertOpen();
    const counts: Record<string, number> = {};
    for (const stored of this.deadLetters.values()) counts[stored.reason] = (counts[stored.reason] ?? 0) + 1;
    return counts;
  }

  async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    this.assertOpen();
    return this.matching(filter).map((stored) => ({
      id: String(stored.id),
      reason: stored.reason,
      detail: stored.detail,
      attempts: stored.attempts,
      deadLetteredAt: stored.deadLetteredAt,
      message: JSON.parse(stored.payload) as QueueMessage,
    }));
  }

  async replayDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    this.assertOpen();
    const now = this.now();
    // Oldest first, like the SQLite driver; the de-duplication key is left as it is on purpose.
    const matched = this.matching(filter).reverse();
    for (const stored of matched) {
      this.deadLetters.delete(stored.id);
      this.insertRow(stored.key, stored.payload, now);
    }
    if (matched.length > 0) this.listeners.notify();
    return matched.length;
  }

  async purgeDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    this.assertOpen();
    const matched = this.matching(filter);
    for (const stored of matched) this.deadLetters.delete(stored.id);
    return matched.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  private insertRow(key: string, payload: string, now: number): void {
    const row: Row = {
      id: this.nextId++,
      key,
      payload,
      enqueuedAt: now,
      dueAt: now,
      attempts: 0,
      leased: false,
      lastError: null,
    };
    this.rows.set(row.id, row);
    this.due.push(row.dueAt, row.id);
  }

  private storeDeadLetter(
    key: string,
    payload: string,
    reason: DeadLetterReason,
    detail: string,
    attempts: number,
    now: number,
  ): void {
    const id = this.nextDeadLetterId++;
    this.deadLetters.set(id, { id, key, payload, reason, detail, attempts, deadLetteredAt: now });
  }

  private unlease(row: Row, dueAt: number): void {
    row.leased = false;
    row.dueAt = dueAt;
    this.inFlight -= 1;
    this.due.push(dueAt, row.id);
  }

  /** Only a row that is currently leased can be settled (a stale handle is a no-op). */
  private leasedRow(lease: Lease): Row | undefined {
    if (!/^[1-9]\d{0,15}$/.test(lease.handle)) throw new Error(`not a lease of the memory queue: ${lease.handle}`);
    const row = this.rows.get(Number(lease.handle));
    return row?.leased ? row : undefined;
  }

  /** The earliest-due unleased row, dropping heap entries that no longer describe a row. */
  private peekDue(): Row | undefined {
    for (let top = this.due.peek(); top; top = this.due.peek()) {
      const row = this.rows.get(top.id);
      if (row && !row.leased && row.dueAt === top.dueAt) return row;
      this.due.pop();
    }
    return undefined;
  }

  /** Newest first, filtered and limited the way the SQLite driver does it. */
  private matching(filter: DeadLetterFilter): StoredDeadLetter[] {
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit === Number.POSITIVE_INFINITY || (Number.isInteger(limit) && limit >= 0))) {
      throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
    }
    const result: StoredDeadLetter[] = [];
    for (const stored of [...this.deadLetters.values()].reverse()) {
      if (result.length >= limit) break;
      if (filter.reason !== undefined && stored.reason !== filter.reason) continue;
      if (filter.id !== undefined && String(stored.id) !== filter.id) continue;
      result.push(stored);
    }
    return result;
  }

  /** At most once a minute; the map is in seen order, so this stops at the first live key. */
  private pruneDedupe(now: number, expiredBefore: number): void {
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
    for (const [key, seenAt] of this.dedupe) {
      if (seenAt > expiredBefore) break;
      this.dedupe.delete(key);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the queue is closed');
  }
}

/** A binary min-heap of (dueAt, id): claim order is due time, then enqueue order. */
class DueHeap {
  private readonly items: { dueAt: number; id: number }[] = [];

  push(dueAt: number, id: number): void {
    const items = this.items;
    items.push({ dueAt, id });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  peek(): { dueAt: number; id: number } | undefined {
    return this.items[0];
  }

  pop(): void {
    const items = this.items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && this.less(left, smallest)) smallest = left;
      if (right < items.length && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private less(a: number, b: number): boolean {
    const x = this.items[a];
    const y = this.items[b];
    if (!x || !y) return false;
    return x.dueAt < y.dueAt || (x.dueAt === y.dueAt && x.id < y.id);
  }

  private swap(a: number, b: number): void {
    const x = this.items[a];
    const y = this.items[b];
    if (!x || !y) return;
    this.items[a] = y;
    this.items[b] = x;
  }
}
