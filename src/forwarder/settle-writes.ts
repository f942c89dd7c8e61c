/**
 * The long-running forwarder's settle writes (forwarder.ts explains why, in its header):
 *
 * - Held completes: a delivered message's `complete` waits (at most `holdMax` of them, at most
 *   HOLD_MS) for the forwarder's next claim, so both go into one queue write.
 * - Refused writes: a settle write the queue refuses (disk full, I/O error) is kept, in order, and
 *   tried again ({@link SettleWrites.retryRefused}) before anything new is claimed; its lease stays
 *   the forwarder's meanwhile.
 */
import type { Logger } from '../observability/logger';
import type { Lease, Queue } from '../queue/queue';

/** Longest wait of a delivered message's `complete` for a claim to share its write with. */
const HOLD_MS = 2;

/** What the forwarder does when a write is kept for later, and when a kept one finally went through. */
export interface SettleWriteHooks {
  refused(): void;
  recorded(): void;
}

export class SettleWrites {
  /** Delivered messages whose `complete` waits for the next claim. */
  private held: Array<{ lease: Lease; resolve: () => void; reject: (err: unknown) => void }> = [];
  private holdTimer: NodeJS.Timeout | null = null;
  /** Settle writes the queue refused (disk full…), oldest first: retried before anything is claimed. */
  private unsettled: Array<{ lease: Lease; what: string; write: () => Promise<void>; after?: () => void }> = [];

  constructor(
    private readonly queue: Queue,
    private readonly logger: Logger,
    private readonly holdMax: number,
    private readonly hooks: SettleWriteHooks,
  ) {}

  /** Refused writes waiting to be tried again. */
  get refusedCount(): number {
    return this.unsettled.length;
  }

  /** Holds a delivered message's `complete` for the next claim (or HOLD_MS, or a full hold; at once with `now`). */
  completeSoon(lease: Lease, now: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.held.push({ lease, resolve, reject });
      if (now || this.held.length >= this.holdMax) this.flushHeld();
      else this.holdTimer ??= setTimeout(() => this.flushHeld(), HOLD_MS);
    });
  }

  /** Issues every held `complete` now (in this turn, so they share one queue write). */
  flushHeld(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    for (const { lease, resolve, reject } of held) this.queue.complete(lease).then(resolve, reject);
  }

  /**
   * Runs one settle write (`first` when it is already under way), then `after` (its metric and log
   * line). When the queue refuses the write (disk full, I/O error) the lease stays ours
   * (`hooks.refused`: the forwarder counts it, so claiming stops when too many wait) and the write
   * is kept for {@link retryRefused}. Never rejects.
   */
  async persist(
    lease: Lease,
    what: string,
    write: () => Promise<void>,
    after?: () => void,
    first?: Promise<void>,
  ): Promise<void> {
    try {
      await (first ?? write());
    } catch (err) {
      this.unsettled.push({ lease, what, write, after });
      this.logger.error(
        { err, key: lease.message.key, what, waiting: this.unsettled.length },
        "forwarder could not record a message's outcome in the queue; retrying the write until the queue takes it",
      );
      this.hooks.refused();
      return;
    }
    after?.();
  }

  /** Retries the refused settle writes in order; false (and the rest kept) at the first that fails again. */
  async retryRefused(): Promise<boolean> {
    const count = this.unsettled.length;
    while (this.unsettled.length > 0) {
      const item = this.unsettled[0]!;
      try {
        await item.write();
      } catch (err) {
        this.logger.debug({ err, waiting: this.unsettled.length }, 'the queue still refuses settle writes');
        return false;
      }
      this.unsettled.shift();
      this.hooks.recorded();
      item.after?.();
    }
    if (count > 0) this.logger.info({ messages: count }, 'forwarder recorded the outcomes the queue had refused');
    return true;
  }
}
