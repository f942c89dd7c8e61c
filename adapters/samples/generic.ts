/**
 * The generic source's simulation samples: the events a vendor's own system posts (one JSON
 * object: `feature`, `action`, the user and the time, signed with Standard Webhooks). `simulate`
 * sends them and the conformance suite signs and parses them; adapters/generic.ts receives them.
 */
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import { jsonSample } from '../../src/core/samples';

/** The pair `simulate` sends for a type: `app.event`, `app.unknown`, or a literal `feature/action`. */
function samplePair(type: string): string {
  if (type === 'app.event') return 'page_visit/viewed';
  if (type === 'app.unknown') return 'onboarding/completed';
  if (/^[^/\s]+\/[^/\s]+$/.test(type)) return type;
  throw new Error(
    `the generic source has no sample for "${type}"; use app.event, app.unknown or a feature/action pair such as user_collectible/downloaded`,
  );
}

/** An event for `options.type` (or a literal `feature/action`), addressed to the recipient. */
export function sample(options: SampleOptions): SampleRequest {
  const [feature, action] = samplePair(options.type).split('/') as [string, string];
  const o = options.overrides ?? {};
  const event: Record<string, unknown> = {
    feature: o.distinct_feature ?? o.feature ?? feature,
    action,
    capturedAt: options.now.toISOString(),
  };
  const userId = o.distinct_user_id ?? o.userId;
  if (userId) event.userId = userId;
  const experienceId = o.distinct_experience_id ?? o.experienceId;
  if (experienceId) event.experienceId = experienceId;
  if (options.recipient.includes('@')) event.email = options.recipient;
  else if (/^\+?\d[\d\s().-]{6,}$/.test(options.recipient)) event.phone = options.recipient;
  else if (!userId) event.userId = options.recipient;
  if (feature === 'user_collectible') event.metadata = { collectibleId: 'col_sample_1' };
  return jsonSample(event);
}
