/**
 * MessageBird's simulation samples: the SMS status reports MessageBird sends (a GET whose query
 * carries the report, sender metadata as a URL-encoded `reference`). `simulate` sends them and
 * the conformance suite signs and parses them; adapters/messagebird.ts receives them.
 */
import { randomBytes } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { SmsEventType } from '../../src/core/event-types';
import { own, toWireOverrides } from '../../src/core/overrides';
import { sampleTemplate } from '../../src/core/samples';
import type { MessageBirdStatus } from '../messagebird';

/** The status `simulate` sends for each normalized type. */
const SAMPLE_STATUS = {
  'sms.queued': 'buffered',
  'sms.sent': 'sent',
  'sms.delivered': 'delivered',
  'sms.undelivered': 'delivery_failed',
  'sms.failed': 'delivery_failed',
  'sms.unknown': 'teleported',
} as const satisfies Partial<Record<SmsEventType, string>>;

/** statusReason / statusErrorCode per sample status (MessageBird's documented reasons). */
const SAMPLE_REASON: Readonly<Partial<Record<MessageBirdStatus, { statusReason: string; statusErrorCode?: string }>>> =
  {
    sent: { statusReason: 'successfully sent' },
    delivered: { statusReason: 'successfully delivered' },
    buffered: { statusReason: 'pending DLR' },
    delivery_failed: { statusReason: 'unknown subscriber', statusErrorCode: '1' },
  };

/** RFC 3339 with an explicit +00:00 offset, as MessageBird writes statusDatetime. */
function rfc3339(now: Date): string {
  return `${now.toISOString().slice(0, 19)}+00:00`;
}

/** A status report for `type`, as MessageBird sends it: all in the query, no body. */
export function sample({ type, recipient, now, overrides }: SampleOptions): SampleRequest {
  const status: string = sampleTemplate(SAMPLE_STATUS, type, 'MessageBird', 'status');
  const reference = new URLSearchParams(toWireOverrides(overrides));
  // Parameter order as in MessageBird's documented example; status reports need a reference at all.
  const query = new URLSearchParams();
  query.set('id', randomBytes(16).toString('hex'));
  query.set('reference', reference.toString() || `ref_${randomBytes(4).toString('hex')}`);
  query.set('recipient', recipient.replace(/^\+/, ''));
  query.set('status', status);
  const reason = own(SAMPLE_REASON, status);
  if (reason) {
    query.set('statusReason', reason.statusReason);
    if (reason.statusErrorCode) query.set('statusErrorCode', reason.statusErrorCode);
  }
  query.set('statusDatetime', rfc3339(now));
  return { headers: {}, body: Buffer.alloc(0), query: query.toString() };
}
