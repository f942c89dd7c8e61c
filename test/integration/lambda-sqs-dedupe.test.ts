/**
 * The SQS forwarder Lambda with the shared key store (`dedupe.store`): real SQSEvent records
 * built from messages received from fauxqs, the key store on dynalite, Distinct = the sandbox.
 * Two copies of one event (an SQS re-delivery, or two receivers) reach Distinct once; an
 * unreachable store sends nothing and fails the batch, so Lambda hands every record out again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAdapter } from '../../adapters';
import { buildConfig } from '../helpers/config';
import { StoreUnavailableError } from '../../src/core/errors';
import { DeliveryGuard } from '../../src/dedupe/deduped-queue';
import { DynamoKeyStore } from '../../src/dedupe/key-store';
import { DistinctClient } from '../../src/forwarder/distinct-client';
import { silentLogger } from '../../src/observability/logger';
import { SqsQueue, type SqsSettings } from '../../src/queue/sqs-queue';
import { loadLambdaConfig } from '../../src/runtime/lambda-config';
import { createSqsForwarderHandler, type SqsForwarderHandler } from '../../src/runtime/lambda-sqs';
import { deadEndpoint, useStoreHarness } from '../helpers/dynamo';
import { twilioDelivered } from '../helpers/queue-message';
import { counts, createQueuePair } from '../helpers/sqs';
import { receiveEvent, settleLikeLambda } from '../helpers/sqs-event';

const WEEK_MS = 7 * 86_400_000;
const twilio = getAdapter('twilio')!.testing.createCredentials();

const fx = useStoreHarness();

interface Harness {
  settings: SqsSettings;
  handle: SqsForwarderHandler;
}

async function setup(endpoint = fx.dyn.endpoint, table?: string): Promise<Harness> {
  const settings = await createQueuePair(fx.admin);
  const store = {
    driver: 'dynamodb' as const,
    table: table ?? (await fx.dyn.createTable()),
    endpoint,
    region: 'us-east-1',
    leaseMs: 30_000,
  };
  const config = buildConfig(
    {
      distinct: { baseUrl: fx.distinctUrl, apiKey: 'sandbox', timeoutMs: 2000, concurrency: 2 },
      queue: { driver: 'sqs', sqs: settings },
      dedupe: { store },
      log: { level: 'silent' },
      sources: { twilio: { feature: 'registration_sms', experienceId: 'exp_test', ...twilio.options } },
    },
    {},
  );
  const queue = new SqsQueue({ sqs: settings, dedupeWindowMs: WEEK_MS });
  const client = new DistinctClient({ baseUrl: fx.distinctUrl, apiKey: 'sandbox', timeoutMs: 2000, concurrency: 2 });
  const guard = new DeliveryGuard(new DynamoKeyStore({ settings: store, windowMs: WEEK_MS }));
  fx.cleanups.push(async () => {
    await queue.close();
    await client.close();
    guard.store.close();
  });
  return { settings, handle: createSqsForwarderHandler({ config, queue, client, logger: silentLogger(), guard }) };
}

/** Two copies of `key` in the queue (two plain drivers: no local de-duplication between them). */
async function twoCopies(settings: SqsSettings, key: string): Promise<void> {
  for (let i = 0; i < 2; i += 1) {
    const q = new SqsQueue({ sqs: settings, dedupeWindowMs: WEEK_MS });
    await q.enqueue([{ message: twilioDelivered(key, { experienceId: 'exp_test' }) }]);
    await q.close();
  }
}

test('two copies of one event in one batch and in a later batch: one POST, every copy settled as done', async () => {
  const h = await setup();
  await twoCopies(h.settings, 'evt-lambda');
  const event = await receiveEvent(fx.admin, h.settings, 2);
  const response = await h.handle(event);
  // concurrency 2: the copies race; the loser either sees `delivered` (done) or a live lease (failed, looked at again soon).
  await settleLikeLambda(fx.admin, h.settings, event, response);
  if (response.batchItemFailures.length > 0) {
    expect(response.batchItemFailures).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 5_200));
    const retry = await receiveEvent(fx.admin, h.settings, 1);
    const again = await h.handle(retry);
    expect(again).toEqual({ batchItemFailures: [] });
    await settleLikeLambda(fx.admin, h.settings, retry, again);
  }
  expect(fx.sandbox.received().map((e) => e.idempotencyKey)).toEqual(['evt-lambda']);
  expect(await counts(fx.admin, h.settings.queueUrl)).toEqual({ visible: 0, notVisible: 0 });

  // An SQS re-delivery after the event was delivered: dropped without a POST, reported done.
  await twoCopies(h.settings, 'evt-lambda');
  const later = await receiveEvent(fx.admin, h.settings, 2);
  expect(await h.handle(later)).toEqual({ batchItemFailures: [] });
  await settleLikeLambda(fx.admin, h.settings, later, { batchItemFailures: [] });
  expect(fx.sandbox.received()).toHaveLength(1);
  expect(fx.sandbox.stats().duplicates).toBe(0);
});

test('an unreachable store: nothing is POSTed and the batch fails, so every record comes back', async () => {
  const h = await setup(await deadEndpoint(), 'distinct-adapter-keys');
  await twoCopies(h.settings, 'evt-store-down');
  const event = await receiveEvent(fx.admin, h.settings, 2);
  await expect(h.handle(event)).rejects.toBeInstanceOf(StoreUnavailableError);
  expect(fx.sandbox.received()).toHaveLength(0);
  expect(await counts(fx.admin, h.settings.queueUrl)).toEqual({ visible: 0, notVisible: 2 });
});

test("loadLambdaConfig takes the key table from the stack (DISTINCT_DEDUPE_TABLE), keeping the file's other store settings", () => {
  const dir = mkdtempSync(join(tmpdir(), 'dwa-lambda-store-'));
  fx.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const doc = {
    distinct: { apiKey: 'sandbox' },
    dedupe: { store: { driver: 'dynamodb', table: 'from-the-file', leaseMs: 20_000 } },
    sources: { twilio: { feature: 'registration_sms', experienceId: 'exp_test', ...twilio.options } },
  };
  writeFileSync(join(dir, 'distinct.config.yml'), JSON.stringify(doc));
  const config = loadLambdaConfig({
    LAMBDA_TASK_ROOT: dir,
    DISTINCT_SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q',
    DISTINCT_SQS_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q-dlq',
    DISTINCT_DEDUPE_TABLE: 'distinct-webhook-adapter-prod-keys',
  });
  expect(config.dedupe.store).toEqual({
    driver: 'dynamodb',
    table: 'distinct-webhook-adapter-prod-keys',
    leaseMs: 20_000,
  });
});
