/** Per-source totals, recent deliveries and replay progress stay bounded and masked. */
import type { DeliveryRecord } from '../../src/observability/observers';
import {
  Activity,
  MAX_IGNORED_NAMES,
  RECENT_DELIVERIES,
  maskValue,
  maskedEvent,
} from '../../src/observability/activity';
import type { QueueMessage } from '../../src/queue/queue';

function message(i: number, source = 'twilio'): QueueMessage {
  return {
    key: `k${i}`,
    source,
    provider: 'twilio',
    type: 'sms.sent',
    receivedAt: 0,
    event: {
      feature: 'registration_sms',
      action: 'sent',
      experienceId: 'e',
      capturedAt: '2026-01-01T00:00:00Z',
      phone: `+1501725${String(i).padStart(4, '0')}`,
    },
  };
}

const forwarded = (i: number, source?: string): DeliveryRecord => ({
  message: message(i, source),
  outcome: 'forwarded',
  status: 200,
  attempts: 1,
  at: 1_000 + i,
});

test('ignored provider event names are bounded per source; later ones count under (other)', () => {
  const a = new Activity(['mailgun']);
  for (let i = 0; i < MAX_IGNORED_NAMES + 10; i += 1) a.ignored('mailgun', `custom_${i}`, 'email.other');
  a.ignored('mailgun', 'custom_0', 'email.other');
  a.ignored('mailgun', 'clicked', 'clicked');
  const s = a.sources().mailgun!;
  expect(s.ignored).toBe(MAX_IGNORED_NAMES + 12);
  expect(Object.keys(s.ignoredEvents)).toHaveLength(MAX_IGNORED_NAMES + 1);
  expect(s.ignoredEvents['custom_0 (email.other)']).toBe(2);
  expect(s.ignoredEvents['(other)']).toBe(11);
  a.ignored('unknown-source', 'x', 'y'); // not configured: not counted, no entry created
  expect(Object.keys(a.sources())).toEqual(['mailgun']);
});

test('recent deliveries: the last 50, newest first, recipients masked; totals per source', () => {
  const a = new Activity(['twilio', 'sendgrid']);
  for (let i = 0; i < RECENT_DELIVERIES + 7; i += 1) a.delivery(forwarded(i));
  a.delivery({
    message: message(999, 'sendgrid'),
    outcome: 'dead_lettered',
    status: 400,
    reason: 'invalid_pair',
    detail: 'HTTP 400: Invalid feature/action.',
    attempts: 1,
    at: 5_000,
  });
  const recent = a.recentDeliveries();
  expect(recent).toHaveLength(RECENT_DELIVERIES);
  expect(recent[0]).toMatchObject({
    source: 'sendgrid',
    outcome: 'dead_lettered',
    reason: 'invalid_pair',
    recipient: '+*******0999',
  });
  expect(recent[1]).toMatchObject({ outcome: 'forwarded', recipient: '+*******0056' });
  expect(JSON.stringify(recent)).not.toMatch(/\+1501725/);
  expect(a.forwarded).toBe(RECENT_DELIVERIES + 7);
  expect(a.sources().twilio).toMatchObject({ forwarded: RECENT_DELIVERIES + 7, deadLettered: 0 });
  expect(a.sources().sendgrid).toMatchObject({
    forwarded: 0,
    deadLettered: 1,
    deadLetteredByReason: { invalid_pair: 1 },
  });
});

test('a replay is followed until every event is delivered or dead again', () => {
  const a = new Activity(['twilio']);
  const started = a.watchReplay(['k1', 'k2', 'k3']);
  expect(started).toMatchObject({ total: 3, pending: 3, done: false });
  a.delivery(forwarded(1));
  a.delivery({ message: message(2), outcome: 'retry', status: 500, attempts: 1, at: 1 });
  expect(a.replays()[0]).toMatchObject({ delivered: 1, retrying: 1, pending: 2, done: false });
  a.delivery(forwarded(2));
  a.delivery({
    message: message(3),
    outcome: 'dead_lettered',
    status: 400,
    reason: 'invalid_pair',
    attempts: 1,
    at: 2,
  });
  expect(a.replays()[0]).toMatchObject({
    delivered: 2,
    deadAgain: 1,
    pending: 0,
    done: true,
    deadAgainByReason: { invalid_pair: 1 },
  });
});

test('masking: e-mail and E.164 as the logs mask them, anything else to its last 4', () => {
  expect(maskValue('jane.doe@example.com')).toBe('j***@example.com');
  expect(maskValue('+15017250604')).toBe('+*******0604');
  expect(maskValue('user-123456')).toBe('*******3456');
  expect(maskValue('abc')).toBe('****');
  expect(
    maskedEvent({
      feature: 'f',
      action: 'a',
      experienceId: 'e',
      capturedAt: 'c',
      userId: 'u-98765',
      metadata: { to: '447700900123', note: 'mail jane@example.com' },
    }),
  ).toEqual({
    feature: 'f',
    action: 'a',
    experienceId: 'e',
    capturedAt: 'c',
    userId: '***8765',
    metadata: { to: '********0123', note: 'mail j***@example.com' },
  });
});
