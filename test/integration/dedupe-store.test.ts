/**
 * The shared key store (`dedupe.store`, src/dedupe/) against a real DynamoDB API (dynalite,
 * in-process on 127.0.0.1) and a real SQS API (fauxqs), with the project's sandbox as Distinct:
 * concurrent receivers, the crash window between claim and enqueue, forwarders racing on one
 * event, expiry, an unreachable store (503, nothing acknowledged; forwarders keep messages),
 * dead-letter replay, and the start-up check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../helpers/config';
import { retrySchema } from '../../src/config/schema';
import {
  ConfigurationError,
  DedupeInProgressError,
  QueueWriteError,
  StoreUnavailableError,
} from '../../src/core/errors';
import pino from 'pino';
import { configWarnings } from '../../src/cli/commands/validate';
import {
  BUSY_RECHECK_MS,
  DedupedQueue,
  DeliveryGuard,
  NO_SHARED_STORE_WARNING,
  prepareSharedStore,
  withSharedStore,
} from '../../src/dedupe/deduped-queue';
import { DynamoKeyStore, type DedupeStoreSettings } from '../../src/dedupe/key-store';
import { DistinctClient } from '../../src/forwarder/distinct-client';
import { Forwarder } from '../../src/forwarder/forwarder';
import { silentLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createQueue, type CreateQueueOptions } from '../../src/queue/create-queue';
import type { Lease, Queue } from '../../src/queue/queue';
import { SqsQueue, type SqsSettings } from '../../src/queue/sqs-queue';
import { startService } from '../../src/runtime/service';
import { createTestCredentials, signedSample, testConfigDocument, waitFor } from '../helpers/app';
import { createKeysTable, deadEndpoint, startDynalite, useStoreHarness } from '../helpers/dynamo';
import { twilioDelivered } from '../helpers/queue-message';
import { counts, createQueuePair } from '../helpers/sqs';

const WEEK_MS = 7 * 86_400_000;
const LEASE_MS = 30_000;

const h = useStoreHarness();

/** createQueue behind the shared store, as the runtimes compose them (withSharedStore). */
function createStoredQueue(o: CreateQueueOptions & { store?: DedupeStoreSettings; logger?: pino.Logger }): Queue {
  const { store, logger, ...queue } = o;
  return withSharedStore(createQueue(queue), { store, windowMs: queue.dedupeWindowMs, now: queue.now, logger });
}

function storeSettings(table: string, endpoint = h.dyn.endpoint): DedupeStoreSettings {
  return { driver: 'dynamodb', table, endpoint, region: 'us-east-1', leaseMs: LEASE_MS };
}

/** A receiver's or forwarder's queue: SQS behind the shared store. */
function storeQueue(
  sqs: SqsSettings,
  table: string,
  extra: { now?: () => number; endpoint?: string } = {},
): DedupedQueue {
  const queue = createStoredQueue({
    driver: 'sqs',
    path: '',
    synchronous: 'full',
    dedupeWindowMs: WEEK_MS,
    sqs,
    store: storeSettings(table, extra.endpoint),
    now: extra.now,
  });
  h.cleanups.push(() => queue.close());
  return queue as DedupedQueue;
}

function message(key: string) {
  return twilioDelivered(key, { experienceId: 'exp_test' });
}

function forwarder(queue: Queue): Forwarder {
  const client = new DistinctClient({ baseUrl: h.distinctUrl, apiKey: 'sandbox', timeoutMs: 2000, concurrency: 4 });
  const f = new Forwarder({
    queue,
    client,
    retry: retrySchema.parse({ baseDelayMs: 10, maxDelayMs: 100 }),
    circuit: { probeIntervalMs: 100 },
    concurrency: 4,
    ratePerSecond: 0,
    logger: silentLogger(),
    metrics: createMetrics({ defaultMetrics: false }),
    maxIdleMs: 100,
    claimAhead: 0,
  });
  h.cleanups.push(async () => {
    await f.stop();
    await client.close();
  });
  return f;
}

async function drained(sqs: SqsSettings): Promise<boolean> {
  const c = await counts(h.admin, sqs.queueUrl);
  return c.visible === 0 && c.notVisible === 0;
}

