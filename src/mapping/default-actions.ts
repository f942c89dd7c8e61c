import type { EventType } from '../core/event-types';

/**
 * Normalized type → Distinct action (DESIGN §3, stage 2). Everything absent is ignored:
 * acknowledged, counted, logged at debug. A source's `actions` map overrides entries
 * (`null` switches a default off).
 */
export const DEFAULT_ACTIONS: Readonly<Partial<Record<EventType, string>>> = {
  'email.sent': 'sent',
  'email.delivered': 'delivered',
  'email.opened': 'opened',
  'sms.sent': 'sent',
  'sms.delivered': 'delivered',
  'sms.failed': 'failed',
  'sms.undelivered': 'failed',
};

/** The pairs registered with Distinct when the configuration names none (DESIGN §4). */
export const DEFAULT_REGISTRY: Readonly<Record<string, readonly string[]>> = {
  registration_email: ['sent', 'delivered', 'opened'],
  registration_sms: ['sent', 'delivered', 'failed'],
  user_collectible: ['viewed', 'downloaded'],
  page_visit: ['viewed'],
};
