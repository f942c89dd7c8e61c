/**
 * SNS signing keys: preloaded from configuration, cached, or fetched over https from AWS.
 *
 * Trust comes from where the certificate is fetched (TLS to an `sns.<region>.amazonaws.com`
 * host, checked by the caller with `snsUrlProblem`), as in AWS's own validators; the certificate's
 * chain and dates are not checked. Each URL is fetched at most once while cached.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type * as Undici from 'undici';
import { InternalError, WebhookVerificationError } from '../core/errors';

/** An HTTP GET as the SNS code needs it; injectable so tests never touch the network. */
export type SnsFetcher = (url: string) => Promise<{ status: number; body: string }>;

/** SNS's own request timeout is 15 s; a certificate fetch must leave room for the rest. */
const FETCH_TIMEOUT_MS = 5_000;
/** SNS certificates are about 2 KB and confirmation answers smaller still. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** SNS uses a handful of certificates per region; the bound only stops a flood of distinct URLs. */
const MAX_CACHED_KEYS = 256;

/**
 * A PEM certificate (`-----BEGIN CERTIFICATE-----`, as AWS serves it) or a PEM public key
 * (`-----BEGIN PUBLIC KEY-----`) → its RSA public key; null for anything else. Literal `\n` (how
 * PEM often arrives through environment variables) are understood.
 */
export function parseSigningKey(text: string): KeyObject | null {
  const pem = text.trim().replace(/\\n/g, '\n');
  let key: KeyObject;
  try {
    if (pem.startsWith('-----BEGIN CERTIFICATE-----')) key = new X509Certificate(pem).publicKey;
    else if (pem.startsWith('-----BEGIN PUBLIC KEY-----')) key = createPublicKey({ key: pem, format: 'pem' });
    else return null;
  } catch {
    return null;
  }
  return key.asymmetricKeyType === 'rsa' ? key : null;
}

/** The production fetcher: undici GET, no redirects (undici 7 `request` never follows them), bounded time and size. */
export async function httpsGet(url: string): Promise<{ status: number; body: string }> {
  // Loaded on first use: undici is ≈ 40 ms of import, and every process that loads the adapter
  // list (the Lambda cold start above all) would pay it before any SNS message arrives.
  const { request } = require('undici') as typeof Undici;
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  const res = await request(url, {
    method: 'GET',
    signal,
    headersTimeout: FETCH_TIMEOUT_MS,
    bodyTimeout: FETCH_TIMEOUT_MS,
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<unknown>) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > MAX_RESPONSE_BYTES) {
      res.body.destroy();
      throw new Error(`response from ${new URL(url).host} exceeds ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(bytes);
  }
  return { status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') };
}

/**
 * Per-source key store: the `certificates` option first (never fetched), then a bounded cache of
 * fetched keys. Concurrent requests for one URL share one fetch; failures are not cached.
 */
export class SnsCertificateStore {
  private readonly cache = new Map<string, Promise<KeyObject>>();

  constructor(
    private readonly preloaded: ReadonlyMap<string, KeyObject>,
    private readonly maxEntries = MAX_CACHED_KEYS,
  ) {}

  /** Number of fetched keys held (for tests and diagnostics). */
  get cachedCount(): number {
    return this.cache.size;
  }

  /**
   * The key for an already host-checked `SigningCertURL`.
   * @throws WebhookVerificationError `untrusted_certificate` when AWS answers 4xx or serves no RSA key
   * @throws InternalError when the fetch fails or AWS answers 5xx: we answer 500, so SNS retries
   *   (it counts any 2xx–4xx as delivered, so a 401 here would lose the event)
   */
  keyFor(certUrl: string, fetcher: SnsFetcher): Promise<KeyObject> {
    const preloaded = this.preloaded.get(certUrl);
    if (preloaded) return Promise.resolve(preloaded);
    const cached = this.cache.get(certUrl);
    if (cached) return cached;
    const pending = fetchKey(certUrl, fetcher);
    this.cache.set(certUrl, pending);
    pending.catch(() => {
      if (this.cache.get(certUrl) === pending) this.cache.delete(certUrl);
    });
    // Map iterates in insertion order, so the first entry is the oldest.
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return pending;
  }
}

async function fetchKey(certUrl: string, fetcher: SnsFetcher): Promise<KeyObject> {
  let res: { status: number; body: string };
  try {
    res = await fetcher(certUrl);
  } catch (cause) {
    throw new InternalError({ cause: new Error(`could not fetch the SNS signing certificate ${certUrl}`, { cause }) });
  }
  if (res.status >= 400 && res.status < 500) {
    throw new WebhookVerificationError('untrusted_certificate', `SNS SigningCertURL answered ${res.status}`);
  }
  if (res.status !== 200) {
    throw new InternalError({ cause: new Error(`SNS signing certificate ${certUrl} answered ${res.status}`) });
  }
  const key = parseSigningKey(res.body);
  if (!key)
    throw new WebhookVerificationError('untrusted_certificate', 'SNS SigningCertURL did not serve an RSA certificate');
  return key;
}
