/**
 * Mandrill's simulation samples: the message-event webhooks Mandrill posts (a form field
 * `mandrill_events` holding a JSON array, the message's `metadata` echoed in `msg`). `simulate`
 * sends them and the conformance suite signs and parses them; adapters/mandrill.ts receives them.
 */
import { randomBytes } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { EmailEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { sampleTemplate } from '../../src/core/samples';
import { EVENTS_FIELD, type MandrillEvent } from '../mandrill';

/** The event `simulate` sends for each normalized type. */
const SAMPLE_EVENT: Readonly<Partial<Record<EmailEventType, MandrillEvent>>> = {
  'email.sent': 'send',
  'email.delivered': 'delivered',
  'email.deferred': 'deferral',
  'email.bounced': 'hard_bounce',
  'email.opened': 'open',
  'email.clicked': 'click',
  'email.complained': 'spam',
  'email.unsubscribed': 'unsub',
  'email.rejected': 'reject',
};

/** A form body holding `events` as Mandrill posts it. */
export function mandrillForm(events: readonly unknown[]): Buffer {
  return Buffer.from(new URLSearchParams([[EVENTS_FIELD, JSON.stringify(events)]]).toString(), 'utf8');
}

/** A batch of one event for `options.type`, as Mandrill posts it. */
export function sample(options: SampleOptions): SampleRequest {
  const event = sampleTemplate(SAMPLE_EVENT, options.type, 'Mandrill', 'sample');
  const ts = Math.floor(options.now.getTime() / 1000);
  const id = randomBytes(16).toString('hex');
  const msg: Record<string, unknown> = {
    ts,
    subject: 'Confirm your e-mail',
    email: options.recipient,
    sender: 'noreply@example.com',
    tags: ['registration'],
    opens: [],
    clicks: [],
    state: event === 'hard_bounce' ? 'bounced' : event === 'reject' ? 'rejected' : 'sent',
    metadata: toWireOverrides(options.overrides),
    _id: id,
    _version: randomBytes(11).toString('hex'),
  };
  if (event === 'hard_bounce')
    Object.assign(msg, { bounce_description: 'bad_mailbox', diag: 'smtp;550 5.1.1 no such user' });
  const item: Record<string, unknown> = { event, msg, _id: id, ts };
  if (event === 'click') item.url = 'https://example.com/welcome';
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: mandrillForm([item]), query: '' };
}
