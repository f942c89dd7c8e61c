'use strict';
/**
 * Child processes and local AWS emulators shared by the multi-process benchmarks (bench/scale.js,
 * bench/dedupe.js): CPU time of a process, a free port, a forked server child (lib/*-child),
 * and an SQS queue pair on the emulator.
 */
const { fork, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CLI = path.join(__dirname, '..', '..', 'bin', 'distinct-adapter.js');
/** Static credentials and region for the local AWS emulators (never real AWS). */
const LOCAL_AWS_ENV = { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' };

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** An emulator in a child process: `{ pid, endpoint, stop }`. */
function startChild(file, label) {
  const child = fork(path.join(__dirname, file), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${label} exited with code ${code}`)));
    child.on('message', (msg) => {
      if (!msg || msg.type !== 'ready') return;
      child.removeAllListeners('exit');
      resolve({
        pid: child.pid,
        endpoint: msg.endpoint,
        stop: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((done) => child.once('exit', done));
          child.send({ cmd: 'stop' });
          await Promise.race([exited, sleep(5000)]);
          if (child.exitCode === null) child.kill('SIGKILL');
        },
      });
    });
  });
}

async function createQueuePair(endpoint, name) {
  const { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } = require('@aws-sdk/client-sqs');
  const client = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const arn = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const main = await client.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: '60',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn.Attributes.QueueArn, maxReceiveCount: 10 }),
        },
      }),
    );
    return { queueUrl: main.QueueUrl, deadLetterQueueUrl: dlq.QueueUrl, endpoint, region: 'us-east-1' };
  } finally {
    client.destroy();
  }
}

/**
 * `distinct-adapter <args> --config <configFile>` in a child process on `port` (default: a free
 * one), once its /healthz answers: `{ url, pid, stop }`. `nodeArgs` go to node itself (e.g. a CPU
 * profile); stderr is kept for the error when it exits or stays unhealthy past `healthTimeoutMs`.
 */
async function startCli(args, { configFile, label, port, nodeArgs = [], healthTimeoutMs = 20_000 }) {
  const listenPort = port ?? (await freePort());
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args, '--config', configFile], {
    env: { ...process.env, ...LOCAL_AWS_ENV, PORT: String(listenPort) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${listenPort}`;
  const deadline = Date.now() + healthTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited with code ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${label} did not become healthy: ${stderr}`);
    await sleep(50);
  }
  return {
    url,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

module.exports = { cpuSeconds, freePort, startChild, startCli, createQueuePair };
