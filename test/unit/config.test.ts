import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildConfig, findConfigPath, loadConfigFile } from '../helpers/config';
import { ConfigurationError } from '../../src/core/errors';
import { mappingTable, producedPairs, configWarnings } from '../../src/cli/commands/validate';
import { createTestCredentials, tempDir } from '../helpers/app';

const creds = createTestCredentials();
const base = (sources: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  distinct: { apiKey: 'k' },
  sources,
  ...extra,
});
const twilio = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  feature: 'registration_sms',
  experienceId: 'exp',
  ...creds.twilio!.options,
  ...extra,
});

function problems(doc: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    buildConfig(doc, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return [...(err as ConfigurationError).problems];
  }
  throw new Error('expected a ConfigurationError');
}

test('a minimal configuration gets the documented defaults', () => {
  const config = buildConfig(base({ twilio: twilio() }), {});
  expect(config.distinct).toMatchObject({
    baseUrl: 'https://api.distinct.so',
    timeoutMs: 10000,
    concurrency: 16,
    ratePerSecond: 0,
  });
  expect(config.server).toMatchObject({ port: 3000, bodyLimit: 5 * 1024 * 1024, trustProxy: false });
  expect(config.queue).toMatchObject({ driver: 'sqlite', path: './data/outbox.db' });
  expect(config.retry).toMatchObject({ maxAttempts: 15, baseDelayMs: 1000, maxDelayMs: 900000, maxAgeMs: 86400000 });
  expect(config.dedupe.windowMs).toBe(604800000);
  expect(config.registry.toJSON()).toMatchObject({
    registration_sms: ['sent', 'delivered', 'failed'],
    page_visit: ['viewed'],
  });
  const source = config.sources.get('twilio')!;
  expect(source.actions).toMatchObject({
    'sms.sent': 'sent',
    'sms.delivered': 'delivered',
    'sms.failed': 'failed',
    'sms.undelivered': 'failed',
  });
});

test('${VAR} and ${VAR:-default} come from the environment; $PORT wins', () => {
  const doc = base(
    { twilio: twilio({ authToken: '${TOKEN}', experienceId: '${EXP:-fallback}' }) },
    { server: { port: 8080 } },
  );
  const config = buildConfig(doc, { TOKEN: 'abc', PORT: '9090' });
  expect(config.sources.get('twilio')!.experienceId).toBe('fallback');
  expect(config.server.port).toBe(9090);
});

test('a bad file lists every problem by path', () => {
  const list = problems({
    distinct: { baseUrl: 'not a url' },
    server: { port: 'eighty', bogus: 1 },
    sources: {
      twilio: { feature: 'registration_sms', experienceId: 'exp', authToken: '${MISSING_TOKEN}' },
    },
  });
  const text = list.join('\n');
  expect(text).toMatch(/sources\.twilio\.authToken: environment variable MISSING_TOKEN is not set/);
  expect(text).toMatch(/distinct\.baseUrl/);
  expect(text).toMatch(/distinct\.apiKey/);
  expect(text).toMatch(/server\.port/);
  expect(text).toMatch(/server\.bogus: unknown key/);
  // Root problems do not hide the sources' (both in one report), nor the reverse.
});

test('root and source problems in one report, each once, with "did you mean" for near-miss keys', () => {
  const list = problems(
    {
      distinct: { apiKey: '${DISTINCT_API_KEY}', timeoutMS: 5000 },
      server: { prot: 3000 },
      quene: { path: 'x' },
      sources: {
        twilio: { feature: 'registration_sms', experienceId: 'e', authTokn: 'abc' },
        mailgun: { feature: 'registration_email', signingKey: '${MG_KEY}' },
        sendgird: { feature: 'registration_email', experienceId: 'e' },
      },
    },
    {},
  );
  expect(list).toEqual(
    expect.arrayContaining([
      'distinct.apiKey: environment variable DISTINCT_API_KEY is not set',
      'sources.mailgun.signingKey: environment variable MG_KEY is not set',
      'distinct.timeoutMS: unknown key; did you mean "timeoutMs"?',
      'server.prot: unknown key; did you mean "port"?',
      'quene: unknown key; did you mean "queue"?',
      'sources.twilio.authTokn: unknown key; did you mean "authToken"?',
      'sources.twilio.authToken: required',
      'sources.mailgun.experienceId: required',
    ]),
  );
  expect(list.find((p) => p.startsWith('sources.sendgird.provider'))).toMatch(
    /unknown provider "sendgird"; did you mean "sendgrid"\?/,
  );
  // A variable that is not set is reported once, not again as a type error at the same path.
  expect(list.filter((p) => p.startsWith('distinct.apiKey'))).toHaveLength(1);
  expect(list.filter((p) => p.startsWith('sources.mailgun.signingKey'))).toHaveLength(1);
  expect(list.join('\n')).not.toMatch(/received undefined/);
  // Far-off keys get no guess.
  expect(problems(base({ twilio: twilio() }, { server: { completelyDifferent: 1 } }))).toContain(
    'server.completelyDifferent: unknown key',
  );
});

