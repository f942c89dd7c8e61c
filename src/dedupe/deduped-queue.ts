/**
 * Exactly once beyond one machine (DESIGN §7, docs/scaling.md): a {@link Queue} decorator that
 * puts the shared key store (src/dedupe/key-store.ts) in front of any driver, so the pipeline,
 * the long-running forwarder and `dlq replay` get it without change. The SQS Lambda forwarder,
 * which settles records itself, uses the same {@link DeliveryGuard}.
 *
 * Receivers (`enqueue`), per distinct key of the request, in parallel:
 *   claim (conditional PutItem `claimed`, leased) → duplicates dropped → inner.enqueue → 2xx.
 *   - the store fails, or another receiver holds a live claim → own claims deleted, 503;
 *   - the queue refuses → own claims deleted, the queue's 503;
 *   - a crash after the claim → the lease passes, the provider's retry claims it again.
 *   There is no separate "queued" confirmation write: a `claimed` item whose lease has passed is
 *   taken over by a retry, and if its event was in fact queued, the forwarder's gate below drops
 *   the second copy. That saves one write and one round trip per event (docs/scaling.md).
 * Forwarders (`claim` and the settle calls), per message:
 *   inner.claim → beginDelivery (conditional UpdateItem `delivering`, leased)
 *   - `delivered` already → the message is completed unsent (a duplicate);
 *   - another live `delivering` → released until that lease ends;
 *   - the store fails → released after STORE_BACKOFF_MS, nothing POSTed;
 *   then complete → `delivered` (one BatchWriteItem for the deliveries of a turn, then
 *   inner.complete); retry / release → `queued`;
 *   dead letter → `dead` (a replayed dead letter may be delivered again).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DeadLetterReason } from '../core/distinct-event';
import { ConfigurationError, DedupeInProgressError, StoreUnavailableError } from '../core/errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type {
  DeadLetter,
  DeadLetterFilter,
  EnqueueItem,
  EnqueueResult,
  Lease,
  Queue,
  QueueStats,
} from '../queue/queue';
import type * as KeyStoreModule from './key-store';
import type { DedupeStoreSettings, DynamoKeyStore, StoreObserver } from './key-store';

/** How long a message waits when the store could not be reached (it stays in the queue). */
export const STORE_BACKOFF_MS = 5_000;
/**
 * Longest wait of a message whose key another forwarder is delivering now: that POST usually
 * ends within a second, so the copy is looked at again well before the lease would run out
 * (each look: one conditional write and one read).
 */
export const BUSY_RECHECK_MS = 5_000;

/** The metrics the store layer reports; absent on Lambda (its log lines are the metrics there). */
export type DedupeMetrics = Pick<Metrics, 'dedupeClaims' | 'dedupeStoreErrors' | 'dedupeStoreLatency'>;

export interface DedupeHooks {
  logger?: Logger;
  metrics?: DedupeMetrics;
}

/** A StoreObserver feeding the prom-client metrics. */
export function storeObserver(metrics: DedupeMetrics | undefined): StoreObserver | undefined {
  if (!metrics) return undefined;
  return {
    call(op, seconds, failed) {
      metrics.dedupeStoreLatency.observe({ op }, seconds);
      if (failed) metrics.dedupeStoreErrors.inc({ op });
    },
  };
}

/** What a forwarder may do with a received message. */
export type Admission = { kind: 'go' } | { kind: 'duplicate' } | { kind: 'busy'; delayMs: number };

