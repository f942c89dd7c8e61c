'use strict';
/**
 * A local DynamoDB API (dynalite, the devDependency the tests use) in its own process, on
 * 127.0.0.1 and a free port, in memory. Forked by bench/dedupe.js: sends `{ type: 'ready',
 * endpoint }` over IPC and exits when the parent disconnects or sends `{ cmd: 'stop' }`.
 */
const dynalite = require('dynalite');

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', endpoint: `http://127.0.0.1:${server.address().port}` });
});
const stop = () => server.close(() => process.exit(0));
process.on('message', (msg) => {
  if (msg && msg.cmd === 'stop') stop();
});
process.on('disconnect', stop);
