/**
 * The HTTP client for Distinct's one endpoint, `POST {baseUrl}/api/v1/user/analytics` (DESIGN §6).
 *
 * It sends one event and classifies the answer into a typed {@link ForwardOutcome}; what to do with
 * the outcome is decided elsewhere (retry-policy.ts). It never throws for an HTTP or network
 * failure: those are outcomes too. Connections are kept alive (undici `Agent`) and every response
 * body is read to its end so the socket goes back to the pool.
 *
 * It talks to the pool through undici's low-level `dispatch` handler rather than `request()`: one
 * small object per POST collects the status, `Retry-After` and the first bytes of the body, with
 * no response stream, AbortSignal or async resource (in bench/forward.js's set-up this alone took
 * the forwarder from ~65 to ~39 µs of CPU per event).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher } from 'undici';
import { ANALYTICS_PATH, classifyResponse, type ForwardOutcome } from '../core/distinct-api';
import type { DistinctEvent } from '../core/distinct-event';

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

/** Bytes of a response body kept for parsing; the rest is read and discarded. */
const MAX_BODY_BYTES = 64 * 1024;

/** Sends events to Distinct over a keep-alive connection pool. */
export class DistinctClient implements DistinctSender {
  private readonly origin: string;
  private readonly path: string;
  private readonly agent: Agent;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly userAgent: string;

  constructor(options: DistinctClientOptions) {
    const url = new URL(`${options.baseUrl.replace(/\/+$/, '')}${ANALYTICS_PATH}`);
    this.origin = url.origin;
    this.path = `${url.pathname}${url.search}`;
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
  send(event: DistinctEvent, idempotencyKey: string): Promise<ForwardOutcome> {
    return new Promise<ForwardOutcome>((resolve) => {
      const exchange = new Exchange(resolve, this.timeoutMs, this.now);
      try {
        this.agent.dispatch(
          {
            origin: this.origin,
            path: this.path,
            method: 'POST',
            headers: [
              'content-type',
              'application/json',
              'x-distinct-api-key',
              this.apiKey,
              'idempotency-key',
              idempotencyKey,
              'user-agent',
              this.userAgent,
            ],
            body: JSON.stringify(event),
          },
          exchange,
        );
      } catch (err) {
        exchange.onResponseError(null, err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Closes pooled connections (waits for requests in flight). */
  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * One POST as undici's dispatch handler (the current controller API: `onRequestStart`,
 * `onResponseStart`, `onResponseData`, `onResponseEnd`, `onResponseError`): collects the answer
 * and resolves once with its outcome. The overall budget is one timer (undici's headers/body
 * timeouts are per phase, this bounds the sum): when it fires the outcome is a timeout at once,
 * and the request is aborted through its controller as soon as undici has handed one over.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private readonly timer: NodeJS.Timeout;
  private controller: Dispatcher.DispatchController | null = null;
  private done = false;
  private status = 0;
  private retryAfter: string | undefined;
  private readonly chunks: Buffer[] = [];
  private kept = 0;

  constructor(
    private readonly resolve: (outcome: ForwardOutcome) => void,
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {
    this.timer = setTimeout(() => this.timeOut(), timeoutMs);
    // Like AbortSignal.timeout: the request itself keeps the process alive, not its deadline.
    this.timer.unref();
  }

  onRequestStart(controller: Dispatcher.DispatchController, _context: unknown): void {
    if (this.done) controller.abort(new Error(`timeout after ${this.timeoutMs} ms`));
    else this.controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    _statusMessage?: string,
  ): void {
    // 1xx answers are interim; the final status follows.
    if (statusCode < 200) return;
    this.status = statusCode;
    const retryAfter = headers['retry-after'];
    // The first one wins.
    this.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Read to the end (so the connection is reused) but keep only the first bytes.
    if (this.kept < MAX_BODY_BYTES) {
      this.chunks.push(chunk.subarray(0, MAX_BODY_BYTES - this.kept));
      this.kept += chunk.length;
    }
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, _trailers: IncomingHttpHeaders): void {
    if (this.done) return;
    this.finish();
    const text =
      this.chunks.length === 1
        ? (this.chunks[0] as Buffer).toString('utf8')
        : Buffer.concat(this.chunks).toString('utf8');
    this.resolve(classifyResponse(this.status, text, this.retryAfter, this.now()));
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    if (this.done) return;
    this.finish();
    if (this.status !== 0) {
      // The status line already arrived and is authoritative; the body is only a hint.
      this.resolve(classifyResponse(this.status, '', this.retryAfter, this.now()));
      return;
    }
    this.resolve({ kind: 'transient', status: null, message: describeNetworkError(err, this.timeoutMs) });
  }

  private timeOut(): void {
    if (this.done) return;
    this.finish();
    const message = `timeout after ${this.timeoutMs} ms`;
    this.controller?.abort(new Error(message));
    // A status line that arrived before the deadline still decides; only the body was late.
    if (this.status !== 0) this.resolve(classifyResponse(this.status, '', this.retryAfter, this.now()));
    else this.resolve({ kind: 'transient', status: null, message });
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.timer);
  }
}

/** undici's own per-phase timeouts; reported like the overall one. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function describeNetworkError(err: unknown, timeoutMs: number): string {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return `timeout after ${timeoutMs} ms`;
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${typeof code === 'string' ? `${code}: ` : ''}${err.message}${cause}`;
  }
  return String(err);
}
