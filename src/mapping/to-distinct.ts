/**
 * Stage 2 of the mapping (DESIGN §3): a normalized event → the Distinct event to send, or a
 * decision to ignore it or dead-letter it. Pure: no I/O, no clock.
 */
import type { DeadLetterReason, DistinctEvent } from '../core/distinct-event';
import type { NormalizedEvent } from '../core/normalized-event';
import { normalizeEmail, normalizePhone } from './identifiers';
import type { SourceActions } from './actions';
import type { Registry } from './registry';

/** What stage 2 needs of a configured source (src/config/load.ts `SourceConfig` is one). */
export interface MappedSource {
  readonly feature: string;
  readonly experienceId: string;
  readonly actions: SourceActions;
  /** E-mail sources: what to do with opens the provider flags as machine opens. */
  readonly machineOpens?: 'forward' | 'ignore';
}

export type MappingOutcome =
  | { kind: 'forward'; event: DistinctEvent }
  | { kind: 'ignore'; why: string }
  | { kind: 'dead_letter'; reason: DeadLetterReason; detail: string; event: DistinctEvent };

export function toDistinct(ev: NormalizedEvent, source: MappedSource, registry: Registry): MappingOutcome {
  // An open the provider flags as a machine open (Apple MPP, a scanner), on a source that ignores them.
  if (ev.details.machineOpen === true && source.machineOpens === 'ignore')
    return { kind: 'ignore', why: 'machine open (machineOpens: ignore)' };
  // An event that names its own action (generic source) is not subject to the source's action map.
  const action = ev.overrides.action ?? source.actions[ev.type];
  if (action == null) return { kind: 'ignore', why: `${ev.type} is not mapped to a Distinct action` };

  let feature = source.feature;
  let resolvedAction = action;
  let invalidPair: string | undefined;
  if (ev.overrides.feature !== undefined || ev.overrides.action !== undefined) {
    // Pairs named per event were never checked at start-up: check them now.
    const wanted = ev.overrides.feature ?? source.feature;
    const pair = registry.resolve(wanted, action);
    if (pair) {
      feature = pair.feature;
      resolvedAction = pair.action;
    } else {
      feature = wanted;
      invalidPair =
        ev.overrides.action !== undefined
          ? `the event names ${wanted}/${action}, which is not in the registry`
          : `per-message override distinct_feature makes ${wanted}/${action}, which is not in the registry`;
    }
  }

  const event: DistinctEvent = {
    feature,
    action: resolvedAction,
    experienceId: ev.overrides.experienceId ?? source.experienceId,
    capturedAt: ev.occurredAt ?? ev.receivedAt,
  };
  const userId = ev.overrides.userId?.trim();
  if (userId) event.userId = userId;
  const email = normalizeEmail(ev.email);
  if (email) event.email = email;
  const phone = normalizePhone(ev.phone);
  if (phone) event.phone = phone;
  event.metadata = buildMetadata(ev);

  if (invalidPair) return { kind: 'dead_letter', reason: 'invalid_pair', detail: invalidPair, event };
  if (!event.userId && !event.email && !event.phone) {
    return {
      kind: 'dead_letter',
      reason: 'no_identifier',
      detail: 'no distinct_user_id, valid e-mail address or phone number in the event',
      event,
    };
  }
  return { kind: 'forward', event };
}

/** Distinct `metadata`: never null, never empty strings; optional fields omitted. */
function buildMetadata(ev: NormalizedEvent): Record<string, string | number | boolean> {
  const meta: Record<string, string | number | boolean> = {
    provider: ev.provider,
    providerEvent: ev.providerEvent,
    eventType: ev.type,
  };
  if (ev.messageId) meta.messageId = ev.messageId;
  if (ev.providerEventId) meta.providerEventId = ev.providerEventId;
  if (ev.occurredAt === null) meta.capturedAtSource = 'received';
  for (const k of Object.keys(ev.details)) {
    const v = ev.details[k];
    if (v === '' || v === null || v === undefined) continue;
    if (typeof v === 'number' && !Number.isFinite(v)) continue;
    if (!(k in meta)) meta[k] = v;
  }
  return meta;
}