test('two receivers claim the same event at once: exactly one queues it, the other answers 503 and queues nothing', async () => {
  const sqs = await createQueuePair(h.admin);
  const table = await h.dyn.createTable();
  const a = storeQueue(sqs, table);
  const b = storeQueue(sqs, table);
  const item = { message: message('evt-race') };
  const results = await Promise.allSettled([a.enqueue([item]), b.enqueue([item])]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  expect(won).toHaveLength(1);
  expect((won[0] as PromiseFulfilledResult<{ queued: number }>).value.queued).toBe(1);
  expect(lost).toHaveLength(1);
  expect(lost[0]!.reason).toBeInstanceOf(DedupeInProgressError);
  expect(lost[0]!.reason.statusCode).toBe(503);
  expect(await counts(h.admin, sqs.queueUrl)).toEqual({ visible: 1, notVisible: 0 });

  // A batch of 20 sent to both at once: whatever the interleaving, at most one acknowledges, and
  // the queue holds exactly the events of the acknowledged requests (nothing half-queued).
  const sqs2 = await createQueuePair(h.admin);
  const c = storeQueue(sqs2, table);
  const d = storeQueue(sqs2, table);
  const batch = Array.from({ length: 20 }, (_, i) => ({ message: message(`batch-${i}`) }));
  const both = await Promise.allSettled([c.enqueue(batch), d.enqueue(batch)]);
  const acked = both.filter((r) => r.status === 'fulfilled').length;
  expect(acked).toBeLessThanOrEqual(1);
  for (const r of both) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DedupeInProgressError);
  expect((await counts(h.admin, sqs2.queueUrl)).visible).toBe(20 * acked);
});

test('a receiver that died between claim and enqueue blocks the key only until its lease ends; the retry is queued', async () => {
  const sqs = await createQueuePair(h.admin);
  const table = await h.dyn.createTable();
  let t = Date.now();
  const now = (): number => t;
  const store = new DynamoKeyStore({ settings: storeSettings(table), windowMs: WEEK_MS, now });
  h.cleanups.push(() => store.close());
  // The crashed receiver: its claim is recorded, its SendMessageBatch never happened.
  expect(await store.claim('evt-crash', 'crashed-receiver')).toEqual({ kind: 'claimed' });

  const receiver = storeQueue(sqs, table, { now });
  // The provider's quick retry meets the live claim: 503, not a 200 for an event nobody queued.
  await expect(receiver.enqueue([{ message: message('evt-crash') }])).rejects.toBeInstanceOf(DedupeInProgressError);
  expect((await counts(h.admin, sqs.queueUrl)).visible).toBe(0);

  t += LEASE_MS + 1;
  await expect(receiver.enqueue([{ message: message('evt-crash') }])).resolves.toEqual({
    queued: 1,
    deadLettered: 0,
    duplicates: 0,
  });
  expect((await counts(h.admin, sqs.queueUrl)).visible).toBe(1);
  expect(await store.get('evt-crash')).toMatchObject({ state: 'claimed' });
});

test('the queue refusing the events deletes the request\'s own claims (503), so the retry is not a "duplicate"', async () => {
  const good = await createQueuePair(h.admin);
  const table = await h.dyn.createTable();
  const broken = { ...good, queueUrl: `${good.queueUrl}-missing` };
  const receiver = storeQueue(broken, table);
  await expect(receiver.enqueue([{ message: message('evt-qfail') }])).rejects.toBeInstanceOf(QueueWriteError);
  expect(await receiver.store.get('evt-qfail')).toBeNull();
  const retry = storeQueue(good, table);
  await expect(retry.enqueue([{ message: message('evt-qfail') }])).resolves.toMatchObject({ queued: 1 });
});

