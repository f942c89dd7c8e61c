import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTERS, getAdapter } from '../../adapters';
import { FIXTURES_DIR } from '../helpers/fixtures';

const ADAPTERS_DIR = join(__dirname, '..', '..', 'adapters');
const files = readdirSync(ADAPTERS_DIR)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .map((f) => f.replace(/\.ts$/, ''));

test('every file in adapters/ is in the adapter list, under its file name', () => {
  expect(ADAPTERS.map((a) => a.name).sort()).toEqual(files.sort());
});

test('adapters/samples/ holds the simulation samples of listed adapters only', () => {
  const samples = readdirSync(join(ADAPTERS_DIR, 'samples'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''));
  expect(samples.length).toBeGreaterThan(0);
  for (const name of samples) expect({ name, listed: files.includes(name) }).toEqual({ name, listed: true });
});

test('every adapter has a fixtures folder and a docs page', () => {
  const fixtureDirs = readdirSync(FIXTURES_DIR);
  const docs = readdirSync(join(__dirname, '..', '..', 'docs', 'providers')).map((f) => f.replace(/\.md$/, ''));
  for (const name of files) {
    expect({ name, fixtures: fixtureDirs.includes(name), docs: docs.includes(name) }).toEqual({
      name,
      fixtures: true,
      docs: true,
    });
  }
});

test('getAdapter finds each adapter by slug and nothing else', () => {
  for (const a of ADAPTERS) expect(getAdapter(a.name)).toBe(a);
  expect(getAdapter('nope')).toBeUndefined();
});
