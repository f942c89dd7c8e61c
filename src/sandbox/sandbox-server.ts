/**
 * A local Distinct-compatible API (`distinct-adapter sandbox`, DESIGN §5): it enforces DESIGN §6
 * strictly, records what it accepted and shows it on a page, so anyone can run the whole pipeline
 * without a Distinct account. Tests also use it as the real counterpart of the forwarder, with
 * fault injection (`POST /_sandbox/faults`) for 5xx, 429, 401, dropped connections and slowness.
 *
 * Routes:
 * - `POST /api/v1/user/analytics` — the contract endpoint.
 * - `GET /` — HTML list of accepted events, newest first, refreshing itself.
 * - `GET /_sandbox/events` — JSON `{events, duplicates, rejected, rejections, requests, inFlight, maxConcurrent}`;
 *   `DELETE` clears it.
 * - `POST /_sandbox/faults` — `{"responses":[{"status":500,"message":"…","retryAfter":1,"times":2}]}`
 *   queues the next answers (applied before any validation); `GET` lists, `DELETE` clears them.
 *
 * Only the texts DESIGN §6 lists are Distinct's real messages; the format errors are ours.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DEFAULT_REGISTRY } from '../mapping/default-actions';
import { Registry } from '../mapping/registry';
import { silentLogger } from '../observability/logger';

export const SANDBOX_ANALYTICS_PATH = '/api/v1/user/analytics';

/** Distinct's documented messages (DESIGN §6). */
export const DISTINCT_MESSAGES = {
  ok: 'User analytics added successfully.',
  userNotFound: 'User not found.',
  invalidPair: 'Invalid feature/action.',
  invalidExperience: 'Invalid experience id.',
  unauthorized: 'Unauthorized.',
  internal: 'Internal server error.',
} as const;

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
    return fail('Invalid feature/action.');
  }
  if (typeof b.experienceId !== 'string' || b.experienceId === '' || (ctx.experienceIds && !ctx.experienceIds.has(b.experienceId))) {
    return fail('Invalid experience id.');
  }
  if (b.capturedAt === undefined || b.capturedAt === null || b.capturedAt === '') return fail('"capturedAt" is required.');
  if (typeof b.capturedAt !== 'string' || !isStrictIso8601(b.capturedAt)) {
    return fail('"capturedAt" must be a strict ISO 8601 date-time such as 2026-04-27T13:35:00Z.');
  }
  if (b.metadata !== undefined && (b.metadata === null || typeof b.metadata !== 'object' || Array.isArray(b.metadata))) {
    return fail('"metadata" must be a JSON object.');
  }
  if (typeof b.userId === 'string' && ctx.knownUserIds && !ctx.knownUserIds.has(b.userId)) return fail('User not found.');
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
    events = [];
    rejections = [];
    seenKeys = new Set();
    Object.assign(stats, { requests: 0, duplicates: 0, rejected: 0, maxConcurrent: stats.inFlight });
  }

  function injectFaults(responses: readonly FaultResponse[]): void {
    for (const r of responses) {
      const times = r.times ?? 1;
      for (let i = 0; i < times; i += 1) faults.push(r);
    }
  }

  async function handleAnalytics(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<{ status: number; message: string }> {
    const idempotencyKey = headerString(req.headers['idempotency-key']);
    const receivedAt = new Date(now()).toISOString();
    const reject = (status: number, message: string): { status: number; message: string } => {
      stats.rejected += 1;
      rejections.push({ receivedAt, status, message, idempotencyKey });
      if (rejections.length > MAX_REJECTIONS) rejections.shift();
      sendEnvelope(res, status, message);
      return { status, message };
    };

    const fault = faults.shift();
    if (fault) {
      if (fault.delayMs) await sleep(fault.delayMs);
      if (fault.destroy) {
        req.socket.destroy();
        return { status: 0, message: 'connection dropped (fault)' };
      }
      const message = fault.message ?? defaultMessage(fault.status);
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      if (fault.rawBody !== undefined) {
        send(res, fault.status, { ...headers, 'content-type': 'text/plain; charset=utf-8' }, fault.rawBody);
      } else {
        sendEnvelope(res, fault.status, message, headers);
      }
      return { status: fault.status, message: `${message} (fault)` };
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
    if (path === '/_sandbox/faults') {
      if (req.method === 'GET') {
        sendJson(res, 200, { pending: faults });
        return 200;
      }
      if (req.method === 'DELETE') {
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
    const isAnalytics = path === SANDBOX_ANALYTICS_PATH && req.method === 'POST';
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
        send(res, 200, htmlHeaders(), renderPage(events, stats));
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
      faults = [];
    },
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
    const status = f.status ?? (f.destroy === true ? 0 : undefined);
    if (typeof status !== 'number' || !Number.isInteger(status) || (f.destroy !== true && (status < 100 || status > 599))) {
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
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
  };
}

/** HTML-escapes text for element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function cell(value: unknown): string {
  if (value === undefined) return '<td class="none">—</td>';
  return `<td>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</td>`;
}

function renderPage(events: readonly ReceivedEvent[], stats: SandboxStats): string {
  const rows = [...events]
    .reverse()
    .map((r) => {
      const e = r.event;
      return `<tr${r.duplicate ? ' class="dup"' : ''}>${cell(r.receivedAt)}${cell(`${String(e.feature)} / ${String(e.action)}`)}${cell(e.userId)}${cell(e.email)}${cell(e.phone)}${cell(e.experienceId)}${cell(e.capturedAt)}${cell(e.metadata)}${cell(r.idempotencyKey ?? undefined)}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Distinct sandbox</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top;font-family:ui-monospace,monospace;font-size:12px}tr.dup{background:#fff4d6}.none{color:#aaa}</style>
</head><body>
<h1>Distinct sandbox</h1>
<p>${stats.requests} requests · ${events.length} accepted · ${stats.duplicates} duplicates · ${stats.rejected} rejected · max ${stats.maxConcurrent} concurrent. Newest first; refreshes every 2 s. JSON: <a href="/_sandbox/events">/_sandbox/events</a></p>
<table><thead><tr><th>received</th><th>feature / action</th><th>userId</th><th>email</th><th>phone</th><th>experienceId</th><th>capturedAt</th><th>metadata</th><th>idempotency-key</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="9">Nothing received yet.</td></tr>'}
</tbody></table>
</body></html>
`;
}
