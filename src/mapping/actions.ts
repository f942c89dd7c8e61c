/**
 * Action resolution (DESIGN §3, stage 2, at start-up): every normalized type a source's adapter
 * can emit → the Distinct action it is sent as (registry spelling), or null when it is ignored.
 * A source's `actions` override the defaults ({@link DEFAULT_ACTIONS}); every pair is checked
 * against the registry, so a bad pair is a configuration problem, not a dead letter.
 */
import type { AnyAdapter } from '../core/adapter';
import { isEventType, type EventType } from '../core/event-types';
import { DEFAULT_ACTIONS } from './default-actions';
import type { Registry } from './registry';

/** Every type a source's adapter emits → Distinct action (registry spelling) or null (ignored). */
export type SourceActions = Readonly<Partial<Record<EventType, string | null>>>;

/**
 * Resolves a source's actions. `at` is the source's path in the configuration (`sources.<id>`):
 * each problem is pushed to `problems` under it. With `registry` null (the registry itself is
 * invalid) pairs are not checked and only ignored types are resolved.
 */
export function resolveActions(
  at: string,
  adapter: AnyAdapter,
  feature: string,
  overrides: Readonly<Record<string, string | null>>,
  registry: Registry | null,
  problems: string[],
): Partial<Record<EventType, string | null>> {
  const actions: Partial<Record<EventType, string | null>> = {};
  for (const key of Object.keys(overrides)) {
    if (!isEventType(key)) problems.push(`${at}.actions.${key}: not a normalized event type (see docs/events.md)`);
    else if (!key.startsWith(`${adapter.channel}.`)) {
      problems.push(
        `${at}.actions.${key}: ${adapter.displayName} is an ${adapter.channel} provider; it never emits ${key}`,
      );
    }
  }
  for (const type of adapter.emittedTypes) {
    const wanted = Object.prototype.hasOwnProperty.call(overrides, type) ? overrides[type] : DEFAULT_ACTIONS[type];
    if (wanted == null) {
      actions[type] = null;
      continue;
    }
    if (registry === null) continue;
    const pair = registry.resolve(feature, wanted);
    if (!pair) {
      problems.push(
        `${at}: ${type} would be sent as ${feature}/${wanted}, which is not in the registry` +
          ` (register it with Distinct and add it under registry:, or set actions.${type}: null)`,
      );
      continue;
    }
    actions[type] = pair.action;
  }
  return actions;
}
