/** pickDetails(): details tables written as data, with dotted paths and a value reader. */
import {
  detailFields,
  pickDetails,
  scalarOrListDetail,
  stringDetail,
  tagsDetail,
  trimmedTextDetail,
} from '../../src/core/details';

describe('pickDetails', () => {
  test('renames, follows dotted paths and keeps only detail values', () => {
    const fields = detailFields({
      Tag: 'tag',
      'Client.Name': 'client',
      'a.b.c': 'deep',
      Flag: 'flag',
      N: 'n',
      Blank: 'blank',
    });
    const record = {
      Tag: 'welcome',
      Client: { Name: 'Chrome' },
      a: { b: [1] },
      Flag: false,
      N: Number.NaN,
      Blank: '  ',
    };
    expect(pickDetails(record, fields)).toEqual({ tag: 'welcome', client: 'Chrome', flag: false });
  });

  test('a list keeps each field under its own (last-segment) name; `into` is filled in place', () => {
    const into = { first: 1 };
    expect(pickDetails({ reason: 'x', bounce: { type: 'hard' } }, detailFields(['reason', 'bounce.type']), into)).toBe(
      into,
    );
    expect(into).toEqual({ first: 1, reason: 'x', type: 'hard' });
  });

  test('readers decide what is kept', () => {
    const record = { s: '  a  ', n: 7, arr: ['x', 2, ['nested'], true] };
    expect(pickDetails(record, detailFields(['s', 'n'], trimmedTextDetail))).toEqual({ s: 'a', n: '7' });
    expect(pickDetails(record, detailFields(['s', 'n'], stringDetail))).toEqual({ s: '  a  ' });
    expect(pickDetails(record, detailFields(['arr'], scalarOrListDetail))).toEqual({ arr: 'x, 2' });
  });

  test('never reads through a prototype step', () => {
    expect(pickDetails({ a: 'text' }, detailFields({ 'a.length': 'len', 'constructor.name': 'c' }))).toEqual({});
  });
});

describe('tagsDetail', () => {
  test('joins the non-empty strings of a list with a comma', () => {
    expect(tagsDetail(['registration', '', 7, null, 'welcome', ['x']])).toBe('registration,welcome');
  });

  test('gives nothing for an empty list, a list of no strings, or anything that is not a list', () => {
    for (const value of [[], ['', 1], 'registration', { 0: 'a' }, undefined, null])
      expect(tagsDetail(value)).toBeUndefined();
  });
});
