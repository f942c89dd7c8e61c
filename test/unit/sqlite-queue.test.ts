/**
 * What only the SQLite outbox has: a file that survives the process, lease recovery at open,
 * group commit, the schema, pruning, and lazy loading of the native module. The behaviour shared
 * with the memory driver is in queue-semantics.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { QueueWriteError } from '../../src/core/errors';
import { createQueue } from '../../src/queue/create-queue';
import { MemoryQueue } from '../../src/queue/memory-queue';
import type { EnqueueItem, QueueMessage } from '../../src/queue/queue';
import { SqliteQueue, type SqliteQueueOptions } from '../../src/queue/sqlite-queue';
import { SQLITE_SCHEMA_VERSION } from '../../src/queue/sqlite-schema';
import { T0, twilioDelivered } from '../helpers/queue-message';

const WEEK_MS = 7 * 24 * 3_600_000;
const REPO = path.resolve(__dirname, '../..');

const message = twilioDelivered;
const item = (key: string): EnqueueItem => ({ message: message(key) });

let dir: string;
let file: string;
let clock: number;
const closers: { close(): unknown }[] = [];

function open(options: Partial<SqliteQueueOptions> = {}): SqliteQueue {
  const queue = new SqliteQueue({ path: file, dedupeWindowMs: WEEK_MS, now: () => clock, ...options });
  closers.push(queue);
  return queue;
}

/** A plain second connection, to look at or lock the file from outside the driver. */
function rawConnection(): Database.Database {
  const db = new Database(file, { timeout: 0 });
  closers.push(db);
  return db;
}

/** Runs TypeScript source in a fresh Node process (swc-compiled on require); returns stdout. */
function runInChild(
  source: string,
  nodeFlags: string[] = [],
): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const hook = `
    const swc = require('@swc/core');
    require.extensions['.ts'] = (module, filename) => {
      const { code } = swc.transformFileSync(filename, {
        swcrc: false,
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      });
      module._compile(code, filename);
    };
  `;
  const result = spawnSync(process.execPath, [...nodeFlags, '-e', hook + source], { cwd: REPO, encoding: 'utf8' });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwa-sqlite-queue-'));
  file = path.join(dir, 'outbox.db');
  clock = T0;
});

