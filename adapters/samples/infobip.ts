/**
 * Infobip's simulation samples: the SMS delivery reports Infobip posts (`{"results":[…]}`, times
 * with a `+0000` offset, sender metadata as a URL-encoded `callbackData`). `simulate` sends them
 * and the conformance suite signs and parses them; adapters/infobip.ts receives them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { SmsEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { jsonSample, sampleTemplate } from '../../src/core/samples';

/** Group, status id and name `simulate` sends for each normalized type (Infobip's response codes). */
const SAMPLE_STATUS = {
  'sms.queued': {
    groupId: 1,
    groupName: 'PENDING',
    id: 7,
    name: 'PENDING_ENROUTE',
    description: 'Message sent to next instance',
  },
  'sms.sent': {
    groupId: 3,
    groupName: 'DELIVERED',
    id: 2,
    name: 'DELIVERED_TO_OPERATOR',
    description: 'Message delivered to operator',
  },
  'sms.delivered': {
    groupId: 3,
    groupName: 'DELIVERED',
    id: 5,
    name: 'DELIVERED_TO_HANDSET',
    description: 'Message delivered to handset',
  },
  'sms.undelivered': {
    groupId: 2,
    groupName: 'UNDELIVERABLE',
    id: 9,
    name: 'UNDELIVERABLE_NOT_DELIVERED',
    description: 'Message sent not delivered',
  },
  'sms.failed': {
    groupId: 5,
    groupName: 'REJECTED',
    id: 6,
    name: 'REJECTED_NETWORK',
    description: 'Network is forbidden',
  },
  'sms.unknown': {
    groupId: 9,
    groupName: 'TELEPORTED',
    id: 99,
    name: 'TELEPORTED',
    description: 'Not an Infobip status',
  },
} as const satisfies Partial<Record<SmsEventType, Record<string, string | number>>>;

const NO_ERROR = { groupId: 0, groupName: 'OK', id: 0, name: 'NO_ERROR', description: 'No Error', permanent: false };

/** `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`, as Infobip writes times. */
function infobipTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

/** A delivery report as Infobip posts it, for `simulate`. */
export function sample({ type, recipient, now, overrides }: SampleOptions): SampleRequest {
  const status = sampleTemplate<Record<string, string | number>>(SAMPLE_STATUS, type, 'Infobip', 'status');
  const callbackData = new URLSearchParams(toWireOverrides(overrides));
  const result = {
    bulkId: `BULK-${randomBytes(6).toString('hex')}`,
    messageId: randomUUID(),
    to: recipient.replace(/^\+/, ''),
    sentAt: infobipTime(new Date(now.getTime() - 2000)),
    doneAt: infobipTime(now),
    smsCount: 1,
    ...(callbackData.size > 0 ? { callbackData: callbackData.toString() } : {}),
    price: { pricePerMessage: 0.01, currency: 'EUR' },
    status,
    error: NO_ERROR,
  };
  return jsonSample({ results: [result] });
}
