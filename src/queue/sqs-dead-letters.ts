/**
 * The SQS driver's dead-letter scan (sqs-queue.ts, "dead-letter queue operations"): the DLQ is
 * read by receiving with a short visibility, never deleting what does not match, and what was
 * seen is made visible again at once. Operator commands: run one at a time (two scans hide
 * messages from each other).
 */
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterReason } from '../core/distinct-event';
import type { DeadLetter, DeadLetterFilter } from './queue';
import {
  ATTR,
  chunk,
  fromSdkMessage,
  isDeadLetterReason,
  nonNegativeInt,
  parseQueueMessage,
  type ReceivedMessage,
  SQS_MAX_BATCH_ENTRIES,
} from './sqs-wire';

/** Long enough for a scan of `dlqScanMax` messages; they are made visible again right after. */
const DLQ_SCAN_VISIBILITY_SECONDS = 120;
/** Scans one dead-letter queue; receives go through `track` so the driver's close() waits for them. */
export class SqsDeadLetterScan {
  constructor(
    private readonly client: SQSClient,
    private readonly deadLetterQueueUrl: string,
    /** Long-poll wait of each receive. */
    private readonly waitSeconds: number,
    /** Most dead letters one scan looks at. */
    private readonly max: number,
    private readonly track: <T>(promise: Promise<T>) => Promise<T>,
  ) {}

  /** Ends a scan: what it received and kept is visible again at once (best effort; else after the scan visibility). */
  async makeVisible(messages: readonly ReceivedMessage[]): Promise<void> {
    await Promise.allSettled(
      chunk(messages, SQS_MAX_BATCH_ENTRIES).map((part) =>
        this.client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.deadLetterQueueUrl,
            Entries: part.map((m, i) => ({ Id: `v${i}`, ReceiptHandle: m.receiptHandle, VisibilityTimeout: 0 })),
          }),
        ),
      ),
    );
  }

  /** Receives the DLQ until it comes back empty (or `dlqScanMax`), hiding what it saw for the scan. */
  async scan(filter: DeadLetterFilter): Promise<Scanned[]> {
    const seen = new Map<string, Scanned>();
    const unreadable: Scanned[] = [];
    while (seen.size + unreadable.length < this.max) {
      const out = await this.track(
        this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.deadLetterQueueUrl,
            MaxNumberOfMessages: SQS_MAX_BATCH_ENTRIES,
            WaitTimeSeconds: this.waitSeconds,
            VisibilityTimeout: DLQ_SCAN_VISIBILITY_SECONDS,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            MessageAttributeNames: ['All'],
          }),
        ),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      for (const message of messages) {
        const received = fromSdkMessage(message);
        const letter = toDeadLetter(received);
        // Unreadable bodies are kept too: they must be made visible again (or purged by --all).
        if (letter) seen.set(received.messageId, { letter, received });
        else unreadable.push({ letter: null, received });
      }
      // An id names one message: no need to look further once it is found.
      if (filter.id !== undefined && seen.has(filter.id)) break;
    }
    return [...seen.values(), ...unreadable];
  }
}

/** A dead-letter-queue message as a DeadLetter; null when its body is not a queue message. */
export function toDeadLetter(received: ReceivedMessage): DeadLetter | null {
  const message = parseQueueMessage(received.body);
  if (typeof message === 'string') return null;
  const attrs = received.attributes;
  const recorded = attrs[ATTR.reason];
  let reason: DeadLetterReason;
  let detail = attrs[ATTR.detail] ?? '';
  if (recorded === undefined) {
    // Moved by the queue's RedrivePolicy: nobody recorded why.
    reason = 'max_attempts';
    detail = 'moved by the SQS redrive policy (maxReceiveCount reached); no reason recorded';
  } else if (isDeadLetterReason(recorded)) {
    reason = recorded;
  } else {
    reason = 'unexpected_response';
    detail = `${recorded}: ${detail}`;
  }
  return {
    id: received.messageId,
    reason,
    detail,
    attempts: nonNegativeInt(attrs[ATTR.attempts]) ?? 0,
    deadLetteredAt: nonNegativeInt(attrs[ATTR.deadLetteredAt]) ?? received.sentAt ?? 0,
    message,
  };
}

export interface Scanned {
  letter: DeadLetter | null;
  received: ReceivedMessage;
}

/** Readable dead letters, newest first, filtered and limited like the other drivers. */
export function matching(
  scanned: readonly Scanned[],
  filter: DeadLetterFilter,
): { letter: DeadLetter; received: ReceivedMessage }[] {
  const readable = scanned.filter((s): s is { letter: DeadLetter; received: ReceivedMessage } => s.letter !== null);
  readable.sort(
    (a, b) => b.letter.deadLetteredAt - a.letter.deadLetteredAt || (b.received.sentAt ?? 0) - (a.received.sentAt ?? 0),
  );
  const limit = filter.limit ?? Number.POSITIVE_INFINITY;
  const out: { letter: DeadLetter; received: ReceivedMessage }[] = [];
  for (const s of readable) {
    if (out.length >= limit) break;
    if (filter.reason !== undefined && s.letter.reason !== filter.reason) continue;
    if (filter.id !== undefined && s.letter.id !== filter.id) continue;
    out.push(s);
  }
  return out;
}

export function checkLimit(filter: DeadLetterFilter): void {
  const limit = filter.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0))
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
}
