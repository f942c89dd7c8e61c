/**
 * Durability: a real child process running `distinct-adapter serve` is SIGKILLed in the middle of a
 * stream of webhooks while Distinct is down. After Distinct comes back and the service restarts,
 * every acknowledged event arrives exactly once; events whose request died with the process are
 * re-sent (as providers do) and de-duplication absorbs the ones that had made it.
 *
 * Runs the compiled CLI (`npm test` builds first).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { createSandbox } from '../../src/sandbox/sandbox-server';
import { createTestCredentials, freePort, signedSample, tempDir, testConfigDocument, waitFor } from '../helpers/app';
import { ROOT, startServe, useRunningChildren } from '../helpers/cli';

const running = useRunningChildren();

test('SIGKILL mid-stream loses no acknowledged event and forwards each exactly once', async () => {
  const dir = tempDir('dwa-crash-');
  const creds = createTestCredentials();
  const distinctPort = await freePort(); // nothing listens yet: Distinct is down
  // A public URL, as behind a load balancer: signatures stay valid whichever port the child gets.
  const PUBLIC = 'https://hooks.example.com';
  const doc = testConfigDocument({
    creds,
    baseUrl: `http://127.0.0.1:${distinctPort}`,
    apiKey: 'crash-key',
    queuePath: join(dir, 'outbox.db'),
    publicUrl: PUBLIC,
  });
  (doc.log as Record<string, unknown>).level = 'info';
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(doc));

  const first = await startServe(['--config', configPath], ROOT);
  running.child = first.child;
  const TOTAL = 120;
  const requests = Array.from({ length: TOTAL }, () =>
    signedSample('twilio', creds, `${PUBLIC}/webhooks/twilio`, { type: 'sms.delivered' }),
  );
  const messageSid = (i: number): string => new URLSearchParams(requests[i]!.body.toString()).get('MessageSid')!;
  const acked = new Set<number>();

  // 4 concurrent senders; the process is killed once 40 requests were acknowledged.
  let next = 0;
  let killed = false;
  const sender = async (): Promise<void> => {
    while (next < TOTAL) {
      const i = next++;
      const r = requests[i]!;
      try {
        const res = await request(r.url.replace(PUBLIC, first.url), {
          method: 'POST',
          headers: r.headers,
          body: r.body,
        });
        await res.body.dump();
        if (res.statusCode === 200) acked.add(i);
      } catch {
        /* connection died with the process: the provider would retry */
      }
      if (!killed && acked.size >= 40) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all([sender(), sender(), sender(), sender()]);
  await new Promise((r) =>
    first.child.exitCode !== null || first.child.signalCode !== null ? r(null) : first.child.once('exit', r),
  );
  expect(first.child.signalCode).toBe('SIGKILL');
  expect(acked.size).toBeGreaterThanOrEqual(40);
  expect(acked.size).toBeLessThan(TOTAL); // the kill really happened mid-stream

  // Distinct comes back; the service restarts on the same outbox.
  const sandbox = createSandbox({ apiKey: 'crash-key' });
  running.sandbox = sandbox;
  await sandbox.listen(distinctPort, '127.0.0.1');
  const second = await startServe(['--config', configPath], ROOT);
  running.child = second.child;

  // The provider re-sends everything it did not get a 200 for, and (at-least-once) some it did.
  const base = second.url;
  for (let i = 0; i < TOTAL; i += 1) {
    if (acked.has(i) && i % 3 !== 0) continue;
    const r = requests[i]!;
    const res = await request(r.url.replace(PUBLIC, base), { method: 'POST', headers: r.headers, body: r.body });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
  }

  await waitFor(() => sandbox.received().length >= TOTAL, 20_000);
  await new Promise((r) => setTimeout(r, 300));
  const received = sandbox.received();
  const sids = received.map((e) => (e.event.metadata as Record<string, string>).messageId);
  expect(received).toHaveLength(TOTAL);
  expect(new Set(sids).size).toBe(TOTAL);
  for (const i of acked) expect(sids).toContain(messageSid(i));
  expect(sandbox.stats().duplicates).toBe(0);
}, 60_000);

test('SIGTERM drains gracefully: exit 0, in-flight POSTs finish, the rest waits in the outbox', async () => {
  const dir = tempDir('dwa-term-');
  const creds = createTestCredentials();
  const sandbox = createSandbox({ apiKey: 'term-key', responseDelayMs: 50 });
  running.sandbox = sandbox;
  const { url: distinctUrl } = await sandbox.listen(0, '127.0.0.1');
  const PUBLIC = 'https://hooks.example.com';
  const doc = testConfigDocument({
    creds,
    baseUrl: distinctUrl,
    apiKey: 'term-key',
    queuePath: join(dir, 'outbox.db'),
    publicUrl: PUBLIC,
  });
  (doc.log as Record<string, unknown>).level = 'info';
  (doc.distinct as Record<string, unknown>).concurrency = 2; // a backlog remains when SIGTERM arrives
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(doc));

  const first = await startServe(['--config', configPath], ROOT);
  running.child = first.child;
  const TOTAL = 40;
  for (let i = 0; i < TOTAL; i += 1) {
    const r = signedSample('twilio', creds, `${PUBLIC}/webhooks/twilio`, { type: 'sms.sent' });
    const res = await request(r.url.replace(PUBLIC, first.url), { method: 'POST', headers: r.headers, body: r.body });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
  }
  first.child.kill('SIGTERM');
  const code = await new Promise((r) => first.child.once('exit', (c) => r(c)));
  expect(code).toBe(0);
  const deliveredBeforeRestart = sandbox.received().length;
  expect(deliveredBeforeRestart).toBeLessThan(TOTAL);

  const second = await startServe(['--config', configPath], ROOT);
  running.child = second.child;
  await waitFor(() => sandbox.received().length >= TOTAL, 20_000);
  await new Promise((r) => setTimeout(r, 300));
  expect(sandbox.received()).toHaveLength(TOTAL);
  expect(sandbox.stats().duplicates).toBe(0);
}, 60_000);
