/**
 * The queue interface every driver implements (SQLite outbox by default, memory for tests, SQS
 * for scale-out). The pipeline and the forwarder only ever see this interface.
 *
 * Semantics every driver keeps:
 * - `enqueue` resolves only once every item is durable (ack-after-persist), and drops an item
 *   whose `key` was seen within the de-duplication window (the check and the write are atomic).
 * - `claim` hands out due messages exactly once until they are completed, retried, released or
 *   dead-lettered; after a crash, claimed-but-unfinished messages become due again.
 */
import type { DeadLetterReason, DistinctEvent } from '../core/distinct-event';
import type { EventType } from '../core/event-types';

/** One event on its way to Distinct. */
export interface QueueMessage {
  /** De-duplication key (DESIGN §3.2); also the idempotency key sent to Distinct. */
  key: string;
  source: string;
  provider: string;
  type: EventType;
  /** The request Distinct will get (may lack identifiers when dead-lettered `no_identifier`). */
  event: DistinctEvent;
  /** Receipt time, ms since epoch. */
  receivedAt: number;
  /**
   * What the provider sent for this event (the adapter's parsed record), kept only on messages
   * dead-lettered at ingest (`no_identifier`, `invalid_pair`), where the provider's event is the
   * cause, so `dlq list --json` and the console show it. Bounded in size
   * (src/queue/provider-event.ts). Absent on forwarded messages.
   */
  raw?: unknown;
}

export interface EnqueueItem {
  message: QueueMessage;
  /** Set to store the message straight in the dead-letter queue (e.g. `no_identifier`). */
  deadLetter?: { reason: DeadLetterReason; detail: string };
}

export interface EnqueueResult {
  /** Newly queued for forwarding. */
  queued: number;
  /** Newly stored as dead letters. */
  deadLettered: number;
  /** Dropped because their key was seen within the window. */
  duplicates: number;
}

/** A claimed message. */
export interface Lease {
  /** Driver-specific handle (row id, SQS receipt handle). */
  readonly handle: string;
  readonly message: QueueMessage;
  /** Delivery attempts already made before this one. */
  readonly attempts: number;
  /** When the message was first queued, ms since epoch. */
  readonly enqueuedAt: number;
}

export interface DeadLetter {
  id: string;
  reason: DeadLetterReason;
  detail: string;
  attempts: number;
  deadLetteredAt: number;
  message: QueueMessage;
}

export interface DeadLetterFilter {
  reason?: string;
  id?: string;
  limit?: number;
}

export interface QueueStats {
  /** Messages waiting or in flight. */
  depth: number;
  inFlight: number;
  deadLettered: number;
  /** Age of the oldest waiting message in ms (0 when empty). */
  oldestAgeMs: number;
}

export interface Queue {
  readonly driver: string;
  enqueue(items: readonly EnqueueItem[]): Promise<EnqueueResult>;
  /** Up to `limit` messages due now, marked in flight. */
  claim(limit: number): Promise<Lease[]>;
  /** Delivered: remove. */
  complete(lease: Lease): Promise<void>;
  /** Failed transiently: due again after `delayMs`, attempts + 1. */
  retry(lease: Lease, delayMs: number, lastError: string): Promise<void>;
  /** Hand back untouched (attempts unchanged), due after `delayMs` (default now). Used while the circuit is open and at shutdown. */
  release(lease: Lease, delayMs?: number): Promise<void>;
  deadLetter(lease: Lease, reason: DeadLetterReason, detail: string): Promise<void>;
  /** Milliseconds until the next waiting message is due (0 if one is due now), null when nothing waits. */
  nextDueInMs(): Promise<number | null>;
  /** Calls `listener` whenever new messages become due (so the forwarder need not poll). Returns an unsubscribe function. */
  onEnqueued(listener: () => void): () => void;
  stats(): Promise<QueueStats>;
  /** True when a write would succeed now (readiness). */
  isWritable(): Promise<boolean>;
  /** Optional: dead letters counted by reason (`/status`); drivers that cannot count cheaply leave it out. */
  deadLetterCounts?(): Promise<Record<string, number>>;
  listDeadLetters(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  /** Moves matching dead letters back to the queue, attempts reset. Returns how many. */
  replayDeadLetters(filter?: DeadLetterFilter): Promise<number>;
  /** Deletes matching dead letters. Returns how many. */
  purgeDeadLetters(filter?: DeadLetterFilter): Promise<number>;
  /**
   * Optional, for drivers whose claim waits (SQS long polling): ends consumption for good, so a
   * claim waiting now returns nothing at once. Called at shutdown right before the forwarder stops.
   */
  stopClaiming?(): void;
  close(): Promise<void>;
}
