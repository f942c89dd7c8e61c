/**
 * Resend's simulation samples: the webhooks Resend posts through Svix (`{type, created_at, data}`,
 * the sender's tags echoed as an object map in `data.tags`). `simulate` sends them and the
 * conformance suite signs and parses them; adapters/resend.ts receives them.
 */
import { randomUUID } from 'node:crypto';
import { isObject } from '../../src/body/read-json';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { EmailEventType } from '../../src/core/event-types';
import { toWireOverrides } from '../../src/core/overrides';
import { jsonSample, sampleTemplate } from '../../src/core/samples';
import type { ResendEvent } from '../resend';

/** The event `simulate` sends for each normalized type, with the extra data it carries. */
const SAMPLES: Readonly<Partial<Record<EmailEventType, { type: ResendEvent; data?: Record<string, unknown> }>>> = {
  'email.sent': { type: 'email.sent' },
  'email.queued': { type: 'email.scheduled' },
  'email.delivered': { type: 'email.delivered' },
  'email.deferred': { type: 'email.delivery_delayed' },
  'email.bounced': {
    type: 'email.bounced',
    data: {
      bounce: {
        message: "The recipient's email provider sent a hard bounce message.",
        subType: 'Suppressed',
        type: 'Permanent',
      },
    },
  },
  'email.complained': { type: 'email.complained' },
  'email.opened': { type: 'email.opened' },
  'email.clicked': {
    type: 'email.clicked',
    data: { click: { ipAddress: '192.0.2.10', link: 'https://example.com/welcome', userAgent: 'Mozilla/5.0' } },
  },
  'email.failed': { type: 'email.failed', data: { failed: { reason: 'reached_daily_quota' } } },
  'email.rejected': { type: 'email.suppressed' },
};

/** An event for `options.type`, as Resend posts it (unsigned). */
export function sample(options: SampleOptions): SampleRequest {
  const chosen = sampleTemplate(SAMPLES, options.type, 'Resend', 'sample');
  const at = options.now.toISOString();
  const data: Record<string, unknown> = {
    created_at: at.replace('Z', '+00:00'),
    email_id: randomUUID(),
    from: 'Acme <onboarding@resend.dev>',
    to: [options.recipient],
    subject: 'Confirm your e-mail',
    tags: toWireOverrides(options.overrides),
    ...chosen.data,
  };
  if (isObject(data.click)) data.click = { ...data.click, timestamp: at };
  return jsonSample({ type: chosen.type, created_at: at, data });
}
