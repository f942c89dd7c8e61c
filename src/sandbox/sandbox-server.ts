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

/** A queued answer, applied before validation. */
export interface FaultResponse {
  status: number;
  /** Goes into `{statusCode, message, data:null}`; default: a generic text for the status. */
  message?: string;
  /** `Retry-After` header: seconds or an HTTP date. */
  retryAfter?: number | string;
  /** How many consecutive requests get this answer (default 1). */
  times?: number;
  /** Wait before answering. */
  delayMs?: number;
  /** Send this text verbatim as the body (text/plain) instead of the JSON envelope. */
  rawBody?: string;
  /** Drop the connection without answering (a network error for the client). */
  destroy?: boolean;
  /** Only delay (`delayMs`), then answer as usual. */
  latencyOnly?: boolean;
}

/** A fault that was applied to a request (kept for the page, newest last, bounded). */
export interface AppliedFault {
  appliedAt: string;
  /** What the client got: `500 Internal server error.`, `connection dropped`, `+2000 ms, then answered normally`. */
  description: string;
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

/** The outcome of validating one analytics request body. */
export type ValidationResult = { ok: true } | { ok: false; message: string };

interface ValidationContext {
  registry: Registry;
  experienceIds?: ReadonlySet<string>;
  knownUserIds?: ReadonlySet<string>;
}

const ALLOWED_FIELDS = new Set(['userId', 'email', 'phone', 'feature', 'action', 'experienceId', 'capturedAt', 'metadata']);
const OPTIONAL_FIELDS = ['userId', 'email', 'phone', 'metadata'] as const;
const E164 = /^\+[1-9]\d{1,14}$/;
const EMAIL = /^[^\s@"<>(),;:\\[\]]+@[^\s@"<>(),;:\\[\]]+\.[A-Za-z]{2,63}$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;
const MAX_REJECTIONS = 200;
const MAX_APPLIED_FAULTS = 200;
/** Events the page shows (the JSON API has them all). */
const PAGE_EVENTS = 200;

/** Validates a parsed body against DESIGN §6; the first problem wins. */
export function validateAnalyticsBody(body: unknown, ctx: ValidationContext): ValidationResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail('Body must be a JSON object.');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!ALLOWED_FIELDS.has(key)) return fail(`Unknown field "${key}".`);
  for (const key of OPTIONAL_FIELDS) {
    if (key in b && (b[key] === null || b[key] === '')) return fail(`"${key}" must be omitted when it has no value, not ${b[key] === null ? 'null' : 'an empty string'}.`);
  }
  if (b.userId === undefined && b.email === undefined && b.phone === undefined) {
    return fail('At least one of userId, email or phone is required.');
  }
  if (b.userId !== undefined && (typeof b.userId !== 'string' || b.userId.trim() === '')) return fail('"userId" must be a non-empty string.');
  if (b.email !== undefined && (typeof b.email !== 'string' || b.email.length > 254 || !EMAIL.test(b.email))) {
    return fail('"email" must be a valid e-mail address.');
  }
  if (b.phone !== undefined && (typeof b.phone !== 'string' || !E164.test(b.phone))) {
    return fail('"phone" must be an E.164 number such as +14155550100 (no spaces).');
  }
  if (typeof b.feature !== 'string' || typeof b.action !== 'string' || ctx.registry.resolve(b.feature, b.action) === null) {
    return fail(DISTINCT_MESSAGES.invalidPair);
  }
  if (typeof b.experienceId !== 'string' || b.experienceId === '' || (ctx.experienceIds && !ctx.experienceIds.has(b.experienceId))) {
    return fail(DISTINCT_MESSAGES.invalidExperience);
  }
  if (b.capturedAt === undefined || b.capturedAt === null || b.capturedAt === '') return fail('"capturedAt" is required.');
  if (typeof b.capturedAt !== 'string' || !isStrictIso8601(b.capturedAt)) {
    return fail('"capturedAt" must be a strict ISO 8601 date-time such as 2026-04-27T13:35:00Z.');
  }
  if (b.metadata !== undefined && (b.metadata === null || typeof b.metadata !== 'object' || Array.isArray(b.metadata))) {
    return fail('"metadata" must be a JSON object.');
  }
  if (typeof b.userId === 'string' && ctx.knownUserIds && !ctx.knownUserIds.has(b.userId)) return fail(DISTINCT_MESSAGES.userNotFound);
  return { ok: true };
}

