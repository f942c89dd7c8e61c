/**
 * The SQS-triggered forwarder Lambda, invoked with real SQSEvent shapes: the documented example
 * (fixtures/aws/sqs-event.json) with the fields of messages really received from a queue of the
 * local SQS API (fauxqs), the way Lambda's poller builds them. Distinct is the project's sandbox
 * on 127.0.0.1. After each invocation the test does what Lambda does with the answer: it deletes
 * the records not listed in batchItemFailures.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { getAdapter } from '../../adapters';
import { buildConfig, type AppConfig } from '../helpers/config';
import { ConfigurationError } from '../../src/core/errors';
import { DistinctClient } from '../../src/forwarder/distinct-client';
import { silentLogger } from '../../src/observability/logger';
import type { QueueMessage } from '../../src/queue/queue';
import { SqsQueue, type SqsSettings } from '../../src/queue/sqs-queue';
import { loadLambdaConfig } from '../../src/runtime/lambda-config';
import { createSqsForwarderHandler, handler, type SqsForwarderHandler } from '../../src/runtime/lambda-sqs';
import { DEFAULT_REGISTRY } from '../../src/mapping/default-actions';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/sandbox-server';
import { counts, createQueuePair, peek, sqsClient, type RecordedCall } from '../helpers/sqs';
import { receiveEvent, settleLikeLambda, SQS_EVENT_EXAMPLE } from '../helpers/sqs-event';
import { twilioDelivered } from '../helpers/queue-message';

const twilio = getAdapter('twilio')!.testing.createCredentials();

function message(key: string, event: Partial<QueueMessage['event']> = {}): QueueMessage {
  return twilioDelivered(key, { experienceId: 'exp_test', ...event });
}

function configDocument(
  baseUrl: string,
  sqs: SqsSettings,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    distinct: { baseUrl, apiKey: 'sandbox', timeoutMs: 2000, concurrency: 1 },
    queue: { driver: 'sqs', sqs },
    retry: { baseDelayMs: 2000, maxDelayMs: 2000 },
    circuit: { probeIntervalMs: 100 },
    log: { level: 'silent' },
    sources: { twilio: { feature: 'registration_sms', experienceId: 'exp_test', ...twilio.options } },
    ...extra,
  };
}

interface Harness {
  sandbox: Sandbox;
  settings: SqsSettings;
  queue: SqsQueue;
  calls: RecordedCall[];
  handle: SqsForwarderHandler;
  config: AppConfig;
}

let admin: SQSClient;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(() => {
  admin = sqsClient();
});
afterAll(() => admin.destroy());
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(sandboxOptions: SandboxOptions = {}): Promise<Harness> {
  const sandbox = createSandbox(sandboxOptions);
  const { url } = await sandbox.listen(0, '127.0.0.1');
  cleanups.push(() => sandbox.close());
  const settings = await createQueuePair(admin);
  const config = buildConfig(configDocument(url, settings), {});
  const calls: RecordedCall[] = [];
  const sqs = sqsClient(calls);
  const queue = new SqsQueue({
    sqs: settings,
    dedupeWindowMs: config.dedupe.windowMs,
    client: sqs,
    dlqScanWaitSeconds: 0,
  });
  const client = new DistinctClient({ baseUrl: url, apiKey: config.distinct.apiKey, timeoutMs: 2000, concurrency: 1 });
  cleanups.push(async () => {
    await queue.close();
    sqs.destroy();
    await client.close();
  });
  // The highest jitter: a 2 s backoff becomes a visibility of exactly 2 s.
  const handle = createSqsForwarderHandler({ config, queue, client, logger: silentLogger(), random: () => 0.9999 });
  return { sandbox, settings, queue, calls, handle, config };
}

async function invoke(h: Harness, n: number): Promise<{ event: SQSEvent; response: SQSBatchResponse }> {
  const event = await receiveEvent(admin, h.settings, n);
  const response = await h.handle(event);
  await settleLikeLambda(admin, h.settings, event, response);
  return { event, response };
}

const keyOf = (record: SQSRecord): string => (JSON.parse(record.body) as QueueMessage).key;

test('success: every record is delivered once with its key as Idempotency-Key, and none is reported failed', async () => {
  const h = await setup();
  await h.queue.enqueue([{ message: message('a') }, { message: message('b') }]);
  const { response } = await invoke(h, 2);

  expect(response).toEqual({ batchItemFailures: [] });
  const received = h.sandbox.received();
  expect(received.map((r) => r.idempotencyKey).sort()).toEqual(['a', 'b']);
  expect(received.find((r) => r.idempotencyKey === 'a')?.event).toEqual(message('a').event);
  expect(await counts(admin, h.settings.queueUrl)).toEqual({ visible: 0, notVisible: 0 });
});

test('500: a partial batch failure; the failed record is hidden for the backoff delay, then delivered', async () => {
  const h = await setup();
  h.sandbox.injectFaults([{ status: 500, message: 'Internal server error.', times: 1 }]);
  await h.queue.enqueue([{ message: message('a') }, { message: message('b') }]);
  const { event, response } = await invoke(h, 2);

  // concurrency 1: the first record got the 500.
  const [first, second] = event.Records;
  expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: first!.messageId }] });
  expect(h.calls.filter((c) => c.command === 'ChangeMessageVisibilityCommand').map((c) => c.input)).toEqual([
    expect.objectContaining({ ReceiptHandle: first!.receiptHandle, VisibilityTimeout: 2 }),
  ]);
  expect(h.sandbox.received().map((r) => r.idempotencyKey)).toEqual([keyOf(second!)]);
  expect(await counts(admin, h.settings.queueUrl)).toEqual({ visible: 0, notVisible: 1 });

  // Back after 2 s, not after the queue's 30 s visibility timeout: the backoff set it.
  const again = await invoke(h, 1);
  expect(again.event.Records[0]).toMatchObject({
    messageId: first!.messageId,
    attributes: { ApproximateReceiveCount: '2' },
  });
  expect(again.response).toEqual({ batchItemFailures: [] });
  expect(
    h.sandbox
      .received()
      .map((r) => r.idempotencyKey)
      .sort(),
  ).toEqual(['a', 'b']);
  expect(await counts(admin, h.settings.queueUrl)).toEqual({ visible: 0, notVisible: 0 });
});

test('invalid pair: dead-lettered with the reason as a message attribute, and reported as done', async () => {
  const registry = { ...DEFAULT_REGISTRY, registration_sms: ['sent', 'failed'] }; // "delivered" is not registered at Distinct
  const h = await setup({ registry });
  await h.queue.enqueue([{ message: message('a') }]);
  const { response } = await invoke(h, 1);

  expect(response).toEqual({ batchItemFailures: [] });
  expect(await counts(admin, h.settings.queueUrl)).toEqual({ visible: 0, notVisible: 0 });
  const [raw] = await peek(admin, h.settings.deadLetterQueueUrl);
  expect(raw?.MessageAttributes?.reason?.StringValue).toBe('invalid_pair');
  expect(await h.queue.listDeadLetters()).toEqual([
    expect.objectContaining({
      reason: 'invalid_pair',
      detail: 'HTTP 400: Invalid feature/action.',
      attempts: 0,
      message: message('a'),
    }),
  ]);
});

test('no identifier: dead-lettered without a request to Distinct', async () => {
  const h = await setup();
  await h.queue.enqueue([{ message: message('a', { phone: undefined }) }]);
  const { response } = await invoke(h, 1);

  expect(response).toEqual({ batchItemFailures: [] });
  expect(h.sandbox.stats().requests).toBe(0);
  expect((await h.queue.listDeadLetters()).map((d) => d.reason)).toEqual(['no_identifier']);
});

test('401: every record stays queued (reported failed, hidden for the probe interval); one probe later resumes', async () => {
  const h = await setup();
  h.sandbox.injectFaults([{ status: 401, message: 'Unauthorized.', times: 1 }]);
  await h.queue.enqueue([{ message: message('a') }, { message: message('b') }]);
  const { event, response } = await invoke(h, 2);

  expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
    event.Records.map((r) => r.messageId).sort(),
  );
  // Only the first record was sent: the circuit holds the second back.
  expect(h.sandbox.stats().requests).toBe(1);
  const visibilities = h.calls
    .filter((c) => c.command === 'ChangeMessageVisibilityCommand')
    .map((c) => c.input.VisibilityTimeout);
  expect(visibilities).toEqual([1, 1]); // circuit.probeIntervalMs = 100 ms, rounded up to SQS's 1 s
  expect(await counts(admin, h.settings.queueUrl)).toEqual({ visible: 0, notVisible: 2 });
  expect(await h.queue.listDeadLetters()).toEqual([]);

  // After the interval the next record is the probe; Distinct accepts it and the rest follows.
  const later = await invoke(h, 2);
  expect(later.response).toEqual({ batchItemFailures: [] });
  expect(
    h.sandbox
      .received()
      .map((r) => r.idempotencyKey)
      .sort(),
  ).toEqual(['a', 'b']);
});

test('the documented example event as it is: bodies that are not queue messages go to the DLQ verbatim', async () => {
  const h = await setup();
  const response = await h.handle(SQS_EVENT_EXAMPLE);

  expect(response).toEqual({ batchItemFailures: [] });
  expect(h.sandbox.stats().requests).toBe(0);
  const dead = await peek(admin, h.settings.deadLetterQueueUrl);
  expect(dead.map((m) => m.Body)).toEqual(['Test message.', 'Test message.']);
  expect(dead[0]?.MessageAttributes?.detail?.StringValue).toBe('not a queue message: the body is not JSON');
});

describe('configuration from the environment', () => {
  let dir: string;
  const saved = { ...process.env };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dwa-lambda-sqs-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const key of [
      'DISTINCT_ADAPTER_CONFIG',
      'DISTINCT_SQS_QUEUE_URL',
      'DISTINCT_SQS_DLQ_URL',
      'LAMBDA_TASK_ROOT',
    ]) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  test('loadLambdaConfig reads DISTINCT_ADAPTER_CONFIG from the package root; the stack URLs switch the queue to SQS', () => {
    const doc = configDocument('http://127.0.0.1:9', {
      queueUrl: 'http://127.0.0.1:9/0/x',
      deadLetterQueueUrl: 'http://127.0.0.1:9/0/y',
      waitTimeSeconds: 20,
    });
    writeFileSync(
      join(dir, 'adapter.json'),
      JSON.stringify({ ...doc, queue: { sqs: { waitTimeSeconds: 3, endpoint: 'http://127.0.0.1:9' } } }),
    );
    const env = {
      LAMBDA_TASK_ROOT: dir,
      DISTINCT_ADAPTER_CONFIG: 'adapter.json',
      DISTINCT_SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      DISTINCT_SQS_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q-dlq',
    };
    const config = loadLambdaConfig(env);
    expect(config.path).toBe(join(dir, 'adapter.json'));
    expect(config.queue).toMatchObject({
      driver: 'sqs',
      sqs: {
        queueUrl: env.DISTINCT_SQS_QUEUE_URL,
        deadLetterQueueUrl: env.DISTINCT_SQS_DLQ_URL,
        waitTimeSeconds: 3,
        endpoint: 'http://127.0.0.1:9',
      },
    });
  });

  test('loadLambdaConfig refuses a missing file and a queue that is not SQS, naming the problem', () => {
    expect(() => loadLambdaConfig({ LAMBDA_TASK_ROOT: dir })).toThrow(/distinct\.config\.yml: file not found/);
    const doc = configDocument('http://127.0.0.1:9', {
      queueUrl: 'http://127.0.0.1:9/0/x',
      deadLetterQueueUrl: 'http://127.0.0.1:9/0/y',
      waitTimeSeconds: 20,
    });
    writeFileSync(join(dir, 'distinct.config.yml'), JSON.stringify({ ...doc, queue: { driver: 'memory' } }));
    const error = (() => {
      try {
        loadLambdaConfig({ LAMBDA_TASK_ROOT: dir });
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems).toEqual([
      expect.stringMatching(/^queue\.driver: must be sqs on AWS Lambda, got memory/),
    ]);
  });

  test('the exported handler initialises once from the environment and forwards', async () => {
    const sandbox = createSandbox();
    const { url } = await sandbox.listen(0, '127.0.0.1');
    cleanups.push(() => sandbox.close());
    const settings = await createQueuePair(admin);
    writeFileSync(
      join(dir, 'distinct.config.yml'),
      JSON.stringify(configDocument(url, { ...settings, queueUrl: 'http://replaced/0/x' })),
    );
    process.env.LAMBDA_TASK_ROOT = dir;
    process.env.DISTINCT_SQS_QUEUE_URL = settings.queueUrl;

    const producer = new SqsQueue({ sqs: settings, dedupeWindowMs: 1000 });
    cleanups.push(() => producer.close());
    await producer.enqueue([{ message: message('a') }]);
    const first = await receiveEvent(admin, settings, 1);
    await expect(handler(first)).resolves.toEqual({ batchItemFailures: [] });
    // The configuration file is read once: removing it does not matter to the next invocation.
    rmSync(join(dir, 'distinct.config.yml'));
    await producer.enqueue([{ message: message('b') }]);
    await expect(handler(await receiveEvent(admin, settings, 1))).resolves.toEqual({ batchItemFailures: [] });
    expect(sandbox.received().map((r) => r.idempotencyKey)).toEqual(['a', 'b']);
  });
});
