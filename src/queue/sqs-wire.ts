/**
 * The SQS driver's wire format (sqs-queue.ts explains the mapping): what a message looks like on
 * SQS (body, attributes, FIFO de-duplication and group ids), SQS's limits and how entries are
 * grouped into calls, and how a received message is read back.
 */
import { createHash } from 'node:crypto';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from '../core/distinct-event';
import { isEventType } from '../core/event-types';
import type { QueueMessage } from './queue';

/** A received message in the shape both ReceiveMessage and a Lambda SQS record can give. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** ApproximateReceiveCount (1 on the first receive). */
  receiveCount: number;
  /** SentTimestamp, ms since epoch. */
  sentAt: number | undefined;
  /** String values of the message attributes. */
  attributes: Readonly<Record<string, string>>;
}

/** SQS limits (SendMessageBatch, ChangeMessageVisibility, DelaySeconds). */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** 256 KiB: the classic per-call limit (AWS raised it to 1 MiB in 2025; the lower one works everywhere). */
export const SQS_MAX_BATCH_BYTES = 262_144;
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;
export const SQS_MAX_DELAY_SECONDS = 900;
/** Keeps the dead-letter attributes far below SQS's size limit. */
const MAX_DETAIL_CHARS = 1000;
/** Message attribute names this driver writes. */
export const ATTR = {
  enqueuedAt: 'enqueuedAt',
  attempts: 'attempts',
  reason: 'reason',
  detail: 'detail',
  deadLetteredAt: 'deadLetteredAt',
} as const;

/** A receipt handle that no longer names a message we hold: settling it is a no-op. */
const STALE_HANDLE_ERRORS = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidReceiptHandle']);

export interface Outgoing {
  queueUrl: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  /** FIFO queues: the de-duplication id (the message key, or a salted hash for copies). */
  dedupeId?: string;
  groupKey?: string;
  delaySeconds?: number;
}

/** Per outgoing entry: null when written, else why not. */
export type SendOutcome = string | null;

/** A main-queue entry; `copyOf` names the original of a re-sent copy or a replay. */
export function mainEntry(
  queueUrl: string,
  body: string,
  key: string,
  enqueuedAt: number,
  attempts: number,
  copyOf?: string,
): Outgoing {
  const attributes: Record<string, MessageAttributeValue> = { [ATTR.enqueuedAt]: num(enqueuedAt) };
  if (attempts > 0) attributes[ATTR.attempts] = num(attempts);
  return {
    queueUrl,
    body,
    attributes,
    // A copy must not be dropped as a repeat of its original within SQS's 5-minute window.
    dedupeId: copyOf === undefined ? dedupeIdOf(key) : hash(`${key}\n${copyOf}`),
    groupKey: key,
  };
}

/** A dead-letter-queue entry with the reason, detail, attempts and times as attributes. */
export function deadLetterEntry(
  queueUrl: string,
  body: string,
  key: string,
  reason: DeadLetterReason,
  detail: string,
  attempts: number,
  enqueuedAt: number,
  now: number,
  salt: string,
): Outgoing {
  const attributes: Record<string, MessageAttributeValue> = {
    [ATTR.reason]: str(reason),
    [ATTR.attempts]: num(attempts),
    [ATTR.enqueuedAt]: num(enqueuedAt),
    [ATTR.deadLetteredAt]: num(now),
  };
  // SQS refuses empty attribute values.
  if (detail !== '') attributes[ATTR.detail] = str(detail.slice(0, MAX_DETAIL_CHARS));
  return { queueUrl, body, attributes, dedupeId: hash(`${key}\n${salt}`), groupKey: key };
}

/** The SDK's entry for one outgoing message (FIFO fields only on FIFO queues). */
export function batchEntry(
  id: string,
  entry: Outgoing,
): {
  Id: string;
  MessageBody: string;
  MessageAttributes: Record<string, MessageAttributeValue>;
  MessageDeduplicationId?: string;
  MessageGroupId?: string;
  DelaySeconds?: number;
} {
  const fifo = isFifoUrl(entry.queueUrl);
  return {
    Id: id,
    MessageBody: entry.body,
    MessageAttributes: entry.attributes,
    MessageDeduplicationId: fifo ? entry.dedupeId : undefined,
    MessageGroupId: fifo ? groupIdOf(entry.groupKey ?? entry.body) : undefined,
    DelaySeconds: fifo ? undefined : entry.delaySeconds,
  };
}

