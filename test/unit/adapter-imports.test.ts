/**
 * Folder arrows for adapters: an adapter (and its simulation samples, adapters/samples/) holds
 * provider knowledge and imports the core kits (src/core, src/body, src/verify, src/mapping
 * identifiers), never configuration loading (src/config/**), runtimes, queues or the forwarder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ADAPTERS_DIR = join(__dirname, '..', '..', 'adapters');
const FORBIDDEN = /from '(?:\.\.\/)+src\/(config|runtime|queue|forwarder|pipeline|cli|sandbox|console)\//;
const FILES = [
  ...readdirSync(ADAPTERS_DIR).filter((f) => f.endsWith('.ts')),
  ...readdirSync(join(ADAPTERS_DIR, 'samples'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `samples/${f}`),
];

test.each(FILES)('adapters/%s imports no configuration, runtime or queue module', (file) => {
  const imports = readFileSync(join(ADAPTERS_DIR, file), 'utf8')
    .split('\n')
    .filter((line) => FORBIDDEN.test(line));
  expect(imports).toEqual([]);
});

test('the check itself catches a config import, from an adapter or from its samples', () => {
  expect(FORBIDDEN.test("import { rotatableSecret } from '../src/config/schema';")).toBe(true);
  expect(FORBIDDEN.test("import { rotatableSecret } from '../../src/config/schema';")).toBe(true);
  expect(FORBIDDEN.test("import { rotatableSecret } from '../src/verify/settings';")).toBe(false);
  expect(FILES).toContain('samples/postmark.ts');
});
