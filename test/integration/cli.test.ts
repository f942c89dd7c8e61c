/**
 * The CLI as a user runs it (compiled, in child processes): validate, registry, serve + simulate
 * against the sandbox, dlq list/replay/purge, and a bad configuration stopping start-up.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSandbox } from '../../src/sandbox/sandbox-server';
import { createTestCredentials, tempDir, testConfigDocument, waitFor, type TestCredentials } from '../helpers/app';
import { CLI, ROOT, runCli, startServe, useRunningChildren } from '../helpers/cli';
import type { DeadLetter } from '../../src/queue/queue';

const running = useRunningChildren();

function writeConfig(dir: string, doc: Record<string, unknown>): string {
  const path = join(dir, 'distinct.config.json');
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

test('validate prints the source → provider event → Distinct pair table; registry the pairs', async () => {
  const dir = tempDir();
  const config = writeConfig(dir, testConfigDocument({ creds: createTestCredentials() }));
  const v = await runCli(['validate', '--config', config], dir);
  expect(v.code).toBe(0);
  expect(v.stdout).toMatch(/configuration OK/);
  expect(v.stdout).toMatch(/sendgrid\s+sendgrid\s+open\s+email\.opened\s+registration_email\/opened/);
  expect(v.stdout).toMatch(/twilio\s+twilio\s+undelivered\s+sms\.undelivered\s+registration_sms\/failed/);
  expect(v.stdout).toMatch(/mailgun\s+mailgun\s+clicked\s+email\.clicked\s+\(ignored\)/);
  const r = await runCli(['registry', '--config', config], dir);
  expect(r.stdout).toMatch(/registration_email: \[delivered, opened, sent\]/);
  expect(r.stdout).toMatch(/registration_sms: \[delivered, failed, sent\]/);
});

test('a bad configuration stops start-up and lists every problem by path', async () => {
  const dir = tempDir();
  const config = writeConfig(dir, {
    distinct: {},
    server: { port: 'x' },
    sources: { twilio: { feature: 'registration_sms' } },
  });
  const r = await runCli(['serve', '--config', config], dir);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/distinct\.apiKey/);
  expect(r.stderr).toMatch(/server\.port/);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
});

test('without a configuration file, serve refuses to start unless --dev is given', async () => {
  const dir = tempDir();
  const r = await runCli(['serve'], dir);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/distinct\.config\.yml: file not found .*--dev/);
});

test('serve + simulate for each provider: the events reach the sandbox; dlq list, replay and purge', async () => {
  const dir = tempDir();
  const sandbox = createSandbox({ apiKey: 'cli-key' });
  running.sandbox = sandbox;
  const { url } = await sandbox.listen(0, '127.0.0.1');
  const creds = createTestCredentials();
  const doc = testConfigDocument({ creds, baseUrl: url, apiKey: 'cli-key', queuePath: join(dir, 'outbox.db') });
  // SendGrid signs with a private key the config cannot hold: simulate takes it from a file.
  const signerFile = join(dir, 'sendgrid-private.pem');
  writeFileSync(signerFile, String(creds.sendgrid!.signer));
  (doc.log as Record<string, unknown>).level = 'info';
  const config = writeConfig(dir, doc);
  const { child, url: target } = await startServe(['--config', config], dir);
  running.child = child;

  // plivo and sinch: simulate signs the way they really send (Plivo V2 + Ma-V2, Sinch HMAC).
  for (const [source, event] of [
    ['sendgrid', 'email.opened'],
    ['twilio', 'sms.delivered'],
    ['mailgun', 'email.delivered'],
    ['plivo', 'sms.sent'],
    ['sinch', 'sms.failed'],
  ]) {
    const extra = source === 'sendgrid' ? ['--signer-file', signerFile] : [];
    const r = await runCli(
      ['simulate', source!, '--event', event!, '--url', target, '--config', config, ...extra],
      dir,
    );
    expect({ source, code: r.code, out: r.stdout }).toMatchObject({
      source,
      code: 0,
      out: expect.stringMatching(/\n200 /),
    });
    expect({ source, out: r.stdout }).toMatchObject({
      source,
      out: expect.stringMatching(/\noutcome: 1 queued for Distinct/),
    });
  }
  await waitFor(() => sandbox.received().length === 5);
  expect(
    sandbox
      .received()
      .map((r) => `${r.event.feature}/${r.event.action}`)
      .sort(),
  ).toEqual([
    'registration_email/delivered',
    'registration_email/opened',
    'registration_sms/delivered',
    'registration_sms/failed',
    'registration_sms/sent',
  ]);

  // A Twilio short code with no user id cannot be sent: it is dead-lettered no_identifier, and
  // simulate says so although Twilio's answer stays the bare TwiML.
  const dl = await runCli(
    ['simulate', 'twilio', '--event', 'sms.sent', '--recipient', '12345', '--url', target, '--config', config],
    dir,
  );
  expect(dl.code).toBe(0);
  expect(dl.stdout).toMatch(/\n200 <Response\/>\n/);
  expect(dl.stdout).toMatch(/outcome: 1 dead-lettered: no_identifier \(see `distinct-adapter dlq list`\)/);
  // Mailgun clicks map to no action: ignored, and said so.
  const ig = await runCli(
    ['simulate', 'mailgun', '--event', 'email.clicked', '--url', target, '--config', config],
    dir,
  );
  expect(ig.stdout).toMatch(/outcome: 1 ignored \(no Distinct action mapped for email\.clicked/);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  expect(child.exitCode).toBe(0);

  const list = await runCli(['dlq', 'list', '--config', config], dir);
  expect(list.stdout).toMatch(/no_identifier\s+twilio\s+registration_sms\/sent/);
  expect(list.stdout).toMatch(/1 dead letter\(s\)/);
  // The dead letter keeps what Twilio sent (its recipient masked unless --show-pii).
  const json = JSON.parse((await runCli(['dlq', 'list', '--json', '--config', config], dir)).stdout) as DeadLetter;
  expect(json.message.raw).toMatchObject({ MessageStatus: 'sent', To: '*2345' });
  const clear = JSON.parse(
    (await runCli(['dlq', 'list', '--json', '--show-pii', '--config', config], dir)).stdout,
  ) as DeadLetter;
  expect(clear.message.raw).toMatchObject({ MessageStatus: 'sent', To: '12345' });
  expect((await runCli(['dlq', 'purge', '--config', config], dir)).code).toBe(2); // refuses without a filter
  expect((await runCli(['dlq', 'replay', '--reason', 'no_identifier', '--config', config], dir)).stdout).toMatch(
    /replayed 1/,
  );
  expect((await runCli(['dlq', 'list', '--config', config], dir)).stdout).toMatch(/0 dead letter\(s\)/);
});

/**
 * `serve --no-forward` (info logs) in a fresh folder on every provider's test credentials, for
 * `simulate` to target; signerArgs(provider) writes that provider's signer to a file and names it.
 */
