import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEAD_LETTER_REASONS } from '../../src/core/distinct-event';
import { ERROR_CODES, WebhookParseError, WebhookVerificationError } from '../../src/core/errors';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
const documented = (pattern: RegExp): string[] => [...doc.matchAll(pattern)].map((m) => m[1]!);

test('docs/errors.md lists exactly the error codes in ERROR_CODES', () => {
  const inDoc = new Set(documented(/^\| `(ERR_[A-Z_]+)` \|/gm));
  expect([...inDoc].sort()).toEqual(Object.keys(ERROR_CODES).sort());
});

test('docs/errors.md lists exactly the dead-letter reasons', () => {
  const section = doc.slice(doc.indexOf('## Dead-letter reasons'));
  const inDoc = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  expect(inDoc.sort()).toEqual(Object.keys(DEAD_LETTER_REASONS).sort());
});

test('error bodies carry the code and a message, and verification errors their reason', () => {
  expect(new WebhookParseError('must be an array', '[0]').toResponseBody()).toEqual({
    error: 'ERR_WEBHOOK_PARSE',
    message: '[0]: must be an array',
  });
  const v = new WebhookVerificationError('signature_mismatch', 'signature does not match');
  expect(v.statusCode).toBe(401);
  expect(v.toResponseBody()).toEqual({
    error: 'ERR_WEBHOOK_VERIFICATION',
    message: 'signature does not match',
    reason: 'signature_mismatch',
  });
});
