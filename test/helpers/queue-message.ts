/** Queue messages as the pipeline stores them, for the queue and forwarder tests. */
import type { QueueMessage } from '../../src/queue/queue';

/** When the test messages were received: 2026-04-27 13:35 UTC. */
export const T0 = Date.UTC(2026, 3, 27, 13, 35, 0);

/** A Twilio `delivered` for +14155238886 under `key`; `event` patches the Distinct event. */
export function twilioDelivered(key: string, event: Partial<QueueMessage['event']> = {}): QueueMessage {
  return {
    key,
    source: 'twilio',
    provider: 'twilio',
    type: 'sms.delivered',
    event: {
      phone: '+14155238886',
      feature: 'registration_sms',
      action: 'delivered',
      experienceId: 'exp_fixture',
      capturedAt: '2026-04-27T13:35:00Z',
      metadata: { provider: 'twilio', providerEvent: 'delivered', messageId: `SM${key}` },
      ...event,
    },
    receivedAt: T0,
  };
}

/** A SendGrid `delivered` for ada@example.com under `key`; `metadata` adds to the Distinct metadata. */
export function sendgridDelivered(key: string, metadata: Record<string, string | number | boolean> = {}): QueueMessage {
  return {
    key,
    source: 'sendgrid',
    provider: 'sendgrid',
    type: 'email.delivered',
    event: {
      email: 'ada@example.com',
      feature: 'registration_email',
      action: 'delivered',
      experienceId: 'exp_fixture',
      capturedAt: '2026-04-27T13:35:00Z',
      metadata: { provider: 'sendgrid', providerEvent: 'delivered', messageId: `msg-${key}`, ...metadata },
    },
    receivedAt: T0,
  };
}
