/**
 * A token bucket for `distinct.ratePerSecond` (0 = unlimited). Tokens are reserved, so the bucket
 * may go negative: each caller learns how long to wait for its own token, and waiters are served
 * in arrival order without a polling loop.
 */
export interface RateLimiterOptions {
  /** Tokens per second; 0 disables the limit. */
  ratePerSecond: number;
  /** Bucket size (burst); defaults to one second's worth, at least 1. */
  burst?: number;
  /** Clock, ms. */
  now?: () => number;
}

export class RateLimiter {
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private updatedAt: number;

  constructor(options: RateLimiterOptions) {
    if (!(options.ratePerSecond >= 0)) throw new RangeError(`ratePerSecond must be >= 0, got ${options.ratePerSecond}`);
    this.rate = options.ratePerSecond;
    this.burst = Math.max(1, options.burst ?? Math.ceil(this.rate));
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.updatedAt = this.now();
  }

  /** True when no limit applies. */
  get unlimited(): boolean {
    return this.rate === 0;
  }

  /** Reserves one token; returns how many ms the caller must wait before using it (0 = now). */
  take(): number {
    if (this.unlimited) return 0;
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate);
  }

  /** Gives back a reserved token that was not used (e.g. the wait was aborted). */
  giveBack(): void {
    if (this.unlimited) return;
    this.refill();
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /** Waits for a token. Resolves false (token returned) when `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return false;
    const waitMs = this.take();
    if (waitMs === 0) return true;
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        this.giveBack();
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
  }
}
