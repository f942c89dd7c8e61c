/**
 * What only the SQS driver has, against a real SQS API (fauxqs, started by the jest global
 * setup): batching limits, long polling, visibility backoff, the redrive policy, explicit
 * dead-lettering, DLQ scans, FIFO de-duplication across receivers, lazy loading of the SDK and
 * the `queue.sqs` configuration. The Queue contract it shares with the other drivers is in
 * queue-semantics.test.ts.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { buildConfig } from '../helpers/config';
import { ConfigurationError, QueueWriteError } from '../../src/core/errors';
import { createQueue } from '../../src/queue/create-queue';
import type { EnqueueItem, Lease, QueueMessage } from '../../src/queue/queue';
import { SqsQueue, type SqsQueueOptions, type SqsSettings } from '../../src/queue/sqs-queue';
import { SQS_MAX_BATCH_BYTES } from '../../src/queue/sqs-wire';
import { createTestCredentials } from '../helpers/app';
import { sendgridDelivered } from '../helpers/queue-message';
import {
  counts,
  createQueuePair,
  peek,
  sqsClient,
  sqsEndpoint,
  within,
  type QueuePairOptions,
  type RecordedCall,
} from '../helpers/sqs';

const REPO = path.resolve(__dirname, '../..');
const WEEK_MS = 7 * 24 * 3_600_000;

const message = sendgridDelivered;
const item = (key: string): EnqueueItem => ({ message: message(key) });
const keysOf = (leases: readonly Lease[]): string[] => leases.map((l) => l.message.key).sort();
const sendBatchCalls = (calls: RecordedCall[]): RecordedCall[] =>
  calls.filter((c) => c.command === 'SendMessageBatchCommand');

let admin: SQSClient;
const toClose: { close(): Promise<void> }[] = [];

beforeAll(() => {
  admin = sqsClient();
});
afterAll(() => admin.destroy());
afterEach(async () => {
  for (const q of toClose.splice(0)) await q.close();
});

/** A fresh queue pair and a driver on it (its own recorded client when `calls` is given). */
async function setup(
  pair: QueuePairOptions = {},
  options: Omit<Partial<SqsQueueOptions>, 'sqs'> & { calls?: RecordedCall[]; sqs?: Partial<SqsSettings> } = {},
): Promise<{ queue: SqsQueue; settings: SqsSettings }> {
  const settings = { ...(await createQueuePair(admin, pair)), ...(options.sqs ?? {}) };
  const client = options.calls ? sqsClient(options.calls) : undefined;
  const queue = new SqsQueue({ dedupeWindowMs: WEEK_MS, dlqScanWaitSeconds: 0, ...options, sqs: settings, client });
  toClose.push(queue);
  if (client) toClose.push({ close: async () => client.destroy() });
  return { queue, settings };
}

