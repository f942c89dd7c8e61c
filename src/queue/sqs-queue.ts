/**
 * The SQS driver (`queue.driver: sqs`, DESIGN §7): many stateless receivers and forwarders share
 * one SQS queue and its dead-letter queue. Docs: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/
 *
 * How the Queue contract maps onto SQS:
 * - enqueue: SendMessageBatch, at most 10 entries and 256 KiB a call, calls in parallel; the
 *   entries a call reports as failed are sent once more, then the whole enqueue rejects with a
 *   QueueWriteError naming how many failed (the provider gets 503 and re-sends).
 * - claim: ReceiveMessage with long polling (`waitTimeSeconds`), at most 10 a call. A lease's
 *   handle is the receipt handle; `attempts` = ApproximateReceiveCount − 1 (+ the `attempts`
 *   attribute of a re-sent copy), minus the releases this process made itself.
 * - retry / release: ChangeMessageVisibility(ceil(delay / 1 s), at most 12 h), nothing deleted.
 *   Releases made by another process count as receives (SQS cannot tell them apart).
 * - deadLetter: SendMessage to the dead-letter queue with `reason`, `detail`, `attempts` and
 *   `deadLetteredAt` attributes, then DeleteMessage. The queue's RedrivePolicy (maxReceiveCount)
 *   stays the safety net for messages nobody settles (a crash loop); so that it never catches a
 *   message the retry policy still wants, a retry or release at the last receive re-sends a fresh
 *   copy (attempts carried in an attribute) instead of changing the visibility.
 * - dead-letter queue operations scan the DLQ by receiving with a short visibility, never
 *   deleting what does not match, and make the rest visible again at once. Ids are MessageIds.
 *   Operator commands: run one at a time (two scans hide messages from each other).
 * - nextDueInMs is always 0 (null after stopClaiming): the receive's long poll is the wait.
 * - stats: GetQueueAttributes. `oldestAgeMs` is always 0: SQS reports the age of the oldest
 *   message only as the CloudWatch metric ApproximateAgeOfOldestMessage; alarm on that.
 *
 * De-duplication (`dedupeWindowMs`), explicit because SQS cannot keep the contract alone:
 * - within one enqueue call, and across calls in this process for `dedupeWindowMs` (at most
 *   `maxRememberedKeys` keys, oldest forgotten first): dropped and counted as duplicates;
 * - across processes, FIFO queues (`.fifo` URL): MessageDeduplicationId = the key, so SQS drops
 *   a repeat within its fixed 5-minute interval, whatever `dedupeWindowMs` says; SQS reports
 *   such a drop as a success, so it is counted as queued, not as a duplicate;
 * - across processes, standard queues: nothing at the queue. The forwarder sends the key as
 *   the Idempotency-Key header; longer windows need a shared store (docs/scaling.md).
 * MessageGroupId is a hash of the key: every event is its own group, so a message waiting in
 *   backoff never blocks another (no ordering is needed: each event carries its own time).
 *
 * Aborting a long poll (close, stopClaiming) can lose the receive's answer: SQS may already
 * have handed messages to the aborted call; they reappear after the visibility timeout.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import type { z } from 'zod';
import type { sqsSchema } from '../config/schema';
import type { DeadLetterReason } from '../core/distinct-event';
import { ConfigurationError, InternalError, QueueWriteError } from '../core/errors';
import type { DeadLetter, DeadLetterFilter, EnqueueItem, EnqueueResult, Lease, Queue, QueueStats } from './queue';
import { EnqueueListeners } from './enqueue-listeners';
import { checkLimit, matching, SqsDeadLetterScan } from './sqs-dead-letters';
import { KeyMemory } from './sqs-key-memory';
import {
  ATTR,
  batchEntry,
  chunk,
  chunkEntries,
  deadLetterEntry,
  describeError,
  entryIndex,
  entrySize,
  fromSdkMessage,
  hash,
  isFifoUrl,
  isStaleHandle,
  mainEntry,
  nonNegativeInt,
  num,
  type Outgoing,
  parseQueueMessage,
  type ReceivedMessage,
  type SendOutcome,
  SQS_MAX_BATCH_BYTES,
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_DELAY_SECONDS,
  SQS_MAX_VISIBILITY_SECONDS,
  str,
} from './sqs-wire';

/** The `queue.sqs` configuration section. */
export type SqsSettings = z.output<typeof sqsSchema>;