test('provider re-deliveries to other receivers are dropped once the event is delivered; Distinct gets it once', async () => {
  const sqs = await createQueuePair(h.admin);
  const table = await h.dyn.createTable();
  const r1 = storeQueue(sqs, table);
  const r2 = storeQueue(sqs, table);
  const items = ['a', 'b', 'c'].map((k) => ({ message: message(`evt-${k}`) }));
  expect(await r1.enqueue(items)).toEqual({ queued: 3, deadLettered: 0, duplicates: 0 });
  forwarder(storeQueue(sqs, table)).start();
  await waitFor(() => h.sandbox.received().length >= 3 && drained(sqs), 10_000);
  expect(await r2.enqueue(items)).toEqual({ queued: 0, deadLettered: 0, duplicates: 3 });
  expect(await r1.enqueue(items)).toEqual({ queued: 0, deadLettered: 0, duplicates: 3 });
  await new Promise((r) => setTimeout(r, 300));
  expect(h.sandbox.received()).toHaveLength(3);
  expect(h.sandbox.stats().duplicates).toBe(0);
  expect(await r1.store.get('evt-a')).toMatchObject({ state: 'delivered' });
});

test('two copies of one event in SQS and two forwarders racing: Distinct gets it once, both copies are settled', async () => {
  const sqs = await createQueuePair(h.admin);
  const table = await h.dyn.createTable();
  // Two copies, as two receivers whose claims lapsed would leave (two plain drivers: no local de-dup between them).
  for (let i = 0; i < 2; i += 1) {
    const plain = new SqsQueue({ sqs, dedupeWindowMs: WEEK_MS });
    await plain.enqueue([{ message: message('evt-twice') }, { message: message(`evt-single-${i}`) }]);
    await plain.close();
  }
  expect((await counts(h.admin, sqs.queueUrl)).visible).toBe(4);
  forwarder(storeQueue(sqs, table)).start();
  forwarder(storeQueue(sqs, table)).start();
  await waitFor(() => drained(sqs), 15_000);
  await new Promise((r) => setTimeout(r, 200));
  const keys = h.sandbox
    .received()
    .map((e) => e.idempotencyKey)
    .sort();
  expect(keys).toEqual(['evt-single-0', 'evt-single-1', 'evt-twice']);
  expect(h.sandbox.stats().duplicates).toBe(0);
});

test('one message seen by two forwarders at once (an SQS re-delivery while the first POSTs): one goes, the other waits, then drops it', async () => {
  const table = await h.dyn.createTable();
  const a = new DeliveryGuard(new DynamoKeyStore({ settings: storeSettings(table), windowMs: WEEK_MS }));
  const b = new DeliveryGuard(new DynamoKeyStore({ settings: storeSettings(table), windowMs: WEEK_MS }));
  h.cleanups.push(
    () => a.store.close(),
    () => b.store.close(),
  );
  const lease = (): Lease => ({ handle: 'h', message: message('evt-seen-twice'), attempts: 0, enqueuedAt: Date.now() });
  const [la, lb] = [lease(), lease()];
  const admissions = await Promise.all([a.admit(la), b.admit(lb)]);
  const kinds = admissions.map((x) => x.kind).sort();
  expect(kinds).toEqual(['busy', 'go']);
  const busy = admissions.find((x) => x.kind === 'busy') as { delayMs: number };
  // Looked at again soon (the first POST usually ends within a second), never after the lease.
  expect(busy.delayMs).toBe(BUSY_RECHECK_MS);
  const [winner, winnerLease, loser, loserLease] = admissions[0]!.kind === 'go' ? [a, la, b, lb] : [b, lb, a, la];
  await winner.delivered(winnerLease);
  expect(await loser.admit(loserLease)).toEqual({ kind: 'duplicate' });
  // A transient failure hands the key back at once (not after the lease): another forwarder may retry it.
  const first: Lease = { ...lease(), message: message('evt-retry') };
  expect(await a.admit(first)).toEqual({ kind: 'go' });
  await a.requeue(first);
  expect(await b.admit({ ...first })).toEqual({ kind: 'go' });
});

