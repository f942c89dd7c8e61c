/**
 * The SQLite outbox's claim and settle paths as the forwarder drives them: claims of many rows at
 * once (one statement), and many completes in one event-loop turn (deleted together).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteQueue } from '../../src/queue/sqlite-queue';
import { T0, twilioDelivered } from '../helpers/queue-message';

const message = twilioDelivered;

let dir: string;
let clock: number;
let queue: SqliteQueue;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlite-settle-'));
  clock = T0;
  queue = new SqliteQueue({ path: path.join(dir, 'outbox.db'), dedupeWindowMs: 60_000, now: () => clock });
});
afterEach(async () => {
  await queue.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const keys = (n: number, prefix = 'k'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

describe('SqliteQueue claim and complete in bulk', () => {
  test('a large claim hands out the earliest due first, each row once, with its payload intact', async () => {
    await queue.enqueue(keys(30, 'a').map((k) => ({ message: message(k) })));
    clock += 1;
    await queue.enqueue(keys(30, 'b').map((k) => ({ message: message(k) })));
    // Retried to the back of the line: due after everything else.
    const [first] = await queue.claim(1);
    await queue.retry(first!, 10, 'HTTP 503');
    clock += 20;

    const leases = await queue.claim(100);
    expect(leases.map((l) => l.message.key)).toEqual([...keys(30, 'a').slice(1), ...keys(30, 'b'), 'a000']);
    expect(leases.at(-1)?.attempts).toBe(1);
    expect(leases[0]?.message).toEqual(message('a001'));
    expect(await queue.claim(100)).toEqual([]);
    expect((await queue.stats()).inFlight).toBe(60);
  });

  test('many completes in one turn share one commit; each caller resolves and every row is gone', async () => {
    await queue.enqueue(keys(40).map((k) => ({ message: message(k) })));
    const leases = await queue.claim(40);
    const commits = queue.commits;
    await Promise.all(leases.map((l) => queue.complete(l)));
    expect(queue.commits).toBe(commits + 1);
    expect(await queue.stats()).toMatchObject({ depth: 0, inFlight: 0 });
  });

  test('completes of the next turn are a new batch', async () => {
    await queue.enqueue(keys(4).map((k) => ({ message: message(k) })));
    const [a, b, c, d] = await queue.claim(4);
    await Promise.all([queue.complete(a!), queue.complete(b!)]);
    expect((await queue.stats()).depth).toBe(2);
    await Promise.all([queue.complete(c!), queue.complete(d!)]);
    expect((await queue.stats()).depth).toBe(0);
  });

  test('a lease completed twice, or already released, does not disturb the others in its batch', async () => {
    await queue.enqueue(keys(3).map((k) => ({ message: message(k) })));
    const [a, b, c] = await queue.claim(3);
    await queue.complete(a!);
    await queue.release(b!);
    await Promise.all([queue.complete(a!), queue.complete(b!), queue.complete(c!)]);
    // b was handed back: completing its stale lease must not delete it.
    expect(await queue.stats()).toMatchObject({ depth: 1, inFlight: 0 });
    expect((await queue.claim(10)).map((l) => l.message.key)).toEqual(['k001']);
  });

  test('a foreign handle is rejected on its own; the batch it was called with still commits', async () => {
    await queue.enqueue(keys(2).map((k) => ({ message: message(k) })));
    const [a, b] = await queue.claim(2);
    const results = await Promise.allSettled([
      queue.complete(a!),
      queue.complete({ ...b!, handle: 'sqs-receipt-handle' }),
      queue.complete(b!),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await queue.stats()).depth).toBe(0);
  });

  test('after close, complete rejects and later queues are unaffected', async () => {
    await queue.enqueue(keys(1).map((k) => ({ message: message(k) })));
    const [a] = await queue.claim(1);
    await queue.close();
    await expect(queue.complete(a!)).rejects.toThrow('closed');
    await expect(queue.complete(a!)).rejects.toThrow('closed');
    queue = new SqliteQueue({ path: path.join(dir, 'outbox.db'), dedupeWindowMs: 60_000, now: () => clock });
    // Never completed, so due again after the reopen.
    const [again] = await queue.claim(1);
    expect(again?.message.key).toBe('k000');
    await queue.complete(again!);
    expect((await queue.stats()).depth).toBe(0);
  });
});
