/**
 * Picks the queue driver named by `queue.driver` (DESIGN §4, §7).
 *
 * The SQLite driver is required only when chosen: better-sqlite3 is a native module built for
 * one Node ABI, and the Lambda/SQS bundle must never load it (DEPENDENCIES §1, risk 3). The SQS
 * driver likewise: the embedded path never loads the AWS SDK.
 *
 * With `dedupe.store` (DESIGN §4, §7) the runtimes put the driver behind the shared key store's
 * decorator (`withSharedStore`, src/dedupe/deduped-queue.ts): the queue layer knows nothing of it.
 */
import { ConfigurationError } from '../core/errors';
import { MemoryQueue } from './memory-queue';
import type { Queue } from './queue';
import type * as SqliteQueueModule from './sqlite-queue';
import type * as SqsQueueModule from './sqs-queue';

/** What {@link createQueue} needs: the `queue` section plus the de-duplication window. */
export interface CreateQueueOptions {
  driver: 'sqlite' | 'memory' | 'sqs';
  /** SQLite file (ignored by the other drivers). */
  path: string;
  /** SQLite `synchronous` pragma. */
  synchronous: 'full' | 'normal';
  /** How long a de-duplication key is remembered, in ms. */
  dedupeWindowMs: number;
  /** The `queue.sqs` section; required for `sqs` (pass `config.queue` through). */
  sqs?: SqsQueueModule.SqsSettings;
  /** Clock in ms since epoch; injectable for tests. */
  now?: () => number;
  /** SQLite: open an existing outbox only, never create one (`dlq`); throws QueueNotFoundError. */
  mustExist?: boolean;
}

/** Opens the configured queue driver. @throws ConfigurationError for `sqs` without its `sqs` settings. */
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
        mustExist: options.mustExist,
      });
    }
    case 'sqs': {
      if (!options.sqs) throw new ConfigurationError(['queue.sqs: required when queue.driver is sqs']);
      // Lazy on purpose (see the file header).
      const { SqsQueue } = require('./sqs-queue') as typeof SqsQueueModule;
      return new SqsQueue({ sqs: options.sqs, dedupeWindowMs: options.dedupeWindowMs, now: options.now });
    }
  }
}
