/**
 * `distinct-adapter status` as a user runs it (compiled, child processes): it finds the running
 * service through `server.port` (`$PORT` wins), `--json` prints the `/status` document, and with
 * nothing running it reads the queue file read-only — never creating one.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSandbox } from '../../src/sandbox/sandbox-server';
import { createTestCredentials, freePort, signedSample, tempDir, testConfigDocument, waitFor } from '../helpers/app';
import { CLI, runCli, useRunningChildren, type CliResult } from '../helpers/cli';

/** The CLI with logs silenced and without this process's $PORT, unless `env` sets one. */
function cli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', ...env };
  if (!('PORT' in env)) delete childEnv.PORT;
  return runCli(args, cwd, childEnv);
}

const running = useRunningChildren();

test('status asks the running service (server.port, $PORT wins), then reads the queue file when none runs', async () => {
  const dir = tempDir();
  const sandbox = createSandbox({ apiKey: 'cli-key' });
  running.sandbox = sandbox;
  const { url } = await sandbox.listen(0, '127.0.0.1');
  const creds = createTestCredentials();
  const port = await freePort();
  const doc = testConfigDocument({ creds, baseUrl: url, apiKey: 'cli-key', queuePath: join(dir, 'outbox.db') });
  (doc.server as Record<string, unknown>).port = port;
  const config = join(dir, 'distinct.config.json');
  writeFileSync(config, JSON.stringify(doc));
  const env = { ...process.env };
  delete env.PORT;
  const child = spawn(process.execPath, [CLI, 'serve', '--config', config], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.child = child;
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    () =>
      fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    15_000,
    100,
  );

  const twilio = `${base}/webhooks/twilio`;
  const sent = signedSample('twilio', creds, twilio, { type: 'sms.sent', recipient: '+15017250601' });
  for (const req of [
    sent,
    sent, // a provider re-delivery: duplicate
    signedSample('twilio', creds, twilio, {
      type: 'sms.sent',
      recipient: '+15017250602',
      overrides: { distinct_feature: 'not_registered' },
    }),
  ]) {
    expect((await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body })).status).toBe(200);
  }
  await waitFor(() => sandbox.received().length === 1);
  await waitFor(async () => ((await (await fetch(`${base}/status`)).json()) as { forwarded: number }).forwarded === 1);

  const json = await cli(['status', '--config', config, '--json'], dir);
  expect(json.code).toBe(0);
  const fromCli = JSON.parse(json.stdout) as Record<string, unknown>;
  const httpText = await (await fetch(`${base}/status`)).text();
  expect(json.stdout).toBe(`${httpText}\n`); // the same document, byte for byte (nothing moves between the two reads)
  expect(fromCli).toMatchObject({
    running: true,
    forwarded: 1,
    queue: { depth: 0, deadLetters: 1, deadLettersByReason: { invalid_pair: 1 } },
    sources: { twilio: { requests: 3, queued: 1, duplicates: 1, deadLettered: 1, forwarded: 1 } },
  });

  const human = await cli(['status', '--config', config], dir);
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(new RegExp(`serve at http://127\\.0\\.0\\.1:${port}`));
  expect(human.stdout).toMatch(/dead:\s+1 \(invalid_pair 1\)/);
  expect(human.stdout).toMatch(/forwarding:\s+on/);
  expect(human.stdout).toMatch(/last answer: HTTP 200 "User analytics added successfully\."/);
  expect(human.stdout).toMatch(/^twilio\s+3\s+0\s+1\s+1\s+0\s+1\s+1$/m);

  // $PORT wins over server.port, as for serve: pointing it elsewhere finds no service.
  const elsewhere = await freePort();
  const viaPort = await cli(['status', '--config', config, '--json'], dir, { PORT: String(elsewhere) });
  expect(viaPort.code).toBe(0);
  expect(viaPort.stderr).toMatch(new RegExp(`no service answered at http://127\\.0\\.0\\.1:${elsewhere}/status`));
  expect(JSON.parse(viaPort.stdout)).toMatchObject({
    running: false,
    queue: { deadLetters: 1, deadLettersByReason: { invalid_pair: 1 } },
  });

  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  const offline = await cli(['status', '--config', config, '--json'], dir);
  expect(offline.code).toBe(0);
  expect(JSON.parse(offline.stdout)).toMatchObject({
    running: false,
    role: 'offline',
    startedAt: null,
    forwarded: 0,
    sources: {},
    queue: { driver: 'sqlite', depth: 0, deadLetters: 1, deadLettersByReason: { invalid_pair: 1 } },
    circuit: { state: 'closed' },
  });
  const offlineHuman = await cli(['status', '--config', config], dir);
  expect(offlineHuman.stdout).toMatch(/no running service; read from the sqlite queue/);
  expect(offlineHuman.stdout).not.toMatch(/15017250/);
});

test('status with no service and no queue file names the file, exits non-zero and creates nothing', async () => {
  const dir = tempDir();
  const queuePath = join(dir, 'nested', 'outbox.db');
  const doc = testConfigDocument({ creds: createTestCredentials(), queuePath });
  (doc.server as Record<string, unknown>).port = await freePort();
  const config = join(dir, 'distinct.config.json');
  writeFileSync(config, JSON.stringify(doc));
  const r = await cli(['status', '--config', config], dir);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`queue file ${queuePath} does not exist`);
  expect(existsSync(queuePath)).toBe(false);
  expect(existsSync(join(dir, 'nested'))).toBe(false);
});

test('serve --dev turns the console on without credentials (loopback) and the banner prints its URL; status --dev finds it', async () => {
  const dir = tempDir();
  const sandbox = createSandbox({ apiKey: 'sandbox' });
  running.sandbox = sandbox;
  const { url } = await sandbox.listen(0, '127.0.0.1');
  const port = await freePort();
  // DISTINCT_BASE_URL elsewhere than :4010 keeps serve --dev from starting its own sandbox there.
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DISTINCT_BASE_URL: url, LOG_LEVEL: 'info' };
  const child = spawn(process.execPath, [CLI, 'serve', '--dev'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.child = child;
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => /operator console/.test(out), 15_000);
  const banner = out.split('\n').find((l) => /operator console/.test(l))!;
  expect(JSON.parse(banner)).toMatchObject({ url: `http://127.0.0.1:${port}/console` });
  const page = await fetch(`http://127.0.0.1:${port}/console`);
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<title>distinct-webhook-adapter/);
  const status = await cli(['status', '--dev', '--json'], dir, { PORT: String(port) });
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ running: true, role: 'serve', ready: true, queue: { depth: 0 } });
});
