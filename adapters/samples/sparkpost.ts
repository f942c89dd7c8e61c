/**
 * SparkPost's simulation samples: the event webhooks SparkPost posts (a JSON array of
 * `{"msys": {"<class>_event": {...}}}`, long decimal ids as strings, sender metadata merged into
 * `rcpt_meta`). `simulate` sends them and the conformance suite signs and parses them;
 * adapters/sparkpost.ts receives them.
 */
import { randomBytes } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { EmailEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { jsonSample, sampleTemplate } from '../../src/core/samples';
import type { SparkPostEvent } from '../sparkpost';

/** The `msys` class each event type arrives in. */
const EVENT_CLASS: Readonly<Record<SparkPostEvent, string>> = {
  injection: 'message_event',
  delivery: 'message_event',
  bounce: 'message_event',
  out_of_band: 'message_event',
  delay: 'message_event',
  policy_rejection: 'message_event',
  spam_complaint: 'message_event',
  generation_rejection: 'gen_event',
  generation_failure: 'gen_event',
  open: 'track_event',
  amp_open: 'track_event',
  click: 'track_event',
  amp_click: 'track_event',
  list_unsubscribe: 'unsubscribe_event',
  link_unsubscribe: 'unsubscribe_event',
};

/** One event per normalized type `simulate` can send. */
const SAMPLES = {
  'email.sent': { type: 'injection' },
  'email.delivered': { type: 'delivery', queue_time: '1200', num_retries: '0' },
  'email.deferred': { type: 'delay', bounce_class: '21', reason: '454 4.7.1 Please try again later', num_retries: '1' },
  'email.bounced': { type: 'bounce', bounce_class: '10', reason: '550 5.1.1 ...@... User unknown', error_code: '550' },
  'email.rejected': { type: 'policy_rejection', reason: '550 5.0.0 Message generation rejected', error_code: '554' },
  'email.failed': { type: 'generation_failure', reason: 'Substitution error', error_code: '901' },
  'email.complained': { type: 'spam_complaint', fbtype: 'abuse', report_by: 'isp.example.net' },
  'email.opened': { type: 'open' },
  'email.clicked': { type: 'click', target_link_url: 'https://example.com/welcome', target_link_name: 'Confirm' },
  'email.unsubscribed': { type: 'link_unsubscribe' },
} as const satisfies Partial<Record<EmailEventType, { type: SparkPostEvent } & Record<string, unknown>>>;

/** A decimal id of `digits` digits, like SparkPost's event and transmission ids. */
function decimalId(digits: number): string {
  return [...randomBytes(digits)].map((b, i) => (i === 0 ? 1 + (b % 9) : b % 10)).join('');
}

/** A batch of one event for `options.type`, as SparkPost posts it. */
export function sample(options: SampleOptions): SampleRequest {
  const template = sampleTemplate<Readonly<Record<string, unknown>> & { type: SparkPostEvent }>(
    SAMPLES,
    options.type,
    'SparkPost',
  );
  const event = {
    ...template,
    event_id: decimalId(17),
    transmission_id: decimalId(17),
    message_id: randomBytes(10).toString('hex'),
    timestamp: String(Math.floor(options.now.getTime() / 1000)),
    rcpt_to: options.recipient.toLowerCase(),
    raw_rcpt_to: options.recipient,
    rcpt_meta: toWireOverrides(options.overrides), // transmission/recipient `metadata`, merged and echoed here
    rcpt_tags: ['registration'],
    campaign_id: 'registration',
    template_id: 'welcome',
    msg_from: 'noreply@example.org',
    friendly_from: 'noreply@example.org',
    sending_ip: '192.0.2.10',
  };
  const body = [{ msys: { [EVENT_CLASS[template.type]]: event } }];
  return jsonSample(body, {
    'content-type': 'application/json',
    'x-messagesystems-batch-id': randomBytes(16).toString('hex'),
  });
}
