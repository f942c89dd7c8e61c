'use strict';
/**
 * Locates the compiled project (dist/) the benchmarks measure. Benchmarks run the real build,
 * never ts sources through a transpiler, so what is measured is what `npm start` runs.
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
/**
 * The build under test. BENCH_DIST points at another build (e.g. a scratch copy with a proposed
 * change in src/) so a change can be measured against the same harness before it lands.
 */
const DIST = process.env.BENCH_DIST ? path.resolve(process.env.BENCH_DIST) : path.join(ROOT, 'dist');

let checked = false;

/** Builds dist/ when it is missing (or once per run when BENCH_BUILD=1); quiet otherwise. */
function ensureBuilt() {
  if (checked || process.env.BENCH_DIST) return; // BENCH_DIST is somebody else's build: never rebuild it
  checked = true;
  const marker = path.join(DIST, 'src', 'runtime', 'service.js');
  if (fs.existsSync(marker) && process.env.BENCH_BUILD !== '1') return;
  process.stderr.write(
    `bench: ${process.env.BENCH_BUILD === '1' ? 'BENCH_BUILD=1' : 'dist/ is missing'}; running \`npm run build\`…\n`,
  );
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    process.stderr.write('bench: the build failed; fix it (npm run build) and run the benchmarks again\n');
    process.exit(1);
  }
}

/**
 * require() of a compiled module by its source path, e.g. dist('src/runtime/service'); `root`
 * picks another build (BENCH_CANDIDATE_DIST).
 */
function dist(rel, root = DIST) {
  return require(path.join(root, rel));
}

/**
 * createWebhookRequest of the build under test: src/body/webhook-request (now), src/core/request
 * (its first home), or plain objects (builds before the memoised request).
 */
function requestFactory() {
  try {
    return dist('src/body/webhook-request');
  } catch {
    const { createWebhookRequest = (init) => init } = dist('src/core/request');
    return { createWebhookRequest };
  }
}

module.exports = { ROOT, DIST, ensureBuilt, dist, requestFactory };
