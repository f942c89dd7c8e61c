/**
 * The operator console (`GET /console` on `serve`; DESIGN §5): one self-contained page (page.ts)
 * and the JSON/SSE endpoints it reads, mounted by express-app.ts after every webhook and probe
 * route.
 *
 * - Off unless `console.enabled: true`, and then behind `console.basicAuth` (compared in constant
 *   time; a 401 carries `WWW-Authenticate: Basic`). `serve --dev` without credentials answers
 *   loopback clients only, and only when they name a loopback host (no DNS rebinding).
 * - Cross-site requests: every POST needs the per-process token the page carries (header
 *   `X-Console-Token`, a custom header a cross-site form cannot send and a cross-site script
 *   cannot send without a CORS preflight nobody answers), a JSON body, and an `Origin` /
 *   `Sec-Fetch-Site` that say same origin when the browser sends them. The page forbids framing
 *   and loads nothing from elsewhere (CSP with a per-response nonce).
 * - No personal data leaves unmasked: recipients and identifiers are masked, strings redacted
 *   (src/observability/activity.ts, logger.ts's `redactPii`).
 * - Live updates: Server-Sent Events (`/console/api/events`), one shared timer for every viewer;
 *   close() ends the streams so shutdown is not held up.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { DEAD_LETTER_REASONS } from '../core/distinct-event';
import { type Activity, maskedEvent, maskedProviderEvent, maskedRecipient } from '../observability/activity';
import { type Logger, redactPii } from '../observability/logger';
import type { StatusDocument } from '../observability/status-document';
import type { DeadLetter, Queue } from '../queue/queue';
import { consolePage } from './page';

/** Who may use the console. */
export interface ConsoleAccess {
  /** `user:pass`; required unless `loopbackOnly`. */
  basicAuth?: string;
  /** `serve --dev` without credentials: loopback clients only. */
  loopbackOnly?: boolean;
}

export interface ConsoleDeps {
  queue: Queue;
  activity: Activity;
  status: () => Promise<StatusDocument>;
  access: ConsoleAccess;
  logger: Logger;
  /** Configured source ids (filters). */
  sources: readonly string[];
  /** Live-update period in ms (default 1000). */
  intervalMs?: number;
}

export interface OperatorConsole {
  router: Router;
  /** Ends the live-update streams (shutdown). */
  close(): void;
}

/** Dead letters one replay or purge acts on at most; the page says when more matched. */
export const MAX_ACTION = 5000;
/** Dead letters one list answer holds at most. */
const MAX_LIST = 200;
const REALM = 'Basic realm="distinct-adapter console", charset="UTF-8"';