async function serveForSimulate(): Promise<{
  dir: string;
  creds: TestCredentials;
  config: string;
  target: string;
  signerArgs: (provider: string) => string[];
}> {
  const dir = tempDir();
  const creds = createTestCredentials();
  const doc = testConfigDocument({ creds, queuePath: join(dir, 'outbox.db') });
  (doc.log as Record<string, unknown>).level = 'info';
  const config = writeConfig(dir, doc);
  const { child, url: target } = await startServe(['--no-forward', '--config', config], dir);
  running.child = child;
  const signerArgs = (provider: string): string[] => {
    const signer = creds[provider]!.signer;
    const file = join(dir, `${provider}.signer`);
    writeFileSync(file, typeof signer === 'string' ? signer : JSON.stringify(signer));
    return ['--signer-file', file];
  };
  return { dir, creds, config, target, signerArgs };
}

test('simulate prints the outcome for every provider', async () => {
  const { dir, creds, config, target, signerArgs } = await serveForSimulate();
  const outcomes: Record<string, string> = {};
  for (const provider of Object.keys(creds)) {
    const r = await runCli(['simulate', provider, '--url', target, '--config', config, ...signerArgs(provider)], dir);
    outcomes[provider] = /^outcome: .*$/m.exec(r.stdout)?.[0] ?? `${r.code} ${r.stdout} ${r.stderr}`;
  }
  for (const [provider, line] of Object.entries(outcomes)) {
    expect({ provider, line }).toEqual({ provider, line: expect.stringMatching(/^outcome: 1 queued for Distinct/) });
  }
});

