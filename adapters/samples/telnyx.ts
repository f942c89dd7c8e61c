/**
 * Telnyx's simulation samples: the messaging webhooks Telnyx posts (`{data: {event_type,
 * payload}, meta}`, one status per recipient, sender metadata as `distinct_…=…` tags). `simulate`
 * sends them and the conformance suite signs and parses them; adapters/telnyx.ts receives them.
 */
import { randomUUID } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { SmsEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { jsonSample, sampleTemplate } from '../../src/core/samples';
import type { TelnyxStatus } from '../telnyx';

/** What `simulate` sends for each normalized type: the event type and recipient status. */
const SAMPLES = {
  'sms.queued': { event: 'message.sent', status: 'queued' },
  'sms.sent': { event: 'message.sent', status: 'sent' },
  'sms.delivered': { event: 'message.finalized', status: 'delivered' },
  'sms.failed': { event: 'message.finalized', status: 'sending_failed' },
  'sms.undelivered': { event: 'message.finalized', status: 'delivery_failed' },
  'sms.unknown': { event: 'message.finalized', status: 'delivery_unconfirmed' },
  'sms.received': { event: 'message.received', status: 'delivered' },
} as const satisfies Partial<Record<SmsEventType, { event: string; status: TelnyxStatus }>>;

/** Telnyx's documentation numbers (API reference examples). */
const SAMPLE_OUR_NUMBER = '+18445550001';

/** A messaging webhook for `type`, as Telnyx posts it (unsigned). */
export function sample({ type, recipient, now, overrides }: SampleOptions): SampleRequest {
  const chosen = sampleTemplate<{ event: string; status: string }>(SAMPLES, type, 'Telnyx');
  const inbound = chosen.event === 'message.received';
  const tags = Object.entries(toWireOverrides(overrides)).map(([k, v]) => `${k}=${v}`);
  const failed = chosen.status === 'sending_failed' || chosen.status === 'delivery_failed';
  const body = {
    data: {
      record_type: 'event',
      id: randomUUID(),
      event_type: chosen.event,
      occurred_at: now.toISOString(),
      payload: {
        record_type: 'message',
        direction: inbound ? 'inbound' : 'outbound',
        id: randomUUID(),
        type: 'SMS',
        from: { phone_number: inbound ? recipient : SAMPLE_OUR_NUMBER, carrier: 'TELNYX LLC', line_type: 'VoIP' },
        to: [
          {
            phone_number: inbound ? SAMPLE_OUR_NUMBER : recipient,
            status: chosen.status,
            carrier: 'T-MOBILE USA, INC.',
            line_type: 'Wireless',
          },
        ],
        text: 'Your code is 123456',
        tags,
        errors: failed
          ? [{ code: '40008', title: 'Undeliverable', detail: 'The message could not be delivered.' }]
          : [],
      },
    },
    meta: { attempt: 1, delivered_to: 'https://hooks.example.com/webhooks/telnyx' },
  };
  return jsonSample(body);
}
