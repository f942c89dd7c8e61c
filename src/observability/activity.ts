/**
 * What this process has seen since it started, for `/status` and the operator console: per-source
 * totals (requests, queued, duplicates, ignored with the provider's event names, dead-lettered by
 * reason, forwarded), the last {@link RECENT_DELIVERIES} delivery outcomes, and the progress of
 * replays started from the console.
 *
 * Kept off the hot paths' cost: the pipeline and the forwarder increment plain numbers on objects
 * created at start-up (one per configured source); masking and copying happen only when an
 * operator reads. Everything is bounded: ignored event names per source, recent deliveries,
 * watched replays.
 */
import type { DistinctEvent } from '../core/distinct-event';
import { RECIPIENT_KEYS, redactPii } from './logger';
import type { DeliveryRecord, IngestObserver, IngestSummary } from './observers';

/** Recent delivery outcomes kept for the console. */
export const RECENT_DELIVERIES = 50;
/** Distinct ignored provider event names remembered per source; later ones count under `(other)`. */
export const MAX_IGNORED_NAMES = 50;
/** Replays watched at once (the oldest is forgotten first). */
export const MAX_REPLAY_WATCHES = 5;
/** Messages followed per replay (a larger replay is followed by its first this many). */
export const MAX_WATCHED_PER_REPLAY = 5000;
const OTHER = '(other)';
const MAX_NAME_LENGTH = 64;

/** Totals of one source since the process started (the `/status` `sources.<id>` object). */
export interface SourceTotals {
  /** Webhook requests, whatever their answer. */
  requests: number;
  /** Requests answered 4xx/5xx (bad signature, malformed body, queue unavailable, …). */
  rejected: number;
  /** Rejected requests by HTTP status (401 bad signature, 400 malformed, 413, 503 queue unavailable, …). */
  rejectedByStatus: Record<string, number>;
  /** Events accepted into the queue for forwarding (not duplicates, ignored or dead-lettered ones). */
  queued: number;
  /** Events dropped as already seen within the de-duplication window. */
  duplicates: number;
  /** Events deliberately not forwarded (no Distinct action mapped). */
  ignored: number;
  /** Events dead-lettered, at ingest or by the forwarder. */
  deadLettered: number;
  /** Events Distinct accepted. */
  forwarded: number;
  deadLetteredByReason: Record<string, number>;
  /** Ignored events by the provider's event name (normalized type in brackets when it differs). */
  ignoredEvents: Record<string, number>;
  /** ISO time of the last request, null before the first. */
  lastRequestAt: string | null;
  /** HTTP status of the last request. */
  lastRequestStatus: number | null;
}

interface MutableTotals {
  requests: number;
  rejected: number;
  queued: number;
  duplicates: number;
  ignored: number;
  deadLettered: number;
  forwarded: number;
  rejectedByStatus: Map<number, number>;
  deadLetteredByReason: Map<string, number>;
  ignoredEvents: Map<string, number>;
  lastRequestAt: number;
  lastRequestStatus: number;
}

/** A delivery outcome as the console shows it: recipient masked, no event body. */
export interface RecentDelivery {
  at: string;
  source: string;
  type: string;
  pair: string;
  recipient: string;
  outcome: DeliveryRecord['outcome'];
  status: number | null;
  reason: string | null;
  detail: string | null;
  attempts: number;
}

/** One replay's progress. */
export interface ReplayProgress {
  id: number;
  startedAt: string;
  total: number;
  /** Followed messages (at most {@link MAX_WATCHED_PER_REPLAY}). */
  watched: number;
  delivered: number;
  deadAgain: number;
  /** Sent and failed transiently: will be retried. */
  retrying: number;
  pending: number;
  done: boolean;
  deadAgainByReason: Record<string, number>;
}

interface Watch {
  id: number;
  startedAt: number;
  total: number;
  states: Map<string, { outcome: 'pending' | DeliveryRecord['outcome']; reason?: string }>;
}

export class Activity implements IngestObserver {
  readonly startedAt: number;
  /** Events Distinct accepted since start, all sources. */
  forwarded = 0;
  private readonly totals = new Map<string, MutableTotals>();
  private readonly recent: Array<DeliveryRecord | undefined> = new Array<DeliveryRecord | undefined>(RECENT_DELIVERIES);
  private recentNext = 0;
  private watches: Watch[] = [];
  /** Message key → the newest watch following it. */
  private readonly watched = new Map<string, Watch>();
  private nextWatchId = 1;

  constructor(sourceIds: Iterable<string>, now: number = Date.now()) {
    this.startedAt = now;
    for (const id of sourceIds) this.totals.set(id, emptyTotals());
  }

