/**
 * Plivo's simulation samples: the message status callbacks Plivo posts (form parameters with its
 * zone-less microsecond times, sender metadata in the callback URL's query). `simulate` sends
 * them and the conformance suite signs and parses them; adapters/plivo.ts receives them.
 */
import { randomUUID } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { SmsEventType } from '../../src/core/event-types';
import { own, toWireOverrides } from '../../src/core/overrides';
import { sampleTemplate } from '../../src/core/samples';
import { STATUS_TIME_FIELD, type PlivoStatus } from '../plivo';

/** The status `simulate` sends for each normalized type. */
const SAMPLE_STATUS = {
  'sms.queued': 'queued',
  'sms.sent': 'sent',
  'sms.delivered': 'delivered',
  'sms.undelivered': 'undelivered',
  'sms.failed': 'failed',
  'sms.unknown': 'read',
} as const satisfies Partial<Record<SmsEventType, PlivoStatus>>;

/** Plivo SMS error codes on sample failures: 80 destination temporarily unavailable, 300 failed to dispatch. */
const SAMPLE_ERROR_CODE: Readonly<Partial<Record<PlivoStatus, string>>> = { undelivered: '80', failed: '300' };
const SAMPLE_SENDER = '14155550100';

/** Plivo's time format: `YYYY-mm-dd HH:MM:SS.SSSSSS` (microseconds). */
function plivoTime(now: Date): string {
  return `${now.toISOString().slice(0, 10)} ${now.toISOString().slice(11, 23)}000`;
}

/** A status callback for `type`, as Plivo posts it (unsigned). */
export function sample({ type, recipient, now, overrides }: SampleOptions): SampleRequest {
  const status = sampleTemplate<PlivoStatus>(SAMPLE_STATUS, type, 'Plivo', 'status');
  const body = new URLSearchParams();
  body.set('From', SAMPLE_SENDER);
  body.set('To', recipient.replace(/^\+/, '')); // Plivo writes numbers without '+'
  body.set('Type', 'sms');
  body.set('MessageUUID', randomUUID());
  body.set('Status', status);
  body.set('Units', '1');
  body.set('TotalRate', '0.00500');
  body.set('TotalAmount', '0.00500');
  body.set('MCC', '310');
  body.set('MNC', '260');
  const errorCode = own(SAMPLE_ERROR_CODE, status);
  if (errorCode) body.set('ErrorCode', errorCode);
  body.set('Sequence', '1');
  body.set('MessageTime', plivoTime(now));
  const timeField = own(STATUS_TIME_FIELD, status);
  if (timeField) body.set(timeField, plivoTime(now));
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(body.toString(), 'utf8'),
    query: new URLSearchParams(toWireOverrides(overrides)).toString(),
  };
}
