/**
 * refineType(): the one refinement shape every adapter uses, and defineAdapter's derived
 * emitted types (no hand-kept list to forget).
 */
import { refinedTypes, refineType, type EventMap, type Refinements } from '../../src/core/event-types';
import { ADAPTERS as adapters } from '../../adapters';

const MAP = { failed: 'email.bounced', delivered: 'email.delivered' } as const satisfies EventMap;
const REFINEMENTS: Refinements = {
  failed: [
    { field: 'hard', table: { false: 'email.deferred' } },
    {
      field: 'severity',
      table: { temporary: 'email.deferred', '10': 'email.rejected' },
      ignoreCase: true,
      when: (r) => r.skip !== true,
    },
  ],
  '*': [{ field: 'name', table: { SUBSCRIBED: 'email.subscribed' } }],
};

describe('refineType', () => {
  test('looks the raw name up when no refinement matches', () => {
    expect(refineType(MAP, REFINEMENTS, 'failed', {}, 'email')).toBe('email.bounced');
    expect(refineType(MAP, REFINEMENTS, 'delivered', { severity: 'temporary' }, 'email')).toBe('email.delivered');
    expect(refineType(MAP, REFINEMENTS, 'nope', {}, 'email')).toBe('email.unknown');
    expect(refineType(MAP, REFINEMENTS, undefined, {}, 'email')).toBe('email.unknown');
  });

  test('tries refinements in order; numbers and booleans are looked up as text', () => {
    expect(refineType(MAP, REFINEMENTS, 'failed', { hard: false, severity: 10 }, 'email')).toBe('email.deferred');
    expect(refineType(MAP, REFINEMENTS, 'failed', { hard: true, severity: 10 }, 'email')).toBe('email.rejected');
    expect(refineType(MAP, REFINEMENTS, 'failed', { severity: { temporary: 1 } }, 'email')).toBe('email.bounced');
  });

  test('`when` gates a refinement; `ignoreCase` retries lower-cased', () => {
    expect(refineType(MAP, REFINEMENTS, 'failed', { severity: 'TEMPORARY' }, 'email')).toBe('email.deferred');
    expect(refineType(MAP, REFINEMENTS, 'failed', { severity: 'temporary', skip: true }, 'email')).toBe(
      'email.bounced',
    );
  });

  test("'*' applies to every name, after the name's own; prototype keys never match", () => {
    expect(refineType(MAP, REFINEMENTS, 'delivered', { name: 'SUBSCRIBED' }, 'email')).toBe('email.subscribed');
    expect(refineType(MAP, REFINEMENTS, 'failed', { severity: 'constructor' }, 'email')).toBe('email.bounced');
    expect(refineType(MAP, REFINEMENTS, 'constructor', {}, 'email')).toBe('email.unknown');
  });

  test('refinedTypes lists every table value once', () => {
    expect(refinedTypes(REFINEMENTS).sort()).toEqual(['email.deferred', 'email.rejected', 'email.subscribed']);
    expect(refinedTypes(undefined)).toEqual([]);
  });
});

describe('defineAdapter derives the emitted types', () => {
  test.each(adapters.map((a) => [a.name, a] as const))(
    '%s: map values, refinement tables, other tables and unknown',
    (_name, adapter) => {
      const expected = new Set<string>([
        ...Object.values(adapter.eventMap),
        ...refinedTypes(adapter.refinements),
        `${adapter.channel}.unknown`,
      ]);
      for (const map of adapter.otherEventMaps ?? []) for (const t of Object.values(map)) expected.add(t);
      expect([...adapter.emittedTypes].sort()).toEqual([...expected].sort());
    },
  );
});
