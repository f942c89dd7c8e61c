/** Builds real configurations, apps and signed requests for integration tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ADAPTERS, getAdapter } from '../../adapters';
import { buildConfig, type AppConfig } from './config';
import type { UnsignedRequest } from '../../src/core/adapter';

export interface TestCredentials {
  [provider: string]: { options: Record<string, unknown>; signer: unknown };
}

/** Throwaway credentials for every adapter. */
export function createTestCredentials(): TestCredentials {
  const out: TestCredentials = {};
  for (const a of ADAPTERS) out[a.name] = a.testing.createCredentials();
  return out;
}

/** A port nothing listens on right now (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function tempDir(prefix = 'dwa-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestConfigOptions {
  creds: TestCredentials;
  baseUrl?: string;
  apiKey?: string;
  queuePath?: string;
  driver?: 'sqlite' | 'memory';
  publicUrl?: string;
  bodyLimit?: string;
  retry?: Record<string, number>;
  circuit?: Record<string, number>;
  /** Extra keys merged into each source. */
  sourceExtras?: Record<string, Record<string, unknown>>;
}

/** The configuration document: one source per adapter, named after it. */
export function testConfigDocument(o: TestConfigOptions): Record<string, unknown> {
  const sources: Record<string, unknown> = {};
  for (const a of ADAPTERS) {
    sources[a.name] = {
      feature: a.channel === 'sms' ? 'registration_sms' : a.channel === 'email' ? 'registration_email' : 'page_visit',
      experienceId: 'exp_test',
      ...o.creds[a.name]!.options,
      ...(o.sourceExtras?.[a.name] ?? {}),
    };
  }
  return {
    distinct: {
      baseUrl: o.baseUrl ?? 'http://127.0.0.1:9',
      apiKey: o.apiKey ?? 'sandbox',
      timeoutMs: 2000,
      concurrency: 8,
    },
    server: {
      port: 0,
      host: '127.0.0.1',
      ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
      ...(o.bodyLimit ? { bodyLimit: o.bodyLimit } : {}),
    },
    queue: { driver: o.driver ?? 'sqlite', path: o.queuePath ?? join(tempDir(), 'outbox.db') },
    retry: { baseDelayMs: 10, maxDelayMs: 200, ...(o.retry ?? {}) },
    circuit: { probeIntervalMs: 100, ...(o.circuit ?? {}) },
    log: { level: 'silent' },
    sources,
  };
}

export function testConfig(o: TestConfigOptions): AppConfig {
  return buildConfig(testConfigDocument(o), {});
}

/** A provider-signed request built from the adapter's own sample, addressed to `url`. */
export function signedSample(
  provider: string,
  creds: TestCredentials,
  url: string,
  opts: { type?: string; recipient?: string; overrides?: Record<string, string>; now?: Date } = {},
): UnsignedRequest {
  const adapter = getAdapter(provider)!;
  const now = opts.now ?? new Date();
  const sample = adapter.testing.sample({
    type: opts.type ?? (adapter.channel === 'app' ? 'app.event' : `${adapter.channel}.delivered`),
    recipient: opts.recipient ?? (adapter.channel === 'sms' ? '+15017250604' : 'jane.doe@example.com'),
    now,
    overrides: opts.overrides ?? {},
  });
  const full = sample.query ? `${url}?${sample.query}` : url;
  return adapter.testing.sign(
    { method: 'POST', url: full, headers: { ...sample.headers }, body: sample.body },
    creds[provider]!.signer,
    now,
  );
}

/** Sign an arbitrary body for a provider. */
export function signBody(
  provider: string,
  creds: TestCredentials,
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  now = new Date(),
): UnsignedRequest {
  return getAdapter(provider)!.testing.sign(
    { method: 'POST', url, headers: { ...headers }, body },
    creds[provider]!.signer,
    now,
  );
}

/** signBody for a JSON body (`content-type: application/json`). */
export function signJson(
  provider: string,
  creds: TestCredentials,
  url: string,
  body: string | Buffer,
  now = new Date(),
): UnsignedRequest {
  return signBody(provider, creds, url, { 'content-type': 'application/json' }, Buffer.from(body), now);
}

/** Polls until `predicate` is true or `timeoutMs` passes. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  stepMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