test('simulate --fixture sends a stored fixture signed (ECDSA, URL-signed form, HMAC, SNS); refuses misuse', async () => {
  const { dir, config, target, signerArgs } = await serveForSimulate();
  const fixture = (provider: string, name: string): string => join(ROOT, 'fixtures', provider, `${name}.json`);
  const results: Array<{ fixture: string; code: number; status: string | undefined; outcome: string }> = [];
  for (const [provider, name] of [
    ['sendgrid', 'delivered'], // ECDSA over timestamp + raw body
    ['twilio', 'status-delivered'], // HMAC-SHA1 over the URL and the form parameters
    ['mailgun', 'delivered'], // HMAC-SHA256 signature block in the JSON body
    ['ses', 'delivery'], // SNS-signed envelope
    ['mailgun', 'clicked'], // mapped to no action: ignored
  ] as const) {
    const r = await runCli(
      [
        'simulate',
        provider,
        '--fixture',
        fixture(provider, name),
        '--url',
        target,
        '--config',
        config,
        ...signerArgs(provider),
      ],
      dir,
    );
    results.push({
      fixture: `${provider}/${name}`,
      code: r.code,
      status: /\n(\d{3}) /.exec(r.stdout)?.[1],
      outcome: /^outcome: .*$/m.exec(r.stdout)?.[0] ?? `${r.stdout} ${r.stderr}`,
    });
  }
  const queued = expect.stringMatching(/^outcome: 1 queued for Distinct/);
  expect(results).toEqual([
    { fixture: 'sendgrid/delivered', code: 0, status: '200', outcome: queued },
    { fixture: 'twilio/status-delivered', code: 0, status: '200', outcome: queued },
    { fixture: 'mailgun/delivered', code: 0, status: '200', outcome: queued },
    { fixture: 'ses/delivery', code: 0, status: '200', outcome: queued },
    {
      fixture: 'mailgun/clicked',
      code: 0,
      status: '200',
      outcome: expect.stringMatching(/^outcome: 1 ignored \(no Distinct action mapped for email\.clicked/),
    },
  ]);

  const both = await runCli(
    [
      'simulate',
      'twilio',
      '--fixture',
      fixture('twilio', 'status-sent'),
      '--event',
      'sms.sent',
      '--url',
      target,
      '--config',
      config,
    ],
    dir,
  );
  expect(both.code).toBe(2);
  expect(both.stderr).toMatch(/--fixture and --event cannot be used together/);
  const other = await runCli(
    ['simulate', 'twilio', '--fixture', fixture('mailgun', 'delivered'), '--url', target, '--config', config],
    dir,
  );
  expect(other.code).toBe(2);
  expect(other.stderr).toMatch(/is a mailgun request, but the source's provider is twilio/);
});

test("every command's --help shows examples and the environment variables it reads", async () => {
  const { buildProgram } = await import('../../src/cli/main');
  const paths: string[][] = [];
  const walk = (cmd: import('commander').Command, prefix: string[]): void => {
    for (const sub of cmd.commands) {
      paths.push([...prefix, sub.name()]);
      walk(sub, [...prefix, sub.name()]);
    }
  };
  walk(buildProgram(), []);
  expect(paths.length).toBeGreaterThanOrEqual(10);
  const dir = tempDir();
  const helps = await Promise.all(
    paths.map(async (p) => ({ command: p.join(' '), out: (await runCli([...p, '--help'], dir)).stdout })),
  );
  for (const { command, out } of helps) {
    expect({
      command,
      examples: /\nExamples:\n {2}\$ distinct-adapter /.test(out),
      environment: /\nEnvironment:\n {2}[A-Z$]/.test(out),
    }).toEqual({
      command,
      examples: true,
      environment: true,
    });
  }
});

test('serve --dev --host 0.0.0.0 listens on every interface (containers); the --dev default stays loopback', async () => {
  const start = async (extra: string[]): Promise<string> => {
    const dir = tempDir();
    // PORT=0 and another Distinct URL: no fixed ports (the dev sandbox on 4010 is not started).
    const child = spawn(process.execPath, [CLI, 'serve', '--dev', ...extra], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: '0', DISTINCT_BASE_URL: 'http://127.0.0.1:9' },
    });
    running.child = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /listening/.test(out), 15_000);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    return out;
  };
  const wide = await start(['--host', '0.0.0.0']);
  expect(wide).toMatch(/"url":"http:\/\/0\.0\.0\.0:\d+"/);
  expect(wide).toMatch(/development defaults listen beyond loopback/);
  expect(await start([])).toMatch(/"url":"http:\/\/127\.0\.0\.1:\d+"/);
});

test('a queue.path the process cannot create names the key, the file and the /data volume', async () => {
  const dir = tempDir();
  const blocker = join(dir, 'not-a-folder');
  writeFileSync(blocker, '');
  const doc = testConfigDocument({ creds: createTestCredentials(), queuePath: join(blocker, 'outbox.db') });
  const config = writeConfig(dir, doc);
  const r = await runCli(['serve', '--config', config], dir);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(
    `queue.path: cannot create or write the SQLite outbox ${join(blocker, 'outbox.db')} (EEXIST)`,
  );
  expect(r.stderr).toMatch(/mount a volume at \/data and set queue\.path: \/data\/outbox\.db/);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
});
