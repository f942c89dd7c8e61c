import type { Lease } from '../../src/queue/queue';
import type { ForwardOutcome } from '../../src/core/distinct-api';
import {
  backoffDelay,
  decide,
  transientDelay,
  type Decision,
  type RetryPolicy,
} from '../../src/forwarder/retry-policy';

const T0 = Date.parse('2026-04-27T12:00:00Z');
const HOUR = 3_600_000;

const POLICY: RetryPolicy = {
  maxAttempts: 15,
  baseDelayMs: 1_000,
  maxDelayMs: 900_000,
  maxAgeMs: 24 * HOUR,
  userNotFoundDelayMs: HOUR,
  userNotFoundMaxAgeMs: 24 * HOUR,
  random: () => 0.5,
};

function lease(attempts: number, enqueuedAt = T0): Lease {
  return {
    handle: '1',
    attempts,
    enqueuedAt,
    message: {
      key: 'k1',
      source: 'sendgrid',
      provider: 'sendgrid',
      type: 'email.delivered',
      receivedAt: enqueuedAt,
      event: {
        email: 'a@example.com',
        feature: 'registration_email',
        action: 'delivered',
        experienceId: 'e1',
        capturedAt: '2026-04-27T12:00:00Z',
      },
    },
  };
}

const ok: ForwardOutcome = { kind: 'ok', status: 200, message: 'User analytics added successfully.' };
const userNotFound: ForwardOutcome = { kind: 'user_not_found', status: 400, message: 'User not found.' };
const invalidPair: ForwardOutcome = { kind: 'invalid_pair', status: 400, message: 'Invalid feature/action.' };
const invalidExperience: ForwardOutcome = {
  kind: 'invalid_experience',
  status: 400,
  message: 'Invalid experience id.',
};
const unauthorized401: ForwardOutcome = { kind: 'unauthorized', status: 401, message: 'Unauthorized.' };
const forbidden403: ForwardOutcome = { kind: 'unauthorized', status: 403, message: 'IP not allowed' };
const serverError: ForwardOutcome = { kind: 'transient', status: 500, message: 'Internal server error.' };
const tooMany: ForwardOutcome = { kind: 'transient', status: 429, message: 'Too many requests.' };
const timeout: ForwardOutcome = { kind: 'transient', status: null, message: 'timeout after 10000 ms' };
const network: ForwardOutcome = {
  kind: 'transient',
  status: null,
  message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1',
};
const teapot: ForwardOutcome = { kind: 'unexpected', status: 418, message: "I'm a teapot" };
const otherBadRequest: ForwardOutcome = { kind: 'unexpected', status: 400, message: 'capturedAt must be a date' };