describe('producer', () => {
  test('25 messages go out in 3 SendMessageBatch calls of at most 10, and all arrive', async () => {
    const calls: RecordedCall[] = [];
    const { queue, settings } = await setup({}, { calls });
    const items = Array.from({ length: 25 }, (_, i) => item(`k${i}`));
    await expect(queue.enqueue(items)).resolves.toEqual({ queued: 25, deadLettered: 0, duplicates: 0 });

    const batches = sendBatchCalls(calls).map((c) => (c.input.Entries as unknown[]).length);
    expect(batches.sort((a, b) => b - a)).toEqual([10, 10, 5]);
    const bodies = (await peek(admin, settings.queueUrl)).map((m) => JSON.parse(m.Body!) as QueueMessage);
    expect(bodies.map((b) => b.key).sort()).toEqual(items.map((i) => i.message.key).sort());
    expect(bodies.find((b) => b.key === 'k7')).toEqual(message('k7'));
  });

  test('more than 256 KiB in total is split so that no call carries more', async () => {
    const calls: RecordedCall[] = [];
    const { queue, settings } = await setup({}, { calls });
    const big = (key: string): EnqueueItem => ({ message: message(key, { blob: key.repeat(100_000 / key.length) }) });
    const items = ['b1', 'b2', 'b3', 'b4', 'b5'].map(big);
    await expect(queue.enqueue(items)).resolves.toMatchObject({ queued: 5 });

    const batches = sendBatchCalls(calls);
    expect(batches.map((c) => (c.input.Entries as unknown[]).length).sort()).toEqual([1, 2, 2]);
    for (const call of batches) {
      const entries = call.input.Entries as {
        MessageBody: string;
        MessageAttributes: Record<string, { DataType: string; StringValue: string }>;
      }[];
      const bytes = entries.reduce((sum, e) => {
        const attrs = Object.entries(e.MessageAttributes).reduce(
          (s, [n, v]) => s + n.length + v.DataType.length + v.StringValue.length,
          0,
        );
        return sum + Buffer.byteLength(e.MessageBody) + attrs;
      }, 0);
      expect(bytes).toBeLessThanOrEqual(SQS_MAX_BATCH_BYTES);
    }
    const bodies = (await peek(admin, settings.queueUrl)).map((m) => JSON.parse(m.Body!) as QueueMessage);
    expect(bodies.map((b) => b.key).sort()).toEqual(['b1', 'b2', 'b3', 'b4', 'b5']);
    expect(bodies.find((b) => b.key === 'b3')).toEqual(items[2]!.message);
  });

  test('failed entries of a batch are sent once more, then the enqueue names how many failed', async () => {
    const calls: RecordedCall[] = [];
    // The queue refuses messages over 1 KiB: SQS reports that entry in Failed, the others succeed.
    const { queue, settings } = await setup({ attributes: { MaximumMessageSize: '1024' } }, { calls });
    const items = [item('s1'), { message: message('large', { blob: 'x'.repeat(2000) }) }, item('s2')];
    const error = await queue.enqueue(items).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(QueueWriteError);
    expect((error as QueueWriteError).message).toMatch(/^1 of 3 message\(s\) could not be written to SQS/);

    const batches = sendBatchCalls(calls);
    expect(batches.map((c) => (c.input.Entries as unknown[]).length)).toEqual([3, 1]);
    expect((await peek(admin, settings.queueUrl)).map((m) => (JSON.parse(m.Body!) as QueueMessage).key).sort()).toEqual(
      ['s1', 's2'],
    );
    // The provider re-sends the whole request: what was written is now a duplicate.
    await expect(queue.enqueue(items)).rejects.toThrow(/^1 of 1 message/);
    await expect(queue.enqueue([item('s1'), item('s2')])).resolves.toEqual({
      queued: 0,
      deadLettered: 0,
      duplicates: 2,
    });
  });

  test('a single message over 256 KiB is refused without a call', async () => {
    const calls: RecordedCall[] = [];
    const { queue } = await setup({}, { calls });
    const huge = { message: message('huge', { blob: 'x'.repeat(SQS_MAX_BATCH_BYTES) }) };
    await expect(queue.enqueue([huge])).rejects.toThrow(/over SQS's 262144-byte limit/);
    expect(sendBatchCalls(calls)).toEqual([]);
  });
});

describe('consumer', () => {
  test('claim long-polls: a claim waiting on an empty queue gets a message sent after it started', async () => {
    const { queue } = await setup({}, { sqs: { waitTimeSeconds: 10 } });
    const claimed = queue.claim(10);
    await new Promise((r) => setTimeout(r, 200)); // let the receive reach the server first
    await queue.enqueue([item('late')]);
    expect(keysOf(await claimed)).toEqual(['late']);
  });

  test('claim asks for at most 10 messages a call', async () => {
    const calls: RecordedCall[] = [];
    const { queue } = await setup({}, { calls });
    await queue.enqueue(Array.from({ length: 12 }, (_, i) => item(`k${i}`)));
    const leases = await queue.claim(50);
    expect(leases).toHaveLength(10);
    expect(calls.filter((c) => c.command === 'ReceiveMessageCommand').map((c) => c.input.MaxNumberOfMessages)).toEqual([
      10,
    ]);
  });

  test('stopClaiming ends a 20 s long poll at once; later claims return nothing and nextDueInMs is null', async () => {
    const { queue } = await setup({}, { sqs: { waitTimeSeconds: 20 } });
    const claimed = queue.claim(10);
    await new Promise((r) => setTimeout(r, 200));
    queue.stopClaiming();
    // Far below the 20 s wait: only the abort can make the claim return in time.
    const result = await within(claimed, 10_000, 'still waiting');
    expect(result).toEqual([]);
    await queue.enqueue([item('a')]);
    expect(await queue.claim(10)).toEqual([]);
    expect(await queue.nextDueInMs()).toBeNull();
  });

  test('close ends a long poll too, and leaves a waiting claim with nothing', async () => {
    const { queue } = await setup({}, { sqs: { waitTimeSeconds: 20 } });
    const claimed = queue.claim(10);
    await new Promise((r) => setTimeout(r, 200));
    const closing = queue.close();
    const result = await within(claimed, 10_000, 'still waiting');
    expect(result).toEqual([]);
    await closing;
  });

  test('retry hides the message for the backoff (ChangeMessageVisibility), then it comes back with attempts + 1', async () => {
    const calls: RecordedCall[] = [];
    const { queue, settings } = await setup({}, { calls, sqs: { waitTimeSeconds: 5 } });
    await queue.enqueue([item('a')]);
    const [lease] = await queue.claim(1);
    await queue.retry(lease!, 1_500, 'HTTP 503: Internal server error.');

    expect(calls.find((c) => c.command === 'ChangeMessageVisibilityCommand')?.input).toMatchObject({
      VisibilityTimeout: 2,
    });
    expect(await counts(admin, settings.queueUrl)).toEqual({ visible: 0, notVisible: 1 });
    const [again] = await queue.claim(1); // long poll: returns once the visibility ran out
    expect(again).toMatchObject({ attempts: 1, enqueuedAt: lease!.enqueuedAt, message: message('a') });
  });

  test('release hands a message back at once without counting an attempt in this process', async () => {
    const { queue } = await setup();
    await queue.enqueue([item('a')]);
    const [lease] = await queue.claim(1);
    await queue.release(lease!);
    const [again] = await queue.claim(1);
    expect(again).toMatchObject({ attempts: 0, message: { key: 'a' } });
    await queue.retry(again!, 0, 'timeout');
    expect((await queue.claim(1))[0]?.attempts).toBe(1);
  });

  test('a delay over 12 h is capped at the SQS maximum visibility', async () => {
    const calls: RecordedCall[] = [];
    const { queue } = await setup({}, { calls });
    await queue.enqueue([item('a')]);
    const [lease] = await queue.claim(1);
    await queue.release(lease!, 48 * 3_600_000);
    expect(calls.find((c) => c.command === 'ChangeMessageVisibilityCommand')?.input).toMatchObject({
      VisibilityTimeout: 43_200,
    });
  });

  test('a body that is not a queue message is moved to the DLQ verbatim instead of being handed out', async () => {
    const { queue, settings } = await setup();
    await admin.send(new SendMessageCommand({ QueueUrl: settings.queueUrl, MessageBody: 'Test message.' }));
    await queue.enqueue([item('ok')]);
    expect(keysOf(await queue.claim(10))).toEqual(['ok']);
    const [dead] = await peek(admin, settings.deadLetterQueueUrl);
    expect(dead?.Body).toBe('Test message.');
    expect(dead?.MessageAttributes?.detail?.StringValue).toBe('not a queue message: the body is not JSON');
    expect(await queue.listDeadLetters()).toEqual([]); // unreadable: not listed …
    await expect(queue.purgeDeadLetters()).resolves.toBe(1); // … but purged by --all
  });
});

describe('dead letters', () => {
  test('a message nobody settles is moved to the DLQ by the redrive policy (maxReceiveCount)', async () => {
    const { queue, settings } = await setup(
      { maxReceiveCount: 1, visibilityTimeout: 1 },
      { sqs: { waitTimeSeconds: 3 } },
    );
    await queue.enqueue([item('poison')]);
    expect(keysOf(await queue.claim(1))).toEqual(['poison']); // claimed, then "the process crashes"
    expect(await queue.claim(1)).toEqual([]); // the second receive moves it instead of handing it out

    expect(await counts(admin, settings.queueUrl)).toEqual({ visible: 0, notVisible: 0 });
    const [letter, ...rest] = await queue.listDeadLetters();
    expect(rest).toEqual([]);
    expect(letter).toMatchObject({ reason: 'max_attempts', message: message('poison') });
    expect(letter?.detail).toMatch(/redrive policy/);
  });

  test('a retry or release at the last receive re-sends a fresh copy, so the redrive never catches it', async () => {
    const { queue, settings } = await setup({ maxReceiveCount: 2 }, { sqs: { maxReceiveCount: 2 } });
    await queue.enqueue([item('a')]);
    const [first] = await queue.claim(1); // receive 1
    await queue.retry(first!, 0, 'HTTP 502');
    const [second] = await queue.claim(1); // receive 2 = the limit
    expect(second?.attempts).toBe(1);
    await queue.retry(second!, 0, 'HTTP 502');
    const [third] = await queue.claim(1); // a copy: receive 1 of its own, attempts carried over
    expect(third).toMatchObject({ attempts: 2, enqueuedAt: first!.enqueuedAt, message: message('a') });
    await queue.complete(third!);
    expect(await counts(admin, settings.queueUrl)).toEqual({ visible: 0, notVisible: 0 });
    expect(await counts(admin, settings.deadLetterQueueUrl)).toEqual({ visible: 0, notVisible: 0 });
  });

  test('deadLetter sends the message to the DLQ with its reason as a message attribute, then deletes it', async () => {
    let clock = Date.UTC(2026, 3, 27, 14, 0, 0);
    const { queue, settings } = await setup({}, { now: () => clock });
    await queue.enqueue([item('a')]);
    const [lease] = await queue.claim(1);
    clock += 5_000;
    await queue.deadLetter(lease!, 'invalid_pair', 'HTTP 400: Invalid feature/action.');

    expect(await counts(admin, settings.queueUrl)).toEqual({ visible: 0, notVisible: 0 });
    const [raw] = await peek(admin, settings.deadLetterQueueUrl);
    expect(JSON.parse(raw!.Body!)).toEqual(message('a'));
    const attrs = Object.fromEntries(Object.entries(raw!.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]));
    expect(attrs).toEqual({
      reason: 'invalid_pair',
      detail: 'HTTP 400: Invalid feature/action.',
      attempts: '0',
      enqueuedAt: String(clock - 5_000),
      deadLetteredAt: String(clock),
    });
  });

  test('list, replay and purge work on the DLQ; a scan leaves what it does not take visible', async () => {
    let clock = Date.UTC(2026, 3, 27, 14, 0, 0);
    const { queue, settings } = await setup({}, { now: () => clock });
    for (const [key, reason] of [
      ['d1', 'no_identifier'],
      ['d2', 'invalid_pair'],
      ['d3', 'no_identifier'],
    ] as const) {
      await queue.enqueue([{ message: message(key), deadLetter: { reason, detail: `${reason} ${key}` } }]);
      clock += 1;
    }
    const all = await queue.listDeadLetters();
    expect(all.map((d) => d.message.key)).toEqual(['d3', 'd2', 'd1']);
    // Listing twice gives the same answer: the scan made everything visible again.
    expect(await queue.listDeadLetters()).toEqual(all);
    expect((await queue.listDeadLetters({ reason: 'no_identifier', limit: 1 })).map((d) => d.message.key)).toEqual([
      'd3',
    ]);

    await expect(queue.replayDeadLetters({ id: all[1]!.id })).resolves.toBe(1);
    const [replayed] = await queue.claim(10);
    expect(replayed).toMatchObject({ attempts: 0, message: message('d2') });
    expect((await queue.listDeadLetters()).map((d) => d.message.key)).toEqual(['d3', 'd1']);

    await expect(queue.purgeDeadLetters({ reason: 'no_identifier' })).resolves.toBe(2);
    expect(await counts(admin, settings.deadLetterQueueUrl)).toEqual({ visible: 0, notVisible: 0 });
  });

  test('stats: waiting + hidden messages, in flight, dead letters; oldestAgeMs is 0 (SQS does not report it)', async () => {
    const { queue } = await setup();
    await queue.enqueue([
      item('a'),
      item('b'),
      item('c'),
      { message: message('d'), deadLetter: { reason: 'no_identifier', detail: 'none' } },
    ]);
    await queue.claim(1);
    expect(await queue.stats()).toEqual({ depth: 3, inFlight: 1, deadLettered: 1, oldestAgeMs: 0 });
    expect(await queue.isWritable()).toBe(true);
  });

  test('isWritable is false when the queue does not exist', async () => {
    const { queue } = await setup({}, { sqs: { queueUrl: `${sqsEndpoint()}/000000000000/no-such-queue` } });
    expect(await queue.isWritable()).toBe(false);
  });
});

