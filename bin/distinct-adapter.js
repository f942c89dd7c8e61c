#!/usr/bin/env node
'use strict';
// The CLI runs the compiled TypeScript (built by `npm ci` through the `prepare` script).
try {
  require('../dist/src/cli/main.js').main(process.argv);
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main')) {
    console.error('distinct-adapter is not built yet: run `npm run build` (npm ci does it for you).');
    process.exit(1);
  }
  throw err;
}
