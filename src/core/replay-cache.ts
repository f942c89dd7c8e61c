/**
 * Replay protection state handed to adapters' `verify` (src/core/adapter.ts `VerifyContext`).
 */

/**
 * A bounded in-memory replay cache: remembers keys (e.g. Mailgun tokens) for `ttlMs`.
 * Keys are recorded only after a request was acknowledged, so a failed request can be retried.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  has(key: string, now: number): boolean {
    const expires = this.seen.get(key);
    if (expires === undefined) return false;
    if (expires <= now) {
      this.seen.delete(key);
      return false;
    }
    return true;
  }

  add(key: string, now: number): void {
    this.seen.delete(key);
    this.seen.set(key, now + this.ttlMs);
    // Map iterates in insertion order, so the first entries are the oldest.
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
  }
}
