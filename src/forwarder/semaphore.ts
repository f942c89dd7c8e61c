/**
 * A counting semaphore for the forwarder's in-flight limit (DEPENDENCIES §10: p-limit is ESM-only
 * and jest on Node 20 cannot load it, so this is fifteen lines of our own).
 */
export class Semaphore {
  private free: number;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`semaphore size must be a positive integer, got ${size}`);
    this.free = size;
  }

  /** Permits available right now. */
  get available(): number {
    return this.free;
  }

  /** Permits held. */
  get inUse(): number {
    return this.size - this.free;
  }

  /** Takes a permit if one is free, without waiting. */
  tryAcquire(): boolean {
    if (this.free === 0) return false;
    this.free -= 1;
    return true;
  }

  /** Waits for a permit (first come, first served). */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Returns a permit, handing it straight to the oldest waiter if there is one. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else if (this.free < this.size) this.free += 1;
    else throw new Error('semaphore released more often than acquired');
  }
}
