/**
 * Vonage's simulation samples: the SMS API delivery receipts Vonage posts (form parameters, the
 * number without `+`, sender metadata as a URL-encoded `client-ref`). `simulate` sends them and
 * the conformance suite signs and parses them; adapters/vonage.ts receives them.
 */
import { randomBytes } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { SmsEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { sampleTemplate } from '../../src/core/samples';
import type { VonageStatus } from '../vonage';

/** The DLR status and err-code `simulate` sends for each normalized type. */
const SAMPLE_STATUS = {
  'sms.queued': ['buffered', '0'],
  'sms.sent': ['accepted', '0'],
  'sms.delivered': ['delivered', '0'],
  'sms.undelivered': ['expired', '2'], // absent subscriber, temporary
  'sms.failed': ['failed', '6'], // anti-spam rejection
  'sms.unknown': ['unknown', '1'],
} as const satisfies Partial<Record<SmsEventType, readonly [VonageStatus, string]>>;

/** A delivery receipt for `type`, as Vonage posts it (unsigned). */
export function sample({ type, recipient, now, overrides }: SampleOptions): SampleRequest {
  const [status, errCode] = sampleTemplate<readonly [VonageStatus, string]>(
    SAMPLE_STATUS,
    type,
    'Vonage',
    'delivery receipt status',
  );
  const iso = now.toISOString();
  const clientRef = new URLSearchParams(toWireOverrides(overrides));
  const body = new URLSearchParams({
    msisdn: recipient.replace(/^\+/, ''), // Vonage writes numbers without '+'
    to: 'Vonage',
    'network-code': '23410',
    messageId: randomBytes(8).toString('hex').toUpperCase(),
    price: '0.03330000',
    status,
    scts: iso.replace(/^\d{2}(\d{2})-(\d{2})-(\d{2})T(\d{2}):(\d{2}).*$/, '$1$2$3$4$5'),
    'err-code': errCode,
    'api-key': 'a1b2c3d',
    'message-timestamp': `${iso.slice(0, 10)} ${iso.slice(11, 19)}`,
  });
  if (clientRef.size > 0) body.set('client-ref', clientRef.toString());
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(body.toString(), 'utf8'),
    query: '',
  };
}
