/**
 * The SQS-triggered forwarder Lambda (event source mapping with `ReportBatchItemFailures`):
 * every record is one queued event, POSTed to Distinct and settled by the forwarder's policy
 * (src/forwarder/retry-policy.ts `decide()`). Docs:
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 *
 * - complete → success: Lambda deletes the message.
 * - retry → ChangeMessageVisibility to the backoff delay, and the record is reported in
 *   `batchItemFailures` so Lambda leaves it in the queue.
 * - dead_letter (and no identifier, and a body that is not a queue message) → SendMessage to the
 *   dead-letter queue with the reason as a message attribute, DeleteMessage, success.
 * - circuit_open (401/403) → the record is reported as failed with a visibility of
 *   `circuit.probeIntervalMs`: everything stays queued. This execution environment then sends no
 *   other request until the interval has passed (the records it gets meanwhile go back the same
 *   way); the first record after it is the probe.
 * - Anything that throws while settling a record fails only that record: Lambda hands it out
 *   again after the visibility timeout.
 *
 * Receives, releases and crashes all count toward the queue's maxReceiveCount; the queue driver
 * re-sends a fresh copy at the last receive (src/queue/sqs-queue.ts), so the redrive policy
 * catches only messages nobody settles.
 *
 * Module-scope state (configuration, SQS and HTTP clients, the circuit) is built on the first
 * invocation and reused by every later one in the execution environment.
 *
 * With `dedupe.store` (docs/scaling.md) every record passes the shared key store's
 * {@link DeliveryGuard} right before its POST: a key already `delivered` is dropped (success, not
 * POSTed), one another forwarder is delivering now is reported failed with a visibility until
 * that lease ends, and a store that cannot be reached sends nothing (failed, retried after
 * STORE_BACKOFF_MS). Outcomes are recorded as `delivered`, `queued` or `dead`.
 */
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AppConfig } from '../config/load';
import type { DeadLetterReason } from '../core/distinct-event';
import type { DistinctSender } from '../forwarder/distinct-client';
import { Circuit } from '../forwarder/circuit';
import { logDeadLettered, logForwarded, logRetry } from '../forwarder/delivery-log';
import { RateLimiter } from '../forwarder/rate-limiter';
import type { RetryPolicy } from '../forwarder/retry-policy';
import { settlementFor, unsendable } from '../forwarder/settle-policy';
import { createLogger, type Logger } from '../observability/logger';
import type { Lease } from '../queue/queue';
import { SqsQueue } from '../queue/sqs-queue';
import type { ReceivedMessage } from '../queue/sqs-wire';
import { loadLambdaConfig } from './lambda-config';
import { distinctClientFor } from './forwarding';
import { DeliveryGuard, NO_SHARED_STORE_WARNING, STORE_BACKOFF_MS } from '../dedupe/deduped-queue';
import type * as KeyStoreModule from '../dedupe/key-store';

/** What the handler needs; tests build it around real clients. */
export interface SqsForwarderDeps {
  config: AppConfig;
  queue: SqsQueue;
  client: DistinctSender;
  logger: Logger;
  /** Clock, ms since epoch (retry decisions, the circuit). */
  now?: () => number;
  /** Random source in [0, 1) for backoff jitter. */
  random?: () => number;
  /** The shared key store's delivery gate (`dedupe.store`); without it every record is POSTed. */
  guard?: DeliveryGuard;
}

/** The Lambda handler's shape. */
export type SqsForwarderHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** A Lambda SQS record in the driver's shape (message attributes by their string values). */
export function receivedFromRecord(record: SQSRecord): ReceivedMessage {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    if (typeof value.stringValue === 'string') attributes[name] = value.stringValue;
  }
  const receiveCount = Number(record.attributes.ApproximateReceiveCount);
  const sentAt = Number(record.attributes.SentTimestamp);
  return {
    messageId: record.messageId,
    receiptHandle: record.receiptHandle,
    body: record.body,
    receiveCount: Number.isInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1,
    sentAt: Number.isFinite(sentAt) && sentAt > 0 ? sentAt : undefined,
    attributes,
  };
}