/** Options of {@link SqsQueue}. */
export interface SqsQueueOptions {
  sqs: SqsSettings;
  /** How long this process remembers a de-duplication key, in ms (see the file header). */
  dedupeWindowMs: number;
  /** Clock in ms since epoch (attribute timestamps, the local de-duplication window). */
  now?: () => number;
  /** A client to use instead of building one (it is then not destroyed by close()). */
  client?: SQSClient;
  /** Where the test guard looks for NODE_ENV / JEST_WORKER_ID (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Long-poll wait of each receive while scanning the DLQ (default 1 s: a 0 s receive samples only some SQS servers). */
  dlqScanWaitSeconds?: number;
  /** Most dead letters one list/replay/purge looks at (default 10 000). */
  dlqScanMax?: number;
  /** Most keys remembered for local de-duplication (default 100 000). */
  maxRememberedKeys?: number;
}

/** Releases remembered per message id, so this process does not count its own releases as attempts. */
const MAX_REMEMBERED_RELEASES = 10_000;

interface LeaseState {
  received: ReceivedMessage;
  settled: boolean;
}

/** The SQS driver (see the file header). */
export class SqsQueue implements Queue {
  readonly driver = 'sqs';
  private readonly settings: SqsSettings;
  private readonly client: SQSClient;
  private readonly ownsClient: boolean;
  private readonly now: () => number;
  private readonly deadLetters: SqsDeadLetterScan;
  private readonly keys: KeyMemory;
  private readonly leases = new WeakMap<Lease, LeaseState>();
  private readonly releases = new Map<string, number>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly receives = new Set<AbortController>();
  private readonly work = new Set<Promise<unknown>>();
  private readonly listeners = new EnqueueListeners();
  private maxReceiveCount: Promise<number> | null = null;
  private claiming = true;
  private closed = false;

  constructor(options: SqsQueueOptions) {
    const env = options.env ?? process.env;
    this.settings = options.sqs;
    const endpoint = options.sqs.endpoint ?? env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
    if (!endpoint && (env.NODE_ENV === 'test' || env.JEST_WORKER_ID !== undefined)) {
      // DEPENDENCIES §5: without an endpoint the SDK quietly targets real AWS.
      throw new ConfigurationError([
        'queue.sqs.endpoint: required under tests (NODE_ENV=test or JEST_WORKER_ID is set), so tests never reach AWS',
      ]);
    }
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new SQSClient({ region: options.sqs.region, endpoint: options.sqs.endpoint });
    this.now = options.now ?? Date.now;
    this.deadLetters = new SqsDeadLetterScan(
      this.client,
      options.sqs.deadLetterQueueUrl,
      options.dlqScanWaitSeconds ?? 1,
      options.dlqScanMax ?? 10_000,
      (promise) => this.track(promise),
    );
    this.keys = new KeyMemory(options.dedupeWindowMs, options.maxRememberedKeys ?? 100_000);
    if (options.sqs.maxReceiveCount !== undefined) this.maxReceiveCount = Promise.resolve(options.sqs.maxReceiveCount);
  }

  /** True for a FIFO main queue (`.fifo` URL). */
  get fifo(): boolean {
    return isFifoUrl(this.settings.queueUrl);
  }