test('a YAML syntax error gives the line and column but never quotes the file (a secret may be there)', () => {
  const dir = tempDir();
  const file = join(dir, 'c.yml');
  writeFileSync(file, 'distinct:\n  apiKey: supersecret\n   baseUrl: https://x\nsources: {}\n');
  expect(() => loadConfigFile(file, {})).toThrow(/not valid YAML or JSON \(line 2, column \d+: /);
  try {
    loadConfigFile(file, {});
  } catch (err) {
    expect((err as Error).message).not.toContain('supersecret');
  }
  writeFileSync(file, 'distinct:\n  apiKey: supersecret\n  baseUrl: [x\nsources: {}\n');
  expect(() => loadConfigFile(file, {})).toThrow(/line 4, column 1/);
  expect(() => loadConfigFile(file, {})).not.toThrow(/supersecret/);
});

test('provider-specific problems are reported with the source path, including unknown keys', () => {
  const list = problems(
    base({
      sendgrid: { feature: 'registration_email', experienceId: 'e', publicKy: 'x' },
      nope: { feature: 'f', experienceId: 'e' },
    }),
  );
  const text = list.join('\n');
  expect(text).toMatch(/sources\.sendgrid\.publicKey/);
  expect(text).toMatch(/sources\.sendgrid.*publicKy/);
  expect(text).toMatch(/sources\.nope\.provider: unknown provider "nope"/);
});

test('a configuration that can produce an unregistered pair fails to start, naming the pair', () => {
  const list = problems(base({ twilio: twilio({ actions: { 'sms.queued': 'queued' } }) }));
  expect(list.join('\n')).toMatch(/registration_sms\/queued.*not in the registry/);
});

test('a feature outside the registry is named too', () => {
  const list = problems(base({ twilio: twilio({ feature: 'marketing_sms' }) }));
  expect(list.join('\n')).toMatch(/marketing_sms\/sent/);
});

test('actions can switch a default off, and must name real types of the channel', () => {
  const config = buildConfig(
    base({ twilio: twilio({ actions: { 'sms.failed': null, 'sms.undelivered': null } }) }),
    {},
  );
  expect(config.sources.get('twilio')!.actions['sms.failed']).toBeNull();
  const list = problems(base({ twilio: twilio({ actions: { 'sms.exploded': 'sent', 'email.opened': 'opened' } }) }));
  expect(list.join('\n')).toMatch(/actions\.sms\.exploded: not a normalized event type/);
  expect(list.join('\n')).toMatch(/actions\.email\.opened: Twilio is an sms provider/);
});

test('registry matching is case-insensitive and the registry spelling is what gets sent', () => {
  const config = buildConfig(
    base(
      { twilio: twilio({ feature: 'registration_SMS' }) },
      { registry: { Registration_Sms: ['Sent', 'DELIVERED', 'failed'] } },
    ),
    {},
  );
  const source = config.sources.get('twilio')!;
  expect(source.feature).toBe('Registration_Sms');
  expect(source.actions['sms.sent']).toBe('Sent');
  expect(source.actions['sms.delivered']).toBe('DELIVERED');
});

test('a source id can name its provider explicitly', () => {
  const config = buildConfig(base({ 'twilio-eu': twilio({ provider: 'twilio' }) }), {});
  expect(config.sources.get('twilio-eu')!.provider).toBe('twilio');
});

test('server.publicUrl gives each source its signed URL', () => {
  const config = buildConfig(base({ twilio: twilio() }, { server: { publicUrl: 'https://hooks.example.com/' } }), {});
  expect(config.sources.get('twilio')!.publicUrl).toBe('https://hooks.example.com/webhooks/twilio');
});

test('YAML files load from --config, $DISTINCT_ADAPTER_CONFIG or ./distinct.config.yml', () => {
  const dir = tempDir();
  const file = join(dir, 'c.yml');
  writeFileSync(
    file,
    `distinct:\n  apiKey: \${KEY}\nsources:\n  twilio:\n    feature: registration_sms\n    experienceId: e\n    authToken: \${TOK}\n`,
  );
  const config = loadConfigFile(file, { KEY: 'k', TOK: 't' });
  expect(config.distinct.apiKey).toBe('k');
  expect(config.path).toBe(file);
  expect(findConfigPath('x.yml', {})).toMatch(/x\.yml$/);
  expect(findConfigPath(undefined, { DISTINCT_ADAPTER_CONFIG: '/etc/a.yml' })).toBe('/etc/a.yml');
  expect(findConfigPath(undefined, {})).toMatch(/distinct\.config\.yml$/);
  expect(() => loadConfigFile(join(dir, 'missing.yml'))).toThrow(ConfigurationError);
  writeFileSync(file, 'distinct: [unclosed');
  expect(() => loadConfigFile(file)).toThrow(/not valid YAML/);
});

test("a relative queue.path is resolved against the configuration file's folder, an absolute one kept", () => {
  const dir = tempDir();
  const file = join(dir, 'c.yml');
  const yaml = (path: string): string =>
    `distinct:\n  apiKey: k\nqueue:\n  path: ${path}\nsources:\n  twilio:\n    feature: registration_sms\n    experienceId: e\n    authToken: t\n`;
  writeFileSync(file, yaml('./data/outbox.db'));
  expect(loadConfigFile(file, {}).queue.path).toBe(join(dir, 'data', 'outbox.db'));
  writeFileSync(file, yaml('/var/lib/outbox.db'));
  expect(loadConfigFile(file, {}).queue.path).toBe('/var/lib/outbox.db');
  // In-memory documents (tests, --dev) keep the current directory's meaning.
  expect(buildConfig(base({ twilio: twilio() }), {}).queue.path).toBe('./data/outbox.db');
});

test('validate: the source → provider event → Distinct pair table, and the registry list', () => {
  const config = buildConfig(
    base({
      sendgrid: { feature: 'registration_email', experienceId: 'e', ...creds.sendgrid!.options },
      twilio: twilio(),
      mailgun: { feature: 'registration_email', experienceId: 'e', ...creds.mailgun!.options },
    }),
    {},
  );
  const rows = mappingTable(config);
  const find = (source: string, ev: string) => rows.find((r) => r.source === source && r.providerEvent === ev);
  expect(find('sendgrid', 'processed')).toMatchObject({ type: 'email.sent', pair: 'registration_email/sent' });
  expect(find('sendgrid', 'open')).toMatchObject({ type: 'email.opened', pair: 'registration_email/opened' });
  expect(find('sendgrid', 'click')).toMatchObject({ type: 'email.clicked', pair: null });
  expect(find('twilio', 'undelivered')).toMatchObject({ type: 'sms.undelivered', pair: 'registration_sms/failed' });
  expect(find('mailgun', 'delivered')).toMatchObject({ type: 'email.delivered', pair: 'registration_email/delivered' });
  expect(producedPairs(config)).toEqual([
    'registration_email/delivered',
    'registration_email/opened',
    'registration_email/sent',
    'registration_sms/delivered',
    'registration_sms/failed',
    'registration_sms/sent',
  ]);
  expect(configWarnings(config).join('\n')).toMatch(/sources\.twilio: Twilio signs the URL/);
});

test('a provider that signs nothing needs credentials, or an explicit insecure: true', () => {
  const list = problems(base({ postmark: { feature: 'registration_email', experienceId: 'e' } }));
  expect(list.join('\n')).toMatch(
    /postmark signs nothing: configure basicAuth and\/or headerToken, or mark the source insecure: true/,
  );
  const config = buildConfig(
    base({ postmark: { feature: 'registration_email', experienceId: 'e', insecure: true } }),
    {},
  );
  const source = config.sources.get('postmark')!;
  expect(source.insecure).toBe(true);
  expect(configWarnings(config).join('\n')).toMatch(
    /sources\.postmark: insecure: true — requests to this source are not authenticated/,
  );
  const secured = buildConfig(
    base({ postmark: { feature: 'registration_email', experienceId: 'e', basicAuth: 'u:p' } }),
    {},
  );
  expect(configWarnings(secured).join('\n')).toMatch(/Postmark signs nothing/);
});