test('expired keys count as absent (dynalite, like DynamoDB until its TTL sweep, still holds them)', async () => {
  const table = await h.dyn.createTable();
  let t = Date.now();
  const store = new DynamoKeyStore({ settings: storeSettings(table), windowMs: 60_000, now: () => t });
  h.cleanups.push(() => store.close());
  expect(await store.beginDelivery('evt-old', 'f1')).toEqual({ kind: 'claimed' });
  await store.delivered('evt-old', 'f1');
  expect(await store.claim('evt-old', 'r1')).toEqual({ kind: 'duplicate', state: 'delivered' });
  expect(await store.beginDelivery('evt-old', 'f2')).toEqual({ kind: 'duplicate', state: 'delivered' });
  t += 61_000;
  expect(await store.claim('evt-old', 'r2')).toEqual({ kind: 'claimed' });
  const item = await store.get('evt-old');
  expect(item).toMatchObject({ state: 'claimed', owner: 'r2' });
  expect(item!.expiresAt).toBe(Math.ceil((t + 60_000) / 1000));
});

test('an unreachable store: the webhook is answered 503 ERR_STORE_UNAVAILABLE and nothing is queued', async () => {
  const creds = createTestCredentials();
  const sqs = await createQueuePair(h.admin);
  const doc = testConfigDocument({ creds, baseUrl: h.distinctUrl, publicUrl: 'https://hooks.example.com' });
  const config = buildConfig(
    {
      ...doc,
      queue: { driver: 'sqs', sqs },
      dedupe: { store: storeSettings('distinct-adapter-keys', await deadEndpoint()) },
    },
    {},
  );
  const service = await startService(config, { logger: silentLogger(), forward: false, port: 0, host: '127.0.0.1' });
  h.cleanups.push(() => service.close());
  const req = signedSample('twilio', creds, 'https://hooks.example.com/webhooks/twilio');
  const res = await fetch(`${service.url}/webhooks/twilio`, {
    method: 'POST',
    headers: req.headers,
    body: new Uint8Array(req.body),
  });
  expect(res.status).toBe(503);
  expect(await res.json()).toMatchObject({ error: 'ERR_STORE_UNAVAILABLE' });
  expect(await counts(h.admin, sqs.queueUrl)).toEqual({ visible: 0, notVisible: 0 });
  const ready = await fetch(`${service.url}/readyz`);
  expect(ready.status).toBe(503);
});

test('forwarders with an unreachable store send nothing and keep every message queued', async () => {
  const sqs = await createQueuePair(h.admin);
  const plain = new SqsQueue({ sqs, dedupeWindowMs: WEEK_MS });
  await plain.enqueue([{ message: message('evt-kept') }]);
  await plain.close();
  // Down from the start: nothing is even received.
  const down = storeQueue(sqs, 'distinct-adapter-keys', { endpoint: await deadEndpoint() });
  await expect(down.claim(10)).rejects.toBeInstanceOf(StoreUnavailableError);
  expect(await counts(h.admin, sqs.queueUrl)).toEqual({ visible: 1, notVisible: 0 });

  // Down after start: the received message goes back (visible again after the backoff), unsent.
  const local = await startDynalite();
  const table = await local.createTable();
  const q = storeQueue(sqs, table, { endpoint: local.endpoint });
  await q.start();
  await local.close();
  await expect(q.claim(10)).rejects.toBeInstanceOf(StoreUnavailableError);
  expect(await counts(h.admin, sqs.queueUrl)).toEqual({ visible: 0, notVisible: 1 });
  expect(h.sandbox.received()).toHaveLength(0);
});

test('a forwarder keeps the message while the store is down and delivers it once the store is back', async () => {
  const sqs = await createQueuePair(h.admin);
  const plain = new SqsQueue({ sqs, dedupeWindowMs: WEEK_MS });
  await plain.enqueue([{ message: message('evt-outage') }]);
  await plain.close();
  const local = await startDynalite();
  const table = await local.createTable();
  const q = storeQueue(sqs, table, { endpoint: local.endpoint });
  await q.start();
  await local.close();
  forwarder(q).start();
  await new Promise((r) => setTimeout(r, 1_500));
  expect(h.sandbox.received()).toHaveLength(0);
  const c = await counts(h.admin, sqs.queueUrl);
  expect(c.visible + c.notVisible).toBe(1);

  // The same store comes back (same port, the table re-created: dynalite keeps nothing in memory).
  const again = await startDynalite(Number(new URL(local.endpoint).port));
  h.cleanups.push(() => again.close());
  await createKeysTable(again.client, table);
  await waitFor(async () => h.sandbox.received().length === 1 && (await drained(sqs)), 15_000);
  expect(h.sandbox.received().map((e) => e.idempotencyKey)).toEqual(['evt-outage']);
});

