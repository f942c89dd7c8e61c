/**
 * Picks the queue driver named by `queue.driver` (DESIGN §4, §7).
 *
 * The SQLite driver is required only when chosen: better-sqlite3 is a native module built for
 * one Node ABI, and the Lambda/SQS bundle must never load it (DEPENDENCIES §1, risk 3).
 */
import { MemoryQueue } from './memory-queue';
import type { Queue } from './queue';
import type * as SqliteQueueModule from './sqlite-queue';

/** What {@link createQueue} needs: the `queue` section plus the de-duplication window. */
export interface CreateQueueOptions {
  driver: 'sqlite' | 'memory' | 'sqs';
  /** SQLite file (ignored by the other drivers). */
  path: string;
  /** SQLite `synchronous` pragma. */
  synchronous: 'full' | 'normal';
  /** How long a de-duplication key is remembered, in ms. */
  dedupeWindowMs: number;
  /** Clock in ms since epoch; injectable for tests. */
  now?: () => number;
}

/** Opens the configured queue driver. @throws Error for `sqs`, which is not implemented yet. */
export function createQueue(options: CreateQueueOptions): Queue {
  switch (options.driver) {
    case 'memory':
      return new MemoryQueue({ dedupeWindowMs: options.dedupeWindowMs, now: options.now });
    case 'sqlite': {
      // Lazy on purpose (see the file header); sqlite-queue.ts in turn loads better-sqlite3 only
      // when a queue is constructed.
      const { SqliteQueue } = require('./sqlite-queue') as typeof SqliteQueueModule;
      return new SqliteQueue({
        path: options.path,
        synchronous: options.synchronous,
        dedupeWindowMs: options.dedupeWindowMs,
        now: options.now,
      });
    }
    case 'sqs':
      throw new Error('queue.driver sqs is not implemented yet (issue #4)');
  }
}
