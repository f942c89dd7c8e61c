/**
 * The forwarder end to end: the REAL sandbox on 127.0.0.1 (port 0), the real undici client and a
 * real queue (memory, and SQLite for one case). Faults are injected through the sandbox.
 * Waits poll for a state with a generous deadline; nothing asserts on elapsed time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AppConfig } from '../../src/config/load';
import type { DistinctEvent } from '../../src/core/distinct-event';
import { DistinctClient } from '../../src/forwarder/distinct-client';
import { Forwarder } from '../../src/forwarder/forwarder';
import { forwarderFor } from '../../src/runtime/forwarding';
import type { RetryPolicyConfig } from '../../src/forwarder/retry-policy';
import { createLogger } from '../../src/observability/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { MemoryQueue } from '../../src/queue/memory-queue';
import type { Queue, QueueMessage } from '../../src/queue/queue';
import { SqliteQueue } from '../../src/queue/sqlite-queue';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/sandbox-server';

const API_KEY = 'fwd-test-key-do-not-log';

const FAST_RETRY: RetryPolicyConfig = {
  maxAttempts: 10,
  baseDelayMs: 5,
  maxDelayMs: 50,
  maxAgeMs: 60_000,
  userNotFoundDelayMs: 25,
  userNotFoundMaxAgeMs: 400,
};

interface Harness {
  sandbox: Sandbox;
  port: number;
  url: string;
  queue: Queue;
  client: DistinctClient;
  forwarder: Forwarder;
  metrics: Metrics;
  logs: Array<Record<string, unknown>>;
  rawLogs: string[];
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(
  options: {
    sandbox?: SandboxOptions;
    retry?: Partial<RetryPolicyConfig>;
    concurrency?: number;
    ratePerSecond?: number;
    probeIntervalMs?: number;
    queue?: Queue;
    timeoutMs?: number;
    random?: () => number;
    maxIdleMs?: number;
  } = {},
): Promise<Harness> {
  const sandbox = createSandbox({ apiKey: API_KEY, ...options.sandbox });
  const { port, url } = await sandbox.listen(0, '127.0.0.1');
  cleanups.push(() => sandbox.close());
  const concurrency = options.concurrency ?? 4;
  const client = new DistinctClient({
    baseUrl: url,
    apiKey: API_KEY,
    timeoutMs: options.timeoutMs ?? 5_000,
    concurrency,
  });
  cleanups.push(() => client.close());
  const queue = options.queue ?? new MemoryQueue({ dedupeWindowMs: 600_000 });
  cleanups.push(() => queue.close());
  const metrics = createMetrics({ defaultMetrics: false });
  const rawLogs: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = chunk.toString('utf8');
      rawLogs.push(line);
      logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const forwarder = new Forwarder({
    queue,
    client,
    retry: { ...FAST_RETRY, ...options.retry },
    circuit: { probeIntervalMs: options.probeIntervalMs ?? 50 },
    concurrency,
    ratePerSecond: options.ratePerSecond ?? 0,
    logger: createLogger({ level: 'debug', destination }),
    metrics,
    random: options.random ?? (() => 0.5),
    maxIdleMs: options.maxIdleMs,
  });
  cleanups.push(() => forwarder.stop());
  return { sandbox, port, url, queue, client, forwarder, metrics, logs, rawLogs };
}

let seq = 0;
function message(patch: Partial<DistinctEvent> = {}, key?: string): QueueMessage {
  seq += 1;
  return {
    key: key ?? `key-${seq}-${Math.random().toString(36).slice(2)}`,
    source: 'sendgrid',
    provider: 'sendgrid',
    type: 'email.delivered',
    receivedAt: Date.now(),
    event: {
      email: `user${seq}@example.com`,
      feature: 'registration_email',
      action: 'delivered',
      experienceId: '47Gop5',
      capturedAt: '2026-04-27T13:35:00Z',
      metadata: { provider: 'sendgrid', providerEvent: 'delivered', messageId: `m${seq}` },
      ...patch,
    },
  };
}

async function enqueue(queue: Queue, messages: QueueMessage[]): Promise<void> {
  const result = await queue.enqueue(messages.map((m) => ({ message: m })));
  expect(result.queued).toBe(messages.length);
}

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function counter(
  metric: Metrics['forwardAttempts'] | Metrics['events'],
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

async function gauge(metric: Metrics['circuitOpen']): Promise<number> {
  return (await metric.get()).values[0]?.value ?? Number.NaN;
}

const logsWith = (h: Harness, msg: string) => h.logs.filter((l) => l.msg === msg);

describe('Forwarder with the sandbox and the memory queue', () => {
  test('delivers every event once, with its queue key as the idempotency key, and logs each outcome', async () => {
    const h = await setup();
    const msgs = [message(), message({ email: undefined, phone: '+14155550100' }), message({ userId: 'u_1' })];
    await enqueue(h.queue, msgs);
    h.forwarder.start();
    await waitFor('3 events received', () => h.sandbox.received().length === 3);
    await waitFor('queue empty', async () => (await h.queue.stats()).depth === 0);

    const received = h.sandbox.received();
    expect(received.map((r) => r.idempotencyKey).sort()).toEqual(msgs.map((m) => m.key).sort());
    expect(received.map((r) => r.event)).toEqual(expect.arrayContaining(msgs.map((m) => m.event)));
    expect(h.sandbox.stats()).toMatchObject({ duplicates: 0, rejected: 0, requests: 3 });
    expect(await counter(h.metrics.events, { outcome: 'forwarded', source: 'sendgrid', type: 'email.delivered' })).toBe(
      3,
    );
    expect(await counter(h.metrics.forwardAttempts, { result: 'ok' })).toBe(3);
    expect((await h.metrics.forwardLatency.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(3);

    const forwarded = logsWith(h, 'event forwarded to Distinct');
    expect(forwarded).toHaveLength(3);
    expect(forwarded.every((l) => l.level === 30 && l.attempts === 1)).toBe(true);
    const all = h.rawLogs.join('');
    expect(all).not.toContain(API_KEY);
    expect(all).not.toMatch(/user\d+@/);
    expect(all).not.toContain('4155550100');
  });

  test('wakes up for events enqueued after start', async () => {
    const h = await setup();
    h.forwarder.start();
    await new Promise((r) => setTimeout(r, 20));
    await enqueue(h.queue, [message()]);
    await waitFor('event received', () => h.sandbox.received().length === 1);
  });

  test('500 then success: retried with full-jitter backoff, delivered once', async () => {
    const h = await setup();
    h.sandbox.injectFaults([{ status: 500, message: 'Internal server error.', times: 2 }]);
    await enqueue(h.queue, [message()]);
    h.forwarder.start();
    await waitFor('delivered', () => h.sandbox.received().length === 1);
    await waitFor('settled', async () => (await h.queue.stats()).depth === 0);

    expect(h.sandbox.stats().requests).toBe(3);
    expect(await counter(h.metrics.forwardAttempts, { result: 'transient' })).toBe(2);
    const retries = logsWith(h, 'delivery failed; will retry');
    // random() = 0.5: half of base·2^0 and of base·2^1.
    expect(retries.map((l) => l.retryInMs)).toEqual([2, 5]);
    expect(retries[0]).toMatchObject({ status: 500, error: 'Internal server error.', result: 'transient' });
    expect(logsWith(h, 'event forwarded to Distinct')[0]).toMatchObject({ attempts: 3 });
  });

  test('429 with Retry-After: the retry is scheduled no sooner than Retry-After', async () => {
    const h = await setup({ retry: { maxDelayMs: 5_000 }, random: () => 0 });
    h.sandbox.injectFaults([{ status: 429, message: 'Too many requests.', retryAfter: 1 }]);
    await enqueue(h.queue, [message()]);
    h.forwarder.start();
    await waitFor('delivered', () => h.sandbox.received().length === 1);
    expect(logsWith(h, 'delivery failed; will retry').map((l) => [l.status, l.retryInMs])).toEqual([[429, 1_000]]);
  });

  test('400 Invalid feature/action → dead-lettered invalid_pair at once, with an alert', async () => {
    const h = await setup();
    await enqueue(h.queue, [message({ action: 'clicked' })]);
    h.forwarder.start();
    await waitFor('dead-lettered', async () => (await h.queue.stats()).deadLettered === 1);

    const [dl] = await h.queue.listDeadLetters();
    expect(dl).toMatchObject({ reason: 'invalid_pair', detail: 'HTTP 400: Invalid feature/action.' });
    expect(h.sandbox.stats().requests).toBe(1);
    expect(await counter(h.metrics.events, { outcome: 'dead_lettered', reason: 'invalid_pair' })).toBe(1);
    expect(logsWith(h, 'event dead-lettered')).toEqual([
      expect.objectContaining({ level: 40, reason: 'invalid_pair', alert: true }),
    ]);
  });

  test('400 Invalid experience id → dead-lettered invalid_experience at once', async () => {
    const h = await setup({ sandbox: { experienceIds: ['47Gop5'] } });
    await enqueue(h.queue, [message({ experienceId: 'typo' })]);
    h.forwarder.start();
    await waitFor('dead-lettered', async () => (await h.queue.stats()).deadLettered === 1);
    const [dl] = await h.queue.listDeadLetters();
    expect(dl).toMatchObject({ reason: 'invalid_experience', detail: 'HTTP 400: Invalid experience id.' });
    expect(h.sandbox.stats().requests).toBe(1);
  });

  test('400 User not found → retried on the slow schedule (beyond maxAttempts), then dead-lettered user_not_found', async () => {
    const h = await setup({ sandbox: { knownUserIds: ['u_known'] }, retry: { maxAttempts: 2 } });
    await enqueue(h.queue, [message({ userId: 'u_new' }), message({ userId: 'u_known' })]);
    h.forwarder.start();
    await waitFor('dead-lettered', async () => (await h.queue.stats()).deadLettered === 1);

    const [dl] = await h.queue.listDeadLetters();
    expect(dl?.reason).toBe('user_not_found');
    expect(dl?.detail).toMatch(/^HTTP 400: User not found\. for \d+ ms \(\d+ attempts\)$/);
    const notFound = await counter(h.metrics.forwardAttempts, { result: 'user_not_found' });
    expect(notFound).toBeGreaterThan(2);
    expect(h.sandbox.received().map((r) => r.event.userId)).toEqual(['u_known']);
    const retries = logsWith(h, 'delivery failed; will retry');
    expect(retries.length).toBeGreaterThan(1);
    for (const l of retries) {
      expect(l.result).toBe('user_not_found');
      expect(l.retryInMs).toBeLessThanOrEqual(25);
    }
  });

  test('other answers (418) → dead-lettered unexpected_response with status and message', async () => {
    const h = await setup();
    h.sandbox.injectFaults([{ status: 418, message: "I'm a teapot" }]);
    await enqueue(h.queue, [message()]);
    h.forwarder.start();
    await waitFor('dead-lettered', async () => (await h.queue.stats()).deadLettered === 1);
    expect((await h.queue.listDeadLetters())[0]).toMatchObject({
      reason: 'unexpected_response',
      detail: "HTTP 418: I'm a teapot",
    });
  });

  test('transient failures exhaust maxAttempts → dead-lettered max_attempts', async () => {
    const h = await setup({ retry: { maxAttempts: 3 } });
    h.sandbox.injectFaults([{ status: 503, message: 'busy', times: 3 }]);
    await enqueue(h.queue, [message()]);
    h.forwarder.start();
    await waitFor('dead-lettered', async () => (await h.queue.stats()).deadLettered === 1);
    expect((await h.queue.listDeadLetters())[0]).toMatchObject({
      reason: 'max_attempts',
      detail: '3 attempts; last: HTTP 503: busy',
    });
    expect(h.sandbox.stats().requests).toBe(3);
  });

  test('an event without userId, email or phone is dead-lettered no_identifier without being sent', async () => {
    const h = await setup();
    await enqueue(h.queue, [message({ email: undefined })]);
    h.forwarder.start();
    await waitFor('dead-lettered', async () => (await h.queue.stats()).deadLettered === 1);
    expect((await h.queue.listDeadLetters())[0]?.reason).toBe('no_identifier');
    expect(h.sandbox.stats().requests).toBe(0);
    expect(await counter(h.metrics.forwardAttempts, {})).toBe(0);
  });

  test('401 → circuit opens, events stay queued, readiness fails, probes, resumes when the fault clears; each event delivered once', async () => {
    const h = await setup({ concurrency: 2, probeIntervalMs: 40 });
    h.sandbox.injectFaults([{ status: 401, message: 'Unauthorized.', times: 10_000 }]);
    const msgs = [message(), message(), message(), message(), message()];
    await enqueue(h.queue, msgs);
    h.forwarder.start();

    await waitFor('circuit open', () => h.forwarder.isCircuitOpen());
    const atOpen = h.sandbox.stats().requests;
    expect(h.forwarder.readiness()).toMatchObject({ ready: false, circuitOpen: true });
    expect(await gauge(h.metrics.circuitOpen)).toBe(1);
    await waitFor('two probes while open', () => h.sandbox.stats().requests >= atOpen + 2);
    expect(h.forwarder.isCircuitOpen()).toBe(true);
    const stats = await h.queue.stats();
    expect(stats.depth).toBe(5);
    expect(stats.deadLettered).toBe(0);
    expect(h.sandbox.received()).toHaveLength(0);

    h.sandbox.clearFaults();
    await waitFor('all delivered', () => h.sandbox.received().length === 5);
    await waitFor('settled', async () => (await h.queue.stats()).depth === 0);

    expect(h.forwarder.isCircuitOpen()).toBe(false);
    expect(h.forwarder.readiness()).toMatchObject({ ready: true, circuitOpen: false });
    expect(await gauge(h.metrics.circuitOpen)).toBe(0);
    expect(h.sandbox.stats().duplicates).toBe(0);
    expect(
      h.sandbox
        .received()
        .map((r) => r.idempotencyKey)
        .sort(),
    ).toEqual(msgs.map((m) => m.key).sort());
    // Releases while the circuit was open did not count as attempts.
    expect(logsWith(h, 'event forwarded to Distinct').map((l) => l.attempts)).toEqual([1, 1, 1, 1, 1]);
    // Probes are one at a time: at most the initial in-flight pair answered 401 outside a probe.
    expect(await counter(h.metrics.forwardAttempts, { result: 'unauthorized' })).toBe(h.sandbox.stats().requests - 5);
    const errors = h.logs.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/rejected the API key/);
    expect(logsWith(h, 'Distinct accepted the credentials again: forwarding resumed')).toHaveLength(1);
    expect(h.rawLogs.join('')).not.toContain(API_KEY);
  });

  test('401 → messages claimed ahead go back to the queue at once, attempts unchanged', async () => {
    const h = await setup({ concurrency: 2, probeIntervalMs: 60_000 });
    h.sandbox.injectFaults([{ status: 401, message: 'Unauthorized.', times: 10_000 }]);
    await enqueue(
      h.queue,
      Array.from({ length: 10 }, () => message()),
    );
    h.forwarder.start();
    await waitFor('claimed ahead', async () => (await h.queue.stats()).inFlight > 2);
    await waitFor('circuit open', () => h.forwarder.isCircuitOpen());
    // No probe is due for a minute: nothing may stay leased.
    await waitFor('buffer released', async () => (await h.queue.stats()).inFlight === 0);
    expect(await h.queue.stats()).toMatchObject({ depth: 10, deadLettered: 0 });
    expect(h.forwarder.inFlight).toBe(0);

    h.sandbox.clearFaults();
    await h.forwarder.stop();
    const leases = await h.queue.claim(10);
    expect(leases).toHaveLength(10);
    expect(leases.every((l) => l.attempts === 0)).toBe(true);
  });

  test('network error (server closed) → transient, retried until the server is back', async () => {
    const h = await setup({ retry: { maxAttempts: 1_000 } });
    await h.sandbox.close();
    await enqueue(h.queue, [message()]);
    h.forwarder.start();
    await waitFor(
      'two failed attempts',
      async () => (await counter(h.metrics.forwardAttempts, { result: 'transient' })) >= 2,
    );
    expect(logsWith(h, 'delivery failed; will retry')[0]).toMatchObject({
      status: null,
      error: expect.stringMatching(/ECONNREFUSED/),
    });
    expect((await h.queue.stats()).deadLettered).toBe(0);

    await h.sandbox.listen(h.port, '127.0.0.1');
    await waitFor('delivered', () => h.sandbox.received().length === 1);
  });

  test('never more requests in flight than `concurrency`; claims ahead, but never more than 6 × concurrency leased', async () => {
    const h = await setup({ concurrency: 3, sandbox: { responseDelayMs: 15 } });
    await enqueue(
      h.queue,
      Array.from({ length: 30 }, () => message()),
    );
    h.forwarder.start();
    let maxClaimed = 0;
    let maxSlots = 0;
    await waitFor('all delivered', async () => {
      maxClaimed = Math.max(maxClaimed, (await h.queue.stats()).inFlight);
      maxSlots = Math.max(maxSlots, h.forwarder.inFlight);
      return h.sandbox.received().length === 30;
    });
    expect(h.sandbox.stats().maxConcurrent).toBeLessThanOrEqual(3);
    expect(h.sandbox.stats().maxConcurrent).toBeGreaterThan(1);
    expect(maxSlots).toBeLessThanOrEqual(3);
    // A buffer of claimed messages waits beside the requests in flight, bounded.
    expect(maxClaimed).toBeGreaterThan(3);
    expect(maxClaimed).toBeLessThanOrEqual(18);
    expect(h.sandbox.stats().duplicates).toBe(0);
  });

  test.each([
    ['the sqs driver (a buffered SQS lease could expire)', 'sqs', undefined],
    [
      'a shared key store (its delivery claims could expire)',
      'sqlite',
      { driver: 'dynamodb', table: 'keys', leaseMs: 30_000 },
    ],
  ])('for %s, forwarderFor() claims only for free slots', async (_name, driver, store) => {
    const h = await setup({ concurrency: 3, sandbox: { responseDelayMs: 15 } });
    // The memory queue, reporting itself as the driver under test.
    const sqsLike = new Proxy(h.queue, {
      get(target, prop) {
        if (prop === 'driver') return driver;
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const config = {
      retry: FAST_RETRY,
      circuit: { probeIntervalMs: 50 },
      distinct: { concurrency: 3, ratePerSecond: 0 },
      queue: { driver },
      dedupe: { windowMs: 604_800_000, store },
    } as unknown as AppConfig;
    const forwarder = forwarderFor(config, sqsLike, h.client, createLogger({ level: 'silent' }), h.metrics);
    cleanups.push(() => forwarder.stop());
    await enqueue(
      h.queue,
      Array.from({ length: 30 }, () => message()),
    );
    forwarder.start();
    let maxClaimed = 0;
    await waitFor('all delivered', async () => {
      maxClaimed = Math.max(maxClaimed, (await h.queue.stats()).inFlight);
      return h.sandbox.received().length === 30;
    });
    // In flight, plus delivered ones whose complete waits a moment to share a write (≤ 2 × concurrency);
    // claiming ahead would take 4 × concurrency at the first claim.
    expect(maxClaimed).toBeLessThanOrEqual(9);
    expect(h.sandbox.stats().duplicates).toBe(0);
  });

  test('slow settles fill the lease bound: claims stop at 6 × concurrency and resume as settles finish', async () => {
    const h = await setup({ concurrency: 2 });
    const complete = h.queue.complete.bind(h.queue);
    h.queue.complete = async (lease) => {
      await new Promise((r) => setTimeout(r, 20));
      return complete(lease);
    };
    let maxClaimed = 0;
    await enqueue(
      h.queue,
      Array.from({ length: 40 }, () => message()),
    );
    h.forwarder.start();
    await waitFor('all settled', async () => {
      const { depth, inFlight } = await h.queue.stats();
      maxClaimed = Math.max(maxClaimed, inFlight);
      return depth === 0;
    });
    expect(h.sandbox.received()).toHaveLength(40);
    expect(maxClaimed).toBeLessThanOrEqual(12);
    expect(h.sandbox.stats().duplicates).toBe(0);
  });

  test('stop() lets in-flight POSTs finish and settles them; the rest stays queued for the next start', async () => {
    const h = await setup({ concurrency: 4, sandbox: { responseDelayMs: 100 } });
    const msgs = Array.from({ length: 10 }, () => message());
    await enqueue(h.queue, msgs);
    h.forwarder.start();
    await waitFor('4 requests in flight at the sandbox', () => h.sandbox.stats().inFlight === 4);
    // The others are claimed ahead, waiting for a slot.
    expect((await h.queue.stats()).inFlight).toBeGreaterThan(4);
    await h.forwarder.stop();

    expect(h.sandbox.received()).toHaveLength(4);
    const stats = await h.queue.stats();
    expect(stats).toMatchObject({ depth: 6, inFlight: 0, deadLettered: 0 });
    expect(await counter(h.metrics.events, { outcome: 'forwarded' })).toBe(4);

    h.forwarder.start();
    await waitFor('all delivered', () => h.sandbox.received().length === 10);
    expect(h.sandbox.stats().duplicates).toBe(0);
    expect(
      h.sandbox
        .received()
        .map((r) => r.idempotencyKey)
        .sort(),
    ).toEqual(msgs.map((m) => m.key).sort());
    // Released messages went back untouched: every delivery was a first attempt.
    await waitFor('all settled', () => logsWith(h, 'event forwarded to Distinct').length === 10);
    expect(logsWith(h, 'event forwarded to Distinct').every((l) => l.attempts === 1)).toBe(true);
  });

  test('stop() releases messages claimed but still waiting for a rate-limit token', async () => {
    const h = await setup({ concurrency: 4, ratePerSecond: 1 });
    await enqueue(
      h.queue,
      Array.from({ length: 6 }, () => message()),
    );
    h.forwarder.start();
    await waitFor('first delivered', () => h.sandbox.received().length === 1);
    // All five left are claimed: four hold a slot waiting for a token, one is buffered.
    await waitFor('slots refilled', async () => h.forwarder.inFlight === 4 && (await h.queue.stats()).inFlight === 5);
    await h.forwarder.stop();
    expect(h.sandbox.received()).toHaveLength(1);
    expect(await h.queue.stats()).toMatchObject({ depth: 5, inFlight: 0 });
  });
});

describe('Forwarder when the queue fails', () => {
  test('a claim error is logged once per idle period and delivery resumes', async () => {
    // The real memory queue, with its first two claims failing as a locked database would.
    const real = new MemoryQueue({ dedupeWindowMs: 600_000 });
    let failures = 2;
    const claim = async (limit: number) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('database is locked');
      }
      return real.claim(limit);
    };
    const flaky = new Proxy(real, {
      get(target, prop) {
        if (prop === 'claim') return claim;
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const h = await setup({ queue: flaky, maxIdleMs: 30 });
    await enqueue(real, [message()]);
    h.forwarder.start();
    await waitFor('delivered', () => h.sandbox.received().length === 1);
    expect(h.logs.filter((l) => l.msg === 'forwarder could not claim from the queue; will try again')).toHaveLength(2);
  });
});

describe('Forwarder with the SQLite queue', () => {
  test('stop() in full flow: every POST Distinct accepted is completed, the rest is due again, none is sent twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fwd-sqlite-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const queue = new SqliteQueue({ path: join(dir, 'outbox.db'), dedupeWindowMs: 600_000 });
    const h = await setup({ queue, concurrency: 4, sandbox: { responseDelayMs: 2 } });
    const msgs = Array.from({ length: 60 }, () => message());
    await enqueue(queue, msgs);
    h.forwarder.start();
    await waitFor('some delivered', () => h.sandbox.received().length >= 20);
    await h.forwarder.stop();

    const received = h.sandbox.received().length;
    expect(await counter(h.metrics.events, { outcome: 'forwarded' })).toBe(received);
    expect(await queue.stats()).toMatchObject({ depth: 60 - received, inFlight: 0 });

    h.forwarder.start();
    await waitFor('all delivered', () => h.sandbox.received().length === 60);
    await waitFor('outbox empty', async () => (await queue.stats()).depth === 0);
    expect(h.sandbox.stats().duplicates).toBe(0);
  });

  test('a complete that fails is logged and written again by the forwarder itself; delivery goes on, nothing is re-sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fwd-sqlite-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const queue = new SqliteQueue({ path: join(dir, 'outbox.db'), dedupeWindowMs: 600_000 });
    const complete = queue.complete.bind(queue);
    let failures = 1;
    queue.complete = (lease) => {
      if (failures > 0) {
        failures -= 1;
        return Promise.reject(new Error('disk I/O error'));
      }
      return complete(lease);
    };
    const h = await setup({ queue });
    await enqueue(
      queue,
      Array.from({ length: 8 }, () => message()),
    );
    h.forwarder.start();
    await waitFor('all delivered', () => h.sandbox.received().length === 8);
    await waitFor(
      'all settled, the refused complete too (issue #9 item 11)',
      async () => (await queue.stats()).depth === 0,
    );
    expect(await queue.stats()).toMatchObject({ depth: 0, inFlight: 0 });
    expect(
      logsWith(
        h,
        "forwarder could not record a message's outcome in the queue; retrying the write until the queue takes it",
      ),
    ).toHaveLength(1);
    expect(h.sandbox.received()).toHaveLength(8);
    expect(await counter(h.metrics.events, { outcome: 'forwarded' })).toBe(8);
  });

  test('delivers through a transient failure and leaves the outbox empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fwd-sqlite-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const queue = new SqliteQueue({ path: join(dir, 'outbox.db'), dedupeWindowMs: 600_000 });
    const h = await setup({ queue });
    h.sandbox.injectFaults([{ status: 502, rawBody: '<html>bad gateway</html>' }]);
    const msgs = Array.from({ length: 5 }, () => message());
    await enqueue(queue, msgs);
    h.forwarder.start();
    await waitFor('all delivered', () => h.sandbox.received().length === 5);
    await waitFor('outbox empty', async () => (await queue.stats()).depth === 0);
    expect(logsWith(h, 'delivery failed; will retry')[0]).toMatchObject({
      status: 502,
      error: '<html>bad gateway</html>',
    });
    expect(h.sandbox.stats().duplicates).toBe(0);
    expect((await queue.stats()).deadLettered).toBe(0);
  });
});

describe('DistinctClient against the sandbox', () => {
  test('sends the contract headers; a wrong key is unauthorized', async () => {
    const h = await setup();
    expect(await h.client.send(message().event, 'idem-1')).toMatchObject({
      kind: 'ok',
      status: 200,
      message: 'User analytics added successfully.',
    });
    expect(h.sandbox.received()[0]?.idempotencyKey).toBe('idem-1');
    const wrong = new DistinctClient({ baseUrl: `${h.url}/`, apiKey: 'wrong', timeoutMs: 2_000, concurrency: 1 });
    cleanups.push(() => wrong.close());
    expect(await wrong.send(message().event, 'idem-2')).toEqual({
      kind: 'unauthorized',
      status: 401,
      message: 'Unauthorized.',
    });
  });

  test('a response slower than timeoutMs is a transient timeout', async () => {
    const h = await setup({ timeoutMs: 100 });
    h.sandbox.injectFaults([{ status: 200, delayMs: 1_000 }]);
    const outcome = await h.client.send(message().event, 'slow');
    expect(outcome).toMatchObject({ kind: 'transient', status: null, message: 'timeout after 100 ms' });
  });

  test('a dropped connection is a transient network error', async () => {
    const h = await setup();
    h.sandbox.injectFaults([{ status: 0, destroy: true }]);
    expect(await h.client.send(message().event, 'drop')).toMatchObject({ kind: 'transient', status: null });
  });

  test('Retry-After as an HTTP date', async () => {
    const h = await setup();
    const at = new Date(Date.now() + 60_000).toUTCString();
    h.sandbox.injectFaults([{ status: 503, retryAfter: at }]);
    const outcome = await h.client.send(message().event, 'later');
    expect(outcome.kind).toBe('transient');
    const ms = outcome.kind === 'transient' ? outcome.retryAfterMs : undefined;
    expect(ms).toBeGreaterThan(55_000);
    expect(ms).toBeLessThanOrEqual(60_000);
  });

  test('reuses connections: 25 sequential POSTs, error answers included, stay within the keep-alive pool', async () => {
    const h = await setup({ concurrency: 2 });
    let connections = 0;
    h.sandbox.server.on('connection', () => {
      connections += 1;
    });
    for (let i = 0; i < 20; i += 1) expect((await h.client.send(message().event, `seq-${i}`)).kind).toBe('ok');
    h.sandbox.injectFaults([{ status: 500, times: 5 }]);
    for (let i = 0; i < 5; i += 1) expect((await h.client.send(message().event, `err-${i}`)).kind).toBe('transient');
    // undici may open a second socket while the first response is being finished; never one per request.
    expect(connections).toBeLessThanOrEqual(2);
  });
});
