/**
 * Brevo's simulation samples: the transactional e-mail webhooks Brevo posts (one JSON object per
 * event, its three clocks, sender metadata echoed from the `X-Mailin-custom` header). `simulate`
 * sends them and the conformance suite signs and parses them; adapters/brevo.ts receives them.
 */
import { randomBytes } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { EmailEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { jsonSample, sampleTemplate } from '../../src/core/samples';
import type { BrevoEvent } from '../brevo';

/** One event per normalized type `simulate` can send. */
const SAMPLES = {
  'email.sent': { event: 'request' },
  'email.delivered': { event: 'delivered' },
  'email.deferred': { event: 'deferred', reason: '451 4.7.1 Please try again later' },
  'email.bounced': {
    event: 'hard_bounce',
    reason: '550 5.1.1 The email account that you tried to reach does not exist',
  },
  'email.rejected': { event: 'blocked', reason: 'blocked: the contact is blocklisted' },
  'email.failed': { event: 'error', reason: 'internal error' },
  'email.complained': { event: 'spam' },
  'email.opened': { event: 'unique_opened' },
  'email.clicked': { event: 'click', link: 'https://example.com/welcome' },
  'email.unsubscribed': { event: 'unsubscribed' },
} as const satisfies Partial<Record<EmailEventType, { event: BrevoEvent } & Record<string, unknown>>>;

/** A transactional event for `options.type`, as Brevo posts it. */
export function sample(options: SampleOptions): SampleRequest {
  const template = sampleTemplate<Readonly<Record<string, unknown>>>(
    SAMPLES,
    options.type,
    'Brevo',
    'transactional event',
  );
  const custom = toWireOverrides(options.overrides);
  const ms = options.now.getTime();
  const body = {
    ...template,
    email: options.recipient,
    id: 1234567,
    date: options.now.toISOString().slice(0, 19).replace('T', ' '), // Brevo writes CET here; never read
    ts: Math.floor(ms / 1000),
    'message-id': `<${options.now.toISOString().replace(/\D/g, '').slice(0, 12)}.${randomBytes(6).toString('hex')}@smtp-relay.mailin.fr>`,
    ts_event: Math.floor(ms / 1000),
    subject: 'Confirm your e-mail',
    // Sent as the `X-Mailin-custom` header (or `headers` in the send API); echoed verbatim here.
    ...(Object.keys(custom).length > 0 ? { 'X-Mailin-custom': JSON.stringify(custom) } : {}),
    ts_epoch: ms,
    template_id: 22,
    tags: ['registration'],
  };
  return jsonSample(body);
}