export function createConsole(deps: ConsoleDeps): OperatorConsole {
  const token = randomBytes(24).toString('base64url');
  const router = express.Router();
  const streams = new Set<Response>();
  let timer: NodeJS.Timeout | null = null;

  router.use(securityHeaders);
  router.use(authenticate(deps.access));

  router.get('/', (_req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.set('content-security-policy', csp(nonce));
    res
      .type('html')
      .send(consolePage({ token, nonce, reasons: Object.keys(DEAD_LETTER_REASONS), sources: deps.sources }));
  });

  router.get('/api/state', async (_req, res) => {
    res.json(await state(deps));
  });

  router.get('/api/events', (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    streams.add(res);
    req.on('close', () => {
      streams.delete(res);
      if (streams.size === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    });
    void push([res]);
    timer ??= setInterval(() => void push([...streams]), deps.intervalMs ?? 1000);
  });

  router.get('/api/dead-letters', async (req, res) => {
    const reason = stringParam(req.query.reason);
    const source = stringParam(req.query.source);
    const { items, more } = await select(deps.queue, { reason, source }, MAX_LIST);
    res.json({ items: items.map(summaryOf), more });
  });

  router.get('/api/dead-letters/:id', async (req, res) => {
    const [letter] = await deps.queue.listDeadLetters({ id: String(req.params.id), limit: 1 });
    if (!letter) {
      res.status(404).json({ error: 'ERR_NOT_FOUND', message: 'no dead letter with this id (replayed or purged?)' });
      return;
    }
    res.json({
      ...summaryOf(letter),
      detail: redactPii(letter.detail),
      key: letter.message.key,
      provider: letter.message.provider,
      receivedAt: new Date(letter.message.receivedAt).toISOString(),
      reasonMeaning: (DEAD_LETTER_REASONS as Record<string, string>)[letter.reason] ?? null,
      event: maskedEvent(letter.message.event),
      // Ingest-time dead letters keep what the provider sent (src/queue/provider-event.ts).
      ...(letter.message.raw !== undefined ? { providerEvent: maskedProviderEvent(letter.message.raw) } : {}),
    });
  });

  const action = express.Router();
  action.use(sameOrigin(token), express.json({ limit: '64kb', type: () => true }));
  action.post('/replay', async (req, res) => {
    const filter = actionFilter(req, res);
    if (!filter) return;
    const { items, more } = await select(deps.queue, filter, MAX_ACTION);
    // One write each, issued together: the SQLite queue commits them in one transaction.
    const moved = await Promise.all(items.map((d) => deps.queue.replayDeadLetters({ id: d.id })));
    const replayed = items.filter((_d, i) => (moved[i] ?? 0) > 0);
    const progress = deps.activity.watchReplay(replayed.map((d) => d.message.key));
    deps.logger.info(
      { replayed: replayed.length, reason: filter.reason, source: filter.source, ids: filter.ids?.length },
      'dead letters replayed from the console',
    );
    res.json({ replayed: replayed.length, more, replay: progress });
  });
  action.post('/purge', async (req, res) => {
    const filter = actionFilter(req, res);
    if (!filter) return;
    const { items, more } = await select(deps.queue, filter, MAX_ACTION);
    const removed = await Promise.all(items.map((d) => deps.queue.purgeDeadLetters({ id: d.id })));
    const purged = removed.reduce((a, b) => a + b, 0);
    deps.logger.warn(
      { purged, reason: filter.reason, source: filter.source, ids: filter.ids?.length },
      'dead letters purged from the console',
    );
    res.json({ purged, more });
  });
  router.use('/api/dead-letters', action);

  router.use((_req, res) => {
    res.status(404).json({ error: 'ERR_NOT_FOUND', message: 'no such console route' });
  });

  async function push(targets: Response[]): Promise<void> {
    if (targets.length === 0) return;
    let text: string;
    try {
      text = `data: ${JSON.stringify(await state(deps))}\n\n`;
    } catch (err) {
      deps.logger.warn({ err }, 'console could not read the state');
      text = `event: failure\ndata: ${JSON.stringify({ message: 'could not read the queue' })}\n\n`;
    }
    for (const res of targets) if (!res.writableEnded && !res.destroyed) res.write(text);
  }

  return {
    router,
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}

/** What the page renders on every update. */
async function state(deps: ConsoleDeps): Promise<Record<string, unknown>> {
  return { status: await deps.status(), recent: deps.activity.recentDeliveries(), replays: deps.activity.replays() };
}

interface Selection {
  reason?: string;
  source?: string;
  ids?: string[];
}

/** Dead letters matching a selection, newest first, at most `limit` (`more`: some were left out). */
async function select(queue: Queue, filter: Selection, limit: number): Promise<{ items: DeadLetter[]; more: boolean }> {
  if (filter.ids) {
    const found = await Promise.all(filter.ids.slice(0, limit).map((id) => queue.listDeadLetters({ id, limit: 1 })));
    return { items: found.flat(), more: filter.ids.length > limit };
  }
  if (filter.source === undefined) {
    const items = await queue.listDeadLetters({ reason: filter.reason, limit: limit + 1 });
    return { items: items.slice(0, limit), more: items.length > limit };
  }
  // The queue filters by reason; the source is inside the stored message, so a bounded number
  // of the newest are read and filtered here (`more` says when that may have left some out).
  const scan = Math.min(MAX_ACTION * 4, limit * 10);
  const scanned = await queue.listDeadLetters({ reason: filter.reason, limit: scan });
  const items = scanned.filter((d) => d.message.source === filter.source);
  return { items: items.slice(0, limit), more: items.length > limit || scanned.length === scan };
}

function summaryOf(d: DeadLetter): Record<string, unknown> {
  const { message } = d;
  return {
    id: d.id,
    reason: d.reason,
    detail: redactPii(d.detail).slice(0, 200),
    attempts: d.attempts,
    deadLetteredAt: new Date(d.deadLetteredAt).toISOString(),
    source: message.source,
    type: message.type,
    pair: `${message.event.feature}/${message.event.action}`,
    recipient: maskedRecipient(message.event),
  };
}

/** The selection of a replay/purge body; answers 400 itself when the body is not acceptable. */
function actionFilter(req: Request, res: Response): Selection | null {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const bad = (message: string): null => {
    res.status(400).json({ error: 'ERR_CONSOLE_REQUEST', message });
    return null;
  };
  if (body.confirm !== true) return bad('"confirm": true is required');
  const filter: Selection = {};
  if (body.reason !== undefined) {
    if (typeof body.reason !== 'string' || !Object.hasOwn(DEAD_LETTER_REASONS, body.reason))
      return bad('unknown reason');
    filter.reason = body.reason;
  }
  if (body.source !== undefined) {
    if (typeof body.source !== 'string' || body.source === '') return bad('source must be a source id');
    filter.source = body.source;
  }
  if (body.ids !== undefined) {
    if (
      !Array.isArray(body.ids) ||
      body.ids.length === 0 ||
      !body.ids.every((id) => typeof id === 'string' && /^[\w.:-]{1,200}$/.test(id))
    ) {
      return bad('ids must be a non-empty list of dead-letter ids');
    }
    filter.ids = body.ids as string[];
  }
  if (body.all !== true && filter.ids === undefined && filter.reason === undefined && filter.source === undefined) {
    return bad('name ids, a reason or a source, or pass "all": true');
  }
  return filter;
}

function stringParam(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  });
  next();
}