/** Validates a message body; the problem as a string when it is not a QueueMessage. */
export function parseQueueMessage(body: string): QueueMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'the body is not JSON';
  }
  if (!isRecord(value)) return 'the body is not a JSON object';
  for (const field of ['key', 'source', 'provider'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') return `"${field}" is not a non-empty string`;
  }
  if (typeof value.type !== 'string' || !isEventType(value.type)) return '"type" is not a normalized event type';
  if (typeof value.receivedAt !== 'number' || !Number.isFinite(value.receivedAt)) return '"receivedAt" is not a number';
  const event = value.event;
  if (!isRecord(event)) return '"event" is not an object';
  for (const field of ['feature', 'action', 'experienceId', 'capturedAt'] as const) {
    if (typeof event[field] !== 'string') return `"event.${field}" is not a string`;
  }
  for (const field of ['userId', 'email', 'phone'] as const) {
    if (event[field] !== undefined && typeof event[field] !== 'string') return `"event.${field}" is not a string`;
  }
  if (event.metadata !== undefined && !isRecord(event.metadata)) return '"event.metadata" is not an object';
  return value as unknown as QueueMessage;
}

/** The shape of a ReceiveMessage result entry, normalized. */
export function fromSdkMessage(message: Message): ReceivedMessage {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    receiveCount: nonNegativeInt(message.Attributes?.ApproximateReceiveCount) ?? 1,
    sentAt: nonNegativeInt(message.Attributes?.SentTimestamp),
    attributes,
  };
}

/** True for a FIFO queue URL. */
export function isFifoUrl(url: string): boolean {
  return url.endsWith('.fifo');
}

export function isDeadLetterReason(value: string): value is DeadLetterReason {
  return Object.prototype.hasOwnProperty.call(DEAD_LETTER_REASONS, value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isStaleHandle(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (STALE_HANDLE_ERRORS.has(err.name)) return true;
  // Real SQS answers an expired handle with InvalidParameterValue naming the receipt handle.
  return err.name === 'InvalidParameterValue' && /receipt ?handle/i.test(err.message);
}

export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export function nonNegativeInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return undefined;
  return Number(value);
}

export function str(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

export function num(value: number): MessageAttributeValue {
  return { DataType: 'Number', StringValue: String(Math.round(value)) };
}

export function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** MessageDeduplicationId: the key itself when SQS accepts it (≤ 128 printable ASCII), else its hash. */
export function dedupeIdOf(key: string): string {
  return /^[\x21-\x7e]{1,128}$/.test(key) ? key : hash(key);
}

/** MessageGroupId: one group per event (see the file header). */
export function groupIdOf(key: string): string {
  return hash(key).slice(0, 32);
}

/** SQS's size rule: body bytes plus each attribute's name, type and value bytes. */
export function entrySize(entry: Outgoing): number {
  let size = Buffer.byteLength(entry.body, 'utf8');
  for (const [name, value] of Object.entries(entry.attributes)) {
    size +=
      Buffer.byteLength(name, 'utf8') +
      Buffer.byteLength(value.DataType ?? '', 'utf8') +
      Buffer.byteLength(value.StringValue ?? '', 'utf8');
  }
  return size;
}

/** Groups indexes into calls of ≤ 10 entries and ≤ 256 KiB, in order. */
export function chunkEntries(indexes: readonly number[], sizeOf: (i: number) => number): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const i of indexes) {
    const size = sizeOf(i);
    if (current.length > 0 && (current.length === SQS_MAX_BATCH_ENTRIES || bytes + size > SQS_MAX_BATCH_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function entryIndex(id: string | undefined): number {
  return Number((id ?? '').slice(1));
}
