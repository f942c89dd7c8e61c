/**
 * docker-compose.yml (two receivers and one forwarder sharing one SQS queue) cannot run here (no
 * Docker daemon in CI), so this checks what can drift: the services and their commands, that
 * every adapter container reads the same configuration, that the configuration validates with the
 * environment compose gives it, and that its queue URLs name the queues the fauxqs init file
 * creates (with the redrive to the DLQ). The topology itself runs in forward-command.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile } from '../helpers/config';
import { createTestCredentials } from '../helpers/app';

const ROOT = join(__dirname, '..', '..');

interface ComposeService {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}

const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const adapterServices = Object.entries(services).filter(
  ([, s]) => s.environment?.DISTINCT_ADAPTER_CONFIG !== undefined,
);

/** Compose's own interpolation: `${X:-default}` → default, `${X:?message}` / `${X}` → `given[X]`. */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_m, name: string, op: string | undefined, arg: string | undefined) => {
      if (given[name] !== undefined) return given[name];
      if (op === '-') return arg ?? '';
      throw new Error(`compose needs ${name}${op === '?' ? ` (${arg})` : ''}`);
    },
  );
}

test('two receivers (serve --no-forward) and one forwarder (forward) on the same image and configuration', () => {
  const commands = adapterServices.map(([, s]) => s.command?.join(' ')).sort();
  expect(commands).toEqual(['forward', 'serve --no-forward', 'serve --no-forward']);
  const mounts = new Set(adapterServices.map(([, s]) => s.volumes?.find((v) => v.includes('distinct.config'))));
  expect(mounts).toEqual(
    new Set(['./deploy/compose/distinct.config.yml:/etc/distinct-adapter/distinct.config.yml:ro']),
  );
  for (const [, s] of adapterServices) {
    expect(s.build).toBe('.');
    expect(s.depends_on).toEqual({
      fauxqs: { condition: 'service_healthy' },
      'keys-init': { condition: 'service_completed_successfully' },
    });
  }
  expect(services.fauxqs?.environment).toMatchObject({ FAUXQS_HOST: 'fauxqs', FAUXQS_INIT: '/app/init.json' });
});

test('the key store: every process shares the table keys-init creates (pk S, TTL on expiresAt) on the local DynamoDB', () => {
  const init = services['keys-init']!;
  const script = (init.command ?? []).join(' ');
  expect(script).toContain('--table-name distinct-adapter-keys');
  expect(script).toContain('AttributeName=pk,AttributeType=S');
  expect(script).toContain('AttributeName=pk,KeyType=HASH');
  expect(script).toContain('Enabled=true,AttributeName=expiresAt');
  expect(script).toContain('http://dynamodb:8000');
  expect(services.dynamodb?.image).toMatch(/^amazon\/dynamodb-local/);
});

test('the shared configuration validates with the environment compose passes, on the queues fauxqs creates', () => {
  const creds = createTestCredentials();
  const secrets: Record<string, string> = {
    DISTINCT_EXPERIENCE_ID: 'exp_compose',
    SENDGRID_WEBHOOK_PUBLIC_KEY: String(creds.sendgrid!.options.publicKey),
    TWILIO_AUTH_TOKEN: String(creds.twilio!.options.authToken),
    MAILGUN_WEBHOOK_SIGNING_KEY: String(creds.mailgun!.options.signingKey),
  };
  const [, receiver] = adapterServices[0]!;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(receiver.environment ?? {})) env[k] = interpolate(String(v), secrets);

  const config = loadConfigFile(join(ROOT, 'deploy', 'compose', 'distinct.config.yml'), env);
  expect(config.queue.driver).toBe('sqs');
  expect(config.dedupe.store).toEqual({
    driver: 'dynamodb',
    table: 'distinct-adapter-keys',
    region: 'us-east-1',
    endpoint: 'http://dynamodb:8000',
    leaseMs: 30_000,
  });
  expect(config.distinct.baseUrl).toBe('http://sandbox:4010');
  expect([...config.sources.keys()].sort()).toEqual(['mailgun', 'sendgrid', 'twilio']);

  const init = JSON.parse(readFileSync(join(ROOT, 'deploy', 'compose', 'fauxqs-init.json'), 'utf8')) as {
    queues: Array<{ name: string; attributes?: Record<string, string> }>;
  };
  const url = (name: string): string => `http://sqs.us-east-1.fauxqs:4566/000000000000/${name}`;
  const names = init.queues.map((q) => q.name);
  expect(names.map(url)).toEqual(
    expect.arrayContaining([config.queue.sqs!.queueUrl, config.queue.sqs!.deadLetterQueueUrl]),
  );
  const main = init.queues.find((q) => url(q.name) === config.queue.sqs!.queueUrl)!;
  const redrive = JSON.parse(main.attributes!.RedrivePolicy!) as { deadLetterTargetArn: string };
  expect(redrive.deadLetterTargetArn.split(':').pop()).toBe(config.queue.sqs!.deadLetterQueueUrl.split('/').pop());
});
