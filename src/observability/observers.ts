/**
 * What the pipeline and the forwarder report as they work, and {@link Activity} (./activity.ts)
 * collects for `/status` and the console. Defined here, below both, so observability depends on
 * neither (docs/architecture.md).
 */
import type { DeadLetterReason } from '../core/distinct-event';
import type { QueueMessage } from '../queue/queue';

/** What the pipeline reports per request, next to its metrics (kept cheap: plain counters). */
export interface IngestObserver {
  /** One request on a configured source, with its status and (when it got that far) its counts. */
  request(sourceId: string, status: number, summary: IngestSummary | undefined): void;
  /** One event ignored (no action mapped): the provider's event name and its normalized type. */
  ignored(sourceId: string, providerEvent: string, type: string): void;
  /** One event stored as a dead letter at ingest (e.g. `no_identifier`), with its reason. */
  deadLettered(sourceId: string, reason: string): void;
}

/** Counts reported in the 200 body (and logged). */
export interface IngestSummary {
  received: number;
  queued: number;
  duplicates: number;
  ignored: number;
  deadLettered: number;
}

/** One delivery outcome, as the forwarder's `observer` hears it. */
export interface DeliveryRecord {
  message: QueueMessage;
  outcome: 'forwarded' | 'retry' | 'dead_lettered';
  /** Distinct's HTTP status (null: timeout, network error, or never sent). */
  status: number | null;
  reason?: DeadLetterReason;
  /** Distinct's message or the dead-letter detail. */
  detail?: string;
  /** Attempts including this one. */
  attempts: number;
  /** Ms since epoch. */
  at: number;
}

export type DeliveryObserver = (record: DeliveryRecord) => void;