afterEach(async () => {
  for (const closer of closers.splice(0).reverse()) {
    try {
      await closer.close();
    } catch {
      // already closed by the test
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('durability and recovery', () => {
  test('messages survive closing and reopening the file', async () => {
    const first = open();
    await first.enqueue([item('a'), item('b')]);
    await first.close();

    const second = open();
    expect((await second.claim(10)).map((lease) => lease.message)).toEqual([message('a'), message('b')]);
    // The de-duplication memory is on disk too.
    expect(await second.enqueue([item('a')])).toMatchObject({ queued: 0, duplicates: 1 });
  });

  test('reopening after a close without settling makes every leased message due again, attempts kept', async () => {
    const first = open();
    await first.enqueue([item('a'), item('b'), item('c')]);
    const [a] = await first.claim(1);
    await first.retry(a!, 0, 'HTTP 503');
    expect((await first.claim(10)).length).toBe(3); // a (attempt 2), b, c: all in flight
    await first.close(); // as after a crash: nothing completed, retried or released

    const second = open();
    expect(second.isOwner).toBe(true);
    expect(await second.stats()).toMatchObject({ depth: 3, inFlight: 0 });
    const leases = await second.claim(10);
    expect(leases.map((lease) => [lease.message.key, lease.attempts])).toEqual([
      ['a', 1],
      ['b', 0],
      ['c', 0],
    ]);
  });

  test('leases of a killed process (SIGKILL, no close) are recovered by the next owner', async () => {
    const child = runInChild(`
      const { SqliteQueue } = require(${JSON.stringify(path.join(REPO, 'src/queue/sqlite-queue.ts'))});
      (async () => {
        const queue = new SqliteQueue({ path: ${JSON.stringify(file)}, dedupeWindowMs: ${WEEK_MS} });
        const result = await queue.enqueue([${JSON.stringify(item('a'))}, ${JSON.stringify(item('b'))}]);
        const leases = await queue.claim(10);
        process.stdout.write(JSON.stringify({ result, claimed: leases.length, owner: queue.isOwner }) + '\\n');
        process.kill(process.pid, 'SIGKILL');
      })();
    `);
    expect(child.signal).toBe('SIGKILL');
    expect(JSON.parse(child.stdout)).toEqual({
      result: { queued: 2, deadLettered: 0, duplicates: 0 },
      claimed: 2,
      owner: true,
    });

    clock = Date.now(); // the child used the real clock
    const queue = open();
    expect(queue.isOwner).toBe(true);
    expect((await queue.claim(10)).map((lease) => lease.message.key)).toEqual(['a', 'b']);
  });

  test('a second queue beside a live owner (e.g. the dlq CLI) does not take over its leases', async () => {
    const owner = open();
    await owner.enqueue([
      item('a'),
      { message: message('d'), deadLetter: { reason: 'no_identifier', detail: 'none' } },
    ]);
    const [lease] = await owner.claim(1);

    const cli = open();
    expect(owner.isOwner).toBe(true);
    expect(cli.isOwner).toBe(false);
    expect(await cli.stats()).toMatchObject({ depth: 1, inFlight: 1, deadLettered: 1 });
    expect(await cli.claim(10)).toEqual([]);
    expect(await cli.replayDeadLetters({ reason: 'no_identifier' })).toBe(1);
    await cli.close();

    await owner.complete(lease!);
    expect((await owner.claim(10)).map((l) => l.message.key)).toEqual(['d']);
  });
});

describe('memory', () => {
  test('100,000 queued events stay on disk: the process stays well under 200 MB RSS', () => {
    const child = runInChild(
      `
      const { SqliteQueue } = require(${JSON.stringify(path.join(REPO, 'src/queue/sqlite-queue.ts'))});
      const template = ${JSON.stringify(message('x'))};
      (async () => {
        const queue = new SqliteQueue({ path: ${JSON.stringify(file)}, dedupeWindowMs: ${WEEK_MS}, synchronous: 'normal' });
        for (let i = 0; i < 100000; i += 1000) {
          await Promise.all(Array.from({ length: 1000 }, (_, j) =>
            queue.enqueue([{ message: { ...template, key: 'k' + (i + j), event: { ...template.event, metadata: { ...template.event.metadata, reason: 'r'.repeat(400) } } } }])));
        }
        const stats = await queue.stats();
        await queue.claim(16);
        global.gc();
        process.stdout.write(JSON.stringify({ depth: stats.depth, rssMb: process.memoryUsage().rss / 1e6 }));
        await queue.close();
      })();
    `,
      ['--expose-gc'],
    );
    expect(child.stderr).toBe('');
    const { depth, rssMb } = JSON.parse(child.stdout) as { depth: number; rssMb: number };
    expect(depth).toBe(100_000);
    expect(rssMb).toBeLessThan(200);
  });
});

describe('group commit', () => {
  test('100 concurrent enqueue calls in one tick commit in fewer transactions than calls', async () => {
    const queue = open();
    const before = queue.commits;
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => queue.enqueue([item(`k${i}`)])));
    expect(results.every((r) => r.queued === 1 && r.duplicates === 0)).toBe(true);
    expect(queue.commits - before).toBeLessThan(100);
    expect(queue.commits - before).toBe(1);
    expect((await queue.stats()).depth).toBe(100);
  });

  test('calls in different ticks are separate transactions', async () => {
    const queue = open();
    await queue.enqueue([item('a')]);
    await queue.enqueue([item('b')]);
    expect(queue.commits).toBe(2);
  });

  test('a failed transaction rejects every caller with QueueWriteError and records nothing', async () => {
    const queue = open({ busyTimeoutMs: 20 });
    const blocker = rawConnection();
    blocker.exec('BEGIN IMMEDIATE'); // holds the write lock: the group commit cannot get it

    const settled = await Promise.allSettled([queue.enqueue([item('a')]), queue.enqueue([item('b'), item('c')])]);
    for (const outcome of settled) {
      expect(outcome.status).toBe('rejected');
      const reason: unknown = outcome.status === 'rejected' ? outcome.reason : undefined;
      expect(reason).toBeInstanceOf(QueueWriteError);
      expect(reason).toMatchObject({ code: 'ERR_QUEUE_WRITE', message: expect.stringContaining('SQLITE_BUSY') });
    }
    expect(queue.commits).toBe(0);

    blocker.exec('ROLLBACK');
    // The keys were rolled back with the messages, so the provider's retry is not a "duplicate".
    expect(await queue.enqueue([item('a'), item('b'), item('c')])).toEqual({
      queued: 3,
      deadLettered: 0,
      duplicates: 0,
    });
  });

  test('claims and settles ride in the same commit as the enqueues of that tick', async () => {
    const queue = open();
    await queue.enqueue([item('a'), item('b')]);
    const [a, b] = await queue.claim(2);
    const before = queue.commits;
    const [, , c, , claimed] = await Promise.all([
      queue.complete(a!),
      queue.retry(b!, 0, 'HTTP 503'),
      queue.enqueue([item('c')]),
      queue.release(b!), // already retried: a no-op, not an error
      queue.claim(10), // sees the writes queued before it in the same transaction
    ]);
    expect(queue.commits - before).toBe(1);
    expect(c).toMatchObject({ queued: 1 });
    expect(claimed.map((lease) => [lease.message.key, lease.attempts])).toEqual([
      ['b', 1],
      ['c', 0],
    ]);
  });

  test('a write that fails inside a group commit undoes only itself', async () => {
    const queue = open();
    await queue.enqueue([item('a')]);
    const [a] = await queue.claim(1);
    // A caller bug the types would catch: NULL violates dead_letters.reason NOT NULL.
    const broken = queue.deadLetter(a!, null as unknown as 'invalid_pair', 'x');
    const ok = queue.enqueue([item('b')]);
    await expect(broken).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
    await expect(ok).resolves.toMatchObject({ queued: 1 });
    expect(await queue.stats()).toMatchObject({ depth: 2, inFlight: 1, deadLettered: 0 });
    await queue.complete(a!); // the lease survived its failed dead-lettering
    expect((await queue.claim(10)).map((lease) => lease.message.key)).toEqual(['b']);
  });

  test('the writes before and after a failing one in the same commit are kept once, with their own outcomes', async () => {
    const queue = open();
    await queue.enqueue([item('a'), item('b')]);
    const [a] = await queue.claim(1);
    const before = queue.commits;
    const [first, claimed, broken, last] = await Promise.allSettled([
      queue.enqueue([item('c'), item('d')]),
      queue.claim(1),
      queue.deadLetter(a!, null as unknown as 'invalid_pair', 'x'), // NOT NULL violation
      queue.enqueue([item('e'), item('c')]),
    ]);
    expect(queue.commits - before).toBe(1);
    // Run again after the failure, the batch is not counted twice: no key is its own duplicate.
    expect(first).toMatchObject({ status: 'fulfilled', value: { queued: 2, duplicates: 0 } });
    expect(claimed).toMatchObject({ status: 'fulfilled', value: [{ message: { key: 'b' } }] });
    expect(broken).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_NOTNULL' } });
    expect(last).toMatchObject({ status: 'fulfilled', value: { queued: 1, duplicates: 1 } });
    expect(await queue.stats()).toMatchObject({ depth: 5, inFlight: 2, deadLettered: 0 });
    expect(await queue.enqueue([item('c'), item('d'), item('e')])).toEqual({
      queued: 0,
      deadLettered: 0,
      duplicates: 3,
    });
    expect((await queue.claim(10)).map((lease) => lease.message.key)).toEqual(['c', 'd', 'e']);
  });

  test('a large enqueue (several multi-row statements) de-duplicates across them and keeps its order', async () => {
    const queue = open({ dedupeWindowMs: 10_000 });
    await queue.enqueue([item('k5'), item('k140')]);
    clock = T0 + 10_000; // k5 and k140 have expired, but no prune has run yet: refreshed, not duplicates
    for (const lease of await queue.claim(2)) await queue.complete(lease);
    const keys = Array.from({ length: 150 }, (_, i) => `k${i}`);
    keys.splice(70, 0, 'k3', 'k69'); // repeats: one of an earlier statement, one within the same statement
    keys.push('k149');
    const items: EnqueueItem[] = keys.map((k) =>
      k === 'k100' ? { message: message(k), deadLetter: { reason: 'no_identifier', detail: 'x' } } : item(k),
    );
    expect(await queue.enqueue(items)).toEqual({ queued: 149, deadLettered: 1, duplicates: 3 });
    clock = T0 + 15_000;
    expect(await queue.enqueue([item('k5'), item('k140'), item('k100'), item('new')])).toEqual({
      queued: 1,
      deadLettered: 0,
      duplicates: 3,
    });
    const claimed = (await queue.claim(1000)).map((lease) => lease.message.key);
    expect(claimed).toEqual([...Array.from({ length: 150 }, (_, i) => `k${i}`).filter((k) => k !== 'k100'), 'new']);
  });

  test('a message that cannot be serialized rejects only its own caller', async () => {
    const queue = open();
    const bad = { ...message('bad'), receivedAt: 1n } as unknown as QueueMessage; // BigInt: JSON.stringify throws
    const settled = await Promise.allSettled([queue.enqueue([{ message: bad }]), queue.enqueue([item('good')])]);
    expect(settled[0]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_INTERNAL' } });
    expect(settled[1]).toMatchObject({ status: 'fulfilled', value: { queued: 1 } });
  });
});

describe('readiness', () => {
  test('isWritable is false while another connection holds the write lock, without waiting for it', async () => {
    const queue = open(); // default busy timeout 5 s: the probe must not wait for it
    const blocker = rawConnection();
    blocker.exec('BEGIN IMMEDIATE');
    expect(await queue.isWritable()).toBe(false);
    blocker.exec('ROLLBACK');
    expect(await queue.isWritable()).toBe(true);
  });

  test('after a readiness probe, writes wait out a short lock again (busy timeout restored)', async () => {
    const queue = open();
    expect(await queue.isWritable()).toBe(true);
    // Another process holds the write lock for 300 ms (better-sqlite3 is synchronous, so the lock
    // holder cannot live in this process's event loop).
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(${JSON.stringify(file)});
         db.exec('BEGIN IMMEDIATE');
         process.stdout.write('locked\\n');
         setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, 300);`,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('locked')) resolve();
      });
      holder.on('exit', () => reject(new Error('lock holder exited early')));
    });
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    expect(await queue.isWritable()).toBe(false);
    await expect(queue.enqueue([item('a')])).resolves.toMatchObject({ queued: 1 });
    await exited;
  });

  test('isWritable is false after close', async () => {
    const queue = open();
    await queue.close();
    expect(await queue.isWritable()).toBe(false);
  });
});

describe('schema', () => {
  test('creates a missing directory, uses WAL and records the schema version', async () => {
    file = path.join(dir, 'nested', 'deeper', 'outbox.db');
    const queue = open();
    await queue.enqueue([item('a')]);

    const db = rawConnection();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['dead_letters', 'dedupe', 'outbox']));
    const row = db.prepare('SELECT key, payload, enqueued_at, due_at, attempts FROM outbox').get() as Record<
      string,
      unknown
    >;
    expect(row).toEqual({ key: 'a', payload: JSON.stringify(message('a')), enqueued_at: T0, due_at: T0, attempts: 0 });
  });

  test('refuses a file written by a newer schema version', () => {
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => open()).toThrow(/schema version 99, newer than this build/);
  });
});

describe('de-duplication keys', () => {
  test('expired keys are pruned in bounded batches inside later writes', async () => {
    const queue = open({ dedupeWindowMs: 1_000 });
    await queue.enqueue(Array.from({ length: 1_200 }, (_, i) => item(`old${i}`)));
    const db = rawConnection();
    const count = (): unknown => db.prepare('SELECT count(*) FROM dedupe').pluck().get();
    expect(count()).toBe(1_200);

    clock = T0 + 61_000; // a prune interval later, all 1200 expired
    await queue.enqueue([item('n1')]);
    expect(count()).toBe(1_200 - 500 + 1); // one batch per transaction, never unbounded
    await queue.enqueue([item('n2')]); // a full batch means more wait: prune again at once
    expect(count()).toBe(1_200 - 1_000 + 2);
    await queue.enqueue([item('n3')]);
    expect(count()).toBe(3);
  });
});

describe('createQueue', () => {
  const base = { path: '', synchronous: 'full' as const, dedupeWindowMs: WEEK_MS };

  test('memory gives the in-memory driver', async () => {
    const queue = createQueue({ ...base, driver: 'memory' });
    closers.push(queue);
    expect(queue).toBeInstanceOf(MemoryQueue);
    expect(await queue.enqueue([item('a')])).toMatchObject({ queued: 1 });
  });

  test('sqlite opens the outbox at path with the injected clock', async () => {
    const queue = createQueue({ ...base, driver: 'sqlite', path: file, synchronous: 'normal', now: () => T0 + 42 });
    closers.push(queue);
    expect(queue.driver).toBe('sqlite');
    await queue.enqueue([item('a')]);
    expect(fs.existsSync(file)).toBe(true);
    expect((await queue.claim(1))[0]?.enqueuedAt).toBe(T0 + 42);
  });

  test('sqs without its queue.sqs settings is refused clearly', () => {
    expect(() => createQueue({ ...base, driver: 'sqs' })).toThrow('queue.sqs: required when queue.driver is sqs');
  });

  test('better-sqlite3 is loaded only when an sqlite queue is created', () => {
    const loaded = (driver: string): unknown => {
      const child = runInChild(`
        const { createQueue } = require(${JSON.stringify(path.join(REPO, 'src/queue/create-queue.ts'))});
        const queue = createQueue({ driver: '${driver}', path: ${JSON.stringify(path.join(dir, `${driver}.db`))}, synchronous: 'full', dedupeWindowMs: 1000 });
        const native = Object.keys(require.cache).filter((p) => p.includes('better-sqlite3'));
        queue.close().then(() => process.stdout.write(JSON.stringify(native.length > 0)));
      `);
      expect(child.stderr).toBe('');
      return JSON.parse(child.stdout);
    };
    expect(loaded('memory')).toBe(false);
    expect(loaded('sqlite')).toBe(true);
  });
});