  // --- IngestObserver (the pipeline) ---------------------------------------------------------

  request(sourceId: string, status: number, summary: IngestSummary | undefined): void {
    const t = this.totals.get(sourceId);
    if (t === undefined) return;
    t.requests += 1;
    t.lastRequestAt = Date.now();
    t.lastRequestStatus = status;
    if (status >= 400) {
      t.rejected += 1;
      t.rejectedByStatus.set(status, (t.rejectedByStatus.get(status) ?? 0) + 1);
    }
    if (summary !== undefined) {
      t.queued += summary.queued;
      t.duplicates += summary.duplicates;
    }
  }

  ignored(sourceId: string, providerEvent: string, type: string): void {
    const t = this.totals.get(sourceId);
    if (t === undefined) return;
    t.ignored += 1;
    const name = providerEvent === type ? type : `${providerEvent} (${type})`;
    const m = t.ignoredEvents;
    const n = m.get(name);
    if (n !== undefined) m.set(name, n + 1);
    else if (m.size < MAX_IGNORED_NAMES)
      m.set(name.length > MAX_NAME_LENGTH ? `${name.slice(0, MAX_NAME_LENGTH)}…` : name, 1);
    else m.set(OTHER, (m.get(OTHER) ?? 0) + 1);
  }

  deadLettered(sourceId: string, reason: string): void {
    const t = this.totals.get(sourceId);
    if (t === undefined) return;
    t.deadLettered += 1;
    t.deadLetteredByReason.set(reason, (t.deadLetteredByReason.get(reason) ?? 0) + 1);
  }

  // --- DeliveryObserver (the forwarder) ------------------------------------------------------

  /** The forwarder's observer (bound: pass it as is). */
  readonly delivery = (record: DeliveryRecord): void => {
    this.recent[this.recentNext] = record;
    this.recentNext = (this.recentNext + 1) % RECENT_DELIVERIES;
    const t = this.totals.get(record.message.source);
    if (record.outcome === 'forwarded') {
      this.forwarded += 1;
      if (t !== undefined) t.forwarded += 1;
    } else if (record.outcome === 'dead_lettered') {
      if (t !== undefined) this.deadLettered(record.message.source, record.reason ?? 'unknown');
    }
    if (this.watched.size > 0) {
      const watch = this.watched.get(record.message.key);
      const state = watch?.states.get(record.message.key);
      if (state !== undefined) {
        state.outcome = record.outcome;
        state.reason = record.reason;
      }
    }
  };

  // --- Reading (operators) -------------------------------------------------------------------

  /** Per-source totals, keyed by source id (configuration order). */
  sources(): Record<string, SourceTotals> {
    const out: Record<string, SourceTotals> = {};
    for (const [id, t] of this.totals) {
      out[id] = {
        requests: t.requests,
        rejected: t.rejected,
        rejectedByStatus: Object.fromEntries(t.rejectedByStatus),
        queued: t.queued,
        duplicates: t.duplicates,
        ignored: t.ignored,
        deadLettered: t.deadLettered,
        forwarded: t.forwarded,
        deadLetteredByReason: Object.fromEntries(t.deadLetteredByReason),
        ignoredEvents: Object.fromEntries([...t.ignoredEvents].map(([k, v]) => [redactPii(k), v])),
        lastRequestAt: t.lastRequestAt === 0 ? null : new Date(t.lastRequestAt).toISOString(),
        lastRequestStatus: t.lastRequestStatus === 0 ? null : t.lastRequestStatus,
      };
    }
    return out;
  }

  /** The last {@link RECENT_DELIVERIES} outcomes, newest first, recipients masked. */
  recentDeliveries(): RecentDelivery[] {
    const out: RecentDelivery[] = [];
    for (let i = 1; i <= RECENT_DELIVERIES; i += 1) {
      const r = this.recent[(this.recentNext - i + RECENT_DELIVERIES) % RECENT_DELIVERIES];
      if (r === undefined) break;
      const { event } = r.message;
      out.push({
        at: new Date(r.at).toISOString(),
        source: r.message.source,
        type: r.message.type,
        pair: `${event.feature}/${event.action}`,
        recipient: maskedRecipient(event),
        outcome: r.outcome,
        status: r.status,
        reason: r.reason ?? null,
        detail: r.detail === undefined ? null : redactPii(r.detail).slice(0, 200),
        attempts: r.attempts,
      });
    }
    return out;
  }

