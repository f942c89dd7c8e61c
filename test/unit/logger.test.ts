import { Writable } from 'node:stream';
import { createLogger, redactPii } from '../../src/observability/logger';

function capture(redact = true): { lines: () => Array<Record<string, unknown>>; text: () => string; logger: ReturnType<typeof createLogger> } {
  let buf = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level: 'info', redactPii: redact, destination });
  return { logger, text: () => buf, lines: () => buf.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('redactPii masks e-mail addresses and phone numbers, leaving ids alone', () => {
  expect(redactPii('to John.Doe@example.com')).toBe('to J***@example.com');
  expect(redactPii('phone +15017250604 and whatsapp:+14155238886')).toBe('phone +*******0604 and whatsapp:+*******8886');
  expect(redactPii('at 1513299569 on 2026-11-26')).toBe('at 1513299569 on 2026-11-26');
  expect(redactPii('SM1342fe1b2c904d1ab04f0fc7a58abca9')).toBe('SM1342fe1b2c904d1ab04f0fc7a58abca9');
  expect(redactPii('2026-11-26T08:59:32.689Z')).toBe('2026-11-26T08:59:32.689Z');
});

test('log lines never carry recipients, signature headers or the API key', () => {
  const c = capture();
  c.logger.info(
    {
      event: { email: 'jane.doe@example.com', phone: '+15017250604' },
      headers: { 'x-twilio-signature': 'c2VjcmV0', authorization: 'Basic dXNlcjpwYXNz', 'x-distinct-api-key': 'live_key' },
      apiKey: 'live_key',
    },
    'sending to jane.doe@example.com',
  );
  const out = c.text();
  expect(out).not.toContain('jane.doe@example.com');
  expect(out).not.toContain('+15017250604');
  expect(out).not.toContain('c2VjcmV0');
  expect(out).not.toContain('dXNlcjpwYXNz');
  expect(out).not.toContain('live_key');
  expect(c.lines()[0]).toMatchObject({ msg: 'sending to j***@example.com', event: { email: 'j***@example.com' } });
});

test('Plivo V2 / Ma-V2 and Sinch signature headers are redacted (a V2 signature with its nonce authenticates any body)', () => {
  const c = capture();
  c.logger.info({ headers: { 'x-plivo-signature-v2': 'djJzaWc=', 'x-plivo-signature-ma-v2': 'bWF2MnNpZw==', 'x-sinch-webhook-signature': 'c2luY2hzaWc=' } }, 'request');
  const out = c.text();
  for (const sig of ['djJzaWc=', 'bWF2MnNpZw==', 'c2luY2hzaWc=']) expect(out).not.toContain(sig);
});

test('recipient fields are masked whatever their format (msisdn without +)', () => {
  const c = capture();
  c.logger.info({ msisdn: '447700900123', to: 'whatsapp:+14155238886' }, 'dlr');
  expect(c.lines()[0]).toMatchObject({ msisdn: '********0123', to: 'whatsapp:+*******8886' });
});

test('PII masking can be switched off (log.redactPii: false), secrets stay redacted', () => {
  const c = capture(false);
  c.logger.info({ email: 'jane@example.com', apiKey: 'live_key' }, 'x');
  expect(c.text()).toContain('jane@example.com');
  expect(c.text()).not.toContain('live_key');
});
