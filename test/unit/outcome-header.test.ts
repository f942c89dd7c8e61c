/**
 * The X-Distinct-Adapter-Outcome header: every accepted webhook says what happened to its events,
 * also when the provider-facing body is the provider's own acknowledgement (Twilio's TwiML).
 */
import request from 'supertest';
import { describeOutcome } from '../../src/cli/commands/simulate';
import { OUTCOME_HEADER, parseOutcomeHeader } from '../../src/pipeline/pipeline';
import { createTestCredentials, signedSample, testConfig } from '../helpers/app';
import { appOver, postTo, sqliteOutbox } from '../helpers/serve';

test('Twilio keeps its bare <Response/>; the header says queued, then duplicate, then dead-lettered with the reason', async () => {
  const creds = createTestCredentials();
  const config = testConfig({ creds, publicUrl: 'https://hooks.example.com' });
  const queue = sqliteOutbox(config);
  const app = appOver(config, queue);
  const post = (req: ReturnType<typeof signedSample>): request.Test => postTo(app, req);
  try {
    const url = 'https://hooks.example.com/webhooks/twilio';
    const delivered = signedSample('twilio', creds, url);
    const first = await post(delivered);
    expect(first.status).toBe(200);
    expect(first.text).toBe('<Response/>');
    expect(first.headers[OUTCOME_HEADER]).toBe('received=1; queued=1; duplicates=0; ignored=0; dead_lettered=0');
    const again = await post(delivered);
    expect(again.headers[OUTCOME_HEADER]).toBe('received=1; queued=0; duplicates=1; ignored=0; dead_lettered=0');
    expect(describeOutcome(again.headers[OUTCOME_HEADER], 'sms.delivered')).toMatch(/^outcome: 1 duplicate/);
    const shortCode = await post(signedSample('twilio', creds, url, { type: 'sms.sent', recipient: '12345' }));
    expect(shortCode.text).toBe('<Response/>');
    expect(shortCode.headers[OUTCOME_HEADER]).toBe(
      'received=1; queued=0; duplicates=0; ignored=0; dead_lettered=1; reasons=no_identifier',
    );
    // JSON-answering providers carry the same counts in both.
    const mailgun = await post(
      signedSample('mailgun', creds, 'https://hooks.example.com/webhooks/mailgun', { type: 'email.clicked' }),
    );
    expect(mailgun.body).toMatchObject({ ok: true, ignored: 1 });
    expect(parseOutcomeHeader(mailgun.headers[OUTCOME_HEADER])).toMatchObject({ received: 1, ignored: 1, reasons: [] });
  } finally {
    await queue.close();
  }
});

test('describeOutcome: every kind of outcome in one line; an answer without the header is "unknown"', () => {
  expect(
    describeOutcome('received=3; queued=1; duplicates=1; ignored=0; dead_lettered=1; reasons=invalid_pair', 'x'),
  ).toBe(
    "outcome: 1 queued for Distinct (see it on the sandbox page, or the forwarder's log); 1 duplicate (already received within dedupe.windowMs; not queued again); 1 dead-lettered: invalid_pair (see `distinct-adapter dlq list`)",
  );
  expect(describeOutcome(undefined, 'x')).toMatch(/^outcome: unknown/);
  expect(describeOutcome('garbage', 'x')).toMatch(/^outcome: unknown/);
});
