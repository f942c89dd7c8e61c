// ESLint (flat config): typescript-eslint's recommended rules, and the layer rule of
// docs/architecture.md (import-x/no-restricted-paths). `npm run lint` runs it; .ci/run too.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers, lowest first (docs/architecture.md). A folder may import from folders in lower
 * rows only: never from a higher row, nor from another folder of its own row. Tests, benchmarks
 * and bin/ sit outside the layers (they may import anything).
 */
const LAYERS = [
  ['src/core'],
  ['src/body'],
  ['src/verify', 'src/mapping'],
  // Peers: configuration is generic over adapters; the composition roots hand it their list.
  ['adapters', 'src/config'],
  ['src/queue'],
  ['src/observability'],
  // The shared key store (dedupe.store): a Queue decorator over any driver, composed by the runtimes.
  ['src/dedupe'],
  ['src/pipeline', 'src/forwarder'],
  ['src/console', 'src/sandbox'],
  ['src/runtime'],
  ['src/cli'],
];

/**
 * Imports that break the layers and are being removed elsewhere: each entry would exempt one
 * file's import of one file, nothing more. Empty since the adapter kit moved the
 * verification-settings helpers into src/verify/settings.ts; do not add to it.
 */
const KNOWN_VIOLATIONS = [];

// A new folder of src/ must take its place in LAYERS (and docs/architecture.md) to be checked.
for (const entry of readdirSync(join(import.meta.dirname, 'src'), { withFileTypes: true })) {
  if (entry.isDirectory() && !LAYERS.flat().includes(`src/${entry.name}`)) {
    throw new Error(`eslint.config.mjs: src/${entry.name} is in no layer; add it to LAYERS and docs/architecture.md`);
  }
}

// An entry whose import is gone must leave the list: lint stops until it is removed.
for (const v of KNOWN_VIOLATIONS) {
  let specifier = relative(dirname(v.file), v.imports.replace(/\.ts$/, ''));
  if (!specifier.startsWith('.')) specifier = `./${specifier}`;
  let text = '';
  try {
    text = readFileSync(join(import.meta.dirname, v.file), 'utf8');
  } catch {
    // a deleted file has no import either
  }
  if (!text.includes(`'${specifier}'`)) {
    throw new Error(`eslint.config.mjs: ${v.file} no longer imports ${v.imports}; remove it from KNOWN_VIOLATIONS`);
  }
}

const layerOf = (folder) => LAYERS.findIndex((row) => row.includes(folder));
const folderOf = (file) => LAYERS.flat().find((folder) => file.startsWith(`${folder}/`));

/** One zone per rule "folder X may not import from folder Y"; `exempt` lists { target, from, file } exceptions. */
function zones(exempt = []) {
  const out = [];
  for (const target of LAYERS.flat()) {
    for (const from of LAYERS.flat()) {
      if (from === target || layerOf(from) < layerOf(target)) continue;
      const except = exempt
        .filter((e) => e.target === target && e.from === from)
        .map((e) => `./${e.file.slice(from.length + 1)}`);
      out.push({
        target: `./${target}`,
        from: `./${from}`,
        ...(except.length > 0 ? { except } : {}),
        message: `${target} may not import from ${from} (layers: docs/architecture.md); move the shared piece down, or pass it in.`,
      });
    }
  }
  return out;
}

const exemptionsByFile = new Map();
for (const v of KNOWN_VIOLATIONS) {
  const list = exemptionsByFile.get(v.file) ?? [];
  list.push({ target: folderOf(v.file), from: folderOf(v.imports), file: v.imports });
  exemptionsByFile.set(v.file, list);
}

/** Node's globals for the JavaScript files (CommonJS scripts and ES modules). */
const nodeNames = [
  ...Object.getOwnPropertyNames(globalThis),
  'require',
  'module',
  'exports',
  '__dirname',
  '__filename',
];
const nodeGlobals = Object.fromEntries(nodeNames.map((name) => [name, 'readonly']));

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'fixtures/', 'data/', '.bench-before/', '.serverless/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: nodeGlobals },
    rules: {
      // Deliberate style: the hot paths and tests assert presence with `!` where the index is known.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Deliberate: heavy modules (better-sqlite3, undici, libphonenumber-js, the SQS driver) are
      // required lazily, typed with `typeof import`, to keep them off the Lambda cold-start path.
      '@typescript-eslint/no-require-imports': 'off',
      // `_` marks a value taken apart on purpose (`const { sources: _s, ...rest } = root`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  { files: ['**/*.js', '**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  {
    // Type-aware, for the shipped code: a promise nobody awaits or catches is a crash waiting for
    // its first rejection (unhandled rejections end the process).
    files: ['src/**/*.ts', 'adapters/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['src/**/*.ts', 'adapters/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
    rules: { 'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: zones() }] },
  },
  ...[...exemptionsByFile].map(([file, exempt]) => ({
    files: [file],
    rules: { 'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: zones(exempt) }] },
  })),
);
