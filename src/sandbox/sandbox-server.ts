/**
 * A local Distinct-compatible API (`distinct-adapter sandbox`, DESIGN §5): it enforces DESIGN §6
 * strictly, records what it accepted and shows it on a page, so anyone can run the whole pipeline
 * without a Distinct account. Tests also use it as the real counterpart of the forwarder, with
 * fault injection (`POST /_sandbox/faults`) for 5xx, 429, 401, dropped connections and slowness.
 *
 * Routes:
 * - `POST /api/v1/user/analytics` — the contract endpoint.
 * - `GET /` — the page: accepted events (newest first), rejections with Distinct's message,
 *   pending and recently applied faults; it updates itself (`/_sandbox/page.js` polls
 *   `/_sandbox/state`) without reloading, and falls back to a refresh without JavaScript.
 * - `GET /_sandbox/events` — JSON `{events, duplicates, rejected, rejections, requests, inFlight, maxConcurrent}`;
 *   `DELETE` clears it.
 * - `GET /_sandbox/state?after=<version>` — what the page shows (the last 200 events), or
 *   `{version, unchanged: true}` when nothing changed since `version`.
 * - `POST /_sandbox/faults` — `{"responses":[{"status":500,"message":"…","retryAfter":1,"times":2}]}`
 *   queues the next answers (applied before any validation); `{"delayMs":2000}` without a status
 *   only delays the next answer; `{"destroy":true}` drops the connection. `GET` lists the pending
 *   ones and the recently applied ones, `DELETE` clears the pending ones.
 *   `distinct-adapter sandbox fault` is the same from the command line (docs/sandbox.md).
 *
 * Only the texts DESIGN §6 lists are Distinct's real messages; the format errors are ours.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ANALYTICS_PATH, DISTINCT_MESSAGES } from '../core/distinct-api';
import { DEFAULT_REGISTRY } from '../mapping/default-actions';
import { Registry } from '../mapping/registry';
import { silentLogger } from '../observability/logger';
import { type AppliedFault, defaultMessage, type FaultResponse, groupFaults, parseFaults } from './faults';
import { htmlHeaders, PAGE_EVENTS, PAGE_SCRIPT, renderPage } from './page';
import { validateAnalyticsBody, type ValidationContext } from './validation';

// Part of this module's API: Sandbox.injectFaults takes them, and `sandbox fault` (src/cli) describes them.

export interface SandboxOptions {
  /** The accepted `x-distinct-api-key` (default `sandbox`). */
  apiKey?: string;
  /** Registered feature/action pairs (default: the default registry). */
  registry?: Readonly<Record<string, readonly string[]>>;
  /** Accepted experience ids; undefined accepts any non-empty id. */
  experienceIds?: readonly string[];
  /** Known user ids; undefined accepts any. */
  knownUserIds?: readonly string[];
  /** One line per request. Default: silent. */
  logger?: Logger;
  /** Delay before answering every analytics request (to observe concurrency). */
  responseDelayMs?: number;
  /** Largest accepted body (default 1 MiB). */
  maxBodyBytes?: number;
  /** Clock (ms since epoch) for `receivedAt`. */
  now?: () => number;
}

/** An accepted request. */
export interface ReceivedEvent {
  /** The body as received. */
  event: Record<string, unknown>;
  /** ISO 8601 receipt time. */
  receivedAt: string;
  /** The `idempotency-key` header, or null when absent. */
  idempotencyKey: string | null;
  /** True when this idempotency key had already been accepted. */
  duplicate: boolean;
}

/** A refused request (kept for inspection, newest last, bounded). */
export interface RejectedRequest {
  receivedAt: string;
  status: number;
  message: string;
  idempotencyKey: string | null;
}

export interface SandboxStats {
  /** Analytics requests seen (accepted, rejected or faulted). */
  requests: number;
  /** Accepted requests whose idempotency key had been accepted before. */
  duplicates: number;
  /** Requests refused by validation or authentication (faults not counted). */
  rejected: number;
  /** Analytics requests being handled now. */
  inFlight: number;
  /** Highest number of analytics requests handled at the same time. */
  maxConcurrent: number;
}

export interface Sandbox {
  readonly server: Server;
  /** Starts listening (default 127.0.0.1, port 0 = any); resolves with the base URL. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
  /** Accepted requests, in arrival order. */
  received(): ReceivedEvent[];
  rejections(): RejectedRequest[];
  stats(): SandboxStats;
  /** Forgets events and counters (not faults). */
  clear(): void;
  /** Queues answers, as `POST /_sandbox/faults` does. */
  injectFaults(responses: readonly FaultResponse[]): void;
  clearFaults(): void;
  /** Faults still waiting for a request, in order. */
  pendingFaults(): FaultResponse[];
  /** Faults applied so far (the last 200). */
  appliedFaults(): AppliedFault[];
}

