/**
 * The scale-out topology of docker-compose.yml in one test: two receivers (`serve --no-forward`)
 * and one forward-only process (`forward`) sharing one SQS queue (the local SQS API, fauxqs),
 * delivering to the Distinct sandbox; and the compiled `forward` command's health endpoints and
 * graceful SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildConfig, type AppConfig } from '../helpers/config';
import type { UnsignedRequest } from '../../src/core/adapter';
import { silentLogger } from '../../src/observability/logger';
import { startForwardService } from '../../src/runtime/forward-service';
import { startService, type Service } from '../../src/runtime/service';
import type { SqsSettings } from '../../src/queue/sqs-queue';
import { createTestCredentials, signedSample, tempDir, testConfigDocument, waitFor } from '../helpers/app';
import { CLI, ROOT } from '../helpers/cli';
import { createQueuePair, useSqsHarness } from '../helpers/sqs';

const PUBLIC = 'https://hooks.example.com';

const h = useSqsHarness();
const creds = createTestCredentials();

/** The shared configuration: every test source, the queue pair, Distinct = the sandbox. */
function configDocument(sqs: SqsSettings): Record<string, unknown> {
  const doc = testConfigDocument({ creds, baseUrl: h.distinctUrl, publicUrl: PUBLIC });
  // A short long-poll keeps shutdown quick; production keeps the default 20 s.
  return { ...doc, queue: { driver: 'sqs', sqs: { ...sqs, waitTimeSeconds: 1 } } };
}

async function post(baseUrl: string, req: UnsignedRequest): Promise<Response> {
  const url = new URL(req.url);
  return fetch(`${baseUrl}${url.pathname}${url.search}`, {
    method: 'POST',
    headers: req.headers,
    body: new Uint8Array(req.body),
  });
}

test('two receivers and one forwarder share one SQS queue: every webhook reaches Distinct once', async () => {
  const config: AppConfig = buildConfig(configDocument(await createQueuePair(h.admin)), {});
  const logger = silentLogger();
  const receivers: Service[] = [];
  for (let i = 0; i < 2; i += 1) {
    const service = await startService(config, { logger, forward: false, port: 0, host: '127.0.0.1' });
    h.cleanups.push(() => service.close());
    receivers.push(service);
  }
  const forwarder = await startForwardService(config, { logger, port: 0, host: '127.0.0.1' });
  h.cleanups.push(() => forwarder.close());

  const requests = [
    signedSample('twilio', creds, `${PUBLIC}/webhooks/twilio`, { recipient: '+15017250601' }),
    signedSample('twilio', creds, `${PUBLIC}/webhooks/twilio`, { recipient: '+15017250602' }),
    signedSample('sendgrid', creds, `${PUBLIC}/webhooks/sendgrid`, { recipient: 'a@example.com' }),
    signedSample('mailgun', creds, `${PUBLIC}/webhooks/mailgun`, { recipient: 'b@example.com' }),
  ];
  const statuses = await Promise.all(requests.map((req, i) => post(receivers[i % 2]!.url, req).then((r) => r.status)));
  expect(statuses).toEqual([200, 200, 200, 200]);

  await waitFor(() => h.sandbox.received().length >= 4, 15_000);
  const got = h.sandbox.received().map((r) => r.event.phone ?? r.event.email);
  expect(got.sort()).toEqual(['+15017250601', '+15017250602', 'a@example.com', 'b@example.com']);
  expect(h.sandbox.stats().duplicates).toBe(0);
  // Every POST carries its de-duplication key as the Idempotency-Key header, one key per event.
  const keys = h.sandbox.received().map((r) => r.idempotencyKey);
  expect(keys.every((k) => typeof k === 'string' && k.length > 0)).toBe(true);
  expect(new Set(keys).size).toBe(4);

  const health = await fetch(`${forwarder.url}/healthz`);
  expect(health.status).toBe(200);
  const ready = await fetch(`${forwarder.url}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ status: 'ready', queueWritable: true, distinctCredentials: true });
  const metrics = await (await fetch(`${forwarder.url}/metrics`)).text();
  expect(metrics).toMatch(/distinct_adapter_forward_attempts_total\{result="ok"\} 4/);
  const webhook = await fetch(`${forwarder.url}/webhooks/twilio`, { method: 'POST', body: 'x' });
  expect(webhook.status).toBe(404); // a forwarder takes no webhooks
});

test('the compiled `forward` command serves /healthz and exits 0 on SIGTERM', async () => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'commands', 'forward.js'))) {
    throw new Error('dist/ lacks the forward command: run `npm run build` (npm test does it first)');
  }
  const dir = tempDir('dwa-forward-');
  h.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'distinct.config.json');
  const doc = configDocument(await createQueuePair(h.admin));
  // Sources every build has (dist/ may predate adapters added since), and info logs to read the URL.
  const sources = doc.sources as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...doc, log: { level: 'info' }, sources: { twilio: sources.twilio } }));
  const child = spawn(process.execPath, [CLI, 'forward', '--config', file, '--port', '0'], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  h.cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(() => /forwarder running/.test(output), 15_000).catch(() => {
    throw new Error(`forward did not start:\n${output}`);
  });
  const line = output.split('\n').find((l) => l.includes('forwarder running'))!;
  const { url } = JSON.parse(line) as { url: string };
  const res = await fetch(`${url}/healthz`);
  expect(res.status).toBe(200);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(output).toContain('shutdown complete');
});
