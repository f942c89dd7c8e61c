/**
 * The runtime-agnostic core: verify → parse → map → enqueue (DESIGN §1). Express and Lambda
 * shims build a {@link WebhookRequest} and write out the {@link WebhookResponse}; nothing here
 * knows which runtime it is in.
 *
 * The provider gets a 2xx only after every event of the request is durably queued,
 * dead-lettered or deliberately ignored.
 */
import type { AppConfig, SourceConfig } from '../config/load';
import {
  InternalError,
  MethodNotAllowedError,
  truncateEcho,
  UnknownSourceError,
  WebhookAdapterError,
  WebhookParseError,
  WebhookVerificationError,
} from '../core/errors';
import type { EventDraft } from '../core/normalized-event';
import type { VerifyResult } from '../core/adapter';
import type { WebhookRequest, WebhookRequestInit, WebhookResponse } from '../core/request';
import { createWebhookRequest, releaseDecodedBody } from '../body/webhook-request';
import { completeDraft } from '../mapping/normalize';
import { toDistinct } from '../mapping/to-distinct';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { IngestObserver, IngestSummary } from '../observability/observers';
import type { EnqueueItem, Queue, QueueMessage } from '../queue/queue';
import { providerEventForDeadLetter } from '../queue/provider-event';
import { ReplayCache } from '../core/replay-cache';

/** Replay tokens are remembered at least this long (beyond any sane signed-timestamp window). */
const REPLAY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The counters the pipeline increments: {@link Metrics} (prom-client) in `serve`; the Lambda HTTP
 * runtime passes its own so prom-client stays off its cold-start path.
 */
export interface PipelineMetrics {
  requests: Pick<Metrics['requests'], 'inc'>;
  events: Pick<Metrics['events'], 'inc'>;
}

export interface PipelineDeps {
  config: AppConfig;
  queue: Queue;
  logger: Logger;
  metrics: PipelineMetrics;
  /** Per-source totals for `/status` and the console (src/observability/activity.ts); optional. */
  activity?: IngestObserver;
}

/** Response header of every accepted webhook: what happened to its events (docs/operations.md). */
export const OUTCOME_HEADER = 'x-distinct-adapter-outcome';

/**
 * `received=1; queued=0; duplicates=0; ignored=0; dead_lettered=1; reasons=no_identifier`
 * (`reasons` only when something was dead-lettered: the distinct reasons, comma-separated).
 */
export function outcomeHeader(summary: IngestSummary, items: readonly EnqueueItem[]): string {
  let text = `received=${summary.received}; queued=${summary.queued}; duplicates=${summary.duplicates}; ignored=${summary.ignored}; dead_lettered=${summary.deadLettered}`;
  if (summary.deadLettered > 0) {
    const reasons = new Set<string>();
    for (const item of items) if (item.deadLetter) reasons.add(item.deadLetter.reason);
    text += `; reasons=${[...reasons].join(',')}`;
  }
  return text;
}

/** Parses {@link outcomeHeader}; undefined when absent or not in that form. */
export function parseOutcomeHeader(value: string | undefined): (IngestSummary & { reasons: string[] }) | undefined {
  if (value === undefined) return undefined;
  const fields = new Map(value.split(';').map((part) => part.trim().split('=', 2) as [string, string | undefined]));
  const num = (k: string): number => Number(fields.get(k));
  const out = {
    received: num('received'),
    queued: num('queued'),
    duplicates: num('duplicates'),
    ignored: num('ignored'),
    deadLettered: num('dead_lettered'),
    reasons: (fields.get('reasons') ?? '').split(',').filter((r) => r !== ''),
  };
  return [out.received, out.queued, out.duplicates, out.ignored, out.deadLettered].every(Number.isInteger)
    ? out
    : undefined;
}

export class Pipeline {
  private readonly replayCaches = new Map<string, ReplayCache>();

  constructor(private readonly deps: PipelineDeps) {}

  get config(): AppConfig {
    return this.deps.config;
  }

  /** The source for a route segment, or undefined. */
  source(id: string): SourceConfig | undefined {
    return this.deps.config.sources.get(id);
  }

