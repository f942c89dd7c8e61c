/**
 * The big-int-safe JSON reader (src/body/read-json-bigint.ts): integers beyond 2^53 survive digit
 * for digit, everything else parses exactly as JSON.parse does, and bad bodies are parse errors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quoteUnsafeIntegers, readJsonBigint } from '../../src/body/read-json-bigint';
import { WebhookParseError } from '../../src/core/errors';
import { FIXTURES_DIR } from '../helpers/fixtures';

const read = (text: string): unknown => readJsonBigint(Buffer.from(text, 'utf8'));

describe('readJsonBigint', () => {
  test('Mailjet MessageIDs beyond 2^53 are kept as exact strings (JSON.parse rounds …491 to …492)', () => {
    const text = '[{"MessageID": 19421777835146490}, {"MessageID": 19421777835146491}]';
    expect(String((JSON.parse(text) as Array<{ MessageID: number }>)[1]!.MessageID)).toBe('19421777835146492');
    expect(read(text)).toEqual([{ MessageID: '19421777835146490' }, { MessageID: '19421777835146491' }]);
  });

  test('the boundary: 2^53 - 1 stays a number; 2^53 and beyond, either sign, become strings', () => {
    expect(read('[9007199254740991, -9007199254740991]')).toEqual([9007199254740991, -9007199254740991]);
    expect(read('[9007199254740992, 9007199254740993, -9007199254740993]')).toEqual([
      '9007199254740992',
      '9007199254740993',
      '-9007199254740993',
    ]);
    expect(read('123456789012345678901234567890')).toBe('123456789012345678901234567890');
  });

  test('fractions and exponents are numbers as JSON.parse gives them (not integers of the wire)', () => {
    for (const text of ['[19421777835146491.5]', '[1e30]', '[19421777835146491e0]', '[-1.9421777835146491E+16]']) {
      expect(read(text)).toEqual(JSON.parse(text));
    }
  });

  test('digits inside strings and keys are never touched, escaped quotes included', () => {
    const text =
      '{"19421777835146491": "x\\"19421777835146491\\\\", "b": "\\u0022 19421777835146491", "c": 19421777835146491}';
    expect(read(text)).toEqual({
      '19421777835146491': 'x"19421777835146491\\',
      b: '" 19421777835146491',
      c: '19421777835146491',
    });
  });

  test('the fixture files of the credentials providers and the first three parse exactly as with JSON.parse', () => {
    let files = 0;
    const providers = ['sendgrid', 'twilio', 'mailgun', 'postmark', 'brevo', 'sparkpost', 'mailjet'];
    for (const provider of readdirSync(FIXTURES_DIR).filter((p) => providers.includes(p))) {
      for (const file of readdirSync(join(FIXTURES_DIR, provider)).filter((f) => f.endsWith('.json'))) {
        const text = readFileSync(join(FIXTURES_DIR, provider, file), 'utf8');
        expect({ file: `${provider}/${file}`, value: read(text) }).toEqual({
          file: `${provider}/${file}`,
          value: JSON.parse(text),
        });
        files += 1;
      }
    }
    expect(files).toBeGreaterThan(50);
  });

  test('text without a 16-digit run is returned as the very same string (fast path)', () => {
    const text = '{"a": 123456789012345, "b": "x"}';
    expect(quoteUnsafeIntegers(text)).toBe(text);
  });

  test.each([
    ['empty', ''],
    ['not JSON', 'not json'],
    ['truncated after a long integer', '[19421777835146491'],
    ['a leading zero (invalid JSON stays invalid)', '[019421777835146491]'],
    ['a long integer glued to a string', '[19421777835146491"x"]'],
    ['a long integer followed by letters', '[19421777835146491abc]'],
  ])('%s → WebhookParseError, never a SyntaxError', (_n, text) => {
    expect(() => read(text)).toThrow(WebhookParseError);
  });
});