/** Builds the handler around initialised dependencies. It rejects only when nothing could be settled. */
export function createSqsForwarderHandler(deps: SqsForwarderDeps): SqsForwarderHandler {
  const { config, queue, client, logger, guard } = deps;
  /** The store's start-up check, once per execution environment (retried after a failure). */
  let storeChecked: Promise<unknown> | null = null;
  const checkStore = (): Promise<unknown> => {
    if (!guard) return Promise.resolve();
    if (!storeChecked) {
      const check = guard.store.check().then(({ ttlEnabled }) => {
        if (!ttlEnabled)
          logger.warn(
            { table: guard.store.table },
            'the shared key store table has no TTL on "expiresAt": enable it, or the table grows',
          );
      });
      check.catch(() => (storeChecked = null));
      storeChecked = check;
    }
    return storeChecked;
  };
  const now = deps.now ?? Date.now;
  const policy: RetryPolicy = { ...config.retry, random: deps.random };
  const probeIntervalMs = config.circuit.probeIntervalMs;
  const limiter = new RateLimiter({ ratePerSecond: config.distinct.ratePerSecond });
  /** While it holds back, Distinct rejected our credentials: send nothing (module scope: survives invocations). */
  const circuit = new Circuit(probeIntervalMs, logger, now);

  /** True when the record must be reported in batchItemFailures. */
  async function processRecord(record: SQSRecord): Promise<boolean> {
    const received = receivedFromRecord(record);
    const lease = queue.leaseFromReceived(received);
    if (!lease) {
      await queue.deadLetterUnreadable(received);
      logger.warn(
        { messageId: record.messageId },
        'an SQS message that is not a queue message was moved to the dead-letter queue',
      );
      return false;
    }
    const { message } = lease;
    const refused = unsendable(lease);
    if (refused) {
      await deadLetter(lease, refused.reason, refused.detail);
      return false;
    }
    if (circuit.holdsBack()) {
      await queue.release(lease, circuit.nextProbeAt - now());
      return true;
    }
    await limiter.acquire();
    if (guard) {
      let admission;
      try {
        admission = await guard.admit(lease);
      } catch (err) {
        logger.error(
          { err, key: message.key },
          'the shared key store cannot be reached: the event stays queued, nothing was sent',
        );
        await queue.release(lease, STORE_BACKOFF_MS);
        return true;
      }
      if (admission.kind === 'duplicate') return false; // already delivered: Lambda deletes this copy
      if (admission.kind === 'busy') {
        await queue.release(lease, admission.delayMs);
        return true;
      }
    }
    const started = performance.now();
    const outcome = await client.send(message.event, message.key);
    const ms = Math.round(performance.now() - started);
    const settlement = settlementFor(outcome, lease, now(), policy);
    switch (settlement.kind) {
      case 'complete':
        await guard?.delivered(lease);
        circuit.close(outcome);
        logForwarded(logger, message, settlement.attempts, ms);
        return false;
      case 'retry':
        await guard?.requeue(lease);
        await queue.retry(lease, settlement.delayMs, settlement.error);
        logRetry(logger, message, outcome, settlement.attempts, settlement.delayMs);
        return true;
      case 'dead_letter':
        await deadLetter(lease, settlement.reason, settlement.detail);
        return false;
      case 'circuit_open':
        // Another record's rejection already holds sending back; otherwise this one (re)opens it.
        if (circuit.holdsBack()) circuit.deferProbe();
        else circuit.open(outcome, true);
        await guard?.requeue(lease);
        await queue.release(lease, probeIntervalMs);
        return true;
    }
  }

  async function deadLetter(lease: Lease, reason: DeadLetterReason, detail: string): Promise<void> {
    await guard?.dead(lease);
    await queue.deadLetter(lease, reason, detail);
    logDeadLettered(logger, lease, reason, detail);
  }

  return async (event) => {
    // A missing table (ConfigurationError naming it) or an unreachable store fails the whole
    // batch before anything is sent: every record comes back after the visibility timeout.
    await checkStore();
    const records = event.Records ?? [];
    const failures: SQSBatchItemFailure[] = [];
    let next = 0;
    // Bounded like the long-running forwarder: at most distinct.concurrency requests in flight.
    const worker = async (): Promise<void> => {
      for (let i = next++; i < records.length; i = next++) {
        const record = records[i]!;
        let failed: boolean;
        try {
          failed = await processRecord(record);
        } catch (err) {
          logger.error(
            { err, messageId: record.messageId },
            'could not settle an SQS record; Lambda hands it out again after the visibility timeout',
          );
          failed = true;
        }
        if (failed) failures.push({ itemIdentifier: record.messageId });
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.distinct.concurrency, records.length) }, worker));
    return { batchItemFailures: failures };
  };
}

/** Module-scope initialisation, once per execution environment; a failure is retried by the next invocation. */
function init(): SqsForwarderHandler {
  const config = loadLambdaConfig();
  const logger = createLogger({ level: config.log.level, redactPii: config.log.redactPii });
  if (!config.queue.sqs) throw new Error('unreachable: loadLambdaConfig guarantees queue.sqs');
  const queue = new SqsQueue({ sqs: config.queue.sqs, dedupeWindowMs: config.dedupe.windowMs });
  const client = distinctClientFor(config);
  let guard: DeliveryGuard | undefined;
  if (config.dedupe.store) {
    const { DynamoKeyStore } = require('../dedupe/key-store') as typeof KeyStoreModule;
    guard = new DeliveryGuard(new DynamoKeyStore({ settings: config.dedupe.store, windowMs: config.dedupe.windowMs }), {
      logger,
    });
  } else {
    logger.warn(NO_SHARED_STORE_WARNING);
  }
  logger.info(
    { queue: config.queue.sqs.queueUrl, distinct: config.distinct.baseUrl, store: config.dedupe.store?.table },
    'lambda sqs forwarder initialised',
  );
  return createSqsForwarderHandler({ config, queue, client, logger, guard });
}

let initialised: SqsForwarderHandler | undefined;

/** The Lambda entry point (`handler: dist/src/runtime/lambda-sqs.handler`). A configuration error fails the whole batch. */
export const handler: SqsForwarderHandler = async (event) => {
  initialised ??= init();
  return initialised(event);
};
