import { normalizeEmail, normalizePhone } from '../../src/mapping/identifiers';

test.each([
  ['  John.Doe@Example.COM ', 'john.doe@example.com'],
  ['a@b.co', 'a@b.co'],
  ['not an email', undefined],
  ['', undefined],
  [undefined, undefined],
])('normalizeEmail(%p) = %p', (input, expected) => {
  expect(normalizeEmail(input)).toBe(expected);
});

test.each([
  ['+15017250604', '+15017250604'],
  ['whatsapp:+14155238886', '+14155238886'],
  ['+44 20 7946 0958', '+442079460958'],
  ['447700900123', '+447700900123'],
  ['+1 (415) 523-8886', '+14155238886'],
  ['12345', undefined],
  ['898287', undefined],
  ['MyBrand', undefined],
  ['', undefined],
  [undefined, undefined],
])('normalizePhone(%p) = %p', (input, expected) => {
  expect(normalizePhone(input)).toBe(expected);
});

describe('normalizeEmail accepts only what Distinct accepts (issue #9 item 8)', () => {
  test.each([
    ['a@example.com\u0000', 'a NUL byte'],
    ['<a@example.com>', 'angle brackets (a display-name form)'],
    ['Jane <a@example.com>', 'a display name'],
    ['a@[127.0.0.1]', 'an IP literal'],
    ['a@127.0.0.1', 'a bare IP address'],
    ['a@example..com', 'an empty label'],
    ['a@.example.com', 'a leading dot in the domain'],
    ['a@example.com.', 'a trailing dot in the domain'],
    ['a@-example.com', 'a label starting with a hyphen'],
    ['a@example-.com', 'a label ending with a hyphen'],
    ['a@example.c', 'a one-letter TLD'],
    ['a@example.c0m', 'a TLD with a digit'],
    ['a@localhost', 'a host without a TLD'],
    ['a\u202e@example.com', 'a bidi override in the local part'],
    ['a@exam\u2067ple.com', 'a bidi isolate in the domain'],
    ['a\u200b@example.com', 'a zero-width space'],
    ['a\u200f@example.com', 'a right-to-left mark'],
    ['a b@example.com', 'a space'],
    ['"a b"@example.com', 'a quoted local part'],
    ['.a@example.com', 'a leading dot in the local part'],
    ['a.@example.com', 'a trailing dot in the local part'],
    ['a..b@example.com', 'consecutive dots in the local part'],
    ['a@b@example.com', 'two @'],
    ['a@exa_mple.com', 'an underscore in the domain'],
    [`${'a'.repeat(65)}@example.com`, 'a local part over 64 bytes'],
    [`a@${'b'.repeat(64)}.com`, 'a label over 63 characters'],
    [`a@${'b.'.repeat(130)}com`, 'over 254 characters'],
    ['a@ｅｘａｍｐｌｅ.com', 'full-width letters DNS would map to other letters'],
  ])('%p is refused (%s)', (input) => {
    expect(normalizeEmail(input)).toBeUndefined();
  });

  test.each([
    ['jane.doe+newsletter@example.com', 'jane.doe+newsletter@example.com'],
    ['first.last@mail.eu.example.co.uk', 'first.last@mail.eu.example.co.uk'],
    ["o'brien-x_y@example.org", "o'brien-x_y@example.org"],
    ['Jürgen@Bücher.DE', 'jürgen@bücher.de'],
    ['user@xn--bcher-kva.de', 'user@xn--bcher-kva.de'],
    ['用户@例子.com', '用户@例子.com'],
    ['a@b-c.d-e.museum', 'a@b-c.d-e.museum'],
    ['x@123.example.com', 'x@123.example.com'],
  ])('%p is kept as %p', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });

  test('linear: hostile 40,000-character inputs are answered at once', () => {
    const t = performance.now();
    for (const s of [
      `a@${'.'.repeat(40_000)} x`,
      `${'a'.repeat(40_000)}@b.com`,
      `a@${'b.'.repeat(20_000)}com`,
      'a@'.repeat(20_000),
      `a@${'ü'.repeat(40_000)}.com`,
    ]) {
      expect(normalizeEmail(s)).toBeUndefined();
    }
    expect(normalizePhone(`+1${' 2'.repeat(20_000)}`)).toBeUndefined();
    expect(performance.now() - t).toBeLessThan(250);
  });
});