  async enqueue(items: readonly EnqueueItem[]): Promise<EnqueueResult> {
    if (this.closed) throw new QueueWriteError('the queue is closed');
    let bodies: string[];
    try {
      bodies = items.map((item) => JSON.stringify(item.message));
    } catch (err) {
      throw new InternalError({ cause: err });
    }
    // Another call writing one of our keys decides whether ours is a duplicate: wait for it.
    for (;;) {
      const waits = new Set<Promise<void>>();
      for (const item of items) {
        const p = this.pending.get(item.message.key);
        if (p) waits.add(p);
      }
      if (waits.size === 0) break;
      await Promise.allSettled(waits);
    }
    if (this.closed) throw new QueueWriteError('the queue is closed');

    // From here to the registration below nothing awaits: the check and the claim on the keys are atomic.
    const now = this.now();
    const result: EnqueueResult = { queued: 0, deadLettered: 0, duplicates: 0 };
    const keys: string[] = [];
    const inCall = new Set<string>();
    const outgoing: Outgoing[] = [];
    const deadFlags: boolean[] = [];
    items.forEach((item, index) => {
      const key = item.message.key;
      if (inCall.has(key) || this.keys.has(key, now)) {
        result.duplicates += 1;
        return;
      }
      inCall.add(key);
      keys.push(key);
      const body = bodies[index] ?? '';
      if (item.deadLetter) {
        outgoing.push(
          deadLetterEntry(
            this.settings.deadLetterQueueUrl,
            body,
            key,
            item.deadLetter.reason,
            item.deadLetter.detail,
            0,
            now,
            now,
            `dl:${key}`,
          ),
        );
        deadFlags.push(true);
      } else {
        outgoing.push(mainEntry(this.settings.queueUrl, body, key, now, 0));
        deadFlags.push(false);
      }
    });
    if (outgoing.length === 0) return result;

    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    for (const key of keys) this.pending.set(key, mine);
    const failures: string[] = [];
    try {
      let outcomes: SendOutcome[];
      try {
        outcomes = await this.track(this.sendAll(outgoing));
      } catch (err) {
        throw new QueueWriteError('the messages could not be written to SQS', { cause: err });
      }
      outcomes.forEach((outcome, i) => {
        if (outcome !== null) {
          failures.push(outcome);
          return;
        }
        this.keys.remember(keys[i] ?? '', now);
        if (deadFlags[i]) result.deadLettered += 1;
        else result.queued += 1;
      });
    } finally {
      for (const key of keys) if (this.pending.get(key) === mine) this.pending.delete(key);
      done();
    }
    if (result.queued > 0) this.listeners.notify();
    if (failures.length > 0) {
      throw new QueueWriteError(
        `${failures.length} of ${outgoing.length} message(s) could not be written to SQS (${failures[0]})`,
      );
    }
    return result;
  }