test('dlq replay delivers a dead-lettered event again; a provider re-send of it stays a duplicate', async () => {
  const sqs = await createQueuePair(h.admin);
  const table = await h.dyn.createTable();
  const q = storeQueue(sqs, table);
  await q.enqueue([{ message: message('evt-dead') }]);
  const [lease] = await q.claim(1);
  await q.deadLetter(lease!, 'invalid_pair', 'registry drift (test)');
  expect(await q.store.get('evt-dead')).toMatchObject({ state: 'dead' });
  expect(await q.enqueue([{ message: message('evt-dead') }])).toMatchObject({ queued: 0, duplicates: 1 });
  expect(await q.replayDeadLetters({})).toBe(1);
  forwarder(storeQueue(sqs, table)).start();
  await waitFor(() => h.sandbox.received().length >= 1 && drained(sqs), 10_000);
  expect(h.sandbox.received().map((e) => e.idempotencyKey)).toEqual(['evt-dead']);
  expect(await q.store.get('evt-dead')).toMatchObject({ state: 'delivered' });
});

test('with a store in front of SQLite, /status still counts dead letters by reason (the driver counts them)', async () => {
  const table = await h.dyn.createTable();
  const dir = mkdtempSync(join(tmpdir(), 'dedupe-dl-'));
  h.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const queue = createStoredQueue({
    driver: 'sqlite',
    path: `${dir}/outbox.db`,
    synchronous: 'full',
    dedupeWindowMs: WEEK_MS,
    store: storeSettings(table),
  });
  h.cleanups.push(() => queue.close());
  await queue.enqueue([
    { message: message('evt-dl-1'), deadLetter: { reason: 'no_identifier', detail: 'test' } },
    { message: message('evt-dl-2'), deadLetter: { reason: 'no_identifier', detail: 'test' } },
    { message: message('evt-ok') },
  ]);
  expect(queue.deadLetterCounts).toBeDefined();
  expect(await queue.deadLetterCounts!()).toEqual({ no_identifier: 2 });
});

