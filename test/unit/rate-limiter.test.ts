import { RateLimiter } from '../../src/forwarder/rate-limiter';
import { Semaphore } from '../../src/forwarder/semaphore';

describe('RateLimiter (token bucket)', () => {
  test('0 = unlimited: never waits', () => {
    const limiter = new RateLimiter({ ratePerSecond: 0, now: () => 0 });
    for (let i = 0; i < 1000; i += 1) expect(limiter.take()).toBe(0);
  });

  test('allows a burst of one second, then spaces tokens 1/rate apart', () => {
    const t = 1_000_000;
    const limiter = new RateLimiter({ ratePerSecond: 4, now: () => t });
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([0, 0, 0, 0]);
    expect([limiter.take(), limiter.take(), limiter.take()]).toEqual([250, 500, 750]);
  });

  test('refills with time and never beyond the burst', () => {
    let t = 0;
    const limiter = new RateLimiter({ ratePerSecond: 2, now: () => t });
    expect([limiter.take(), limiter.take(), limiter.take()]).toEqual([0, 0, 500]);
    t = 10_000;
    expect([limiter.take(), limiter.take(), limiter.take()]).toEqual([0, 0, 500]);
  });

  test('a token given back shortens the next wait', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, now: () => 0 });
    expect(limiter.take()).toBe(0);
    expect(limiter.take()).toBe(1000);
    limiter.giveBack();
    expect(limiter.take()).toBe(1000);
  });

  test('acquire() resolves false and returns the token when aborted', async () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, now: () => 0 });
    expect(await limiter.acquire()).toBe(true);
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(limiter.take()).toBe(1000);
  });

  test('rejects a negative rate', () => {
    expect(() => new RateLimiter({ ratePerSecond: -1 })).toThrow(RangeError);
  });
});

describe('Semaphore', () => {
  test('hands out at most size permits and serves waiters in order', async () => {
    const sem = new Semaphore(2);
    expect(sem.tryAcquire()).toBe(true);
    expect(sem.tryAcquire()).toBe(true);
    expect(sem.tryAcquire()).toBe(false);
    expect(sem.available).toBe(0);
    const order: number[] = [];
    const a = sem.acquire().then(() => order.push(1));
    const b = sem.acquire().then(() => order.push(2));
    sem.release();
    sem.release();
    await Promise.all([a, b]);
    expect(order).toEqual([1, 2]);
    expect(sem.inUse).toBe(2);
    sem.release();
    sem.release();
    expect(sem.available).toBe(2);
    expect(() => sem.release()).toThrow(/more often/);
  });

  test('rejects a size below 1', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
