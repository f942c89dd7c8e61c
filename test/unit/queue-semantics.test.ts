/**
 * The Queue contract (src/queue/queue.ts), run against every driver: the SQLite outbox on a real
 * temp file and the in-memory driver must be indistinguishable through the interface. The SQS
 * driver runs it too, on fresh queues of a real SQS API (fauxqs, see the jest global setup),
 * except for the cases listed in GATED with the reason they cannot hold there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QueueWriteError } from '../../src/core/errors';
import { MemoryQueue } from '../../src/queue/memory-queue';
import type { EnqueueItem, Lease, Queue, QueueMessage } from '../../src/queue/queue';
import { SqliteQueue } from '../../src/queue/sqlite-queue';
import { SqsQueue } from '../../src/queue/sqs-queue';
import { sendgridDelivered, T0 } from '../helpers/queue-message';
import { createQueuePair, sqsClient } from '../helpers/sqs';

const WEEK_MS = 7 * 24 * 3_600_000;

interface OpenOptions {
  dedupeWindowMs: number;
  now: () => number;
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** SQS queue pairs created before each test (opening a driver is synchronous; creating a queue is not). */
const sqsPairs: Awaited<ReturnType<typeof createQueuePair>>[] = [];
const sqsAdmin = sqsClient();
afterAll(() => sqsAdmin.destroy());

const drivers: [string, (options: OpenOptions) => Queue, (() => Promise<void>)?][] = [
  [
    'sqlite',
    (options) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwa-queue-semantics-'));
      tempDirs.push(dir);
      return new SqliteQueue({ path: path.join(dir, 'outbox.db'), ...options });
    },
  ],
  ['memory', (options) => new MemoryQueue(options)],
  [
    'sqs',
    (options) => {
      const sqs = sqsPairs.shift();
      if (!sqs) throw new Error('no SQS queue pair prepared for this test');
      return new SqsQueue({ sqs, dlqScanWaitSeconds: 0, ...options });
    },
    async () => {
      sqsPairs.length = 0;
      sqsPairs.push(await createQueuePair(sqsAdmin), await createQueuePair(sqsAdmin));
    },
  ],
];

/** Cases a driver cannot keep, and why (the driver's own test file covers what it does instead). */
const GATED: Record<string, Record<string, string>> = {
  sqs: {
    'retry counts the attempt, stores nothing else and delays the message':
      'visibility timeouts run on the SQS clock, not the injected one',
    'release hands a message back without counting an attempt':
      'a delayed release runs on the SQS clock, not the injected one',
    'claim hands out the earliest due first': 'due times run on the SQS clock, and SQS does not order by due time',
    'nextDueInMs is null when nothing waits and ignores messages in flight':
      'a long-poll driver always answers 0: the receive is the wait',
    'stats counts waiting, in-flight and dead messages and the oldest age':
      'SQS reports no message age outside CloudWatch (oldestAgeMs is 0)',
  },
};

/** A SendGrid delivery whose metadata also holds a boolean and a number; `overrides` patch the message. */
function message(key: string, overrides: Partial<QueueMessage> = {}): QueueMessage {
  return { ...sendgridDelivered(key, { machineOpen: false, code: 250 }), ...overrides };
}

const item = (key: string): EnqueueItem => ({ message: message(key) });
const keysOf = (leases: readonly Lease[]): string[] => leases.map((lease) => lease.message.key);