test('start-up names a missing table and its region; a wrong key schema is refused', async () => {
  const creds = createTestCredentials();
  const sqs = await createQueuePair(h.admin);
  const doc = testConfigDocument({ creds, baseUrl: h.distinctUrl });
  const config = buildConfig(
    { ...doc, queue: { driver: 'sqs', sqs }, dedupe: { store: storeSettings('no-such-table') } },
    {},
  );
  const started = startService(config, { logger: silentLogger(), forward: false, port: 0, host: '127.0.0.1' });
  await expect(started).rejects.toBeInstanceOf(ConfigurationError);
  await expect(started).rejects.toThrow(/table "no-such-table" in region us-east-1 does not exist/);

  const { CreateTableCommand } = await import('@aws-sdk/client-dynamodb');
  await h.dyn.client.send(
    new CreateTableCommand({
      TableName: 'keys-wrong-schema',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const store = new DynamoKeyStore({ settings: storeSettings('keys-wrong-schema'), windowMs: WEEK_MS });
  h.cleanups.push(() => store.close());
  await expect(store.check()).rejects.toThrow(/must be partition key "pk" \(String\) and nothing else/);
  const ok = new DynamoKeyStore({ settings: storeSettings(await h.dyn.createTable()), windowMs: WEEK_MS });
  h.cleanups.push(() => ok.close());
  // dynalite has no TTL: reported off, which the services log as a warning rather than failing.
  expect(await ok.check()).toMatchObject({ ttlEnabled: false });
});

test('configuration: the lease must outlast a POST', () => {
  const creds = createTestCredentials();
  const doc = testConfigDocument({ creds });
  expect(() =>
    buildConfig(
      {
        ...doc,
        distinct: { ...(doc.distinct as object), timeoutMs: 40_000 },
        dedupe: { store: storeSettings('keys') },
      },
      {},
    ),
  ).toThrow(/dedupe\.store\.leaseMs.*must be longer than distinct\.timeoutMs/s);
});

test('start-up warnings: TTL off on the table; sqs without a store (also in `validate`)', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const sqs = await createQueuePair(h.admin);
  const withStore = createStoredQueue({
    driver: 'sqs',
    path: '',
    synchronous: 'full',
    dedupeWindowMs: WEEK_MS,
    sqs,
    store: storeSettings(await h.dyn.createTable()),
    logger,
  });
  h.cleanups.push(() => withStore.close());
  await prepareSharedStore(withStore, { queue: { driver: 'sqs' } }, logger);
  expect(lines.join('')).toContain('no TTL on \\"expiresAt\\"');
  expect(lines.join('')).not.toContain(NO_SHARED_STORE_WARNING);

  lines.length = 0;
  const plain = createQueue({ driver: 'sqs', path: '', synchronous: 'full', dedupeWindowMs: WEEK_MS, sqs });
  h.cleanups.push(() => plain.close());
  await prepareSharedStore(plain, { queue: { driver: 'sqs' } }, logger);
  expect(lines.join('')).toContain(NO_SHARED_STORE_WARNING);

  const creds = createTestCredentials();
  const doc = testConfigDocument({ creds });
  expect(configWarnings(buildConfig({ ...doc, queue: { driver: 'sqs', sqs } }, {}))).toContain(NO_SHARED_STORE_WARNING);
  expect(
    configWarnings(
      buildConfig({ ...doc, queue: { driver: 'sqs', sqs }, dedupe: { store: storeSettings('keys') } }, {}),
    ),
  ).not.toContain(NO_SHARED_STORE_WARNING);
});

test('without keys in its environment the store takes credentials and region from the AWS SDK chain', async () => {
  const table = await h.dyn.createTable();
  // An IPv4-mapped address is not recognised as loopback (no dummy keys), yet reaches dynalite; the SDK's
  // chain then finds this process's credentials and AWS_REGION (set by the jest setup).
  const endpoint = h.dyn.endpoint.replace('127.0.0.1', '[::ffff:127.0.0.1]');
  const store = new DynamoKeyStore({
    settings: { driver: 'dynamodb', table, endpoint, leaseMs: LEASE_MS },
    windowMs: WEEK_MS,
    env: { JEST_WORKER_ID: '1' },
  });
  h.cleanups.push(() => store.close());
  expect(store.region).toBeUndefined();
  // A host without IPv6 cannot reach an IPv4-mapped address: nothing more to check there.
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: '::ffff:127.0.0.1', port: Number(new URL(h.dyn.endpoint).port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
  if (!reachable) return;
  await expect(store.check()).resolves.toMatchObject({ ttlEnabled: false });
  expect(await store.claim('evt-sdk-chain', 'r1')).toEqual({ kind: 'claimed' });
  expect(await store.get('evt-sdk-chain')).toMatchObject({ state: 'claimed', owner: 'r1' });
});

test('deliveries finishing in the same turn are recorded together: 30 keys, 2 BatchWriteItem calls', async () => {
  const table = await h.dyn.createTable();
  const calls: string[] = [];
  const store = new DynamoKeyStore({
    settings: storeSettings(table),
    windowMs: WEEK_MS,
    observer: { call: (op) => calls.push(op) },
  });
  h.cleanups.push(() => store.close());
  const guard = new DeliveryGuard(store);
  const leases: Lease[] = Array.from({ length: 30 }, (_, i) => ({
    handle: `h${i}`,
    message: message(`evt-batch-${i}`),
    attempts: 0,
    enqueuedAt: Date.now(),
  }));
  for (const l of leases) expect(await guard.admit(l)).toEqual({ kind: 'go' });
  calls.length = 0;
  await Promise.all(leases.map((l) => guard.delivered(l)));
  expect(calls).toEqual(['delivered', 'delivered']);
  for (const i of [0, 24, 25, 29]) expect(await store.get(`evt-batch-${i}`)).toMatchObject({ state: 'delivered' });
  expect(await guard.admit({ ...leases[7]! })).toEqual({ kind: 'duplicate' });
});
