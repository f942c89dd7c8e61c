/**
 * Machine opens (issue #9 item 4): opens a provider flags as machine-made (Apple Mail Privacy
 * Protection, scanners) carry `metadata.machineOpen: true`, and an e-mail source's
 * `machineOpens: forward | ignore` (default forward) decides whether they are sent to Distinct.
 * Each provider's flag is the one its own documentation states (docs/providers/<p>.md).
 */
import { adapter as brevo } from '../../adapters/brevo';
import { adapter as mailgun } from '../../adapters/mailgun';
import { adapter as mandrill } from '../../adapters/mandrill';
import { adapter as sendgrid } from '../../adapters/sendgrid';
import { adapter as twilio } from '../../adapters/twilio';
import { mappingTable, producedPairs } from '../../src/cli/commands/validate';
import { buildConfig, type AppConfig } from '../helpers/config';
import type { AnyAdapter } from '../../src/core/adapter';
import { ConfigurationError } from '../../src/core/errors';
import { completeDraft } from '../../src/mapping/normalize';
import { toDistinct } from '../../src/mapping/to-distinct';
import { basicAuthorization } from '../../src/verify/credentials';
import { toWebhookRequest } from '../helpers/fixtures';
import { loopbackConfig, useLoopbackApp } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:40:00Z');
const URL_ = 'https://hooks.example.com/webhooks/x';

function configFor(
  adapter: AnyAdapter,
  options: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): AppConfig {
  const creds = adapter.testing.createCredentials();
  return buildConfig(
    {
      distinct: { apiKey: 'k' },
      sources: {
        [adapter.name]: {
          feature: `registration_${adapter.channel}`,
          experienceId: 'exp',
          ...creds.options,
          ...options,
        },
      },
      ...extra,
    },
    {},
    null,
    [adapter],
  );
}

/** The drafts of a body, completed and mapped for a source with the given `machineOpens`. */
function outcomes(
  adapter: AnyAdapter,
  body: unknown,
  machineOpens?: 'forward' | 'ignore',
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  const config = configFor(adapter, machineOpens ? { machineOpens } : {});
  const source = config.sources.get(adapter.name)!;
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const drafts = adapter.parse(toWebhookRequest({ method: 'POST', url: URL_, headers, body: raw }, NOW));
  return drafts.map((d) => {
    const ev = completeDraft(d, adapter, adapter.name, NOW);
    return { ev, outcome: toDistinct(ev, source, config.registry) };
  });
}

describe('configuration', () => {
  test('an e-mail source defaults to forward and accepts ignore', () => {
    expect(configFor(sendgrid, {}).sources.get('sendgrid')!.machineOpens).toBe('forward');
    expect(configFor(sendgrid, { machineOpens: 'ignore' }).sources.get('sendgrid')!.machineOpens).toBe('ignore');
  });

  test('another value, or the option on an SMS source, does not start and says why', () => {
    expect(() => configFor(sendgrid, { machineOpens: 'drop' })).toThrow(ConfigurationError);
    expect(() => configFor(twilio, { machineOpens: 'ignore' })).toThrow(
      /sources\.twilio\.machineOpens: only e-mail sources have machine opens/,
    );
  });

  test('validate / registry: events that are always machine opens show as ignored under ignore, and no pair disappears that other events still produce', () => {
    const forward = mappingTable(configFor(brevo, {}));
    const ignore = mappingTable(configFor(brevo, { machineOpens: 'ignore' }));
    const row = (rows: typeof forward, ev: string) => rows.find((r) => r.providerEvent === ev);
    expect(row(forward, 'proxy_open')).toMatchObject({ type: 'email.opened', pair: 'registration_email/opened' });
    expect(row(ignore, 'proxy_open')).toMatchObject({ type: 'email.opened', pair: null });
    expect(row(ignore, 'unique_proxy_open')!.pair).toBeNull();
    expect(row(ignore, 'opened')!.pair).toBe('registration_email/opened');
    expect(producedPairs(configFor(brevo, { machineOpens: 'ignore' }))).toContain('registration_email/opened');
  });
});

describe('SendGrid: sg_machine_open (Apple Machine Open Indicator)', () => {
  const open = (extra: Record<string, unknown>) => ({
    event: 'open',
    email: 'a@example.com',
    timestamp: 1513299569,
    sg_event_id: `e${JSON.stringify(extra)}`,
    ...extra,
  });

  test('true → metadata.machineOpen: true, forwarded by default; ignored with machineOpens: ignore', () => {
    const [fwd] = outcomes(sendgrid, [open({ sg_machine_open: true })]);
    expect(fwd!.outcome.kind).toBe('forward');
    expect(fwd!.outcome.kind === 'forward' && fwd!.outcome.event.metadata).toMatchObject({
      machineOpen: true,
      sg_machine_open: true,
    });
    const [ign] = outcomes(sendgrid, [open({ sg_machine_open: true })], 'ignore');
    expect(ign!.outcome).toEqual({ kind: 'ignore', why: 'machine open (machineOpens: ignore)' });
  });

  test('false or absent → no machineOpen key, forwarded even under ignore; only open events are flagged', () => {
    const results = outcomes(
      sendgrid,
      [
        open({ sg_machine_open: false }),
        open({}),
        { event: 'delivered', email: 'a@example.com', sg_machine_open: true },
      ],
      'ignore',
    );
    expect(results.map((r) => r.outcome.kind)).toEqual(['forward', 'forward', 'forward']);
    expect(results.map((r) => r.ev.details.machineOpen)).toEqual([undefined, undefined, undefined]);
  });

  test('the string "true" some integrations see is read as true', () => {
    expect(outcomes(sendgrid, [open({ sg_machine_open: 'true' })])[0]!.ev.details.machineOpen).toBe(true);
  });
});

