import { readForm } from '../../src/body/read-form';
import { readJson } from '../../src/body/read-json';
import { WebhookParseError } from '../../src/core/errors';

test('readForm keeps order, repeated names and WHATWG decoding', () => {
  const f = readForm(Buffer.from('b=2&a=1&b=3&c=x+y%2Bz&d=%E2%9C%93'));
  expect(f.pairs).toEqual([['b', '2'], ['a', '1'], ['b', '3'], ['c', 'x y+z'], ['d', '✓']]);
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
