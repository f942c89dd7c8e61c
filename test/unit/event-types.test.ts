import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_TYPE_DOCS, EVENT_TYPES, mapEventType } from '../../src/core/event-types';
import { DEFAULT_ACTIONS } from '../../src/mapping/default-actions';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'events.md'), 'utf8');

test('docs/events.md documents every normalized type with its meaning and default action, and nothing else', () => {
  const rows = [...doc.matchAll(/^\| `([a-z]+\.[a-z]+)` \| (.+) \| (.+) \|$/gm)];
  expect(rows.map((r) => r[1]).sort()).toEqual([...EVENT_TYPES].sort());
  for (const [, type, meaning, action] of rows) {
    expect(meaning).toBe(EVENT_TYPE_DOCS[type as keyof typeof EVENT_TYPE_DOCS]);
    const want = DEFAULT_ACTIONS[type as keyof typeof DEFAULT_ACTIONS];
    expect(action).toBe(want ? `\`${want}\`` : '(ignored)');
  }
});

test('mapEventType falls back to <channel>.unknown and never to a prototype key', () => {
  const map = { delivered: 'email.delivered' } as const;
  expect(mapEventType(map, 'delivered', 'email')).toBe('email.delivered');
  expect(mapEventType(map, 'nope', 'email')).toBe('email.unknown');
  expect(mapEventType(map, 'toString', 'sms')).toBe('sms.unknown');
  expect(mapEventType(map, undefined, 'sms')).toBe('sms.unknown');
});
