import { jsonSample, sampleTemplate } from '../../src/core/samples';

const SAMPLES = { 'email.delivered': { event: 'delivered' }, 'email.opened': { event: 'open' } };

test('sampleTemplate returns the template for a type the table has', () => {
  expect(sampleTemplate(SAMPLES, 'email.opened', 'Acme')).toBe(SAMPLES['email.opened']);
});

test('sampleTemplate refuses another type, naming the provider, what it lacks and the choices', () => {
  expect(() => sampleTemplate(SAMPLES, 'email.sent', 'Acme')).toThrow(
    'Acme has no event for email.sent; choose one of email.delivered, email.opened',
  );
  expect(() => sampleTemplate(SAMPLES, 'sms.sent', 'Acme', 'status')).toThrow(/^Acme has no status for sms\.sent;/);
});

test('sampleTemplate never takes an inherited key for a template', () => {
  expect(() => sampleTemplate(SAMPLES, 'constructor', 'Acme')).toThrow(/has no event for constructor/);
  expect(() => sampleTemplate(SAMPLES, '__proto__', 'Acme')).toThrow(/has no event for __proto__/);
});

test('jsonSample: compact UTF-8 JSON, JSON content type and no query unless given', () => {
  const plain = jsonSample({ event: 'délivré', n: 1 });
  expect(plain).toEqual({ headers: { 'content-type': 'application/json' }, body: expect.any(Buffer), query: '' });
  expect(plain.body.toString('utf8')).toBe('{"event":"délivré","n":1}');
  const custom = jsonSample([1], { 'content-type': 'text/plain', 'user-agent': 'Acme' }, 'a=b');
  expect(custom.headers).toEqual({ 'content-type': 'text/plain', 'user-agent': 'Acme' });
  expect(custom.query).toBe('a=b');
});

test('jsonSample gives every sample its own headers object', () => {
  const a = jsonSample({});
  a.headers['x-extra'] = '1';
  expect(jsonSample({}).headers).toEqual({ 'content-type': 'application/json' });
});
