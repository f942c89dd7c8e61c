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
