/**
 * The sandbox's fault injection (`POST /_sandbox/faults`, `distinct-adapter sandbox fault`):
 * queued answers applied before any validation — a status (with a message, `Retry-After` or a
 * raw body), a delay, or a dropped connection — and how they are described.
 */
import { DISTINCT_MESSAGES } from '../core/distinct-api';

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

/** Parses `{"responses":[…]}`; returns an error message when it is not that shape. */
export function parseFaults(raw: Buffer): FaultResponse[] | string {
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
    if (
      typeof status !== 'number' ||
      !Number.isInteger(status) ||
      (f.destroy !== true && !latencyOnly && (status < 100 || status > 599))
    ) {
      return `responses[${i}].status must be an HTTP status code`;
    }
    if (f.message !== undefined && typeof f.message !== 'string') return `responses[${i}].message must be a string`;
    if (f.retryAfter !== undefined && typeof f.retryAfter !== 'number' && typeof f.retryAfter !== 'string') {
      return `responses[${i}].retryAfter must be seconds or an HTTP date`;
    }
    if (
      f.times !== undefined &&
      (typeof f.times !== 'number' || !Number.isInteger(f.times) || f.times < 1 || f.times > 10_000)
    ) {
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

/** The text a fault answers with when it names none. */
export function defaultMessage(status: number): string {
  if (status === 200) return DISTINCT_MESSAGES.ok;
  if (status === 401) return DISTINCT_MESSAGES.unauthorized;
  if (status === 403) return 'Forbidden.';
  if (status === 429) return 'Too many requests.';
  if (status >= 500) return DISTINCT_MESSAGES.internal;
  return `HTTP ${status}`;
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