  /**
   * The request a runtime hands over for `sourceId`, its URL resolved here: the source's public
   * URL plus the query when one is configured, else the runtime's own reconstruction (`url`).
   */
  request(sourceId: string, init: WebhookRequestInit): WebhookRequest {
    const base = this.source(sourceId)?.publicUrl;
    if (!base) return createWebhookRequest(init);
    return createWebhookRequest({ ...init, url: init.query ? `${base}?${init.query}` : base });
  }

  /** Handles one webhook request end to end. Never throws: every failure becomes a response. */
  async handle(sourceId: string, req: WebhookRequest): Promise<WebhookResponse> {
    const logged = this.deps.logger.isLevelEnabled('info');
    const started = logged ? performance.now() : 0;
    let response: WebhookResponse;
    let summary: IngestSummary | undefined;
    try {
      const result = await this.process(sourceId, req);
      response = result.response;
      summary = result.summary;
    } catch (err) {
      response = this.errorResponse(err, this.source(sourceId) ? sourceId : truncateEcho(sourceId));
    }
    const known = this.source(sourceId) !== undefined;
    this.deps.metrics.requests.inc({ source: known ? sourceId : '(unknown)', status: String(response.status) });
    if (known) this.deps.activity?.request(sourceId, response.status, summary);
    // An unknown source id is caller input of any length: logged cut short.
    else sourceId = truncateEcho(sourceId);
    if (logged) {
      const ms = performance.now() - started;
      // No per-request child logger: this line is on the hot path, and `source` is one field.
      this.deps.logger.info(
        {
          source: sourceId,
          status: response.status,
          ms: Math.round(ms * 100) / 100,
          bytes: req.rawBody.length,
          ...summary,
        },
        'webhook request',
      );
    }
    return response;
  }

  private async process(
    sourceId: string,
    req: WebhookRequest,
  ): Promise<{ response: WebhookResponse; summary?: IngestSummary }> {
    const source = this.source(sourceId);
    if (!source) throw new UnknownSourceError(sourceId);
    const { adapter } = source;

    if (adapter.handshake && source.settings !== undefined) {
      const handshake = await adapter.handshake(req, source.settings);
      if (handshake) return { response: handshake };
    }
    if (!adapter.methods.includes(req.method)) throw new MethodNotAllowedError(req.method, adapter.methods);

    let replayKey: string | undefined;
    if (!source.insecure || source.settings !== undefined) {
      if (source.settings === undefined) {
        throw new WebhookVerificationError('bad_credentials', 'source has no verification settings');
      }
      const pending = adapter.verify(req, source.settings, { replayCache: this.replayCache(sourceId) });
      // Most verifiers are synchronous: no await (a microtask turn) for a plain result.
      const verified =
        typeof (pending as PromiseLike<unknown> | undefined)?.then === 'function'
          ? await pending
          : (pending as VerifyResult | void);
      replayKey = verified ? verified.replayKey : undefined;
    }

    // Parsed and mapped in a frame of its own: drafts and events are garbage before the commit wait.
    const { items, summary } = this.mapRequest(sourceId, source, req);
    releaseDecodedBody(req);
    if (items.length > 0) {
      const result = await this.deps.queue.enqueue(items);
      summary.queued = result.queued;
      summary.deadLettered = result.deadLettered;
      summary.duplicates = result.duplicates;
      this.countEnqueued(sourceId, items, result.duplicates);
    }
    if (replayKey) this.replayCache(sourceId).add(replayKey, req.receivedAt.getTime());

    const base: WebhookResponse = adapter.acknowledgement ?? { status: 200, body: { ok: true, ...summary } };
    // The counts travel in a header too, so a provider-shaped answer (Twilio's TwiML) still tells
    // `simulate` and operators what happened. One short string; the acknowledgement is shared, never mutated.
    // Literal + for-in: about 50 ns a request, where object spreads cost about 450 ns.
    const headers: Record<string, string> = { 'x-distinct-adapter-outcome': outcomeHeader(summary, items) };
    const ackHeaders = base.headers;
    if (ackHeaders !== undefined) for (const name in ackHeaders) headers[name] = ackHeaders[name]!;
    const response: WebhookResponse = { status: base.status, headers, body: base.body };
    return { response, summary };
  }

