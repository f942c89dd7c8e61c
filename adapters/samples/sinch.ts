/**
 * Sinch's simulation samples: the per-recipient SMS delivery reports Sinch posts (JSON, the
 * number without `+`, sender metadata as a URL-encoded `client_reference`). `simulate` sends them
 * and the conformance suite signs and parses them; adapters/sinch.ts receives them.
 */
import { randomBytes } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { SmsEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { jsonSample, sampleTemplate } from '../../src/core/samples';
import type { SinchStatus } from '../sinch';

/** The status `simulate` sends for each normalized type (a per-recipient report). */
const SAMPLE_STATUS = {
  'sms.queued': 'Queued',
  'sms.sent': 'Dispatched',
  'sms.delivered': 'Delivered',
  'sms.undelivered': 'Failed',
  'sms.failed': 'Rejected',
  'sms.unknown': 'Unknown',
} as const satisfies Partial<Record<SmsEventType, SinchStatus>>;

/** Detailed codes of the samples, as in Sinch's examples (0 delivered, 400 queued, 401 dispatched, 11 in its SDKs' Failed report). */
const SAMPLE_CODE: Readonly<Record<string, number>> = { Queued: 400, Dispatched: 401, Delivered: 0, Failed: 11 };

/** A recipient delivery report for `type`, as Sinch posts it (unsigned). */
export function sample({ type, recipient, now, overrides }: SampleOptions): SampleRequest {
  const status = sampleTemplate<SinchStatus>(SAMPLE_STATUS, type, 'Sinch', 'status');
  const reference = new URLSearchParams(toWireOverrides(overrides));
  const at = now.toISOString();
  const body = {
    type: 'recipient_delivery_report_sms',
    batch_id: randomBytes(13).toString('hex').toUpperCase().slice(0, 26),
    recipient: recipient.replace(/^\+/, ''),
    code: SAMPLE_CODE[status] ?? 0,
    status,
    at,
    ...(status === 'Delivered' || status === 'Failed' ? { operator_status_at: `${at.slice(0, 17)}00Z` } : {}),
    ...(reference.size > 0 ? { client_reference: reference.toString() } : {}),
  };
  return jsonSample(body);
}