/** `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` naming a real calendar instant. */
export function isStrictIso8601(value: string): boolean {
  const m = ISO_8601.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return false;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return !Number.isNaN(Date.parse(value));
}

function fail(message: string): ValidationResult {
  return { ok: false, message };
}

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

  async function handleAnalytics(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<{ status: number; message: string }> {
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
        record(`${fault.status} ${fault.rawBody !== undefined ? '(raw body)' : message}${fault.retryAfter !== undefined ? `, Retry-After ${fault.retryAfter}` : ''}${fault.delayMs ? ` after ${fault.delayMs} ms` : ''}`);
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
        sendJson(res, 200, { events, duplicates: stats.duplicates, rejected: stats.rejected, rejections, ...pickStats(stats) });
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
      send(res, 200, { 'content-type': 'text/javascript; charset=utf-8', 'x-content-type-options': 'nosniff' }, PAGE_SCRIPT);
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
    logger.info({ method: req.method, path, status: outcome.status, message: outcome.message || undefined, ms: Date.now() - started }, 'sandbox request');
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

/** Parses `{"responses":[…]}`; returns an error message when it is not that shape. */
function parseFaults(raw: Buffer): FaultResponse[] | string {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    return 'body must be JSON: {"responses":[{"status":500}]}';
  }
  const responses = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>).responses : undefined;
  if (!Array.isArray(responses)) return '"responses" must be an array';
  const out: FaultResponse[] = [];
  for (const [i, r] of responses.entries()) {
    if (r === null || typeof r !== 'object') return `responses[${i}] must be an object`;
    const f = r as Record<string, unknown>;
    const latencyOnly = f.status === undefined && f.destroy !== true && typeof f.delayMs === 'number';
    const status = f.status ?? (f.destroy === true || latencyOnly ? 0 : undefined);
    if (typeof status !== 'number' || !Number.isInteger(status) || (f.destroy !== true && !latencyOnly && (status < 100 || status > 599))) {
      return `responses[${i}].status must be an HTTP status code`;
    }
    if (f.message !== undefined && typeof f.message !== 'string') return `responses[${i}].message must be a string`;
    if (f.retryAfter !== undefined && typeof f.retryAfter !== 'number' && typeof f.retryAfter !== 'string') {
      return `responses[${i}].retryAfter must be seconds or an HTTP date`;
    }
    if (f.times !== undefined && (typeof f.times !== 'number' || !Number.isInteger(f.times) || f.times < 1 || f.times > 10_000)) {
      return `responses[${i}].times must be an integer from 1 to 10000`;
    }
    if (f.delayMs !== undefined && (typeof f.delayMs !== 'number' || f.delayMs < 0 || f.delayMs > 600_000)) {
      return `responses[${i}].delayMs must be 0..600000`;
    }
    if (f.rawBody !== undefined && typeof f.rawBody !== 'string') return `responses[${i}].rawBody must be a string`;
    out.push({
      status,
      message: f.message as string | undefined,
      retryAfter: f.retryAfter as number | string | undefined,
      times: f.times as number | undefined,
      delayMs: f.delayMs as number | undefined,
      rawBody: f.rawBody as string | undefined,
      destroy: f.destroy === true,
      ...(latencyOnly ? { latencyOnly: true } : {}),
    });
  }
  return out;
}

function defaultMessage(status: number): string {
  if (status === 200) return DISTINCT_MESSAGES.ok;
  if (status === 401) return DISTINCT_MESSAGES.unauthorized;
  if (status === 403) return 'Forbidden.';
  if (status === 429) return 'Too many requests.';
  if (status >= 500) return DISTINCT_MESSAGES.internal;
  return `HTTP ${status}`;
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
function sendEnvelope(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  send(res, status, { ...headers, 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ statusCode: status, message, data: null }));
}

function htmlHeaders(): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    // Security: recorded events are attacker-controlled text; escaping plus a CSP without scripts.
    // The page script is a separate same-origin file (no inline script) that only fetches /_sandbox/state.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'",
    'x-content-type-options': 'nosniff',
  };
}