  async claim(limit: number): Promise<Lease[]> {
    this.assertOpen();
    if (!this.claiming || !Number.isInteger(limit) || limit <= 0) return [];
    const abort = new AbortController();
    this.receives.add(abort);
    let messages: Message[];
    try {
      const out = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.settings.queueUrl,
          MaxNumberOfMessages: Math.min(SQS_MAX_BATCH_ENTRIES, limit),
          WaitTimeSeconds: this.settings.waitTimeSeconds,
          VisibilityTimeout: this.settings.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      );
      messages = out.Messages ?? [];
    } catch (err) {
      if (abort.signal.aborted) return [];
      throw err;
    } finally {
      this.receives.delete(abort);
    }
    const leases: Lease[] = [];
    for (const message of messages) {
      const received = fromSdkMessage(message);
      const lease = this.leaseFromReceived(received);
      if (lease) {
        leases.push(lease);
        continue;
      }
      try {
        await this.deadLetterUnreadable(received);
      } catch {
        // Not fatal to the claim: the message reappears after its visibility timeout, and the
        // redrive policy takes it in the end.
      }
    }
    return leases;
  }

  /**
   * A lease for a message received elsewhere (the Lambda event source); undefined when the body
   * is not a queue message (hand it to {@link deadLetterUnreadable}).
   */
  leaseFromReceived(received: ReceivedMessage): Lease | undefined {
    const message = parseQueueMessage(received.body);
    if (typeof message === 'string') return undefined;
    const base = nonNegativeInt(received.attributes[ATTR.attempts]) ?? 0;
    const ownReleases = this.releases.get(received.messageId) ?? 0;
    const lease: Lease = {
      handle: received.receiptHandle,
      message,
      attempts: base + Math.max(0, received.receiveCount - 1 - ownReleases),
      enqueuedAt: nonNegativeInt(received.attributes[ATTR.enqueuedAt]) ?? received.sentAt ?? this.now(),
    };
    this.leases.set(lease, { received, settled: false });
    return lease;
  }

  /** Moves a message that is not a queue message to the DLQ verbatim (no reason: `dlq list` skips it; `dlq purge --all` removes it). */
  async deadLetterUnreadable(received: ReceivedMessage): Promise<void> {
    const problem = parseQueueMessage(received.body);
    const detail = `not a queue message: ${typeof problem === 'string' ? problem : 'unreadable'}`;
    await this.track(
      this.sendOne({
        queueUrl: this.settings.deadLetterQueueUrl,
        body: received.body,
        attributes: { [ATTR.detail]: str(detail), [ATTR.deadLetteredAt]: num(this.now()) },
        dedupeId: hash(`unreadable:${received.messageId}`),
        groupKey: received.messageId,
      }),
    );
    await this.track(this.deleteQuietly(received.receiptHandle));
  }

  async complete(lease: Lease): Promise<void> {
    this.assertOpen();
    const state = this.stateOf(lease);
    if (state.settled) return;
    await this.track(this.deleteQuietly(lease.handle));
    state.settled = true;
  }

  async retry(lease: Lease, delayMs: number, _lastError: string): Promise<void> {
    this.assertOpen();
    const state = this.stateOf(lease);
    if (state.settled) return;
    await this.track(this.reschedule(lease, state, delayMs, lease.attempts + 1));
    state.settled = true;
  }

  async release(lease: Lease, delayMs = 0): Promise<void> {
    this.assertOpen();
    const state = this.stateOf(lease);
    if (state.settled) return;
    const id = state.received.messageId;
    await this.track(this.reschedule(lease, state, delayMs, lease.attempts));
    this.releases.delete(id);
    this.releases.set(id, (this.releases.get(id) ?? 0) + 1);
    for (const oldest of this.releases.keys()) {
      if (this.releases.size <= MAX_REMEMBERED_RELEASES) break;
      this.releases.delete(oldest);
    }
    state.settled = true;
  }

  async deadLetter(lease: Lease, reason: DeadLetterReason, detail: string): Promise<void> {
    this.assertOpen();
    const state = this.stateOf(lease);
    if (state.settled) return;
    const { received } = state;
    const now = this.now();
    await this.track(
      this.sendOne(
        deadLetterEntry(
          this.settings.deadLetterQueueUrl,
          received.body,
          lease.message.key,
          reason,
          detail,
          lease.attempts,
          lease.enqueuedAt,
          now,
          `dl:${received.messageId}:${received.receiveCount}`,
        ),
      ),
    );
    await this.track(this.deleteQuietly(lease.handle));
    state.settled = true;
  }

  async nextDueInMs(): Promise<number | null> {
    this.assertOpen();
    return this.claiming ? 0 : null;
  }

  onEnqueued(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  /**
   * Ends consumption for good: receives waiting now return nothing at once, later claims return
   * nothing. Enqueue and settling keep working, so in-flight deliveries can finish. Call it right
   * before stopping the forwarder, so its stop() does not wait out a 20 s long poll.
   */
  stopClaiming(): void {
    this.claiming = false;
    for (const abort of this.receives) abort.abort();
  }

  async stats(): Promise<QueueStats> {
    this.assertOpen();
    const names: QueueAttributeName[] = [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ];
    const [main, dead] = await Promise.all([
      this.attributes(this.settings.queueUrl, names),
      this.attributes(this.settings.deadLetterQueueUrl, names),
    ]);
    const count = (attrs: Record<string, string>, name: string): number => nonNegativeInt(attrs[name]) ?? 0;
    const inFlight = count(main, 'ApproximateNumberOfMessagesNotVisible');
    return {
      depth: count(main, 'ApproximateNumberOfMessages') + inFlight + count(main, 'ApproximateNumberOfMessagesDelayed'),
      // Includes messages waiting out a retry delay: SQS hides both the same way.
      inFlight,
      deadLettered: names.reduce((sum, name) => sum + count(dead, name), 0),
      oldestAgeMs: 0,
    };
  }

  async isWritable(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.attributes(this.settings.queueUrl, ['QueueArn']);
      return true;
    } catch {
      return false;
    }
  }

  async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    this.assertOpen();
    checkLimit(filter);
    const scanned = await this.deadLetters.scan(filter);
    try {
      return matching(scanned, filter).map(({ letter }) => letter);
    } finally {
      await this.deadLetters.makeVisible(scanned.map((s) => s.received));
    }
  }

  async replayDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    this.assertOpen();
    checkLimit(filter);
    const scanned = await this.deadLetters.scan(filter);
    // Oldest first, like the other drivers; attempts reset, due now.
    const chosen = matching(scanned, filter).reverse();
    const now = this.now();
    const outcomes = await this.track(
      this.sendAll(
        chosen.map(({ letter, received }) =>
          mainEntry(this.settings.queueUrl, received.body, letter.message.key, now, 0, `replay:${received.messageId}`),
        ),
      ),
    );
    const sent = chosen.filter((_, i) => outcomes[i] === null).map((s) => s.received);
    await this.deleteAll(this.settings.deadLetterQueueUrl, sent);
    const sentIds = new Set(sent.map((r) => r.messageId));
    await this.deadLetters.makeVisible(scanned.map((s) => s.received).filter((r) => !sentIds.has(r.messageId)));
    if (sent.length > 0) this.listeners.notify();
    const failed = outcomes.filter((o): o is string => o !== null);
    if (failed.length > 0) {
      throw new QueueWriteError(
        `replayed ${sent.length} dead letter(s); ${failed.length} could not be written to the queue (${failed[0]})`,
      );
    }
    return sent.length;
  }

  async purgeDeadLetters(filter: DeadLetterFilter = {}): Promise<number> {
    this.assertOpen();
    checkLimit(filter);
    const everything = filter.reason === undefined && filter.id === undefined && filter.limit === undefined;
    const scanned = await this.deadLetters.scan(filter);
    // With no filter at all, unreadable bodies go too.
    const chosen = everything ? scanned.map((s) => s.received) : matching(scanned, filter).map((s) => s.received);
    await this.deleteAll(this.settings.deadLetterQueueUrl, chosen);
    const ids = new Set(chosen.map((r) => r.messageId));
    await this.deadLetters.makeVisible(scanned.map((s) => s.received).filter((r) => !ids.has(r.messageId)));
    return chosen.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.claiming = false;
    for (const abort of this.receives) abort.abort();
    this.listeners.clear();
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
    if (this.ownsClient) this.client.destroy();
  }

  // ---- internals ----

  private stateOf(lease: Lease): LeaseState {
    const state = this.leases.get(lease);
    if (!state) throw new Error(`not a lease of this SQS queue: ${lease.handle.slice(0, 24)}`);
    return state;
  }

  /** ChangeMessageVisibility; at the redrive limit, a fresh copy instead (see the file header). */
  private async reschedule(lease: Lease, state: LeaseState, delayMs: number, attempts: number): Promise<void> {
    const seconds = Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
    const { received } = state;
    if (received.receiveCount >= (await this.redriveLimit())) {
      const copy = mainEntry(
        this.settings.queueUrl,
        received.body,
        lease.message.key,
        lease.enqueuedAt,
        attempts,
        `copy:${received.messageId}:${received.receiveCount}`,
      );
      // FIFO queues take no per-message delay; the copy is due at once there.
      if (!this.fifo && seconds > 0) copy.delaySeconds = Math.min(SQS_MAX_DELAY_SECONDS, seconds);
      await this.sendOne(copy);
      await this.deleteQuietly(lease.handle);
      return;
    }
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.settings.queueUrl,
          ReceiptHandle: lease.handle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (err) {
      if (!isStaleHandle(err)) throw err;
    }
  }

  /** maxReceiveCount from the configuration, else from the queue's RedrivePolicy (Infinity without one). */
  private redriveLimit(): Promise<number> {
    if (!this.maxReceiveCount) {
      const lookup = this.attributes(this.settings.queueUrl, ['RedrivePolicy']).then((attrs) => {
        const policy = attrs.RedrivePolicy;
        if (!policy) return Number.POSITIVE_INFINITY;
        try {
          const parsed: unknown = JSON.parse(policy);
          const value =
            typeof parsed === 'object' && parsed !== null
              ? (parsed as Record<string, unknown>).maxReceiveCount
              : undefined;
          return nonNegativeInt(value === undefined ? undefined : String(value)) ?? Number.POSITIVE_INFINITY;
        } catch {
          return Number.POSITIVE_INFINITY;
        }
      });
      // A failed lookup is not cached: the next settle asks again.
      lookup.catch(() => {
        if (this.maxReceiveCount === lookup) this.maxReceiveCount = null;
      });
      this.maxReceiveCount = lookup;
    }
    return this.maxReceiveCount;
  }

  /** Sends every entry: per queue, ≤ 10 entries and ≤ 256 KiB a call, calls in parallel. */
  private async sendAll(entries: readonly Outgoing[]): Promise<SendOutcome[]> {
    const outcomes: SendOutcome[] = entries.map(() => 'not sent');
    const byQueue = new Map<string, number[]>();
    entries.forEach((entry, i) => {
      const list = byQueue.get(entry.queueUrl) ?? [];
      list.push(i);
      byQueue.set(entry.queueUrl, list);
    });
    const calls: Promise<void>[] = [];
    for (const [queueUrl, indexes] of byQueue) {
      for (const chunk of chunkEntries(indexes, (i) => entrySize(entries[i]!))) {
        if (chunk.length === 1 && entrySize(entries[chunk[0]!]!) > SQS_MAX_BATCH_BYTES) {
          outcomes[chunk[0]!] =
            `a message of ${entrySize(entries[chunk[0]!]!)} bytes is over SQS's ${SQS_MAX_BATCH_BYTES}-byte limit`;
          continue;
        }
        calls.push(
          this.sendBatch(
            queueUrl,
            chunk.map((i) => entries[i]!),
          ).then((results) => {
            results.forEach((r, j) => (outcomes[chunk[j]!] = r));
          }),
        );
      }
    }
    await Promise.all(calls);
    return outcomes;
  }

  /** One SendMessageBatch; the entries it reports as failed are sent once more. */
  private async sendBatch(queueUrl: string, entries: readonly Outgoing[]): Promise<SendOutcome[]> {
    const outcomes: SendOutcome[] = entries.map(() => 'not sent');
    let todo = entries.map((_, i) => i);
    for (let round = 0; round < 2 && todo.length > 0; round += 1) {
      let failed: { Id?: string; Code?: string; Message?: string }[];
      try {
        const out = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: todo.map((i) => batchEntry(`m${i}`, entries[i]!)),
          }),
        );
        for (const ok of out.Successful ?? []) outcomes[entryIndex(ok.Id)] = null;
        failed = out.Failed ?? [];
      } catch (err) {
        // The SDK already retried the call itself; a whole-call failure is final here.
        const why = describeError(err);
        for (const i of todo) outcomes[i] = why;
        return outcomes;
      }
      for (const f of failed) outcomes[entryIndex(f.Id)] = `${f.Code ?? 'error'}: ${f.Message ?? 'no message'}`;
      todo = todo.filter((i) => outcomes[i] !== null);
    }
    return outcomes;
  }

  private async sendOne(entry: Outgoing): Promise<void> {
    const e = batchEntry('m0', entry);
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: entry.queueUrl,
        MessageBody: e.MessageBody,
        MessageAttributes: e.MessageAttributes,
        MessageDeduplicationId: e.MessageDeduplicationId,
        MessageGroupId: e.MessageGroupId,
        DelaySeconds: e.DelaySeconds,
      }),
    );
  }

  private async deleteQuietly(receiptHandle: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteMessageCommand({ QueueUrl: this.settings.queueUrl, ReceiptHandle: receiptHandle }),
      );
    } catch (err) {
      if (!isStaleHandle(err)) throw err;
    }
  }

  private async deleteAll(queueUrl: string, messages: readonly ReceivedMessage[]): Promise<void> {
    await Promise.all(
      chunk(messages, SQS_MAX_BATCH_ENTRIES).map((part) =>
        this.track(
          this.client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: part.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.receiptHandle })),
            }),
          ),
        ),
      ),
    );
  }

  private async attributes(queueUrl: string, names: QueueAttributeName[]): Promise<Record<string, string>> {
    const out = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names }));
    return out.Attributes ?? {};
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.work.add(promise);
    const forget = (): void => {
      this.work.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the queue is closed');
  }
}
