/**
 * The SQS-triggered Lambda's side of a real queue: SQSEvents built the way Lambda's poller builds
 * them (the documented example, fixtures/aws/sqs-event.json, with the fields of messages really
 * received), and what Lambda does with the handler's answer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { SqsSettings } from '../../src/queue/sqs-queue';

/** The documented example event, verbatim. */
export const SQS_EVENT_EXAMPLE = (
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/aws/sqs-event.json'), 'utf8')) as { event: SQSEvent }
).event;
const TEMPLATE = SQS_EVENT_EXAMPLE.Records[0]!;

/** What Lambda's poller does: long-polls the queue until `n` messages arrived, as one SQSEvent. */
export async function receiveEvent(admin: SQSClient, settings: SqsSettings, n: number): Promise<SQSEvent> {
  const messages: Message[] = [];
  while (messages.length < n) {
    const out = await admin.send(
      new ReceiveMessageCommand({
        QueueUrl: settings.queueUrl,
        MaxNumberOfMessages: Math.min(10, n - messages.length),
        WaitTimeSeconds: 10,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (!out.Messages?.length) throw new Error(`expected ${n} message(s), got ${messages.length}`);
    messages.push(...out.Messages);
  }
  return { Records: messages.map((m) => toRecord(m, settings)) };
}

/** The documented record shape with a received message's fields. */
function toRecord(m: Message, settings: SqsSettings): SQSRecord {
  const attrs = m.Attributes ?? {};
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(m.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: value.StringValue,
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    ...TEMPLATE,
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body!,
    attributes: {
      ...TEMPLATE.attributes,
      ApproximateReceiveCount: attrs.ApproximateReceiveCount!,
      SentTimestamp: attrs.SentTimestamp!,
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? attrs.SentTimestamp!,
    },
    messageAttributes,
    md5OfBody: m.MD5OfBody!,
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${settings.queueUrl.split('/').pop()}`,
    awsRegion: 'us-east-1',
  };
}

/** What Lambda does with the answer: deletes every record not reported as failed. */
export async function settleLikeLambda(
  admin: SQSClient,
  settings: SqsSettings,
  event: SQSEvent,
  response: SQSBatchResponse,
): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = event.Records.filter((r) => !failed.has(r.messageId));
  if (done.length === 0) return;
  await admin.send(
    new DeleteMessageBatchCommand({
      QueueUrl: settings.queueUrl,
      Entries: done.map((r, i) => ({ Id: `r${i}`, ReceiptHandle: r.receiptHandle })),
    }),
  );
}