/** HTML-escapes text for element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function cell(value: unknown, cls?: string): string {
  if (value === undefined) return '<td class="none">—</td>';
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 1);
  return `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</td>`;
}

/** A fault, as the page and `sandbox fault --list` describe it. */
export function describeFault(f: FaultResponse): string {
  const delay = f.delayMs ? ` after ${f.delayMs} ms` : '';
  if (f.destroy) return `drop the connection${delay}`;
  if (f.latencyOnly) return `+${f.delayMs ?? 0} ms, then answer normally`;
  const body = f.rawBody !== undefined ? ' (raw body)' : ` ${f.message ?? defaultMessage(f.status)}`;
  return `${f.status}${body}${f.retryAfter !== undefined ? `, Retry-After ${f.retryAfter}` : ''}${delay}`;
}

/** Consecutive identical pending faults as one line with a count (they are stored one per request). */
export function groupFaults(faults: readonly FaultResponse[]): Array<{ description: string; times: number }> {
  const out: Array<{ description: string; times: number }> = [];
  for (const f of faults) {
    const description = describeFault(f);
    const last = out[out.length - 1];
    if (last && last.description === description) last.times += 1;
    else out.push({ description, times: 1 });
  }
  return out;
}

const EMPTY_STATE =
  'Nothing received yet. Start the adapter on its development defaults (npm start, i.e. distinct-adapter serve --dev), ' +
  'then send a signed sample webhook: npx distinct-adapter simulate twilio (or sendgrid, mailgun, … any source). ' +
  'The adapter forwards it here within a second.';

