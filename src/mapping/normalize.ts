import type { AnyAdapter } from '../core/adapter';
import type { EventDraft, NormalizedEvent } from '../core/normalized-event';
import { dedupeKey } from './dedupe-key';

/** Completes an adapter's draft with the fields the pipeline owns (provider, channel, receipt time, key). */
export function completeDraft(draft: EventDraft, adapter: AnyAdapter, source: string, receivedAt: Date): NormalizedEvent {
  return {
    ...draft,
    provider: adapter.name,
    source,
    channel: adapter.channel,
    receivedAt: receivedAt.toISOString(),
    dedupeKey: dedupeKey(adapter.name, draft),
  };
}
