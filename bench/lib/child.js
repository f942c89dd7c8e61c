'use strict';
/** Starts a server child (server-child.js) and talks to it over IPC. */
const { fork } = require('node:child_process');
const path = require('node:path');

const START_TIMEOUT_MS = 15_000;

/**
 * Forks `server-child.js <mode>` and resolves once it listens.
 * @returns {{ url: string, pid: number, stats(): Promise<object>, stop(): Promise<void> }}
 */
function startServer(mode, { env = {}, execArgv = [] } = {}) {
  const child = fork(path.join(__dirname, 'server-child.js'), [mode], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map();
  child.on('message', (msg) => {
    if (msg && msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  });
  const call = (cmd) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ id, cmd }, (err) => err && reject(err));
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${mode} server did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${mode} server exited with code ${code} before it was ready`));
    });
    child.on('message', function onReady(msg) {
      if (!msg || msg.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', onReady);
      child.removeAllListeners('exit');
      resolve({
        url: msg.url,
        pid: child.pid,
        stats: async () => (await call('stats')).stats,
        stop: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((done) => child.once('exit', done));
          const grace = (ms) => new Promise((r) => setTimeout(r, ms).unref());
          void call('stop').catch(() => {});
          // The child exits by itself once closed (writing a --cpu-prof profile may take a moment).
          await Promise.race([exited, grace(10_000)]);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

module.exports = { startServer };