  /** Starts following replayed messages (by key) until each is delivered or dead again. */
  watchReplay(keys: readonly string[], total = keys.length): ReplayProgress {
    const watch: Watch = { id: this.nextWatchId, startedAt: Date.now(), total, states: new Map() };
    this.nextWatchId += 1;
    for (const key of keys.slice(0, MAX_WATCHED_PER_REPLAY)) {
      watch.states.set(key, { outcome: 'pending' });
      this.watched.set(key, watch);
    }
    this.watches.push(watch);
    while (this.watches.length > MAX_REPLAY_WATCHES) {
      const old = this.watches.shift() as Watch;
      for (const key of old.states.keys()) if (this.watched.get(key) === old) this.watched.delete(key);
    }
    return progressOf(watch);
  }

  /** Replays being (or lately) followed, newest first. */
  replays(): ReplayProgress[] {
    const out = this.watches.map(progressOf).reverse();
    // A finished replay stops costing a lookup per delivery.
    for (const watch of this.watches) {
      if (!progressOf(watch).done) continue;
      for (const key of watch.states.keys()) if (this.watched.get(key) === watch) this.watched.delete(key);
    }
    return out;
  }
}

function emptyTotals(): MutableTotals {
  return {
    requests: 0,
    rejected: 0,
    queued: 0,
    duplicates: 0,
    ignored: 0,
    deadLettered: 0,
    forwarded: 0,
    rejectedByStatus: new Map(),
    deadLetteredByReason: new Map(),
    ignoredEvents: new Map(),
    lastRequestAt: 0,
    lastRequestStatus: 0,
  };
}

function progressOf(watch: Watch): ReplayProgress {
  let delivered = 0;
  let deadAgain = 0;
  let retrying = 0;
  const deadAgainByReason: Record<string, number> = {};
  for (const s of watch.states.values()) {
    if (s.outcome === 'forwarded') delivered += 1;
    else if (s.outcome === 'dead_lettered') {
      deadAgain += 1;
      const reason = s.reason ?? 'unknown';
      deadAgainByReason[reason] = (deadAgainByReason[reason] ?? 0) + 1;
    } else if (s.outcome === 'retry') retrying += 1;
  }
  const watched = watch.states.size;
  const pending = watched - delivered - deadAgain;
  return {
    id: watch.id,
    startedAt: new Date(watch.startedAt).toISOString(),
    total: watch.total,
    watched,
    delivered,
    deadAgain,
    retrying,
    pending,
    done: pending === 0,
    deadAgainByReason,
  };
}

/**
 * Masks one recipient value for operator views: e-mail addresses and phone numbers as the logs
 * mask them ({@link redactPii}); anything else (a user id, a number without `+`) down to its
 * last 4 characters.
 */
export function maskValue(value: string): string {
  const masked = redactPii(value);
  if (masked !== value) return masked;
  return value.length <= 4 ? '****' : `${'*'.repeat(Math.min(value.length - 4, 12))}${value.slice(-4)}`;
}

/** The event's recipient (e-mail, phone or user id), masked; `-` when it has none. */
export function maskedRecipient(event: DistinctEvent): string {
  const value = event.email ?? event.phone ?? event.userId;
  return typeof value === 'string' && value !== '' ? maskValue(value) : '-';
}

/** A copy of a Distinct event safe to show an operator: identifiers masked, metadata strings redacted. */
export function maskedEvent(event: DistinctEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) {
    if ((k === 'email' || k === 'phone' || k === 'userId') && typeof v === 'string') out[k] = maskValue(v);
    else out[k] = maskDeep(v, null, 0);
  }
  return out;
}

/** Keys of a provider's event whose values are personal data beyond recipients: IP addresses, user agents. */
const PERSONAL_KEYS = /^(ip|ip_?address|client_?ip|user_?agent)$/i;

/**
 * A copy of a provider's event (kept with an ingest-time dead letter) safe to show an operator:
 * recipient fields masked as {@link maskValue} does, IP addresses and user agents replaced by
 * `[masked]`, e-mail addresses and phone numbers masked in every other string.
 */
export function maskedProviderEvent(raw: unknown): unknown {
  return maskDeep(raw, PERSONAL_KEYS, 0);
}

/**
 * The walk both views share: strings redacted, recipient fields masked, fields matching
 * `personal` replaced by `[masked]`. Below a depth of 8 it is copied; deeper parts become their
 * masked JSON text, so nothing escapes the masking.
 */
function maskDeep(value: unknown, personal: RegExp | null, depth: number): unknown {
  if (typeof value === 'string') return redactPii(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return redactPii(JSON.stringify(value) ?? '');
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, personal, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (personal !== null && personal.test(k) && v !== null && v !== '') out[k] = '[masked]';
    else if (typeof v === 'string' && RECIPIENT_KEYS.test(k)) out[k] = maskValue(v);
    else out[k] = maskDeep(v, personal, depth + 1);
  }
  return out;
}
