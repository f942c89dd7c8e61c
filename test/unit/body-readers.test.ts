import { formRecord, overridesFromForm, readForm } from '../../src/body/read-form';
import { fieldPath, parseJsonObject, readJson, requiredString } from '../../src/body/read-json';
import { WebhookParseError } from '../../src/core/errors';

test('readForm keeps order, repeated names and WHATWG decoding', () => {
  const f = readForm(Buffer.from('b=2&a=1&b=3&c=x+y%2Bz&d=%E2%9C%93'));
  expect(f.pairs).toEqual([
    ['b', '2'],
    ['a', '1'],
    ['b', '3'],
    ['c', 'x y+z'],
    ['d', '✓'],
  ]);
  expect(f.fields).toMatchObject({ a: '1', b: '2' });
  expect(f.all.b).toEqual(['2', '3']);
});

test('readForm accepts a real U+FFFD character but refuses invalid UTF-8 bytes', () => {
  expect(readForm(Buffer.from('x=\uFFFD', 'utf8')).fields.x).toBe('\uFFFD');
  expect(() => readForm(Buffer.from([0x78, 0x3d, 0xff, 0xfe]))).toThrow(WebhookParseError);
});

test('readJson turns syntax errors and empty bodies into WebhookParseError', () => {
  expect(readJson(Buffer.from('[1,2]'))).toEqual([1, 2]);
  expect(() => readJson(Buffer.alloc(0))).toThrow(WebhookParseError);
  expect(() => readJson(Buffer.from('{"a":'))).toThrow(WebhookParseError);
});

test('readForm decodes a body exactly as URLSearchParams does (20,000 generated bodies, odd escapes included)', () => {
  const tokens = [
    'a',
    'B',
    '=',
    '&',
    '&&',
    '+',
    '%',
    '%2',
    '%2B',
    '%2b',
    '%20',
    '%26',
    '%3D',
    '%25',
    '%E2%9C%93',
    '%C3',
    '%C3%A9',
    '%FF',
    '%ED%A0%80',
    '%zz',
    '?',
    'é',
    '✓',
    '😀',
    '\uFEFF',
    ' ',
    '%EF%BB%BF',
  ];
  let seed = 42;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 20_000; i += 1) {
    let text = '';
    for (let j = next(14); j > 0; j -= 1) text += tokens[next(tokens.length)];
    const body = Buffer.from(text, 'utf8');
    // Decoded as before: the body's UTF-8 text (a leading BOM dropped), then URLSearchParams.
    const expected = [...new URLSearchParams(new TextDecoder('utf-8', { fatal: true }).decode(body))];
    expect(readForm(body).pairs).toEqual(expected);
  }
});

test('requiredString names the missing field at its path: the key alone at the top, joined below', () => {
  expect(requiredString({ event: 'open' }, 'event', '[0]')).toBe('open');
  expect(fieldPath('', 'event')).toBe('event');
  expect(fieldPath('[2]', 'event')).toBe('[2].event');
  for (const [path, where] of [
    ['', 'event'],
    ['[2]', '[2].event'],
    ['event-data', 'event-data.event'],
  ]) {
    let err: unknown;
    try {
      requiredString({ event: '' }, 'event', path!);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebhookParseError);
    expect((err as WebhookParseError).path).toBe(where);
    expect((err as Error).message).toBe(`${where}: "event" is required and must be a non-empty string`);
  }
});

test('formRecord: a value per name, a list for a repeated name, own properties only', () => {
  const raw = formRecord(readForm('b=2&a=1&b=3&__proto__=x'));
  expect(raw).toEqual({ b: ['2', '3'], a: '1', ['__proto__']: 'x' });
  expect(Object.keys(raw)).toEqual(['b', 'a', '__proto__']);
  expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
});

test('overridesFromForm reads URL-encoded overrides; text without "=" carries none', () => {
  expect(overridesFromForm('distinct_user_id=u_1&distinct_feature=+signup+&x=1')).toEqual({
    userId: 'u_1',
    feature: 'signup',
  });
  for (const text of [undefined, '', 'order-4711', 'distinct_user_id']) expect(overridesFromForm(text)).toEqual({});
});

test('parseJsonObject: the object in a metadata string, exact big integers, undefined otherwise (never throws)', () => {
  expect(parseJsonObject(' {"distinct_user_id": 9007199254740993, "a": [1]}')).toEqual({
    distinct_user_id: '9007199254740993',
    a: [1],
  });
  for (const text of ['', 'a:b|c:d', '{"a":', '[{"a":1}]', 'null', '"{}"'])
    expect(parseJsonObject(text)).toBeUndefined();
});
