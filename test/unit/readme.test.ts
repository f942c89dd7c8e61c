/** The README's quick start describes what `serve --dev` really serves. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTERS } from '../../adapters';
import { devConfigDocument, type DevCredentials } from '../../src/cli/dev-defaults';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Providers'));

test('the quick start names every source serve --dev serves, and only those', () => {
  const creds: DevCredentials = {};
  for (const a of ADAPTERS) creds[a.name] = { options: {}, signer: null };
  const served = Object.keys(devConfigDocument(creds, {}).sources as Record<string, unknown>).sort();
  expect(served).toEqual(ADAPTERS.map((a) => a.name).sort());
  const sentence =
    /serves one source\s+per built-in provider[\s\S]*?— on 127\.0\.0\.1:3000/.exec(quickStart)?.[0] ?? '';
  const named = [...sentence.matchAll(/`(?:\/webhooks\/)?([a-z]+)`/g)].map((m) => m[1]).sort();
  expect(named).toEqual(served);
});

test('the quick start is still the two commands of a fresh clone, and says which commands need --dev', () => {
  expect(quickStart).toContain('npm ci && npm start');
  expect(quickStart).toMatch(/\nnpm test /);
  expect(quickStart).toMatch(/Which commands need `--dev`/);
});
