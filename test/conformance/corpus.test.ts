/**
 * The corpus of published payloads (issue #9 item 5): how many fixtures per provider come from a
 * public source (a `source` field), against the targets, and that fixtures/SOURCES.md
 * indexes every one of them. A provider that cannot reach its target from public sources is listed
 * in SHORTFALL with the reason; the entry must be removed once the target is met, so the table
 * never claims a gap that no longer exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTERS } from '../../adapters';
import { FIXTURES_DIR, loadFixtures } from '../helpers/fixtures';

/** Issue #9 item 5: at least 10 published payloads for the big four, 5 for every other provider. */
const TARGET: Readonly<Record<string, number>> = { sendgrid: 10, twilio: 10, mailgun: 10, ses: 10 };
const DEFAULT_TARGET = 5;

/** Providers below target, with the count reached and why more was not found (see fixtures/SOURCES.md). */
const SHORTFALL: Readonly<Record<string, { have: number; why: string }>> = {
  generic: { have: 0, why: 'the generic source is our own event format: no third party publishes payloads for it' },
  plivo: {
    have: 0,
    why: "Plivo's docs list callback parameters without an example request; its SDK tests sign placeholder parameters",
  },
  messagebird: { have: 2, why: 'one docs example; every MessageBird SDK test reuses the same status report' },
};

const published = (provider: string): string[] =>
  loadFixtures(provider)
    .filter((f) => f.source !== undefined)
    .map((f) => f.name);

describe('corpus of published payloads', () => {
  test.each(ADAPTERS.map((a) => [a.name] as const))(
    '%s has its target of published fixtures (or a stated shortfall)',
    (name) => {
      const have = published(name).length;
      const target = TARGET[name] ?? DEFAULT_TARGET;
      const short = SHORTFALL[name];
      if (short) {
        expect({ name, have: have >= short.have, stillShort: have < target }).toEqual({
          name,
          have: true,
          stillShort: true,
        });
      } else {
        expect({ name, have, enough: have >= target }).toEqual({ name, have, enough: true });
      }
    },
  );

  test('every shortfall names an adapter', () => {
    const names = new Set(ADAPTERS.map((a) => a.name));
    expect(Object.keys(SHORTFALL).filter((n) => !names.has(n))).toEqual([]);
  });

  test('fixtures/SOURCES.md lists every published fixture under its provider', () => {
    const index = readFileSync(join(FIXTURES_DIR, 'SOURCES.md'), 'utf8');
    const missing: string[] = [];
    for (const { name } of ADAPTERS) {
      const section = index.split(/^## /m).find((s) => s.startsWith(`${name}\n`)) ?? '';
      for (const f of published(name)) if (!section.includes(`\`${f}\``)) missing.push(`${name}/${f}`);
    }
    expect(missing).toEqual([]);
  });
});
