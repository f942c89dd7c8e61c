/**
 * Real queues on the in-process SQS API started by fauxqs-setup.mjs: fresh, randomly named
 * queue pairs (main queue with a RedrivePolicy to its DLQ) per test, and an SDK client whose
 * calls can be observed (a middleware that records them; nothing is replaced).
 */
import { randomBytes } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SqsSettings } from '../../src/queue/sqs-queue';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox-server';

/** The local SQS endpoint; fails loudly when the jest globalSetup did not run. */
export function sqsEndpoint(): string {
  const endpoint = process.env.SQS_ENDPOINT;
  if (!endpoint) throw new Error('SQS_ENDPOINT is not set: run the tests through jest (test/helpers/fauxqs-setup.mjs)');
  return endpoint;
}

/** One recorded SDK call. */
export interface RecordedCall {
  command: string;
  input: Record<string, unknown>;
}

/** A client for the local endpoint, recording every command it sends into `calls`. */
export function sqsClient(calls?: RecordedCall[]): SQSClient {
  const client = new SQSClient({
    endpoint: sqsEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  if (calls) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push({ command: String(context.commandName), input: args.input as Record<string, unknown> });
        return next(args);
      },
      { step: 'initialize', name: 'recordCalls' },
    );
  }
  return client;
}

export interface QueuePairOptions {
  fifo?: boolean;
  /** RedrivePolicy maxReceiveCount (default 5). */
  maxReceiveCount?: number;
  /** Main queue VisibilityTimeout in seconds (default 30). */
  visibilityTimeout?: number;
  /** More main-queue attributes (e.g. MaximumMessageSize). */
  attributes?: Record<string, string>;
}

/** A fresh main queue + DLQ with a RedrivePolicy between them; returns the `queue.sqs` settings for it. */
export async function createQueuePair(client: SQSClient, options: QueuePairOptions = {}): Promise<SqsSettings> {
  const name = `dwa-${randomBytes(6).toString('hex')}`;
  const suffix = options.fifo ? '.fifo' : '';
  const fifoAttrs: Record<string, string> = options.fifo
    ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' }
    : {};
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq${suffix}`, Attributes: fifoAttrs }));
  const dlqUrl = dlq.QueueUrl!;
  const arn = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: `${name}${suffix}`,
      Attributes: {
        ...fifoAttrs,
        VisibilityTimeout: String(options.visibilityTimeout ?? 30),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: arn.Attributes!.QueueArn,
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
        ...(options.attributes ?? {}),
      },
    }),
  );
  return {
    queueUrl: main.QueueUrl!,
    deadLetterQueueUrl: dlqUrl,
    endpoint: sqsEndpoint(),
    region: 'us-east-1',
    waitTimeSeconds: 0,
  };
}

/** Everything currently visible in a queue, with all attributes; left visible again afterwards. */
export async function peek(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (!r.Messages?.length) break;
    out.push(...r.Messages);
  }
  for (let i = 0; i < out.length; i += 10) {
    const part = out.slice(i, i + 10);
    await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: part.map((m, j) => ({ Id: `p${j}`, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  }
  return out;
}

/** Exact message counts of a queue (fauxqs counts exactly). */
export async function counts(client: SQSClient, queueUrl: string): Promise<{ visible: number; notVisible: number }> {
  const r = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(r.Attributes?.ApproximateNumberOfMessages),
    notVisible: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

/** `promise`, or `fallback` if it has not settled after `ms` (the timer is cleared either way). */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The SQS suites' shared set-up (jest hooks registered by the caller's file): an admin client on
 * the local SQS API, the sandbox as Distinct, and a cleanup list run (last in, first out) after each
 * test, when the sandbox's received events are cleared too.
 */
export interface SqsHarness {
  admin: SQSClient;
  sandbox: Sandbox;
  distinctUrl: string;
  cleanups: Array<() => Promise<unknown> | unknown>;
}

export function useSqsHarness(): SqsHarness {
  const h = { cleanups: [] } as unknown as SqsHarness;
  beforeAll(async () => {
    h.admin = sqsClient();
    h.sandbox = createSandbox();
    h.distinctUrl = (await h.sandbox.listen(0, '127.0.0.1')).url;
  });
  afterEach(async () => {
    while (h.cleanups.length > 0) await h.cleanups.pop()?.();
    h.sandbox.clear();
  });
  afterAll(async () => {
    h.admin.destroy();
    await h.sandbox.close();
  });
  return h;
}