/** Owner ids: unique per process and per call/lease, readable in the table. */
class Owners {
  private readonly prefix = `${hostname().slice(0, 40)}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private seq = 0;
  next(): string {
    this.seq += 1;
    return `${this.prefix}:${this.seq}`;
  }
}

/** The forwarder's side of the protocol, per lease (used by {@link DedupedQueue} and the SQS Lambda). */
export class DeliveryGuard {
  private readonly owners = new Owners();
  private readonly held = new WeakMap<Lease, string>();
  private pendingDelivered: Array<{ key: string; owner: string; resolve: () => void; reject: (err: unknown) => void }> =
    [];

  constructor(
    readonly store: DynamoKeyStore,
    private readonly hooks: DedupeHooks = {},
  ) {}

  /** Takes the delivery lease of `lease`'s key. @throws StoreUnavailableError (nothing may be POSTed then). */
  async admit(lease: Lease): Promise<Admission> {
    const owner = this.owners.next();
    let result;
    try {
      result = await this.store.beginDelivery(lease.message.key, owner);
    } catch (err) {
      this.count('error');
      throw err;
    }
    switch (result.kind) {
      case 'claimed':
        this.held.set(lease, owner);
        this.count('claimed');
        return { kind: 'go' };
      case 'duplicate':
        this.count('duplicate');
        this.hooks.logger?.info(
          { key: lease.message.key, source: lease.message.source },
          'already delivered by another forwarder: dropped',
        );
        return { kind: 'duplicate' };
      case 'busy':
        this.count('busy');
        return { kind: 'busy', delayMs: Math.min(BUSY_RECHECK_MS, Math.max(1_000, result.until - Date.now() + 250)) };
    }
  }

  /**
   * Distinct answered 200. Deliveries recorded in the same turn of the event loop (the forwarder
   * settles a turn's deliveries together; a Lambda batch's records finish close together) share
   * one BatchWriteItem. Best effort: a failure is logged, the message is completed anyway.
   */
  async delivered(lease: Lease): Promise<void> {
    const owner = this.held.get(lease);
    if (owner === undefined) return;
    this.held.delete(lease);
    try {
      await this.recordDelivered(lease.message.key, owner);
    } catch (err) {
      // The message is deleted next, so no forwarder sends it again; a provider re-send finds
      // `delivering` and is dropped too. Only an SQS duplicate copy could slip through.
      this.hooks.logger?.error({ err, key: lease.message.key }, 'could not record a delivery in the shared key store');
    }
  }

  private recordDelivered(key: string, owner: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingDelivered.push({ key, owner, resolve, reject });
      if (this.pendingDelivered.length === 1) setImmediate(() => this.flushDelivered());
    });
  }

  private flushDelivered(): void {
    const batch = this.pendingDelivered;
    this.pendingDelivered = [];
    this.store.deliveredMany(batch).then(
      () => batch.forEach((p) => p.resolve()),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    );
  }

  /** Retry, release, circuit: the lease ends as `queued` so any forwarder may take the message. */
  async requeue(lease: Lease): Promise<void> {
    await this.end(lease, 'queued');
  }

  async dead(lease: Lease): Promise<void> {
    await this.end(lease, 'dead');
  }

  private async end(lease: Lease, state: 'queued' | 'dead'): Promise<void> {
    const owner = this.held.get(lease);
    if (owner === undefined) return;
    this.held.delete(lease);
    try {
      await this.store.endDelivery(lease.message.key, owner, state);
    } catch (err) {
      // The lease then simply runs out (≤ leaseMs) before another forwarder may take the key.
      this.hooks.logger?.warn(
        { err, key: lease.message.key, state },
        'could not end a delivery lease in the shared key store; it expires by itself',
      );
    }
  }

  private count(result: string, n = 1): void {
    this.hooks.metrics?.dedupeClaims.inc({ stage: 'forward', result }, n);
  }
}

/** The Queue decorator (see the file header). */
export class DedupedQueue implements Queue {
  readonly guard: DeliveryGuard;
  private readonly owners = new Owners();
  private checked: Promise<void> | null = null;

  constructor(
    readonly inner: Queue,
    readonly store: DynamoKeyStore,
    private readonly hooks: DedupeHooks = {},
  ) {
    this.guard = new DeliveryGuard(store, hooks);
  }

  get driver(): string {
    return this.inner.driver;
  }

  /**
   * The start-up check (serve, forward): a missing table or a wrong key schema throws
   * ConfigurationError naming the table; TTL off is a warning; an unreachable store is a warning
   * too (requests answer 503 until it answers; the check runs again on first use).
   */
  async start(): Promise<void> {
    try {
      await this.ensureChecked();
    } catch (err) {
      if (err instanceof ConfigurationError) throw err;
      this.hooks.logger?.warn(
        { err, table: this.store.table },
        'the shared key store cannot be reached yet: webhooks are answered 503 until it can',
      );
    }
  }

  async enqueue(items: readonly EnqueueItem[]): Promise<EnqueueResult> {
    await this.ready();
    const owner = this.owners.next();
    const unique: EnqueueItem[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      if (seen.has(item.message.key)) continue;
      seen.add(item.message.key);
      unique.push(item);
    }
    let duplicates = items.length - unique.length;
    const outcomes = await Promise.allSettled(unique.map((item) => this.store.claim(item.message.key, owner)));
    const claimed: EnqueueItem[] = [];
    let busy = 0;
    let failure: unknown;
    outcomes.forEach((o, i) => {
      if (o.status === 'rejected') failure ??= o.reason;
      else if (o.value.kind === 'claimed') claimed.push(unique[i]!);
      else if (o.value.kind === 'duplicate') duplicates += 1;
      else busy += 1;
    });
    const m = this.hooks.metrics?.dedupeClaims;
    if (m) {
      if (claimed.length > 0) m.inc({ stage: 'ingest', result: 'claimed' }, claimed.length);
      if (duplicates > 0) m.inc({ stage: 'ingest', result: 'duplicate' }, duplicates);
      if (busy > 0) m.inc({ stage: 'ingest', result: 'busy' }, busy);
      const errors = outcomes.filter((o) => o.status === 'rejected').length;
      if (errors > 0) m.inc({ stage: 'ingest', result: 'error' }, errors);
    }
    if (failure !== undefined || busy > 0) {
      await this.unclaim(claimed, owner);
      if (failure !== undefined)
        throw failure instanceof StoreUnavailableError
          ? failure
          : new StoreUnavailableError(String(failure), { cause: failure });
      throw new DedupeInProgressError(
        `another receiver is queueing ${busy} of these ${items.length} event(s) right now; retry later`,
      );
    }
    if (claimed.length === 0) return { queued: 0, deadLettered: 0, duplicates };
    let result: EnqueueResult;
    try {
      result = await this.inner.enqueue(claimed);
    } catch (err) {
      await this.unclaim(claimed, owner);
      throw err;
    }
    return { queued: result.queued, deadLettered: result.deadLettered, duplicates: duplicates + result.duplicates };
  }

  async claim(limit: number): Promise<Lease[]> {
    await this.ready();
    const leases = await this.inner.claim(limit);
    if (leases.length === 0) return leases;
    const admissions = await Promise.allSettled(leases.map((lease) => this.guard.admit(lease)));
    const out: Lease[] = [];
    const settles: Promise<void>[] = [];
    let failure: unknown;
    admissions.forEach((a, i) => {
      const lease = leases[i]!;
      if (a.status === 'rejected') {
        failure ??= a.reason;
        settles.push(this.inner.release(lease, STORE_BACKOFF_MS));
      } else if (a.value.kind === 'go') {
        out.push(lease);
      } else if (a.value.kind === 'duplicate') {
        settles.push(this.inner.complete(lease));
      } else {
        settles.push(this.inner.release(lease, a.value.delayMs));
      }
    });
    for (const r of await Promise.allSettled(settles)) {
      if (r.status === 'rejected')
        this.hooks.logger?.error(
          { err: r.reason },
          'could not settle a message the shared key store turned away; the queue hands it out again',
        );
    }
    // Nothing to deliver because the store is down: the forwarder logs it and backs off.
    if (out.length === 0 && failure !== undefined) throw failure;
    if (failure !== undefined)
      this.hooks.logger?.error(
        { err: failure },
        'the shared key store failed for some messages; they wait and are tried again',
      );
    return out;
  }

  async complete(lease: Lease): Promise<void> {
    await this.guard.delivered(lease);
    await this.inner.complete(lease);
  }

  async retry(lease: Lease, delayMs: number, lastError: string): Promise<void> {
    await this.guard.requeue(lease);
    await this.inner.retry(lease, delayMs, lastError);
  }

  async release(lease: Lease, delayMs?: number): Promise<void> {
    await this.guard.requeue(lease);
    await this.inner.release(lease, delayMs);
  }

  async deadLetter(lease: Lease, reason: DeadLetterReason, detail: string): Promise<void> {
    await this.guard.dead(lease);
    await this.inner.deadLetter(lease, reason, detail);
  }

  nextDueInMs(): Promise<number | null> {
    return this.inner.nextDueInMs();
  }

  onEnqueued(listener: () => void): () => void {
    return this.inner.onEnqueued(listener);
  }

  stats(): Promise<QueueStats> {
    return this.inner.stats();
  }

  /** Readiness: the queue is writable and the store answers. */
  async isWritable(): Promise<boolean> {
    const [queue, store] = await Promise.all([this.inner.isWritable(), this.store.ping()]);
    return queue && store;
  }

  listDeadLetters(filter?: DeadLetterFilter): Promise<DeadLetter[]> {
    return this.inner.listDeadLetters(filter);
  }

  /** `/status`'s dead letters by reason, from the driver when it can count them. */
  deadLetterCounts(): Promise<Record<string, number>> {
    return this.inner.deadLetterCounts ? this.inner.deadLetterCounts() : Promise.resolve({});
  }

  /** A replayed dead letter's key is `dead` (or older): the forwarder takes it like a queued one. */
  replayDeadLetters(filter?: DeadLetterFilter): Promise<number> {
    return this.inner.replayDeadLetters(filter);
  }

  purgeDeadLetters(filter?: DeadLetterFilter): Promise<number> {
    return this.inner.purgeDeadLetters(filter);
  }

  stopClaiming(): void {
    this.inner.stopClaiming?.();
  }

  async close(): Promise<void> {
    await this.inner.close();
    this.store.close();
  }

  // ---- internals ----

  /** The start-up check, once; a failure is retried by the next call and answered 503. */
  private async ready(): Promise<void> {
    try {
      await this.ensureChecked();
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      const message = err instanceof ConfigurationError ? err.problems.join('; ') : String(err);
      this.hooks.logger?.error({ table: this.store.table }, message);
      throw new StoreUnavailableError(message, { cause: err });
    }
  }

  private ensureChecked(): Promise<void> {
    if (!this.checked) {
      const check = this.store.check().then(({ ttlEnabled, ttlAttribute }) => {
        if (!ttlEnabled || ttlAttribute !== 'expiresAt') {
          this.hooks.logger?.warn(
            { table: this.store.table, ttl: ttlEnabled ? ttlAttribute : 'disabled' },
            'the shared key store table has no TTL on "expiresAt": expired keys are ignored but never deleted, so the table grows; enable TTL on expiresAt',
          );
        }
      });
      check.catch(() => {
        if (this.checked === check) this.checked = null;
      });
      this.checked = check;
    }
    return this.checked;
  }

  private async unclaim(items: readonly EnqueueItem[], owner: string): Promise<void> {
    const results = await Promise.allSettled(items.map((item) => this.store.unclaim(item.message.key, owner)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) {
      this.hooks.logger?.warn(
        { failed, leaseMs: this.store.leaseMs },
        'could not delete provisional claims; they lapse when their lease ends',
      );
    }
  }
}

/** What {@link withSharedStore} needs: `dedupe.store` (absent: no store) and `dedupe.windowMs`. */
export interface SharedStoreOptions {
  store?: DedupeStoreSettings;
  windowMs: number;
  /** Clock in ms since epoch; injectable for tests. */
  now?: () => number;
  logger?: Logger;
  metrics?: DedupeMetrics;
}

/**
 * The queue the runtimes use: `inner` itself, or `inner` behind the shared key store when
 * `dedupe.store` is set (DESIGN §7). The store's module is loaded only then. On a failure to build
 * the store, `inner` is closed before the error propagates.
 */
export function withSharedStore(inner: Queue, options: SharedStoreOptions): Queue {
  if (!options.store) return inner;
  const { DynamoKeyStore } = require('./key-store') as typeof KeyStoreModule;
  let store: DynamoKeyStore;
  try {
    store = new DynamoKeyStore({
      settings: options.store,
      windowMs: options.windowMs,
      now: options.now,
      observer: storeObserver(options.metrics),
    });
  } catch (err) {
    void inner.close();
    throw err;
  }
  return new DedupedQueue(inner, store, { logger: options.logger, metrics: options.metrics });
}

/** The start-time warning when many instances share a queue but no key store (DESIGN §4). */
export const NO_SHARED_STORE_WARNING =
  'queue.driver is sqs without dedupe.store: a provider re-delivery that reaches another instance, or an SQS re-delivery, is forwarded to Distinct again; configure dedupe.store (docs/scaling.md)';

/**
 * At start (serve, forward): checks the shared store's table (ConfigurationError when missing),
 * or warns that an SQS deployment without one forwards re-deliveries again.
 */
export async function prepareSharedStore(
  queue: Queue,
  config: { queue: { driver: string } },
  logger: Logger,
): Promise<void> {
  if (queue instanceof DedupedQueue) {
    await queue.start();
    logger.info(
      { table: queue.store.table, region: queue.store.region, leaseMs: queue.store.leaseMs },
      'shared key store ready',
    );
  } else if (config.queue.driver === 'sqs') {
    logger.warn(NO_SHARED_STORE_WARNING);
  }
}