  /** Parses the request and maps each event: the items to enqueue and the counts so far. */
  private mapRequest(
    sourceId: string,
    source: SourceConfig,
    req: WebhookRequest,
  ): { items: EnqueueItem[]; summary: IngestSummary } {
    const { adapter } = source;
    let drafts: EventDraft[];
    try {
      drafts = adapter.parse(req);
    } catch (err) {
      // A body nested deeper than a recursive reader's stack: malformed input, not our failure.
      if (err instanceof RangeError)
        throw new WebhookParseError('the body is nested too deeply to read', '', { cause: err });
      throw err;
    }
    const items: EnqueueItem[] = [];
    const summary: IngestSummary = { received: drafts.length, queued: 0, duplicates: 0, ignored: 0, deadLettered: 0 };
    let ignoredTypes: string[] | undefined;
    for (const draft of drafts) {
      const ev = completeDraft(draft, adapter, sourceId, req.receivedAt);
      const outcome = toDistinct(ev, source, this.deps.config.registry);
      if (outcome.kind === 'ignore') {
        summary.ignored += 1;
        (ignoredTypes ??= []).push(ev.type);
        this.deps.metrics.events.inc({ source: sourceId, type: ev.type, outcome: 'ignored', reason: '' });
        this.deps.activity?.ignored(sourceId, ev.providerEvent, ev.type);
        continue;
      }
      const message: QueueMessage = {
        key: ev.dedupeKey,
        source: sourceId,
        provider: adapter.name,
        type: ev.type,
        event: outcome.event,
        receivedAt: req.receivedAt.getTime(),
      };
      if (outcome.kind === 'forward') {
        items.push({ message });
        continue;
      }
      // The provider's event is the cause: kept so the operator sees what was sent (bounded).
      const raw = providerEventForDeadLetter(ev.raw);
      if (raw !== undefined) message.raw = raw;
      items.push({ message, deadLetter: { reason: outcome.reason, detail: outcome.detail } });
    }
    if (ignoredTypes !== undefined)
      this.deps.logger.debug({ source: sourceId, types: ignoredTypes }, 'events ignored (no action mapped)');
    return { items, summary };
  }

  private countEnqueued(sourceId: string, items: readonly EnqueueItem[], duplicates: number): void {
    const m = this.deps.metrics.events;
    if (duplicates > 0) m.inc({ source: sourceId, type: 'any', outcome: 'duplicate', reason: '' }, duplicates);
    // One inc per distinct (type, outcome, reason) of the request, not one per event (batches of 100).
    const counts = new Map<string, { type: string; outcome: string; reason: string; count: number }>();
    for (const item of items) {
      const type = item.message.type;
      const outcome = item.deadLetter ? 'dead_lettered' : 'accepted';
      const reason = item.deadLetter ? item.deadLetter.reason : '';
      const key = `${type}\0${outcome}\0${reason}`;
      const entry = counts.get(key);
      if (entry) entry.count += 1;
      else counts.set(key, { type, outcome, reason, count: 1 });
      if (item.deadLetter) {
        this.deps.activity?.deadLettered(sourceId, item.deadLetter.reason);
        this.deps.logger.warn(
          { source: sourceId, type, reason, detail: item.deadLetter.detail, key: item.message.key },
          'event dead-lettered at ingest',
        );
      }
    }
    for (const e of counts.values())
      m.inc({ source: sourceId, type: e.type, outcome: e.outcome, reason: e.reason }, e.count);
  }

  private replayCache(sourceId: string): ReplayCache {
    let cache = this.replayCaches.get(sourceId);
    if (!cache) {
      cache = new ReplayCache(REPLAY_TTL_MS);
      this.replayCaches.set(sourceId, cache);
    }
    return cache;
  }

  private errorResponse(err: unknown, sourceId: string): WebhookResponse {
    const log = this.deps.logger;
    const known = err instanceof WebhookAdapterError ? err : new InternalError({ cause: err });
    if (known instanceof InternalError)
      log.error({ source: sourceId, err }, 'unexpected error while handling a webhook');
    else if (known.statusCode >= 500)
      log.error({ source: sourceId, err: known.cause ?? known, code: known.code }, known.message);
    else {
      const reason = known instanceof WebhookVerificationError ? known.reason : undefined;
      log.warn({ code: known.code, reason, source: sourceId }, known.message);
    }
    return { status: known.statusCode, body: known.toResponseBody() };
  }
}
