import { isoFromEpochSeconds, isoFromString } from '../../src/core/time';

test.each([
  [1513299569, '2017-12-15T00:59:29Z'],
  ['1513299569', '2017-12-15T00:59:29Z'],
  [1529692199.626182, '2018-06-22T18:29:59.626182Z'],
  ['1529692199.626182', '2018-06-22T18:29:59.626182Z'],
  [1513299569123, '2017-12-15T00:59:29.123Z'],
  ['1513299569000', '2017-12-15T00:59:29.000Z'],
])('isoFromEpochSeconds(%p) = %s', (input, expected) => {
  expect(isoFromEpochSeconds(input)).toBe(expected);
});

test.each([[null], [undefined], ['abc'], [-5], [NaN], ['1e9'], [{}], ['12345678901234']])(
  'isoFromEpochSeconds(%p) is null, never an invented time',
  (input) => {
    expect(isoFromEpochSeconds(input)).toBeNull();
  },
);

test.each([
  ['2026-04-27T13:35:00Z', '2026-04-27T13:35:00Z'],
  ['2026-04-27T15:35:00+02:00', '2026-04-27T13:35:00Z'],
  ['2026-04-27T13:35:00.123456Z', '2026-04-27T13:35:00.123456Z'],
  ['2026-04-27T08:35:00.5-0500', '2026-04-27T13:35:00.5Z'],
  ['2026-04-27 13:35:00', '2026-04-27T13:35:00Z'],
])('isoFromString(%p) = %s', (input, expected) => {
  expect(isoFromString(input)).toBe(expected);
});

test.each([['yesterday'], ['2026-13-45T99:99:99Z'], [42], ['2026-02-30T10:00:00Z'], ['2026-04-27T24:00:00Z']])(
  'isoFromString(%p) is null',
  (input) => {
    expect(isoFromString(input)).toBeNull();
  },
);
