/**
 * SendGrid's simulation samples: the Event Webhook batches SendGrid posts (a JSON array in its
 * exact byte format, custom_args echoed as top-level keys). `simulate` sends them and the
 * conformance suite signs and parses them; adapters/sendgrid.ts receives them.
 */
import { randomBytes } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { EmailEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { sampleTemplate } from '../../src/core/samples';
import type { SendGridEvent } from '../sendgrid';

/** SendGrid's byte format: compact events joined by CRLF, and a CRLF after the closing bracket. */
function wireBody(events: readonly unknown[]): Buffer {
  return Buffer.from(`[${events.map((e) => JSON.stringify(e)).join(',\r\n')}]\r\n`, 'utf8');
}

/** One realistic event per normalized type `simulate` can send; `satisfies` keeps `event` a real map key. */
const SAMPLES = {
  'email.sent': { event: 'processed' },
  'email.delivered': { event: 'delivered', response: '250 2.0.0 OK', tls: 1 },
  'email.deferred': { event: 'deferred', response: '451 4.7.1 Please try again later', attempt: '1' },
  'email.bounced': {
    event: 'bounce',
    reason: '550 5.1.1 The email account that you tried to reach does not exist',
    status: '5.1.1',
    type: 'bounce',
    bounce_classification: 'Invalid Address',
  },
  'email.rejected': { event: 'dropped', reason: 'Bounced Address', status: '5.0.0' },
  'email.opened': {
    event: 'open',
    sg_machine_open: false,
    useragent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
    ip: '192.0.2.10',
  },
  'email.clicked': {
    event: 'click',
    url: 'https://example.com/welcome',
    url_offset: { index: 0, type: 'html' },
    useragent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
    ip: '192.0.2.10',
  },
  'email.complained': { event: 'spamreport' },
  'email.unsubscribed': { event: 'unsubscribe' },
  'email.subscribed': { event: 'group_resubscribe', asm_group_id: 1, url: 'https://example.com/preferences' },
} as const satisfies Partial<Record<EmailEventType, { event: SendGridEvent } & Record<string, unknown>>>;

/** A batch of one event for `type`, as SendGrid posts it (unsigned). */
export function sample({ type, recipient, now, overrides }: SampleOptions): SampleRequest {
  const { event, ...extra } = sampleTemplate<Readonly<Record<string, unknown>>>(SAMPLES, type, 'SendGrid');
  const messageId = randomBytes(16).toString('base64url');
  const item = {
    email: recipient,
    timestamp: Math.floor(now.getTime() / 1000),
    'smtp-id': `<${messageId}@ismtpd0001p1iad2.sendgrid.net>`,
    event,
    category: 'registration',
    sg_event_id: randomBytes(36).toString('base64url'),
    sg_message_id: `${messageId}.filterdrecv-sample-0.0`,
    ...extra,
    ...toWireOverrides(overrides), // custom_args come back as top-level keys
  };
  return {
    headers: { 'content-type': 'application/json', 'user-agent': 'SendGrid Event API' },
    body: wireBody([item]),
    query: '',
  };
}
