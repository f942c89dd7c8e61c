/**
 * Amazon SES's simulation samples: the event-publishing notifications SNS posts for SES (an SNS
 * `Notification` envelope whose `Message` is the SES event as a JSON string, the sender's message
 * tags in `mail.tags`). `simulate` sends them and the conformance suite signs and parses them;
 * adapters/ses.ts receives them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { EmailEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { jsonSample, sampleTemplate } from '../../src/core/samples';

/** The AWS documentation's example topic: fixtures and `simulate` samples are published to it. */
export const EXAMPLE_TOPIC_ARN = 'arn:aws:sns:us-west-2:123456789012:MyTopic';

/** SES event-publishing bodies per normalized type, for `simulate` (recipient and time filled in). */
const SAMPLES: Readonly<Partial<Record<EmailEventType, (to: string, ts: string) => Record<string, unknown>>>> = {
  'email.sent': () => ({ eventType: 'Send', send: {} }),
  'email.delivered': (to, ts) => ({
    eventType: 'Delivery',
    delivery: {
      timestamp: ts,
      processingTimeMillis: 1204,
      recipients: [to],
      smtpResponse: '250 2.6.0 Message received',
      reportingMTA: 'a8-70.smtp-out.amazonses.com',
    },
  }),
  'email.opened': (_to, ts) => ({
    eventType: 'Open',
    open: { timestamp: ts, ipAddress: '192.0.2.1', userAgent: 'Mozilla/5.0' },
  }),
  'email.clicked': (_to, ts) => ({
    eventType: 'Click',
    click: { timestamp: ts, ipAddress: '192.0.2.1', link: 'https://example.com/welcome', userAgent: 'Mozilla/5.0' },
  }),
  'email.bounced': (to, ts) => ({
    eventType: 'Bounce',
    bounce: {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [
        { emailAddress: to, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
      ],
      timestamp: ts,
      feedbackId: `0100018f${randomBytes(8).toString('hex')}-000000`,
    },
  }),
  'email.deferred': (to, ts) => ({
    eventType: 'DeliveryDelay',
    deliveryDelay: {
      timestamp: ts,
      delayType: 'MailboxFull',
      delayedRecipients: [{ emailAddress: to, status: '4.2.2', diagnosticCode: 'smtp; 452 4.2.2 Mailbox full' }],
    },
  }),
  'email.complained': (to, ts) => ({
    eventType: 'Complaint',
    complaint: { complainedRecipients: [{ emailAddress: to }], timestamp: ts, complaintFeedbackType: 'abuse' },
  }),
  'email.rejected': () => ({ eventType: 'Reject', reject: { reason: 'Bad content' } }),
  'email.failed': () => ({
    eventType: 'Rendering Failure',
    failure: { errorMessage: "Attribute 'name' is not present in the rendering data.", templateName: 'Welcome' },
  }),
  'email.unsubscribed': (_to, ts) => ({
    eventType: 'Subscription',
    subscription: {
      contactList: 'Newsletter',
      timestamp: ts,
      source: 'UnsubscribeHeader',
      newTopicPreferences: { unsubscribeAll: true },
    },
  }),
};

/**
 * An SNS notification of the SES event for `type`, unsigned. Overrides are taken by their tag
 * names (`distinct_user_id`) or by EventOverrides names (`userId`).
 */
export function sample({ type, recipient, now, overrides }: SampleOptions): SampleRequest {
  const build = sampleTemplate(SAMPLES, type, 'Amazon SES');
  const ts = now.toISOString();
  const tags: Record<string, string[]> = { 'ses:configuration-set': ['distinct-events'] };
  for (const [tag, value] of Object.entries(toWireOverrides(overrides))) tags[tag] = [value];
  const mail = {
    timestamp: ts,
    source: 'noreply@example.com',
    sourceArn: 'arn:aws:ses:us-west-2:123456789012:identity/example.com',
    sendingAccountId: '123456789012',
    messageId: `0100018f${randomBytes(8).toString('hex')}-${randomUUID()}-000000`,
    destination: [recipient],
    headersTruncated: false,
    tags,
  };
  const { eventType: name, ...rest } = build(recipient, ts);
  const messageId = randomUUID();
  const envelope = {
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: EXAMPLE_TOPIC_ARN,
    Message: JSON.stringify({ eventType: name, mail, ...rest }),
    Timestamp: ts,
    SignatureVersion: '1',
    UnsubscribeURL: `https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${EXAMPLE_TOPIC_ARN}:${randomUUID()}`,
  };
  return jsonSample(envelope, {
    'content-type': 'text/plain; charset=UTF-8',
    'x-amz-sns-message-type': 'Notification',
    'x-amz-sns-message-id': messageId,
    'x-amz-sns-topic-arn': EXAMPLE_TOPIC_ARN,
    'user-agent': 'Amazon Simple Notification Service Agent',
  });
}
