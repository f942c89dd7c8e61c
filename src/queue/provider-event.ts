/**
 * The provider's own event, kept with a dead letter so an operator sees what the provider sent
 * (issue #11). Only ingest-time dead letters carry it (`no_identifier`, `invalid_pair`): there the
 * provider's payload is the cause. A message that is queued carries none — storing every event's
 * payload would cost the ingest hot path about a tenth of its throughput (docs/performance.md) for
 * dead letters whose cause is Distinct's answer, which the dead letter already holds.
 *
 * Bounded: a hostile or huge event is kept as the head of its JSON text, so a dead letter stays
 * far below the SQS 256 KiB message limit and a SQLite row stays small.
 */

/** Longest JSON text kept as the event itself; a longer one is kept as {@link TruncatedProviderEvent}. */
export const PROVIDER_EVENT_MAX_CHARS = 16_384;

/** What is kept of an event whose JSON is longer than {@link PROVIDER_EVENT_MAX_CHARS}. */
export interface TruncatedProviderEvent {
  truncated: true;
  /** Length of the whole JSON text, in characters. */
  chars: number;
  /** Its first {@link PROVIDER_EVENT_MAX_CHARS} characters. */
  head: string;
}

/**
 * `raw` as it is stored with a dead letter: itself when its JSON is short enough, the head of
 * its JSON otherwise, undefined when it has no JSON form (undefined, a function) or cannot be
 * serialized (a cycle, nesting deeper than the stack).
 */
export function providerEventForDeadLetter(raw: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(raw);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  if (text.length <= PROVIDER_EVENT_MAX_CHARS) return raw;
  const kept: TruncatedProviderEvent = {
    truncated: true,
    chars: text.length,
    head: text.slice(0, PROVIDER_EVENT_MAX_CHARS),
  };
  return kept;
}
