import { overridesFrom, toWireOverrides } from '../../src/core/overrides';

test('overridesFrom: the first record with a non-empty value wins per key; values trimmed, numbers kept as text', () => {
  expect(
    overridesFrom(
      { distinct_user_id: '  ', distinct_feature: ' page_visit ', other: 'x' },
      { distinct_user_id: 'u_2', distinct_feature: 'ignored', distinct_experience_id: 42 },
    ),
  ).toEqual({ userId: 'u_2', feature: 'page_visit', experienceId: '42' });
});

test('overridesFrom ignores non-scalar values and inherited keys, and gives {} for nothing', () => {
  const inherited = Object.create({ distinct_user_id: 'from-prototype' }) as Record<string, unknown>;
  expect(overridesFrom(inherited, { distinct_user_id: { nested: true }, distinct_feature: Number.NaN })).toEqual({});
  expect(overridesFrom()).toEqual({});
});

test('toWireOverrides renames EventOverrides fields to their wire keys and passes other keys through', () => {
  const wire = toWireOverrides({
    userId: 'u_1',
    feature: 'page_visit',
    experienceId: 'x1',
    distinct_user_id: 'kept',
    constructor: 'c',
  });
  expect(wire).toEqual({
    distinct_user_id: 'kept',
    distinct_feature: 'page_visit',
    distinct_experience_id: 'x1',
    constructor: 'c',
  });
  expect(overridesFrom(toWireOverrides({ userId: 'u_1' }))).toEqual({ userId: 'u_1' });
  expect(toWireOverrides(undefined)).toEqual({});
});
