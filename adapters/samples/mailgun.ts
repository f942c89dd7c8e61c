/**
 * Mailgun's simulation samples: the current (JSON) webhooks Mailgun posts, one `event-data` per
 * request with the sender's `user-variables` echoed; the signature block is added by the test
 * signer. `simulate` sends them and the conformance suite signs and parses them;
 * adapters/mailgun.ts receives them.
 */
import { randomBytes } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { EventType } from '../../src/core/event-types';
import { jsonSample, sampleTemplate } from '../../src/core/samples';

/** Normalized type → the raw event (and refinement fields) that produces it, for `simulate`. */
const SAMPLES: Readonly<Partial<Record<EventType, Record<string, unknown>>>> = {
  'email.sent': { event: 'accepted' },
  'email.rejected': {
    event: 'rejected',
    reject: { reason: 'Sandbox subdomains are for test purposes only.', description: '' },
  },
  'email.delivered': {
    event: 'delivered',
    'delivery-status': { code: 250, message: 'OK', description: '', 'attempt-no': 1 },
  },
  'email.bounced': {
    event: 'failed',
    severity: 'permanent',
    reason: 'bounce',
    'delivery-status': {
      code: 550,
      message: '5.1.1 The email account that you tried to reach does not exist.',
      description: '',
    },
  },
  'email.deferred': {
    event: 'failed',
    severity: 'temporary',
    reason: 'generic',
    'delivery-status': { code: 451, message: '4.7.1 Try again later', description: '', 'retry-seconds': 600 },
  },
  'email.opened': { event: 'opened', 'client-info': { 'client-type': 'browser', 'device-type': 'desktop', bot: '' } },
  'email.clicked': {
    event: 'clicked',
    url: 'https://example.com/welcome',
    'client-info': { 'client-type': 'browser', bot: '' },
  },
  'email.unsubscribed': { event: 'unsubscribed' },
  'email.complained': { event: 'complained' },
};

/** An unsigned webhook for `options.type`, as Mailgun posts it. */
export function sample(options: SampleOptions): SampleRequest {
  const fields = sampleTemplate(SAMPLES, options.type, 'Mailgun', 'sample');
  const compact = options.now.toISOString().replace(/\D/g, '').slice(0, 14);
  const domain = 'mg.example.org';
  const body = {
    'event-data': {
      ...fields,
      id: randomBytes(16).toString('base64url'),
      timestamp: options.now.getTime() / 1000,
      'log-level': 'info',
      recipient: options.recipient,
      'recipient-domain': options.recipient.split('@')[1] ?? '',
      message: {
        headers: {
          to: options.recipient,
          'message-id': `${compact}.1.${randomBytes(8).toString('hex').toUpperCase()}@${domain}`,
          from: `noreply@${domain}`,
          subject: 'Welcome',
        },
      },
      tags: [],
      campaigns: [],
      // Sent as `v:distinct_user_id=…` (or X-Mailgun-Variables); Mailgun echoes them here.
      'user-variables': { ...(options.overrides ?? {}) },
    },
  };
  return jsonSample(body);
}