const MAX_REJECTIONS = 200;
const MAX_APPLIED_FAULTS = 200;

/** Builds a sandbox; call `listen()` to serve it. */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const apiKey = options.apiKey ?? 'sandbox';
  const logger = options.logger ?? silentLogger();
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const ctx: ValidationContext = {
    registry: new Registry(options.registry ?? DEFAULT_REGISTRY),
    experienceIds: options.experienceIds ? new Set(options.experienceIds) : undefined,
    knownUserIds: options.knownUserIds ? new Set(options.knownUserIds) : undefined,
  };

  let events: ReceivedEvent[] = [];
  let rejections: RejectedRequest[] = [];
  let seenKeys = new Set<string>();
  let faults: FaultResponse[] = [];
  let applied: AppliedFault[] = [];
  /** Bumped on every change the page shows, so its poll is answered "unchanged" cheaply. */
  let version = 0;
  const stats: SandboxStats = { requests: 0, duplicates: 0, rejected: 0, inFlight: 0, maxConcurrent: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  function clear(): void {
    version += 1;
    events = [];
    rejections = [];
    applied = [];
    seenKeys = new Set();
    Object.assign(stats, { requests: 0, duplicates: 0, rejected: 0, maxConcurrent: stats.inFlight });
  }

  function injectFaults(responses: readonly FaultResponse[]): void {
    version += 1;
    for (const r of responses) {
      const times = r.times ?? 1;
      for (let i = 0; i < times; i += 1) faults.push(r);
    }
  }

  async function handleAnalytics(
    req: IncomingMessage,
    res: ServerResponse,
    raw: Buffer,
  ): Promise<{ status: number; message: string }> {
    const idempotencyKey = headerString(req.headers['idempotency-key']);
    const receivedAt = new Date(now()).toISOString();
    const reject = (status: number, message: string): { status: number; message: string } => {
      version += 1;
      stats.rejected += 1;
      rejections.push({ receivedAt, status, message, idempotencyKey });
      if (rejections.length > MAX_REJECTIONS) rejections.shift();
      sendEnvelope(res, status, message);
      return { status, message };
    };

    const fault = faults.shift();
    if (fault) {
      version += 1;
      const record = (description: string): void => {
        applied.push({ appliedAt: receivedAt, description, idempotencyKey });
        if (applied.length > MAX_APPLIED_FAULTS) applied.shift();
      };
      if (fault.delayMs) await sleep(fault.delayMs);
      if (fault.destroy) {
        record(`connection dropped${fault.delayMs ? ` after ${fault.delayMs} ms` : ''}`);
        req.socket.destroy();
        return { status: 0, message: 'connection dropped (fault)' };
      }
      if (fault.latencyOnly) {
        record(`+${fault.delayMs ?? 0} ms, then answered normally`);
      } else {
        const message = fault.message ?? defaultMessage(fault.status);
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        if (fault.rawBody !== undefined) {
          send(res, fault.status, { ...headers, 'content-type': 'text/plain; charset=utf-8' }, fault.rawBody);
        } else {
          sendEnvelope(res, fault.status, message, headers);
        }
        record(
          `${fault.status} ${fault.rawBody !== undefined ? '(raw body)' : message}${fault.retryAfter !== undefined ? `, Retry-After ${fault.retryAfter}` : ''}${fault.delayMs ? ` after ${fault.delayMs} ms` : ''}`,
        );
        return { status: fault.status, message: `${message} (fault)` };
      }
    }

    if (options.responseDelayMs) await sleep(options.responseDelayMs);

    // Authentication before anything else, like the real API: nothing about the body is revealed.
    if (headerString(req.headers['x-distinct-api-key']) !== apiKey) return reject(401, DISTINCT_MESSAGES.unauthorized);
    const contentType = (headerString(req.headers['content-type']) ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') return reject(400, 'Content-Type must be application/json.');
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return reject(400, 'Body is not valid JSON.');
    }
    const result = validateAnalyticsBody(body, ctx);
    if (!result.ok) return reject(400, result.message);

    const duplicate = idempotencyKey !== null && seenKeys.has(idempotencyKey);
    if (idempotencyKey !== null) seenKeys.add(idempotencyKey);
    if (duplicate) stats.duplicates += 1;
    version += 1;
    events.push({ event: body as Record<string, unknown>, receivedAt, idempotencyKey, duplicate });
    sendEnvelope(res, 200, DISTINCT_MESSAGES.ok);
    return { status: 200, message: DISTINCT_MESSAGES.ok };
  }

  function handleSandboxApi(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): number {
    if (path === '/_sandbox/events') {
      if (req.method === 'GET') {
        sendJson(res, 200, {
          events,
          duplicates: stats.duplicates,
          rejected: stats.rejected,
          rejections,
          ...pickStats(stats),
        });
        return 200;
      }
      if (req.method === 'DELETE') {
        clear();
        sendJson(res, 200, { cleared: true });
        return 200;
      }
    }
    if (path === '/_sandbox/state' && req.method === 'GET') {
      const after = Number(new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('after'));
      if (after === version) {
        sendJson(res, 200, { version, unchanged: true });
        return 200;
      }
      sendJson(res, 200, {
        version,
        events: events.slice(-PAGE_EVENTS).reverse(),
        accepted: events.length,
        rejections: [...rejections].reverse(),
        pendingFaults: groupFaults(faults),
        appliedFaults: [...applied].reverse(),
        stats,
      });
      return 200;
    }
    if (path === '/_sandbox/page.js' && req.method === 'GET') {
      send(
        res,
        200,
        { 'content-type': 'text/javascript; charset=utf-8', 'x-content-type-options': 'nosniff' },
        PAGE_SCRIPT,
      );
      return 200;
    }
    if (path === '/_sandbox/faults') {
      if (req.method === 'GET') {
        sendJson(res, 200, { pending: faults, applied });
        return 200;
      }
      if (req.method === 'DELETE') {
        version += 1;
        faults = [];
        sendJson(res, 200, { cleared: true });
        return 200;
      }
      if (req.method === 'POST') {
        const parsed = parseFaults(raw);
        if (typeof parsed === 'string') {
          sendJson(res, 400, { error: parsed });
          return 400;
        }
        injectFaults(parsed);
        sendJson(res, 200, { queued: faults.length });
        return 200;
      }
    }
    sendEnvelope(res, 404, `Cannot ${req.method ?? 'GET'} ${path}`);
    return 404;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const isAnalytics = path === ANALYTICS_PATH && req.method === 'POST';
    if (isAnalytics) {
      stats.requests += 1;
      stats.inFlight += 1;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.inFlight);
    }
    let outcome: { status: number; message: string };
    try {
      const raw = await readBody(req, maxBodyBytes);
      if (raw === null) {
        sendEnvelope(res, 413, 'Request body too large.');
        outcome = { status: 413, message: 'Request body too large.' };
      } else if (isAnalytics) {
        outcome = await handleAnalytics(req, res, raw);
      } else if (path === '/' && req.method === 'GET') {
        send(res, 200, htmlHeaders(), renderPage(events, rejections, faults, applied, stats));
        outcome = { status: 200, message: 'page' };
      } else {
        outcome = { status: handleSandboxApi(req, res, path, raw), message: '' };
      }
    } catch (err) {
      if (!res.headersSent && !res.destroyed) sendEnvelope(res, 500, DISTINCT_MESSAGES.internal);
      outcome = { status: 500, message: err instanceof Error ? err.message : String(err) };
    } finally {
      if (isAnalytics) stats.inFlight -= 1;
    }
    // Never the headers: they carry the API key.
    logger.info(
      {
        method: req.method,
        path,
        status: outcome.status,
        message: outcome.message || undefined,
        ms: Date.now() - started,
      },
      'sandbox request',
    );
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  return {
    server,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const addr = server.address() as AddressInfo;
          const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve({ port: addr.port, url: `http://${shownHost}:${addr.port}` });
        });
      });
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    received: () => [...events],
    rejections: () => [...rejections],
    stats: () => ({ ...stats }),
    clear,
    injectFaults,
    clearFaults() {
      version += 1;
      faults = [];
    },
    pendingFaults: () => [...faults],
    appliedFaults: () => [...applied],
  };
}

function pickStats(s: SandboxStats): Omit<SandboxStats, 'duplicates' | 'rejected'> {
  return { requests: s.requests, inFlight: s.inFlight, maxConcurrent: s.maxConcurrent };
}

function headerString(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** Reads the body; null when it exceeds `limit` (the rest is drained so the answer can be sent). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify(value));
}

/** Distinct's response envelope. */
function sendEnvelope(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  send(
    res,
    status,
    { ...headers, 'content-type': 'application/json; charset=utf-8' },
    JSON.stringify({ statusCode: status, message, data: null }),
  );
}
