/**
 * Mailjet's simulation samples: the Event API webhooks Mailjet posts (one JSON object per event,
 * a `MessageID` beyond 2^53 written as a bare number, sender metadata echoed as `Payload`).
 * `simulate` sends them and the conformance suite signs and parses them; adapters/mailjet.ts
 * receives them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { EmailEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { sampleTemplate } from '../../src/core/samples';
import type { MailjetEvent } from '../mailjet';

/** One event per normalized type `simulate` can send (Mailjet has no "sent" before delivery). */
const SAMPLES = {
  'email.delivered': { event: 'sent', smtp_reply: 'sent (250 2.0.0 OK)' },
  'email.opened': { event: 'open', ip: '192.0.2.10', geo: 'FR', agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' },
  'email.clicked': {
    event: 'click',
    url: 'https://example.com/welcome',
    ip: '192.0.2.10',
    geo: 'FR',
    agent: 'Mozilla/5.0',
  },
  'email.bounced': {
    event: 'bounce',
    blocked: false,
    hard_bounce: true,
    error_related_to: 'recipient',
    error: 'user unknown',
  },
  'email.deferred': {
    event: 'bounce',
    blocked: false,
    hard_bounce: false,
    error_related_to: 'domain',
    error: 'greylisted',
  },
  'email.rejected': { event: 'blocked', error_related_to: 'mailjet', error: 'preblocked' },
  'email.complained': { event: 'spam', source: 'JMRPP' },
  'email.unsubscribed': { event: 'unsub', mj_list_id: 1, ip: '192.0.2.10', geo: 'FR', agent: 'Mozilla/5.0' },
} as const satisfies Partial<Record<EmailEventType, { event: MailjetEvent } & Record<string, unknown>>>;

/** An event for `options.type`, as Mailjet posts it. */
export function sample(options: SampleOptions): SampleRequest {
  const template = sampleTemplate<Readonly<Record<string, unknown>>>(SAMPLES, options.type, 'Mailjet');
  const payload = toWireOverrides(options.overrides);
  // A 17-digit MessageID beyond 2^53, written as a bare JSON number exactly as Mailjet does.
  const messageId = `1${[...randomBytes(16)].map((b) => b % 10).join('')}`;
  const event = {
    ...template,
    time: Math.floor(options.now.getTime() / 1000),
    MessageID: '__MESSAGE_ID__',
    Message_GUID: randomUUID(),
    email: options.recipient,
    mj_campaign_id: 0,
    mj_contact_id: 0,
    customcampaign: '',
    ...(template.event === 'sent' ? { mj_message_id: messageId } : {}),
    CustomID: '',
    Payload: Object.keys(payload).length > 0 ? JSON.stringify(payload) : '', // the message's EventPayload
  };
  const text = JSON.stringify(event).replace('"__MESSAGE_ID__"', messageId);
  return { headers: { 'content-type': 'application/json' }, body: Buffer.from(text, 'utf8'), query: '' };
}
