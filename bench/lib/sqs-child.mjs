/**
 * A local SQS API (fauxqs, the pinned devDependency the tests use) in its own process, on
 * 127.0.0.1 and a free port, so the emulator does not share an event loop with the load
 * generator. Forked by bench/scale.js: sends `{ type: 'ready', endpoint }` over IPC and exits
 * when the parent disconnects or sends `{ cmd: 'stop' }`.
 */
import { buildApp } from 'fauxqs';

const app = buildApp({ logger: false });
const endpoint = await app.listen({ port: 0, host: '127.0.0.1' });
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.on('message', (msg) => {
  if (msg && msg.cmd === 'stop') void stop();
});
process.on('disconnect', () => void stop());
process.send({ type: 'ready', endpoint });