describe('FIFO queues', () => {
  test('two receivers enqueueing the same key within 5 minutes leave one message (MessageDeduplicationId = key)', async () => {
    const calls: RecordedCall[] = [];
    const { queue: first, settings } = await setup({ fifo: true }, { calls });
    // A second, independent receiver on the same queue: it has no memory of the first one's keys.
    const second = new SqsQueue({ sqs: settings, dedupeWindowMs: WEEK_MS });
    toClose.push(second);

    await expect(first.enqueue([item('same'), item('other')])).resolves.toMatchObject({ queued: 2 });
    // SQS drops the repeat but answers success: it counts as queued here.
    await expect(second.enqueue([item('same')])).resolves.toEqual({ queued: 1, deadLettered: 0, duplicates: 0 });

    const entry = (
      sendBatchCalls(calls)[0]!.input.Entries as { MessageDeduplicationId: string; MessageGroupId: string }[]
    )[0]!;
    expect(entry.MessageDeduplicationId).toBe('same');
    expect(entry.MessageGroupId).toMatch(/^[0-9a-f]{32}$/);
    expect(keysOf(await first.claim(10))).toEqual(['other', 'same']);
    expect(await first.claim(10)).toEqual([]);
  });

  test('a replayed dead letter is not dropped as a repeat of the original within the 5-minute window', async () => {
    const { queue } = await setup({ fifo: true });
    await queue.enqueue([item('a')]);
    const [lease] = await queue.claim(1);
    await queue.deadLetter(lease!, 'invalid_pair', 'HTTP 400: Invalid feature/action.');
    await expect(queue.replayDeadLetters({ reason: 'invalid_pair' })).resolves.toBe(1);
    expect(keysOf(await queue.claim(10))).toEqual(['a']);
  });
});