describe('decide() — one row per DESIGN §6 response', () => {
  const rows: Array<[string, ForwardOutcome, Lease, number, Decision]> = [
    ['200 → complete', ok, lease(0), T0, { kind: 'complete' }],
    ['200 after earlier failures → complete', ok, lease(7, T0 - 23 * HOUR), T0, { kind: 'complete' }],
    ['400 User not found, young → slow retry', userNotFound, lease(0), T0, { kind: 'retry', delayMs: HOUR }],
    [
      '400 User not found, many attempts, still inside the window → slow retry (maxAttempts does not apply)',
      userNotFound,
      lease(20, T0 - 2 * HOUR),
      T0,
      { kind: 'retry', delayMs: HOUR },
    ],
    [
      '400 User not found, 30 min before the end of the window → last try at the end',
      userNotFound,
      lease(22, T0 - 23.5 * HOUR),
      T0,
      { kind: 'retry', delayMs: 0.5 * HOUR },
    ],
    [
      '400 User not found at the end of the window → dead-letter user_not_found',
      userNotFound,
      lease(24, T0 - 24 * HOUR),
      T0,
      { kind: 'dead_letter', reason: 'user_not_found', detail: 'HTTP 400: User not found. for 24.0 h (25 attempts)' },
    ],
    [
      '400 Invalid feature/action → dead-letter invalid_pair at once',
      invalidPair,
      lease(0),
      T0,
      { kind: 'dead_letter', reason: 'invalid_pair', detail: 'HTTP 400: Invalid feature/action.' },
    ],
    [
      '400 Invalid experience id → dead-letter invalid_experience at once',
      invalidExperience,
      lease(0),
      T0,
      { kind: 'dead_letter', reason: 'invalid_experience', detail: 'HTTP 400: Invalid experience id.' },
    ],
    ['401 → circuit open', unauthorized401, lease(0), T0, { kind: 'circuit_open' }],
    ['403 → circuit open', forbidden403, lease(3), T0, { kind: 'circuit_open' }],
    [
      '401 on an old message → circuit open, never dead-lettered',
      unauthorized401,
      lease(14, T0 - 48 * HOUR),
      T0,
      { kind: 'circuit_open' },
    ],
    ['500 first failure → retry with jitter over base·2^0', serverError, lease(0), T0, { kind: 'retry', delayMs: 500 }],
    [
      '500 fourth failure → retry with jitter over base·2^3',
      serverError,
      lease(3),
      T0,
      { kind: 'retry', delayMs: 4_000 },
    ],
    ['429 → retry', tooMany, lease(1), T0, { kind: 'retry', delayMs: 1_000 }],
    ['timeout → retry', timeout, lease(2), T0, { kind: 'retry', delayMs: 2_000 }],
    ['network error → retry', network, lease(0), T0, { kind: 'retry', delayMs: 500 }],
    [
      'transient at maxAttempts → dead-letter max_attempts',
      serverError,
      lease(14),
      T0,
      { kind: 'dead_letter', reason: 'max_attempts', detail: '15 attempts; last: HTTP 500: Internal server error.' },
    ],
    [
      'transient past maxAgeMs → dead-letter max_age',
      network,
      lease(5, T0 - 25 * HOUR),
      T0,
      {
        kind: 'dead_letter',
        reason: 'max_age',
        detail: 'queued 25.0 h ago; last: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1',
      },
    ],
    [
      'anything else (418) → dead-letter unexpected_response with status and message',
      teapot,
      lease(0),
      T0,
      { kind: 'dead_letter', reason: 'unexpected_response', detail: "HTTP 418: I'm a teapot" },
    ],
    [
      'an undocumented 400 → dead-letter unexpected_response',
      otherBadRequest,
      lease(0),
      T0,
      { kind: 'dead_letter', reason: 'unexpected_response', detail: 'HTTP 400: capturedAt must be a date' },
    ],
  ];

  test.each(rows)('%s', (_name, outcome, l, now, expected) => {
    expect(decide(outcome, l, now, POLICY)).toEqual(expected);
  });
});

describe('transient backoff', () => {
  test('full jitter spans 0 up to the exponential ceiling', () => {
    expect(backoffDelay(4, { ...POLICY, random: () => 0 })).toBe(0);
    expect(backoffDelay(4, { ...POLICY, random: () => 0.999999 })).toBe(15_999);
    expect(backoffDelay(0, { ...POLICY, random: () => 0.25 })).toBe(250);
  });

  test('the ceiling is capped at maxDelayMs, even for huge attempt counts', () => {
    expect(backoffDelay(30, { ...POLICY, random: () => 0.5 })).toBe(450_000);
    expect(backoffDelay(5_000, { ...POLICY, random: () => 0.5 })).toBe(450_000);
  });

  test('Retry-After wins when it is longer than the jittered delay', () => {
    const outcome: ForwardOutcome = { ...tooMany, retryAfterMs: 30_000 };
    expect(decide(outcome, lease(0), T0, POLICY)).toEqual({ kind: 'retry', delayMs: 30_000 });
  });

  test('the jittered delay wins when it is longer than Retry-After', () => {
    expect(transientDelay(6, 1_000, POLICY)).toBe(32_000);
  });

  test('Retry-After is capped at maxDelayMs', () => {
    const outcome: ForwardOutcome = { kind: 'transient', status: 503, message: 'maintenance', retryAfterMs: 7_200_000 };
    expect(decide(outcome, lease(0), T0, POLICY)).toEqual({ kind: 'retry', delayMs: 900_000 });
  });

  test('uses Math.random when no random source is injected', () => {
    const { random: _unused, ...policy } = POLICY;
    for (let i = 0; i < 50; i += 1) {
      const d = backoffDelay(2, policy);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(4_000);
    }
  });
});