describe('Brevo: proxy_open / unique_proxy_open', () => {
  const event = (name: string) => ({
    event: name,
    email: 'jane.doe@example.com',
    'message-id': `<${name}@smtp-relay.mailin.fr>`,
    ts_epoch: 1604933654,
  });

  test('are email.opened machine opens (unique_proxy_open also firstOpen); opened stays a human open', () => {
    const [proxy, unique, opened] = outcomes(brevo, [event('proxy_open'), event('unique_proxy_open'), event('opened')]);
    expect(proxy!.ev).toMatchObject({ type: 'email.opened', details: { machineOpen: true } });
    expect(unique!.ev).toMatchObject({ type: 'email.opened', details: { machineOpen: true, firstOpen: true } });
    expect(opened!.ev.details.machineOpen).toBeUndefined();
    expect([proxy, unique, opened].map((r) => r!.outcome.kind)).toEqual(['forward', 'forward', 'forward']);
  });

  test('machineOpens: ignore ignores the proxy opens and still forwards the human one', () => {
    const results = outcomes(brevo, [event('proxy_open'), event('unique_proxy_open'), event('opened')], 'ignore');
    expect(results.map((r) => r.outcome.kind)).toEqual(['ignore', 'ignore', 'forward']);
  });
});

describe('Mailgun: client-info.bot (Open and Click Bot Detection)', () => {
  const body = (event: string, bot: string | undefined) => ({
    signature: { timestamp: '1', token: 't', signature: 's' },
    'event-data': {
      event,
      id: `id-${event}-${bot ?? 'none'}`,
      timestamp: 1652883435.279025,
      recipient: 'bot@example.com',
      'client-info': { 'client-type': 'unknown', ...(bot === undefined ? {} : { bot }) },
      url: event === 'clicked' ? 'https://example.com' : undefined,
    },
  });

  test.each(['apple', 'gmail', 'generic'])('an open with bot "%s" is a machine open', (bot) => {
    const [r] = outcomes(mailgun, body('opened', bot));
    expect(r!.ev.details).toMatchObject({ bot, machineOpen: true });
    expect(outcomes(mailgun, body('opened', bot), 'ignore')[0]!.outcome.kind).toBe('ignore');
  });

  test('an empty or absent bot is a human open; a bot click is not an open', () => {
    expect(outcomes(mailgun, body('opened', ''))[0]!.ev.details.machineOpen).toBeUndefined();
    expect(outcomes(mailgun, body('opened', undefined), 'ignore')[0]!.outcome.kind).toBe('forward');
    expect(outcomes(mailgun, body('clicked', 'apple'))[0]!.ev.details).toEqual(
      expect.not.objectContaining({ machineOpen: true }),
    );
  });
});

describe('Mandrill: user_agent_parsed.type "robot"', () => {
  const form = (type: string, event = 'open') =>
    `mandrill_events=${encodeURIComponent(
      JSON.stringify([
        {
          event,
          ts: 1365109999,
          _id: `x-${type}-${event}`,
          msg: { _id: 'm1', email: 'a@example.com', metadata: {} },
          user_agent_parsed: { type },
        },
      ]),
    )}`;
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };

  test('an open by a robot user agent is a machine open; a browser open is not; a robot click is not an open', () => {
    expect(outcomes(mandrill, form('Robot'), undefined, headers)[0]!.ev.details).toMatchObject({
      userAgentType: 'Robot',
      machineOpen: true,
    });
    expect(outcomes(mandrill, form('robot'), 'ignore', headers)[0]!.outcome.kind).toBe('ignore');
    expect(outcomes(mandrill, form('Browser'), 'ignore', headers)[0]!.ev.details.machineOpen).toBeUndefined();
    expect(outcomes(mandrill, form('Robot', 'click'), undefined, headers)[0]!.ev.details.machineOpen).toBeUndefined();
  });
});

describe('through the real HTTP stack: an authentic request whose only event is an ignored machine open', () => {
  const app = useLoopbackApp(() =>
    loopbackConfig(brevo, {
      brevo: { feature: 'registration_email', experienceId: 'exp', basicAuth: 'brevo:s3cret', machineOpens: 'ignore' },
    }),
  );

  test('is answered 200, counted ignored, and nothing is queued (never 401/403)', async () => {
    const body = JSON.stringify({
      event: 'proxy_open',
      email: 'jane.doe@example.com',
      'message-id': '<p@x>',
      ts_epoch: 1604933654,
    });
    const res = await fetch(`${app.origin}/webhooks/brevo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuthorization('brevo:s3cret') },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: 1, queued: 0, ignored: 1 });
    expect(await app.queue.claim(10)).toEqual([]);
  });
});
