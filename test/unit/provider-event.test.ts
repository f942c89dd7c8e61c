/**
 * What is kept of a provider's event with an ingest-time dead letter (src/queue/provider-event.ts):
 * the event itself when small, the head of its JSON when large, nothing when it has no JSON form.
 */
import { PROVIDER_EVENT_MAX_CHARS, providerEventForDeadLetter } from '../../src/queue/provider-event';
import { maskedProviderEvent } from '../../src/observability/activity';

test('a small event is kept as it is', () => {
  const raw = { event: 'bounce', email: 'a@example.com', tags: ['x'] };
  expect(providerEventForDeadLetter(raw)).toBe(raw);
});

test('an event whose JSON is longer than the limit keeps its head and its length', () => {
  const raw = { event: 'bounce', reason: 'x'.repeat(PROVIDER_EVENT_MAX_CHARS * 4) };
  const text = JSON.stringify(raw);
  expect(providerEventForDeadLetter(raw)).toEqual({
    truncated: true,
    chars: text.length,
    head: text.slice(0, PROVIDER_EVENT_MAX_CHARS),
  });
  expect(JSON.stringify(providerEventForDeadLetter(raw)).length).toBeLessThan(PROVIDER_EVENT_MAX_CHARS + 200);
});

test('an event with no JSON form is not kept, and a cycle does not throw', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  expect(providerEventForDeadLetter(cyclic)).toBeUndefined();
  expect(providerEventForDeadLetter(undefined)).toBeUndefined();
});

test('masking for operators covers recipients, IPs, user agents, addresses in text and deep nesting', () => {
  let deep: unknown = { to: '+15017250604', note: 'write to ann@example.com' };
  for (let i = 0; i < 20; i += 1) deep = { next: deep };
  const masked = maskedProviderEvent({
    msisdn: '447700900001',
    Email: 'ann@example.com',
    ip: '203.0.113.7',
    useragent: 'Mozilla/5.0',
    message: 'call +44 7700 900002',
    deep,
  });
  const text = JSON.stringify(masked);
  expect(masked).toMatchObject({
    msisdn: '********0001',
    Email: 'a***@example.com',
    ip: '[masked]',
    useragent: '[masked]',
  });
  for (const clear of ['447700900001', 'ann@', '203.0.113.7', 'Mozilla', '7700 900002', '15017250604']) {
    expect(text).not.toContain(clear);
  }
});