describe('start-up', () => {
  test('under tests the driver refuses to start without an explicit endpoint', () => {
    const sqs = {
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q-dlq',
      waitTimeSeconds: 20,
    };
    const refused = (env: NodeJS.ProcessEnv): unknown => {
      try {
        new SqsQueue({ sqs, dedupeWindowMs: WEEK_MS, env }).close();
        return null;
      } catch (err) {
        return err;
      }
    };
    expect(refused({ NODE_ENV: 'test' })).toBeInstanceOf(ConfigurationError);
    expect(refused({ JEST_WORKER_ID: '1' })).toMatchObject({
      problems: [expect.stringMatching(/^queue\.sqs\.endpoint: required under tests/)],
    });
    expect(refused({})).toBeNull(); // production: the SDK's own endpoint resolution
  });

  test('createQueue opens the sqs driver; the AWS SDK is loaded only then, and better-sqlite3 never with it', () => {
    const loaded = (driver: string): unknown => {
      const source = `
        const swc = require('@swc/core');
        require.extensions['.ts'] = (module, filename) => {
          const { code } = swc.transformFileSync(filename, { swcrc: false, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
          module._compile(code, filename);
        };
        const { createQueue } = require(${JSON.stringify(path.join(REPO, 'src/queue/create-queue.ts'))});
        const queue = createQueue({ driver: '${driver}', path: '', synchronous: 'full', dedupeWindowMs: 1000,
          sqs: { queueUrl: 'http://127.0.0.1:9/000000000000/q', deadLetterQueueUrl: 'http://127.0.0.1:9/000000000000/d', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', waitTimeSeconds: 0 } });
        const paths = Object.keys(require.cache);
        const sdk = paths.some((p) => p.includes('@aws-sdk'));
        const sqlite = paths.some((p) => p.includes('better-sqlite3'));
        queue.close().then(() => process.stdout.write(JSON.stringify({ driver: queue.driver, sdk, sqlite })));
      `;
      const child = spawnSync(process.execPath, ['-e', source], {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      expect(child.stderr).toBe('');
      return JSON.parse(child.stdout);
    };
    expect(loaded('memory')).toEqual({ driver: 'memory', sdk: false, sqlite: false });
    expect(loaded('sqs')).toEqual({ driver: 'sqs', sdk: true, sqlite: false });
  });

  test('createQueue passes the sqs section through and the driver works', async () => {
    const settings = await createQueuePair(admin);
    const queue = createQueue({ driver: 'sqs', path: '', synchronous: 'full', dedupeWindowMs: WEEK_MS, sqs: settings });
    toClose.push(queue);
    expect(queue.driver).toBe('sqs');
    await queue.enqueue([item('a')]);
    expect(keysOf(await queue.claim(10))).toEqual(['a']);
  });
});

describe('queue.sqs configuration', () => {
  const creds = createTestCredentials();
  const doc = (queue: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    distinct: { apiKey: 'k' },
    queue,
    sources: { twilio: { feature: 'registration_sms', experienceId: 'exp', ...creds.twilio!.options } },
    ...extra,
  });
  const problems = (d: unknown): string[] => {
    try {
      buildConfig(d, {});
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigurationError);
      return [...(err as ConfigurationError).problems];
    }
    throw new Error('expected a ConfigurationError');
  };
  const urls = {
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events',
    deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq',
  };

  test('driver sqs without queue.sqs names the missing settings by path', () => {
    expect(problems(doc({ driver: 'sqs' }))).toEqual([
      'queue.sqs.queueUrl: required when queue.driver is sqs',
      'queue.sqs.deadLetterQueueUrl: required when queue.driver is sqs',
    ]);
  });

  test('defaults, and the optional settings', () => {
    const config = buildConfig(doc({ driver: 'sqs', sqs: urls }), {});
    expect(config.queue.sqs).toEqual({ ...urls, waitTimeSeconds: 20 });
    const full = buildConfig(
      doc({
        driver: 'sqs',
        sqs: {
          ...urls,
          region: 'eu-west-1',
          endpoint: 'http://127.0.0.1:9324',
          waitTimeSeconds: 5,
          visibilityTimeoutSeconds: 60,
          maxReceiveCount: 50,
        },
      }),
      {},
    );
    expect(full.queue.sqs).toMatchObject({
      region: 'eu-west-1',
      waitTimeSeconds: 5,
      visibilityTimeoutSeconds: 60,
      maxReceiveCount: 50,
    });
  });

  test('bad values are reported by path; a visibility shorter than the POST timeout is refused', () => {
    const list = problems(
      doc({ driver: 'sqs', sqs: { ...urls, queueUrl: 'not a url', waitTimeSeconds: 21, bogus: 1 } }),
    );
    expect(list.join('\n')).toMatch(/queue\.sqs\.queueUrl/);
    expect(list.join('\n')).toMatch(/queue\.sqs\.waitTimeSeconds/);
    expect(list.join('\n')).toMatch(/queue\.sqs\.bogus: unknown key/);
    expect(
      problems(
        doc(
          { driver: 'sqs', sqs: { ...urls, visibilityTimeoutSeconds: 10 } },
          { distinct: { apiKey: 'k', timeoutMs: 10_000 } },
        ),
      ),
    ).toEqual([
      'queue.sqs.visibilityTimeoutSeconds: must be longer than distinct.timeoutMs (10000 ms), or a message is handed out again while its POST is in flight',
    ]);
  });

  test('the sqlite default needs no sqs section', () => {
    expect(buildConfig(doc({}), {}).queue).toEqual({ driver: 'sqlite', path: './data/outbox.db', synchronous: 'full' });
  });
});
