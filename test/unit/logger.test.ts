import { Writable } from 'node:stream';
import { createLogger, redactPii } from '../../src/observability/logger';

function capture(redact = true): {
  lines: () => Array<Record<string, unknown>>;
  text: () => string;
  logger: ReturnType<typeof createLogger>;
} {
  let buf = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level: 'info', redactPii: redact, destination });
  return {
    logger,
    text: () => buf,
    lines: () =>
      buf
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('redactPii masks e-mail addresses and phone numbers, leaving ids alone', () => {
  expect(redactPii('to John.Doe@example.com')).toBe('to J***@example.com');
  expect(redactPii('phone +15017250604 and whatsapp:+14155238886')).toBe(
    'phone +*******0604 and whatsapp:+*******8886',
  );
  expect(redactPii('at 1513299569 on 2026-11-26')).toBe('at 1513299569 on 2026-11-26');
  expect(redactPii('SM1342fe1b2c904d1ab04f0fc7a58abca9')).toBe('SM1342fe1b2c904d1ab04f0fc7a58abca9');
  expect(redactPii('2026-11-26T08:59:32.689Z')).toBe('2026-11-26T08:59:32.689Z');
});

test('log lines never carry recipients, signature headers or the API key', () => {
  const c = capture();
  c.logger.info(
    {
      event: { email: 'jane.doe@example.com', phone: '+15017250604' },
      headers: {
        'x-twilio-signature': 'c2VjcmV0',
        authorization: 'Basic dXNlcjpwYXNz',
        'x-distinct-api-key': 'live_key',
      },
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
  c.logger.info(
    {
      headers: {
        'x-plivo-signature-v2': 'djJzaWc=',
        'x-plivo-signature-ma-v2': 'bWF2MnNpZw==',
        'x-sinch-webhook-signature': 'c2luY2hzaWc=',
      },
    },
    'request',
  );
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

describe('errors are redacted like every other field (issue #10 item 7)', () => {
  const pii = (): Error => {
    const cause = new Error('lookup of +15017250604 failed');
    const err = new Error('cannot deliver to jane.doe@example.com', { cause });
    (err as Error & { recipient?: string }).recipient = 'jane.doe@example.com';
    return err;
  };

  test('an error logged as err: message, stack, cause and own fields masked; type and stack kept', () => {
    const c = capture();
    c.logger.error({ err: pii() }, 'forward failed');
    const out = c.text();
    expect(out).not.toContain('jane.doe@example.com');
    expect(out).not.toContain('15017250604');
    const err = c.lines()[0]!.err as Record<string, string>;
    expect(err.type).toBe('Error');
    expect(err.message).toContain('cannot deliver to j***@example.com');
    expect(err.message).toContain('+*******0604');
    expect(err.stack).toContain('j***@example.com');
    expect(err.stack).toMatch(/\n\s+at /);
    expect(err.recipient).toBe('j***@example.com');
  });

  test('an error passed as the first argument, or under another key, is masked too', () => {
    const c = capture();
    c.logger.error(pii());
    c.logger.warn({ error: pii(), nested: { e: pii() } }, 'x');
    const out = c.text();
    expect(out).not.toContain('jane.doe@example.com');
    expect(out).not.toContain('15017250604');
    const [first, second] = c.lines();
    expect((first!.err as Record<string, string>).stack).toContain('j***@example.com');
    expect((second!.error as Record<string, string>).message).toContain('j***@example.com');
    expect(((second!.nested as Record<string, unknown>).e as Record<string, string>).stack).toContain(
      'j***@example.com',
    );
  });

  test("with PII masking off errors keep pino's standard shape", () => {
    const c = capture(false);
    c.logger.error({ err: pii() }, 'x');
    expect((c.lines()[0]!.err as Record<string, string>).message).toContain('jane.doe@example.com');
  });
});

describe('redactPii is linear (issue #9 item 7)', () => {
  const EMAIL_REGEX = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
  const reference = (s: string): string =>
    s.replace(EMAIL_REGEX, (_m, first: string, domain: string) => `${first}***@${domain}`);

  test.each([
    'a@b.co',
    'x@y@example.com',
    'a@b.com1x@c.org and z@q.museum.',
    'mail: First.Last+tag@sub.example.co.uk, other@host.d.e1',
    '@@a@.com a@-x.io a@b.c a@b..cd a@1.23 a.@b.cd',
    'a@b.com@c.org',
    'name@domain.comx1@y.zz',
  ])('masks e-mails as the reference regex does: %s', (s) => {
    expect(redactPii(s)).toBe(reference(s));
  });

  test.each([
    ['letters', 'a'.repeat(40_000)],
    ['letters then @', `${'a'.repeat(40_000)}@`],
    ['@ then a dotless domain', `a@${'b'.repeat(40_000)}`],
    ['@ then dots', `a@${'b.'.repeat(20_000)}`],
    ['many @', 'a@'.repeat(20_000)],
    ['digits', '1'.repeat(40_000)],
    ['a long phone-like run', `+1${' 1'.repeat(20_000)}x`],
  ])('40,000 characters of %s take well under a second', (_n, s) => {
    const t = performance.now();
    redactPii(s);
    expect(performance.now() - t).toBeLessThan(250);
  });
});