function csp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Basic auth in constant time, or loopback only (`serve --dev`). */
function authenticate(access: ConsoleAccess): (req: Request, res: Response, next: NextFunction) => void {
  const expected = access.basicAuth === undefined ? null : digest(access.basicAuth);
  return (req, res, next) => {
    if (expected === null) {
      // The Host check keeps a web page that rebinds its own name to 127.0.0.1 out (DNS rebinding).
      if (access.loopbackOnly && isLoopback(req.socket.remoteAddress) && isLoopbackHost(req.headers.host)) {
        next();
        return;
      }
      res.status(403).json({
        error: 'ERR_CONSOLE_FORBIDDEN',
        message: 'the console without credentials (serve --dev) answers loopback clients only',
      });
      return;
    }
    const header = req.headers.authorization ?? '';
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
    const given = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    // Digests of equal length whatever was sent: the comparison takes the same time.
    if (match && timingSafeEqual(digest(given), expected)) {
      next();
      return;
    }
    res.set('www-authenticate', REALM);
    res
      .status(401)
      .json({ error: 'ERR_CONSOLE_UNAUTHORIZED', message: 'the console needs the credentials of console.basicAuth' });
  };
}

/** `Host` names this machine by a loopback name or address (any port). */
function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Cross-site request protection for POSTs (see the file header). */
function sameOrigin(token: string): (req: Request, res: Response, next: NextFunction) => void {
  const expected = digest(token);
  return (req, res, next) => {
    const refuse = (message: string): void => {
      res.status(403).json({ error: 'ERR_CONSOLE_CSRF', message });
    };
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return refuse('cross-site request refused');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let host: string;
      try {
        host = new URL(origin).host;
      } catch {
        return refuse('bad Origin');
      }
      if (host !== req.headers.host) return refuse('cross-origin request refused');
    } else if (origin === 'null') {
      return refuse('opaque origin refused');
    }
    const given = req.headers['x-console-token'];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected))
      return refuse('missing or wrong X-Console-Token (reload the console)');
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      res.status(415).json({ error: 'ERR_CONSOLE_REQUEST', message: 'send JSON' });
      return;
    }
    next();
  };
}
