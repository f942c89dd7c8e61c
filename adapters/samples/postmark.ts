/**
 * Postmark's simulation samples: the tracking webhooks Postmark posts, one JSON object per event
 * discriminated by `RecordType`, with the sender's `Metadata` echoed. `simulate` sends them and
 * the conformance suite signs and parses them; adapters/postmark.ts receives them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { EmailEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { jsonSample, sampleTemplate } from '../../src/core/samples';
import { TIME_FIELD_OF, type PostmarkRecordType } from '../postmark';

/** One record per normalized type `simulate` can send (no "sent": Postmark has no such webhook). */
const SAMPLES = {
  'email.delivered': { RecordType: 'Delivery', Details: 'smtp;250 2.0.0 OK' },
  'email.bounced': {
    RecordType: 'Bounce',
    Type: 'HardBounce',
    TypeCode: 1,
    Name: 'Hard bounce',
    Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
    Inactive: true,
    CanActivate: true,
  },
  'email.deferred': {
    RecordType: 'Bounce',
    Type: 'SoftBounce',
    TypeCode: 4096,
    Name: 'Soft bounce',
    Details: 'smtp;452 4.2.2 Mailbox full',
    Inactive: false,
    CanActivate: true,
  },
  'email.rejected': {
    RecordType: 'Bounce',
    Type: 'ManuallyDeactivated',
    TypeCode: 8192,
    Name: 'Manually deactivated',
    Inactive: true,
    CanActivate: true,
  },
  'email.complained': {
    RecordType: 'SpamComplaint',
    Type: 'SpamComplaint',
    TypeCode: 512,
    Inactive: true,
    CanActivate: false,
  },
  'email.opened': {
    RecordType: 'Open',
    FirstOpen: true,
    Platform: 'Desktop',
    ReadSeconds: 5,
    Client: { Name: 'Chrome', Company: 'Google', Family: 'Chrome' },
  },
  'email.clicked': {
    RecordType: 'Click',
    ClickLocation: 'HTML',
    OriginalLink: 'https://example.com/welcome',
    Platform: 'Desktop',
  },
  'email.unsubscribed': {
    RecordType: 'SubscriptionChange',
    Origin: 'Recipient',
    SuppressSending: true,
    SuppressionReason: 'ManualSuppression',
  },
  'email.subscribed': {
    RecordType: 'SubscriptionChange',
    Origin: 'Customer',
    SuppressSending: false,
    SuppressionReason: null,
  },
} as const satisfies Partial<Record<EmailEventType, { RecordType: PostmarkRecordType } & Record<string, unknown>>>;

/** A tracking webhook for `options.type`, as Postmark posts it. */
export function sample(options: SampleOptions): SampleRequest {
  const template = sampleTemplate<Readonly<Record<string, unknown>> & { RecordType: PostmarkRecordType }>(
    SAMPLES,
    options.type,
    'Postmark',
    'webhook',
  );
  // Bounce and SpamComplaint carry the recipient as `Email` and a bounce `ID`; the others `Recipient`.
  const bounce = template.RecordType === 'Bounce' || template.RecordType === 'SpamComplaint';
  const body = {
    ...template,
    ...(bounce ? { ID: randomBytes(4).readUInt32BE() } : {}),
    ServerID: 23,
    MessageStream: 'outbound',
    MessageID: randomUUID(),
    [bounce ? 'Email' : 'Recipient']: options.recipient,
    Tag: 'registration',
    [TIME_FIELD_OF[template.RecordType]]: options.now.toISOString(),
    Metadata: toWireOverrides(options.overrides), // sent as `Metadata` on the message; echoed on every webhook
  };
  return jsonSample(body, { 'content-type': 'application/json', 'user-agent': 'Postmark' });
}
