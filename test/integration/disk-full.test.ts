/**
 * After the disk fills and frees again, messages Distinct already acknowledged leave "in flight"
 * by themselves, without a restart and without being sent twice (issue #9 item 11).
 *
 * A real small filesystem: a 2 MB tmpfs mounted for the test (the suite runs as root here and on
 * CI). The SQLite outbox lives on it; Distinct's answers are held until a filler file has taken
 * every free byte, so each `complete` meets a real SQLITE_FULL; then the filler is deleted.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DistinctClient } from '../../src/forwarder/distinct-client';
import { Forwarder } from '../../src/forwarder/forwarder';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { SqliteQueue } from '../../src/queue/sqlite-queue';
import { twilioDelivered } from '../helpers/queue-message';

const mountPoint = mkdtempSync(join(tmpdir(), 'dwa-full-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'ignore' });
  mounted = true;
} catch {
  // Not root, or no mount permitted in this container: the test below says so and is skipped.
}

afterAll(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Writes zeros to `file` until the filesystem is full (ENOSPC). */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

async function waitFor(predicate: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

(mounted ? test : test.skip)(
  'acknowledged messages stuck by a full disk are settled once it frees, with no restart and no re-send',
  async () => {
    // Distinct: counts requests and holds every answer until released.
    const received: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server: Server = createServer((req, res) => {
      received.push(String(req.headers['idempotency-key']));
      req.resume();
      void gate.then(() =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"statusCode":200,"message":"User analytics added successfully.","data":null}'),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const queue = new SqliteQueue({ path: join(mountPoint, 'outbox.db'), dedupeWindowMs: 60_000 });
    const client = new DistinctClient({ baseUrl: url, apiKey: 'k', timeoutMs: 10_000, concurrency: 20 });
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _e, done) {
          logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    });
    const metrics = createMetrics({ defaultMetrics: false });
    const forwarder = new Forwarder({
      queue,
      client,
      retry: {
        maxAttempts: 10,
        baseDelayMs: 1000,
        maxDelayMs: 60_000,
        maxAgeMs: 86_400_000,
        userNotFoundDelayMs: 3_600_000,
        userNotFoundMaxAgeMs: 86_400_000,
      },
      circuit: { probeIntervalMs: 1000 },
      concurrency: 20,
      ratePerSecond: 0,
      logger,
      metrics,
      maxIdleMs: 250,
    });
    const filler = join(mountPoint, 'filler');
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `full-${i}`);
      await queue.enqueue(keys.map((k) => ({ message: twilioDelivered(k) })));
      forwarder.start();
      await waitFor(() => received.length === 20, 10_000);

      fillDisk(filler);
      release();
      // Every complete meets SQLITE_FULL: the messages are still in flight and the failure is logged.
      const settleError = (l: Record<string, unknown>): boolean =>
        l.level === 50 && /settle|record/.test(String(l.msg));
      await waitFor(() => logs.some(settleError), 10_000);
      await new Promise((r) => setTimeout(r, 600)); // several retry rounds while the disk stays full
      expect(await queue.stats()).toMatchObject({ depth: 20, inFlight: 20 });
      const refused = logs.find(settleError)!;
      expect(JSON.stringify(refused.err)).toMatch(/SQLITE_FULL|full/i);

      rmSync(filler);
      // Recovered by the forwarder itself, within a few of its wake-ups (maxIdleMs 250 ms).
      await waitFor(async () => (await queue.stats()).depth === 0, 5_000);
      expect(await queue.stats()).toMatchObject({ depth: 0, inFlight: 0 });
      expect(received.sort()).toEqual(keys.sort()); // each sent once: nothing re-sent
      expect(logs.some((l) => String(l.msg).includes('recorded the outcomes'))).toBe(true);
      const forwarded = (await metrics.registry.getSingleMetricAsString('distinct_adapter_events_total')).match(
        /outcome="forwarded"[^\n]* (\d+)/,
      );
      expect(Number(forwarded?.[1])).toBe(20);
    } finally {
      release();
      rmSync(filler, { force: true });
      await forwarder.stop();
      await client.close();
      await queue.close();
      await new Promise((r) => server.close(r));
    }
  },
);
