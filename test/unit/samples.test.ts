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

// A samples file may import a table from its own adapter, which imports `sample` back: a cycle
// that holds only while `sample` is a hoisted function declaration. Whichever file loads first,
// the adapter must end up with a working sample.
test.each(['postmark', 'mandrill', 'plivo', 'twilio'])(
  '%s: the adapter has its sample whichever file loads first',
  (slug) => {
    for (const first of [`../../adapters/samples/${slug}`, `../../adapters/${slug}`]) {
      jest.isolateModules(() => {
        require(first);
        const { adapter } = require(`../../adapters/${slug}`) as typeof import('../../adapters/postmark');
        expect(typeof adapter.testing.sample).toBe('function');
        const type = adapter.emittedTypes.find((t) => !t.endsWith('.unknown'))!;
        const recipient = adapter.channel === 'email' ? 'ann@example.com' : '+15017250604';
        expect(adapter.testing.sample({ type, recipient, now: new Date() }).body.length).toBeGreaterThan(0);
      });
    }
  },
);
