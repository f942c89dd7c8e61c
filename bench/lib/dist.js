'use strict';
/**
 * Locates the compiled project (dist/) the benchmarks measure. Benchmarks run the real build,
 * never ts sources through a transpiler, so what is measured is what `npm start` runs.
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');

/** Builds dist/ when it is missing (or when BENCH_BUILD=1); quiet otherwise. */
function ensureBuilt() {
  const marker = path.join(DIST, 'src', 'runtime', 'service.js');
  if (fs.existsSync(marker) && process.env.BENCH_BUILD !== '1') return;
  process.stderr.write('bench: dist/ is missing; running `npm run build`…\n');
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    process.stderr.write('bench: the build failed; fix it (npm run build) and run the benchmarks again\n');
    process.exit(1);
  }
}

/** require() of a compiled module by its source path, e.g. dist('src/runtime/service'). */
function dist(rel) {
  return require(path.join(DIST, rel));
}

module.exports = { ROOT, DIST, ensureBuilt, dist };
