/**
 * Issue #8's reproduction, end to end with real processes: several compiled `serve` processes
 * (receiver + forwarder each) on one SQS queue (fauxqs) sharing one key store (dynalite), the
 * Distinct sandbox as Distinct. The same four signed SendGrid batches (100 events) are posted to
 * the first process, then to the second (a provider retry landing on another instance), then to
 * the first again after a restart (a new Lambda execution environment). Without the store this
 * delivered 300 events; with it Distinct must get each of the 100 exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAdapter } from '../../adapters';
import type { UnsignedRequest } from '../../src/core/adapter';
import { createTestCredentials, signJson, tempDir, testConfigDocument, waitFor } from '../helpers/app';
import { CLI, ROOT } from '../helpers/cli';
import { useStoreHarness } from '../helpers/dynamo';
import { counts, createQueuePair } from '../helpers/sqs';

const PUBLIC = 'https://hooks.example.com';

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'dedupe', 'deduped-queue.js'))) {
    throw new Error('dist/ lacks the key store: run `npm run build` (npm test does it first)');
  }
});
const h = useStoreHarness();
const creds = createTestCredentials();

/** `count` SendGrid batches of `perBatch` events, each event its own sg_event_id, signed. */
function sendgridBatches(count: number, perBatch: number): UnsignedRequest[] {
  const now = new Date();
  const base = Math.floor(now.getTime() / 1000) - 60;
  const out: UnsignedRequest[] = [];
  for (let b = 0; b < count; b += 1) {
    const lines: string[] = [];
    for (let e = 0; e < perBatch; e += 1) {
      const n = b * perBatch + e;
      lines.push(
        JSON.stringify({
          email: `user${n}@example.com`,
          timestamp: base + n,
          'smtp-id': `<fleet${n}@ismtpd0001p1iad2.sendgrid.net>`,
          event: 'delivered',
          response: '250 2.0.0 OK',
          sg_event_id: `fleet-${n}-ZXZlbnQtaWQ`,
          sg_message_id: `fleet${n}.filterdrecv-0.0`,
        }),
      );
    }
    const body = Buffer.from(`[${lines.join(',\r\n')}]\r\n`, 'utf8');
    out.push(signJson('sendgrid', creds, `${PUBLIC}/webhooks/sendgrid`, body, now));
  }
  return out;
}

interface Proc {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function serve(file: string): Promise<Proc> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', file], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  h.cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(() => /adapter listening/.test(output) || child.exitCode !== null, 20_000).catch(() => undefined);
  const line = output.split('\n').find((l) => l.includes('adapter listening'));
  if (!line) throw new Error(`serve did not start:\n${output}`);
  return { child, url: (JSON.parse(line) as { url: string }).url, output: () => output };
}

async function stop(proc: Proc): Promise<void> {
  const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
  proc.child.kill('SIGTERM');
  expect(await exited).toBe(0);
}

/** Posts like a provider: re-sends after a non-2xx until a 2xx (503 = "try again later"). */
async function deliver(
  url: string,
  req: UnsignedRequest,
): Promise<{ status: number; retries: number; body: Record<string, number> }> {
  for (let retries = 0; ; retries += 1) {
    const res = await fetch(`${url}/webhooks/sendgrid`, {
      method: 'POST',
      headers: req.headers,
      body: new Uint8Array(req.body),
    });
    const body = (await res.json()) as Record<string, number>;
    if (res.status < 300) return { status: res.status, retries, body };
    expect(res.status).toBe(503);
    if (retries > 40) throw new Error(`still ${res.status} after ${retries} retries: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('three `serve` processes, the same four SendGrid batches to each: Distinct gets each of the 100 events once', async () => {
  const dir = tempDir('dwa-fleet-');
  h.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const sqs = await createQueuePair(h.admin);
  const table = await h.dyn.createTable();
  const doc = testConfigDocument({ creds, baseUrl: h.distinctUrl, publicUrl: PUBLIC });
  const sources = doc.sources as Record<string, unknown>;
  const file = join(dir, 'distinct.config.json');
  writeFileSync(
    file,
    JSON.stringify({
      ...doc,
      log: { level: 'info' },
      queue: { driver: 'sqs', sqs: { ...sqs, waitTimeSeconds: 1 } },
      dedupe: { store: { driver: 'dynamodb', table, endpoint: h.dyn.endpoint, region: 'us-east-1' } },
      sources: { sendgrid: sources.sendgrid },
    }),
  );
  expect(getAdapter('sendgrid')).toBeDefined();
  const batches = sendgridBatches(4, 25);

  const first = await serve(file);
  const second = await serve(file);
  expect(first.output()).toContain('shared key store ready');

  let acked = 0;
  for (const b of batches) {
    const r = await deliver(first.url, b);
    acked += r.body.queued ?? 0;
  }
  expect(acked).toBe(100);
  // The retry that lands on another instance: every event is a duplicate there, nothing is queued.
  const again = await Promise.all(batches.map((b) => deliver(second.url, b)));
  expect(again.reduce((n, r) => n + (r.body.queued ?? 0), 0)).toBe(0);
  expect(again.reduce((n, r) => n + (r.body.duplicates ?? 0), 0)).toBe(100);

  // A restart (a new execution environment): no memory of anything, the store still knows.
  await stop(first);
  const restarted = await serve(file);
  const third = await Promise.all(batches.map((b) => deliver(restarted.url, b)));
  expect(third.every((r) => r.status === 200 && (r.body.queued ?? 0) === 0)).toBe(true);

  await waitFor(
    async () => h.sandbox.received().length >= 100 && (await counts(h.admin, sqs.queueUrl)).visible === 0,
    30_000,
  );
  await new Promise((r) => setTimeout(r, 1_000)); // anything late would show up now
  const keys = h.sandbox.received().map((e) => e.idempotencyKey);
  expect(keys).toHaveLength(100);
  expect(new Set(keys).size).toBe(100);
  expect(h.sandbox.stats().duplicates).toBe(0);
  expect(await counts(h.admin, sqs.queueUrl)).toEqual({ visible: 0, notVisible: 0 });

  const metrics = await (await fetch(`${second.url}/metrics`)).text();
  // Counted per decision: a request answered 503 (some keys still claimed) counts its duplicates too.
  const dupes = /distinct_adapter_dedupe_claims_total\{stage="ingest",result="duplicate"\} (\d+)/.exec(metrics);
  expect(Number(dupes?.[1])).toBeGreaterThanOrEqual(100);
  await stop(second);
  await stop(restarted);
}, 90_000);