function renderPage(
  events: readonly ReceivedEvent[],
  rejections: readonly RejectedRequest[],
  faults: readonly FaultResponse[],
  applied: readonly AppliedFault[],
  stats: SandboxStats,
): string {
  const eventRows = events
    .slice(-PAGE_EVENTS)
    .reverse()
    .map((r) => {
      const e = r.event;
      return `<tr${r.duplicate ? ' class="dup"' : ''}>${cell(r.receivedAt)}${cell(`${String(e.feature)} / ${String(e.action)}`)}${cell(e.userId)}${cell(e.email)}${cell(e.phone)}${cell(e.experienceId)}${cell(e.capturedAt)}${cell(e.metadata, 'meta')}${cell(r.idempotencyKey ?? undefined)}</tr>`;
    })
    .join('\n');
  const rejectionRows = [...rejections]
    .reverse()
    .map((r) => `<tr>${cell(r.receivedAt)}${cell(String(r.status))}${cell(r.message)}${cell(r.idempotencyKey ?? undefined)}</tr>`)
    .join('\n');
  const pendingItems = groupFaults(faults)
    .map((g) => `<li>${escapeHtml(g.description)}${g.times > 1 ? ` × ${g.times}` : ''}</li>`)
    .join('');
  const appliedRows = [...applied]
    .reverse()
    .map((a) => `<tr>${cell(a.appliedAt)}${cell(a.description)}${cell(a.idempotencyKey ?? undefined)}</tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<noscript><meta http-equiv="refresh" content="5"></noscript>
<title>Distinct sandbox</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem;max-width:100rem}table{border-collapse:collapse;width:100%;table-layout:auto}td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top;font-family:ui-monospace,monospace;font-size:12px}td{overflow-wrap:anywhere}td.meta{white-space:pre-wrap;word-break:break-word;max-width:28rem}tr.dup{background:#fff4d6}.none{color:#aaa}h2{font-size:1.05rem;margin-top:1.5rem}code{background:#f3f3f3;padding:0 3px}.empty{color:#555}</style>
</head><body>
<h1>Distinct sandbox</h1>
<p id="stats">${stats.requests} requests · ${events.length} accepted · ${stats.duplicates} duplicates · ${stats.rejected} rejected · max ${stats.maxConcurrent} concurrent. Updates by itself. JSON: <a href="/_sandbox/events">/_sandbox/events</a></p>
<h2>Faults</h2>
<p>Pending (applied to the next requests, in order):</p>
<ul id="pending-faults">${pendingItems || '<li class="none">none — inject with <code>distinct-adapter sandbox fault --status 500 --times 3</code>, <code>--latency 2000</code> or <code>--drop</code></li>'}</ul>
<table><thead><tr><th>applied</th><th>answer</th><th>idempotency-key</th></tr></thead>
<tbody id="applied-faults">
${appliedRows || '<tr><td colspan="3" class="none">No fault applied yet.</td></tr>'}
</tbody></table>
<h2>Accepted events (newest first, last ${PAGE_EVENTS})</h2>
<table><thead><tr><th>received</th><th>feature / action</th><th>userId</th><th>email</th><th>phone</th><th>experienceId</th><th>capturedAt</th><th>metadata</th><th>idempotency-key</th></tr></thead>
<tbody id="events">
${eventRows || `<tr><td colspan="9" class="empty">${escapeHtml(EMPTY_STATE)}</td></tr>`}
</tbody></table>
<h2>Rejected (Distinct's answer)</h2>
<table><thead><tr><th>received</th><th>status</th><th>message</th><th>idempotency-key</th></tr></thead>
<tbody id="rejections">
${rejectionRows || '<tr><td colspan="4" class="none">Nothing rejected.</td></tr>'}
</tbody></table>
<script src="/_sandbox/page.js"></script>
</body></html>
`;
}

/**
 * The page's script: polls /_sandbox/state and redraws the tables in place. Builds DOM nodes with
 * textContent only (recorded events are attacker-controlled text), so the CSP needs no inline script.
 */
const PAGE_SCRIPT = `'use strict';
(function () {
  var version = -1;
  var EMPTY = ${JSON.stringify(EMPTY_STATE)};
  function td(value, cls) {
    var c = document.createElement('td');
    if (value === undefined || value === null) { c.className = 'none'; c.textContent = '\\u2014'; return c; }
    c.textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 1);
    if (cls) c.className = cls;
    return c;
  }
  function fill(id, rows, cols, empty, emptyClass) {
    var body = document.getElementById(id);
    var frag = document.createDocumentFragment();
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var c = document.createElement('td');
      c.colSpan = cols; c.className = emptyClass || 'none'; c.textContent = empty;
      tr.appendChild(c); frag.appendChild(tr);
    }
    rows.forEach(function (cells) {
      var tr = document.createElement('tr');
      if (cells.dup) tr.className = 'dup';
      cells.forEach(function (x) { tr.appendChild(x); });
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
  }
  function render(s) {
    var st = s.stats;
    document.getElementById('stats').firstChild.textContent = st.requests + ' requests \\u00b7 ' + s.accepted + ' accepted \\u00b7 ' + st.duplicates +
      ' duplicates \\u00b7 ' + st.rejected + ' rejected \\u00b7 max ' + st.maxConcurrent + ' concurrent. Updates by itself. JSON: ';
    fill('events', s.events.map(function (r) {
      var e = r.event;
      var row = [td(r.receivedAt), td(String(e.feature) + ' / ' + String(e.action)), td(e.userId), td(e.email), td(e.phone),
        td(e.experienceId), td(e.capturedAt), td(e.metadata, 'meta'), td(r.idempotencyKey)];
      row.dup = r.duplicate;
      return row;
    }), 9, EMPTY, 'empty');
    fill('rejections', s.rejections.map(function (r) { return [td(r.receivedAt), td(String(r.status)), td(r.message), td(r.idempotencyKey)]; }), 4, 'Nothing rejected.');
    fill('applied-faults', s.appliedFaults.map(function (a) { return [td(a.appliedAt), td(a.description), td(a.idempotencyKey)]; }), 3, 'No fault applied yet.');
    var list = document.getElementById('pending-faults');
    var frag = document.createDocumentFragment();
    s.pendingFaults.forEach(function (g) {
      var li = document.createElement('li');
      li.textContent = g.description + (g.times > 1 ? ' \\u00d7 ' + g.times : '');
      frag.appendChild(li);
    });
    if (s.pendingFaults.length === 0) {
      var li = document.createElement('li'); li.className = 'none';
      li.textContent = 'none \\u2014 inject with: distinct-adapter sandbox fault --status 500 --times 3 (or --latency 2000, --drop)';
      frag.appendChild(li);
    }
    list.replaceChildren(frag);
  }
  function poll() {
    fetch('/_sandbox/state?after=' + version, { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (s) { if (!s.unchanged) render(s); version = s.version; })
      .catch(function () {})
      .then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
`;
