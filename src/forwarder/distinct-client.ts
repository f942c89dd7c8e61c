/**
 * The HTTP client for Distinct's one endpoint, `POST {baseUrl}/api/v1/user/analytics` (DESIGN §6).
 *
 * It sends one event and classifies the answer into a typed {@link ForwardOutcome}; what to do with
 * the outcome is decided elsewhere (retry-policy.ts). It never throws for an HTTP or network
 * failure: those are outcomes too. Connections are kept alive (undici `Agent`) and every response
 * body is read to its end so the socket goes back to the pool.
 */
import { Agent, request } from 'undici';
import type { AppConfig } from '../config/load';
import type { DistinctEvent } from '../core/distinct-event';

/** The path Distinct documents; appended to `distinct.baseUrl`. */
export const ANALYTICS_PATH = '/api/v1/user/analytics';

/** How a POST ended, as far as the forwarder cares. */
export type ForwardResult =
  | 'ok'
  | 'user_not_found'
  | 'invalid_pair'
  | 'invalid_experience'
  | 'unauthorized'
  | 'transient'
  | 'unexpected';

/** The classified answer to one POST. `message` is Distinct's message (or a description of the failure). */
export type ForwardOutcome =
  | { kind: 'ok'; status: number; message: string }
  | { kind: 'user_not_found' | 'invalid_pair' | 'invalid_experience'; status: number; message: string }
  | { kind: 'unauthorized'; status: number; message: string }
  /** `status` is null for timeouts and network errors; `retryAfterMs` comes from `Retry-After`. */
  | { kind: 'transient'; status: number | null; message: string; retryAfterMs?: number }
  | { kind: 'unexpected'; status: number; message: string };

/** Anything that can deliver one event (the real client, or a stand-in in benchmarks). */
export interface DistinctSender {
  /** POSTs `event` with `idempotencyKey` (the queue message key); never rejects. */
  send(event: DistinctEvent, idempotencyKey: string): Promise<ForwardOutcome>;
}

export interface DistinctClientOptions {
  /** `distinct.baseUrl`, e.g. `https://api.distinct.so` (a path prefix is kept). */
  baseUrl: string;
  /** `distinct.apiKey`; sent as `x-distinct-api-key`, never logged. */
  apiKey: string;
  /** Whole-request budget: connect, headers and body. */
  timeoutMs: number;
  /** Maximum open connections; match the forwarder's concurrency. */
  concurrency: number;
  /** Clock for `Retry-After` HTTP dates (ms since epoch). */
  now?: () => number;
  userAgent?: string;
}

/** Longest message kept from a body that is not the documented JSON shape. */
const MAX_TEXT_MESSAGE = 200;
/** Bytes of a response body kept for parsing; the rest is read and discarded. */
const MAX_BODY_BYTES = 64 * 1024;

const HTTP_DATE_MONTH = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b/i;

/** Distinct's documented 400 messages, compared case-insensitively without the trailing dot. */
const KNOWN_400: ReadonlyArray<readonly [string, 'user_not_found' | 'invalid_pair' | 'invalid_experience']> = [
  ['user not found', 'user_not_found'],
  ['invalid feature/action', 'invalid_pair'],
  ['invalid experience id', 'invalid_experience'],
];

/** Sends events to Distinct over a keep-alive connection pool. */
export class DistinctClient implements DistinctSender {
  private readonly url: string;
  private readonly agent: Agent;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly userAgent: string;

  constructor(options: DistinctClientOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}${ANALYTICS_PATH}`;
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs;
    this.now = options.now ?? Date.now;
    this.userAgent = options.userAgent ?? 'distinct-webhook-adapter';
    this.agent = new Agent({
      connections: options.concurrency,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs },
    });
  }

  /** POSTs one event; every failure comes back as an outcome, never as a rejection. */
  async send(event: DistinctEvent, idempotencyKey: string): Promise<ForwardOutcome> {
    // The overall budget: undici's headers/body timeouts are per phase, this bounds the sum.
    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let retryAfter: string | undefined;
    let text: string;
    try {
      const res = await request(this.url, {
        dispatcher: this.agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-distinct-api-key': this.apiKey,
          'idempotency-key': idempotencyKey,
          'user-agent': this.userAgent,
        },
        body: JSON.stringify(event),
        signal,
      });
      status = res.statusCode;
      retryAfter = headerValue(res.headers['retry-after']);
      try {
        text = await readCapped(res.body);
      } catch {
        // The status line already arrived and is authoritative; the body is only a hint.
        text = '';
      }
    } catch (err) {
      return { kind: 'transient', status: null, message: describeNetworkError(err, signal, this.timeoutMs) };
    }
    return classifyResponse(status, text, retryAfter, this.now());
  }

  /** Closes pooled connections (waits for requests in flight). */
  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Maps a status, body text and `Retry-After` header onto an outcome (DESIGN §6 table). */
export function classifyResponse(status: number, body: string, retryAfter: string | undefined, now: number): ForwardOutcome {
  const message = extractMessage(body);
  if (status === 200) return { kind: 'ok', status, message };
  if (status === 400) {
    const normalized = message.trim().toLowerCase().replace(/\.+$/, '');
    for (const [text, kind] of KNOWN_400) if (normalized === text) return { kind, status, message };
    return { kind: 'unexpected', status, message };
  }
  if (status === 401 || status === 403) return { kind: 'unauthorized', status, message };
  // 408 is a timeout reported by an intermediary: the same thing as our own timeout.
  if (status === 429 || status === 408 || (status >= 500 && status <= 599)) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return retryAfterMs === undefined
      ? { kind: 'transient', status, message }
      : { kind: 'transient', status, message, retryAfterMs };
  }
  return { kind: 'unexpected', status, message };
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds (`120`, tolerating a fraction) or an
 * HTTP date. Undefined when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // An HTTP date always names its month; Date.parse alone is lenient enough to read "-5" as a year.
  if (!HTTP_DATE_MONTH.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Distinct's `{statusCode, message, data}` message, read defensively; else the start of the text. */
export function extractMessage(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body.slice(0, MAX_TEXT_MESSAGE);
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const message: unknown = (parsed as Record<string, unknown>).message;
    if (typeof message === 'string') return message;
    // Framework validation errors sometimes carry a list of messages.
    if (Array.isArray(message) && message.every((m): m is string => typeof m === 'string')) return message.join('; ');
  }
  return body.slice(0, MAX_TEXT_MESSAGE);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Reads the whole body (so the connection is reused) but keeps only the first bytes. */
async function readCapped(body: AsyncIterable<Buffer | Uint8Array | string>): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of body) {
    if (kept >= MAX_BODY_BYTES) continue;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    chunks.push(buf.subarray(0, MAX_BODY_BYTES - kept));
    kept += buf.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** undici's own per-phase timeouts; reported like the overall one. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function describeNetworkError(err: unknown, signal: AbortSignal, timeoutMs: number): string {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  if (signal.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code))) return `timeout after ${timeoutMs} ms`;
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${typeof code === 'string' ? `${code}: ` : ''}${err.message}${cause}`;
  }
  return String(err);
}

/** A keep-alive client for `config.distinct` (`serve`, `forward`, the SQS Lambda). */
export function distinctClientFor(config: AppConfig): DistinctClient {
  const { baseUrl, apiKey, timeoutMs, concurrency } = config.distinct;
  return new DistinctClient({ baseUrl, apiKey, timeoutMs, concurrency });
}
