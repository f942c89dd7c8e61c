/**
 * The SQS driver's local de-duplication memory (sqs-queue.ts, "De-duplication"): SQS cannot keep
 * the window itself, so this process remembers the keys it wrote.
 */

/** Keys seen by this process, in seen order, for at most `windowMs` and `maxKeys`. */
export class KeyMemory {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  has(key: string, now: number): boolean {
    const at = this.seen.get(key);
    return at !== undefined && at > now - this.windowMs;
  }

  remember(key: string, now: number): void {
    if (this.maxKeys <= 0) return;
    this.seen.delete(key); // re-insert at the end: the map stays in seen order
    this.seen.set(key, now);
    for (const [oldest, at] of this.seen) {
      if (this.seen.size <= this.maxKeys && at > now - this.windowMs) break;
      this.seen.delete(oldest);
    }
  }
}
