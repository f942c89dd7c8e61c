import { classifyResponse, extractMessage, parseRetryAfter } from '../../src/core/distinct-api';

const NOW = Date.parse('2026-04-27T12:00:00Z');
const envelope = (statusCode: number, message: unknown): string => JSON.stringify({ statusCode, message, data: null });

describe('classifyResponse() maps Distinct answers onto outcomes (DESIGN §6)', () => {
  test.each([
    [200, envelope(200, 'User analytics added successfully.'), 'ok'],
    [400, envelope(400, 'User not found.'), 'user_not_found'],
    [400, envelope(400, 'user not found'), 'user_not_found'],
    [400, envelope(400, '  USER NOT FOUND.  '), 'user_not_found'],
    [400, envelope(400, 'Invalid feature/action.'), 'invalid_pair'],
    [400, envelope(400, 'invalid Feature/Action'), 'invalid_pair'],
    [400, envelope(400, 'Invalid experience id.'), 'invalid_experience'],
    [400, envelope(400, 'Invalid experience id'), 'invalid_experience'],
    [400, envelope(400, 'Something else.'), 'unexpected'],
    [400, 'not json', 'unexpected'],
    [401, envelope(401, 'Unauthorized.'), 'unauthorized'],
    [403, '', 'unauthorized'],
    [429, envelope(429, 'Too many requests.'), 'transient'],
    [408, '', 'transient'],
    [500, envelope(500, 'Internal server error.'), 'transient'],
    [502, '<html>Bad gateway</html>', 'transient'],
    [503, '', 'transient'],
    [201, envelope(201, 'Created'), 'unexpected'],
    [404, envelope(404, 'Cannot POST /api/v1/user/analytics'), 'unexpected'],
    [302, '', 'unexpected'],
  ])('HTTP %i %s → %s', (status, body, kind) => {
    const outcome = classifyResponse(status, body, undefined, NOW);
    expect(outcome.kind).toBe(kind);
    expect(outcome.status).toBe(status);
  });

  test('keeps the status and message of an unexpected answer', () => {
    expect(classifyResponse(418, envelope(418, "I'm a teapot"), undefined, NOW)).toEqual({
      kind: 'unexpected',
      status: 418,
      message: "I'm a teapot",
    });
  });

  test('attaches Retry-After to transient answers only', () => {
    expect(classifyResponse(429, '', '3', NOW)).toEqual({
      kind: 'transient',
      status: 429,
      message: '',
      retryAfterMs: 3000,
    });
    expect(classifyResponse(503, '', 'Mon, 27 Apr 2026 12:01:00 GMT', NOW)).toMatchObject({ retryAfterMs: 60_000 });
    expect(classifyResponse(500, '', undefined, NOW)).not.toHaveProperty('retryAfterMs');
    expect(classifyResponse(400, envelope(400, 'User not found.'), '10', NOW)).not.toHaveProperty('retryAfterMs');
  });
});

describe('parseRetryAfter()', () => {
  test.each([
    ['0', 0],
    ['120', 120_000],
    [' 2 ', 2_000],
    ['1.5', 1_500],
    ['Mon, 27 Apr 2026 12:00:30 GMT', 30_000],
    ['Mon, 27 Apr 2026 11:00:00 GMT', 0],
  ])('%j → %j ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  test.each([[undefined], [''], ['soon'], ['-5']])('%j → undefined', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe('extractMessage()', () => {
  test('reads message from the JSON envelope', () => {
    expect(extractMessage(envelope(400, 'User not found.'))).toBe('User not found.');
  });
  test('joins a list of messages', () => {
    expect(extractMessage(envelope(400, ['a must be set', 'b must be set']))).toBe('a must be set; b must be set');
  });
  test('falls back to the first 200 characters of a non-JSON body', () => {
    const html = `<html>${'x'.repeat(500)}</html>`;
    expect(extractMessage(html)).toBe(html.slice(0, 200));
  });
  test('falls back to the text when the JSON has no string message', () => {
    expect(extractMessage('{"statusCode":500}')).toBe('{"statusCode":500}');
    expect(extractMessage('[1,2]')).toBe('[1,2]');
    expect(extractMessage('null')).toBe('null');
  });
});