describe.each(drivers)('%s queue', (driver, openDriver, prepare) => {
  const test = (name: string, fn: jest.ProvidesCallback): void =>
    (GATED[driver]?.[name] ? global.test.skip : global.test)(name, fn);
  if (prepare) beforeEach(prepare);
  let clock: number;
  let queue: Queue;
  const opened: Queue[] = [];

  function open(dedupeWindowMs = WEEK_MS): Queue {
    const q = openDriver({ dedupeWindowMs, now: () => clock });
    opened.push(q);
    return q;
  }

  beforeEach(() => {
    clock = T0;
    queue = open();
  });

  afterEach(async () => {
    for (const q of opened.splice(0)) await q.close();
  });

  test('reports its driver name', () => {
    expect(queue.driver).toBe(driver);
  });

  test('enqueue → claim → complete hands the message over unchanged, then it is gone', async () => {
    const original = message('k1');
    await expect(queue.enqueue([{ message: original }])).resolves.toEqual({
      queued: 1,
      deadLettered: 0,
      duplicates: 0,
    });

    const [lease, ...rest] = await queue.claim(10);
    expect(rest).toEqual([]);
    expect(lease).toMatchObject({ message: original, attempts: 0, enqueuedAt: T0 });
    expect(typeof lease?.handle).toBe('string');

    await queue.complete(lease!);
    expect(await queue.claim(10)).toEqual([]);
    expect(await queue.stats()).toEqual({ depth: 0, inFlight: 0, deadLettered: 0, oldestAgeMs: 0 });
  });

  test('enqueue of nothing resolves with zero counts', async () => {
    await expect(queue.enqueue([])).resolves.toEqual({ queued: 0, deadLettered: 0, duplicates: 0 });
  });

  test('a key seen in an earlier call is dropped and counted as a duplicate', async () => {
    await queue.enqueue([item('a')]);
    await expect(queue.enqueue([item('a'), item('b')])).resolves.toEqual({ queued: 1, deadLettered: 0, duplicates: 1 });
    expect(keysOf(await queue.claim(10))).toEqual(['a', 'b']);
  });

  test('the same key twice within one call counts once', async () => {
    await expect(queue.enqueue([item('a'), item('a'), item('b')])).resolves.toEqual({
      queued: 2,
      deadLettered: 0,
      duplicates: 1,
    });
    expect(keysOf(await queue.claim(10))).toEqual(['a', 'b']);
  });

  test('concurrent calls in one tick with the same key queue it once', async () => {
    const results = await Promise.all([
      queue.enqueue([item('a')]),
      queue.enqueue([item('a')]),
      queue.enqueue([item('b')]),
    ]);
    expect(results).toEqual([
      { queued: 1, deadLettered: 0, duplicates: 0 },
      { queued: 0, deadLettered: 0, duplicates: 1 },
      { queued: 1, deadLettered: 0, duplicates: 0 },
    ]);
    expect((await queue.stats()).depth).toBe(2);
  });

  test('a key is remembered for exactly the de-duplication window', async () => {
    queue = open(10_000);
    await queue.enqueue([item('a')]);
    clock = T0 + 9_999;
    expect((await queue.enqueue([item('a')])).duplicates).toBe(1);
    clock = T0 + 10_000;
    expect((await queue.enqueue([item('a')])).queued).toBe(1);
    // Accepting it again restarted its window.
    clock = T0 + 19_999;
    expect((await queue.enqueue([item('a')])).duplicates).toBe(1);
  });

  test('expired keys are accepted again after pruning has run', async () => {
    queue = open(1_000);
    await queue.enqueue([item('a'), item('b')]);
    clock = T0 + 5 * 60_000; // several prune intervals later
    await queue.enqueue([item('c')]);
    expect(await queue.enqueue([item('a'), item('b'), item('c')])).toEqual({
      queued: 2,
      deadLettered: 0,
      duplicates: 1,
    });
  });

  test('an item marked deadLetter is stored as a dead letter, never claimable, and de-duplicated', async () => {
    const deadLetter = { reason: 'no_identifier' as const, detail: 'no userId, valid e-mail or E.164 phone' };
    const noId = message('x', { event: { ...message('x').event, email: undefined } });
    await expect(queue.enqueue([{ message: noId, deadLetter }])).resolves.toEqual({
      queued: 0,
      deadLettered: 1,
      duplicates: 0,
    });
    await expect(queue.enqueue([{ message: noId, deadLetter }])).resolves.toEqual({
      queued: 0,
      deadLettered: 0,
      duplicates: 1,
    });

    expect(await queue.claim(10)).toEqual([]);
    const letters = await queue.listDeadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      reason: 'no_identifier',
      detail: deadLetter.detail,
      attempts: 0,
      deadLetteredAt: T0,
    });
    expect(letters[0]?.message).toEqual(JSON.parse(JSON.stringify(noId)));
    expect(typeof letters[0]?.id).toBe('string');
  });

  test("a dead letter keeps the provider's event it was stored with, and replay carries it", async () => {
    const raw = { event: 'delivered', email: 'Ann@Example.com', nested: { ids: [1, 2], note: 'ü ✓' } };
    const letter = message('r', { raw });
    await queue.enqueue([{ message: letter, deadLetter: { reason: 'no_identifier', detail: 'none' } }]);
    const [stored] = await queue.listDeadLetters();
    expect(stored?.message.raw).toEqual(raw);
    expect(await queue.replayDeadLetters({ id: stored!.id })).toBe(1);
    const [lease] = await queue.claim(1);
    expect(lease?.message.raw).toEqual(raw);
  });

  test('onEnqueued fires only after a write that queued forwardable messages', async () => {
    let calls = 0;
    const unsubscribe = queue.onEnqueued(() => {
      calls += 1;
    });
    await queue.enqueue([item('a')]);
    expect(calls).toBe(1);
    await queue.enqueue([item('a')]); // duplicate only
    await queue.enqueue([{ message: message('d'), deadLetter: { reason: 'invalid_pair', detail: 'x/y' } }]);
    expect(calls).toBe(1);
    unsubscribe();
    await queue.enqueue([item('b')]);
    expect(calls).toBe(1);
  });

  test('a listener that throws does not fail the enqueue or starve other listeners', async () => {
    // Observed, not replaced: the warning is how a faulty listener becomes visible.
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    let called = false;
    queue.onEnqueued(() => {
      throw new Error('listener bug');
    });
    queue.onEnqueued(() => {
      called = true;
    });
    try {
      await expect(queue.enqueue([item('a')])).resolves.toMatchObject({ queued: 1 });
      expect(called).toBe(true);
      expect(emitWarning).toHaveBeenCalledWith(expect.stringContaining('listener bug'));
    } finally {
      emitWarning.mockRestore();
    }
  });

  test('claimed messages are not claimed twice', async () => {
    await queue.enqueue([item('a'), item('b'), item('c')]);
    const first = await queue.claim(2);
    const second = await queue.claim(10);
    expect(keysOf(first)).toEqual(['a', 'b']);
    expect(keysOf(second)).toEqual(['c']);
    expect(await queue.claim(10)).toEqual([]);
    expect(new Set([...first, ...second].map((lease) => lease.handle)).size).toBe(3);
  });

  test('claim with a non-positive limit claims nothing', async () => {
    await queue.enqueue([item('a')]);
    expect(await queue.claim(0)).toEqual([]);
    expect(keysOf(await queue.claim(1))).toEqual(['a']);
  });

  test('retry counts the attempt, stores nothing else and delays the message', async () => {
    await queue.enqueue([item('a')]);
    const [lease] = await queue.claim(1);
    await queue.retry(lease!, 5_000, 'HTTP 503: Internal server error.');

    expect(await queue.claim(10)).toEqual([]);
    expect(await queue.nextDueInMs()).toBe(5_000);
    clock = T0 + 4_999;
    expect(await queue.claim(10)).toEqual([]);
    clock = T0 + 5_000;
    const [again] = await queue.claim(10);
    expect(again).toMatchObject({ attempts: 1, enqueuedAt: T0, message: message('a') });
  });

  test('release hands a message back without counting an attempt', async () => {
    await queue.enqueue([item('a')]);
    const [lease] = await queue.claim(1);
    await queue.release(lease!);
    const [again] = await queue.claim(1);
    expect(again?.attempts).toBe(0);

    await queue.release(again!, 30_000);
    expect(await queue.claim(1)).toEqual([]);
    expect(await queue.nextDueInMs()).toBe(30_000);
    clock = T0 + 30_000;
    expect((await queue.claim(1))[0]?.attempts).toBe(0);
  });

  test('claim hands out the earliest due first', async () => {
    await queue.enqueue([item('a'), item('b')]);
    const [a] = await queue.claim(1);
    await queue.retry(a!, 1_000, 'timeout'); // a: due T0+1000, b: due T0
    clock = T0 + 2_000;
    await queue.enqueue([item('c')]); // c: due T0+2000
    expect(keysOf(await queue.claim(10))).toEqual(['b', 'a', 'c']);
  });

  test('nextDueInMs is null when nothing waits and ignores messages in flight', async () => {
    expect(await queue.nextDueInMs()).toBeNull();
    await queue.enqueue([item('a')]);
    expect(await queue.nextDueInMs()).toBe(0);
    await queue.claim(1);
    expect(await queue.nextDueInMs()).toBeNull();
  });

  test('settling a lease twice is a no-op', async () => {
    await queue.enqueue([item('a'), item('b')]);
    const [a] = await queue.claim(1);
    await queue.complete(a!);
    await queue.complete(a!);
    await queue.retry(a!, 0, 'late');
    await queue.release(a!);
    await queue.deadLetter(a!, 'invalid_pair', 'late');
    expect(await queue.listDeadLetters()).toEqual([]);
    const [b] = await queue.claim(10);
    expect(b).toMatchObject({ attempts: 0, message: { key: 'b' } });
  });

  test('a handle this queue never issued is rejected, not silently ignored', async () => {
    const foreign: Lease = {
      handle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
      message: message('a'),
      attempts: 0,
      enqueuedAt: T0,
    };
    await expect(queue.complete(foreign)).rejects.toThrow('not a lease');
    await expect(queue.retry(foreign, 0, 'x')).rejects.toThrow('not a lease');
  });

  test('deadLetter moves a claimed message to the dead letters with its attempts', async () => {
    await queue.enqueue([item('a')]);
    const [first] = await queue.claim(1);
    await queue.retry(first!, 0, 'HTTP 502');
    clock = T0 + 1_000;
    const [second] = await queue.claim(1);
    await queue.deadLetter(second!, 'invalid_pair', 'HTTP 400: Invalid feature/action.');

    expect(await queue.claim(10)).toEqual([]);
    expect(await queue.listDeadLetters()).toEqual([
      {
        id: expect.any(String),
        reason: 'invalid_pair',
        detail: 'HTTP 400: Invalid feature/action.',
        attempts: 1,
        deadLetteredAt: T0 + 1_000,
        message: message('a'),
      },
    ]);
    expect(await queue.stats()).toMatchObject({ depth: 0, inFlight: 0, deadLettered: 1 });
  });

  describe('dead-letter queue', () => {
    /** Dead letters d1 (no_identifier), d2 (invalid_pair), d3 (no_identifier), in that order. */
    async function seed(): Promise<void> {
      const dl = (key: string, reason: 'no_identifier' | 'invalid_pair'): EnqueueItem => ({
        message: message(key),
        deadLetter: { reason, detail: `${reason} ${key}` },
      });
      await queue.enqueue([dl('d1', 'no_identifier')]);
      clock += 1;
      await queue.enqueue([dl('d2', 'invalid_pair')]);
      clock += 1;
      await queue.enqueue([dl('d3', 'no_identifier')]);
    }

    test('list is newest first and filters by reason, id and limit', async () => {
      await seed();
      const all = await queue.listDeadLetters();
      expect(all.map((d) => d.message.key)).toEqual(['d3', 'd2', 'd1']);
      expect(new Set(all.map((d) => d.id)).size).toBe(3);

      expect((await queue.listDeadLetters({ reason: 'no_identifier' })).map((d) => d.message.key)).toEqual([
        'd3',
        'd1',
      ]);
      expect((await queue.listDeadLetters({ reason: 'max_age' })).length).toBe(0);
      expect((await queue.listDeadLetters({ limit: 2 })).map((d) => d.message.key)).toEqual(['d3', 'd2']);
      const d2 = all.find((d) => d.message.key === 'd2')!;
      expect(await queue.listDeadLetters({ id: d2.id })).toEqual([d2]);
      expect(await queue.listDeadLetters({ id: d2.id, reason: 'no_identifier' })).toEqual([]);
      expect(await queue.listDeadLetters({ id: 'not-an-id' })).toEqual([]);
      await expect(queue.listDeadLetters({ limit: -1 })).rejects.toThrow(RangeError);
    });

    test('replay moves matching letters back with attempts 0, due now, bypassing de-duplication', async () => {
      await seed();
      let woke = 0;
      queue.onEnqueued(() => {
        woke += 1;
      });
      clock = T0 + 60_000;
      await expect(queue.replayDeadLetters({ reason: 'no_identifier' })).resolves.toBe(2);
      expect(woke).toBe(1);
      expect((await queue.listDeadLetters()).map((d) => d.message.key)).toEqual(['d2']);

      expect(await queue.nextDueInMs()).toBe(0);
      const leases = await queue.claim(10);
      expect(keysOf(leases)).toEqual(['d1', 'd3']);
      for (const lease of leases) expect(lease).toMatchObject({ attempts: 0, enqueuedAt: T0 + 60_000 });
      // The key is still remembered: a provider re-send stays a duplicate.
      expect(await queue.enqueue([item('d1')])).toMatchObject({ queued: 0, duplicates: 1 });
    });

    test('replay by id, with a limit, and of nothing', async () => {
      await seed();
      const [d3] = await queue.listDeadLetters({ limit: 1 });
      let woke = 0;
      queue.onEnqueued(() => {
        woke += 1;
      });
      await expect(queue.replayDeadLetters({ id: 'nope' })).resolves.toBe(0);
      await expect(queue.replayDeadLetters({ reason: 'max_age' })).resolves.toBe(0);
      expect(woke).toBe(0);
      await expect(queue.replayDeadLetters({ id: d3!.id })).resolves.toBe(1);
      await expect(queue.replayDeadLetters({ limit: 1 })).resolves.toBe(1); // newest remaining: d2
      expect(keysOf(await queue.claim(10))).toEqual(['d3', 'd2']);
      expect((await queue.listDeadLetters()).map((d) => d.message.key)).toEqual(['d1']);
    });

    test('purge deletes matching letters for good', async () => {
      await seed();
      const [d3] = await queue.listDeadLetters({ limit: 1 });
      await expect(queue.purgeDeadLetters({ id: d3!.id })).resolves.toBe(1);
      await expect(queue.purgeDeadLetters({ reason: 'invalid_pair' })).resolves.toBe(1);
      expect((await queue.listDeadLetters()).map((d) => d.message.key)).toEqual(['d1']);
      await expect(queue.purgeDeadLetters()).resolves.toBe(1);
      expect(await queue.stats()).toMatchObject({ deadLettered: 0, depth: 0 });
    });
  });

  test('stats counts waiting, in-flight and dead messages and the oldest age', async () => {
    await queue.enqueue([item('a'), item('b')]);
    clock = T0 + 1_000;
    await queue.enqueue([item('c'), { message: message('d'), deadLetter: { reason: 'no_identifier', detail: '' } }]);
    await queue.claim(1); // a in flight
    clock = T0 + 5_000;
    expect(await queue.stats()).toEqual({ depth: 3, inFlight: 1, deadLettered: 1, oldestAgeMs: 5_000 });
  });

  test('close flushes a pending enqueue; afterwards enqueue rejects and nothing is writable', async () => {
    const pending = queue.enqueue([item('a')]);
    await queue.close();
    await expect(pending).resolves.toMatchObject({ queued: 1 });
    expect(await queue.isWritable()).toBe(false);
    await expect(queue.enqueue([item('b')])).rejects.toBeInstanceOf(QueueWriteError);
    await expect(queue.enqueue([item('b')])).rejects.toMatchObject({ code: 'ERR_QUEUE_WRITE', statusCode: 503 });
    await expect(queue.claim(1)).rejects.toThrow('closed');
    await expect(queue.close()).resolves.toBeUndefined();
  });

  test('isWritable is true while open', async () => {
    expect(await queue.isWritable()).toBe(true);
  });
});
