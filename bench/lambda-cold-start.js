'use strict';
/**
 * Benchmark — Lambda cold start of the HTTP handler (issue #4 item 2: importing the module must
 * take < 150 ms).
 *
 * Importing dist/src/runtime/lambda-http.js is what Lambda's init phase runs: it loads the code
 * AND initialises at module scope (distinct.config.lambda.yml with every source's settings
 * validated, logger, pipeline, SQS client). Every sample is a fresh `node` process (nothing
 * cached in memory; the OS file cache is warm, as on a warm Lambda host):
 *
 * - import: `process.hrtime` around the `require` inside the child (the goal), plus the CPU time
 *   it used (`process.cpuUsage`: a steadier figure on a busy machine);
 * - wall time of the whole child `node -e "require(…)"` against a baseline `node -e "0"` (Node's
 *   own start-up), interleaved, and their ratio;
 * - import + first request: the same, then one signed webhook through the handler until its
 *   response, enqueued to a real SQS API (fauxqs, started here on 127.0.0.1) — a SendGrid event
 *   (e-mail) and a base64 Twilio callback (SMS: the phone library loads on the first phone).
 *   The bundled configuration's key store (`dedupe.store`) is dynalite, in this process: the first
 *   request also checks the table and claims its key there (one fresh table per request).
 *
 * BENCH_COLD_RUNS sets the number of samples (default 20); BENCH_COLD_NO_STORE=1 leaves the key
 * store out of the configuration (to measure what it adds).
 */
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { parse, stringify } = require('yaml');
const { ensureBuilt, dist, DIST, ROOT } = require('./lib/dist');
const { printTable } = require('./lib/report');

const GOAL_MS = 150;
const NO_STORE = process.env.BENCH_COLD_NO_STORE === '1';
const CONFIG_FILE = 'distinct.config.lambda.yml';
const MODULE = path.join(DIST, 'src', 'runtime', 'lambda-http.js');
const API_HOST = 'r2d2c3po.execute-api.eu-west-1.amazonaws.com';
/** Packages the HTTP handler must never load (cold start, native ABI). */
const FORBIDDEN = ['better-sqlite3', 'express', 'twilio'];

/** Environment for the handler: throwaway credentials for each `${VAR}` of a source, and the queues. */
function handlerEnv({ queueUrl, deadLetterQueueUrl, endpoint }, dir, keys) {
  const { getAdapter } = dist('adapters/index');
  const doc = parse(fs.readFileSync(path.join(ROOT, CONFIG_FILE), 'utf8'));
  // The bundled configuration, pointed at the local SQS API (the SDK needs the endpoint in its
  // client configuration to send to it rather than to the queue URL's host).
  doc.queue.sqs = { ...doc.queue.sqs, endpoint, region: 'us-east-1' };
  // The shared key store (dedupe.store) on a local DynamoDB API; the stack's variable names the table.
  // BENCH_COLD_NO_STORE=1 measures without it (A/B).
  if (doc.dedupe && doc.dedupe.store) {
    if (NO_STORE) delete doc.dedupe.store;
    else doc.dedupe.store = { ...doc.dedupe.store, endpoint: keys.endpoint };
  }
  fs.writeFileSync(path.join(dir, CONFIG_FILE), stringify(doc));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LAMBDA_TASK_ROOT: dir,
    DISTINCT_ADAPTER_CONFIG: CONFIG_FILE,
    DISTINCT_SQS_QUEUE_URL: queueUrl,
    DISTINCT_SQS_DLQ_URL: deadLetterQueueUrl,
    ...(NO_STORE ? {} : { DISTINCT_DEDUPE_TABLE: 'cold-start-keys' }),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    DISTINCT_API_KEY: 'bench-key',
    DISTINCT_EXPERIENCE_ID: 'exp_bench',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'silent',
  };
  const signers = {};
  for (const [id, source] of Object.entries(doc.sources)) {
    const adapter = getAdapter(source.provider ?? id);
    const { options, signer } = adapter.testing.createCredentials();
    signers[id] = { adapter, signer };
    for (const [key, value] of Object.entries(source)) {
      const m = typeof value === 'string' ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value) : null;
      if (m && !(m[1] in env) && options[key] !== undefined) env[m[1]] = String(options[key]);
    }
  }
  return { env, signers };
}

/** An API Gateway HTTP API v2 event (the AWS documentation's example) carrying a signed sample. */
function signedEvent(signers, source, type, recipient, base64) {
  const { adapter, signer } = signers[source];
  const template = JSON.parse(
    fs.readFileSync(path.join(ROOT, 'fixtures', 'aws', 'api-gateway-http-api-v2.json'), 'utf8'),
  ).event;
  const now = new Date();
  const sample = adapter.testing.sample({ type, recipient, now, overrides: {} });
  const base = `https://${API_HOST}/webhooks/${source}`;
  const signed = adapter.testing.sign(
    {
      method: 'POST',
      url: sample.query ? `${base}?${sample.query}` : base,
      headers: { ...sample.headers },
      body: sample.body,
    },
    signer,
    now,
  );
  const url = new URL(signed.url);
  return {
    ...template,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    cookies: undefined,
    headers: { ...signed.headers, 'content-length': String(signed.body.length), host: API_HOST },
    body: base64 ? signed.body.toString('base64') : signed.body.toString('utf8'),
    isBase64Encoded: base64,
    requestContext: {
      ...template.requestContext,
      domainName: API_HOST,
      http: { ...template.requestContext.http, path: url.pathname },
      timeEpoch: now.getTime(),
    },
  };
}

/** Child script: import (and optionally handle `event`), print timings. */
const CHILD = `
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const mod = require(process.env.BENCH_MODULE);
const t1 = process.hrtime.bigint();
const cpu = process.cpuUsage(c0);
const out = { importMs: Number(t1 - t0) / 1e6, importCpuMs: (cpu.user + cpu.system) / 1000, modules: Object.keys(require.cache) };
(async () => {
  if (process.env.BENCH_EVENT) {
    const res = await mod.handler(JSON.parse(process.env.BENCH_EVENT));
    out.firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
    out.status = res.statusCode;
    await mod.runtime.queue.close();
  }
  process.stdout.write('\\nBENCH:' + JSON.stringify(out) + '\\n');
})().catch((err) => { console.error(err); process.exit(1); });
`;

/** Asynchronous on purpose: the SQS API the child calls runs in this process's event loop. */
async function child(env, event) {
  const started = process.hrtime.bigint();
  const { stdout: out } = await promisify(execFile)(process.execPath, ['-e', CHILD], {
    env: { ...env, BENCH_MODULE: MODULE, ...(event ? { BENCH_EVENT: JSON.stringify(event) } : {}) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  // The handler's own log lines (BENCH_LOG_LEVEL) share stdout with the result line.
  const line = out.split('\n').find((l) => l.startsWith('BENCH:'));
  if (!line) throw new Error(`no result from the child:\n${out}`);
  const r = JSON.parse(line.slice('BENCH:'.length));
  if (event && r.status !== 200)
    throw new Error(`the first request was answered ${r.status}, not 200:\n${out.slice(0, 4000)}`);
  return { ...r, wallMs };
}

async function baselineOnce(env) {
  const started = process.hrtime.bigint();
  await promisify(execFile)(process.execPath, ['-e', '0'], { env });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const median = (values) => quantile(values, 0.5);
const f1 = (v) => v.toFixed(1);
const summary = (values) =>
  `median ${f1(median(values))} ms, p90 ${f1(quantile(values, 0.9))} ms, min ${f1(Math.min(...values))} ms`;

/**
 * dynalite (the tests' local DynamoDB API) on 127.0.0.1, in this process: the handler's key store.
 * `fresh()` creates a new table per timed request, so a sample's event key is never already
 * claimed by the previous child (its lease would answer 503).
 */
async function startKeys() {
  const dynalite = require('dynalite');
  const { DynamoDBClient, CreateTableCommand } = require('@aws-sdk/client-dynamodb');
  const server = dynalite({ createTableMs: 0 });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${server.address().port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  let n = 0;
  return {
    endpoint,
    fresh: async () => {
      const TableName = `cold-start-keys-${(n += 1)}`;
      await client.send(
        new CreateTableCommand({
          TableName,
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      return TableName;
    },
    close: () => {
      client.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** fauxqs on 127.0.0.1 with a queue pair (main queue redriving to its DLQ). */
async function startSqs() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { buildApp } = await import('fauxqs');
  const { SQSClient, CreateQueueCommand } = require('@aws-sdk/client-sqs');
  const app = buildApp({ logger: false });
  const endpoint = await app.listen({ port: 0, host: '127.0.0.1' });
  const client = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const dlq = await client.send(new CreateQueueCommand({ QueueName: 'cold-start-dlq' }));
  const main = await client.send(new CreateQueueCommand({ QueueName: 'cold-start' }));
  client.destroy();
  return { endpoint, queueUrl: main.QueueUrl, deadLetterQueueUrl: dlq.QueueUrl, close: () => app.close() };
}

async function run({ log = console.log } = {}) {
  ensureBuilt();
  const runs = Math.max(3, Number(process.env.BENCH_COLD_RUNS || 20));
  const sqs = await startSqs();
  const keys = await startKeys();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwa-cold-'));
  try {
    const { env, signers } = handlerEnv(sqs, dir, keys);
    // A request gets a fresh key table (see startKeys); an import alone never touches it.
    const withTable = async () => (NO_STORE ? env : { ...env, DISTINCT_DEDUPE_TABLE: await keys.fresh() });
    const emailEvent = () => signedEvent(signers, 'sendgrid', 'email.delivered', 'jane.doe@example.com', false);
    const smsEvent = () => signedEvent(signers, 'twilio', 'sms.delivered', '+15017250604', true);
    // Untimed first: fails loudly on a broken configuration or handler, and warms the file cache.
    const first = await child(await withTable(), smsEvent());
    const packages = [
      ...new Set(first.modules.map((m) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(m)?.[1]).filter(Boolean)),
    ];
    const loaded = packages.filter((p) => FORBIDDEN.includes(p));
    const r = { imports: [], cpus: [], walls: [], baselines: [], email: [], sms: [] };
    for (let i = 0; i < runs; i += 1) {
      r.baselines.push(await baselineOnce(env));
      const a = await child(env);
      r.imports.push(a.importMs);
      r.cpus.push(a.importCpuMs);
      r.walls.push(a.wallMs);
      r.email.push((await child(await withTable(), emailEvent())).firstMs);
      r.sms.push((await child(await withTable(), smsEvent())).firstMs);
    }
    const importMedian = median(r.imports);
    const wallMedian = median(r.walls);
    const baseMedian = median(r.baselines);
    log(
      `lambda cold start: ${runs} samples of fresh processes; the import loads ${first.modules.length} modules from ${packages.length} packages`,
    );
    log(`  import (hrtime in the child):        ${summary(r.imports)}`);
    log(`  import CPU time (user + system):     ${summary(r.cpus)}`);
    log(`  import + first SendGrid webhook:     ${summary(r.email)}`);
    log(`  import + first Twilio webhook (SMS): ${summary(r.sms)}`);
    log(
      `  wall: node -e "require(lambda-http)" median ${f1(wallMedian)} ms vs node -e "0" median ${f1(baseMedian)} ms: ${(wallMedian / baseMedian).toFixed(2)}× the bare start`,
    );
    log(`  packages loaded: ${packages.join(', ')}`);
    log(`  forbidden packages loaded (${FORBIDDEN.join(', ')}): ${loaded.length === 0 ? 'none' : loaded.join(', ')}`);
    const rows = [
      {
        benchmark: 'lambda-http import (median)',
        measured: Math.round(importMedian),
        unit: 'ms',
        baseline: Math.round(baseMedian),
        baselineLabel: 'node -e "0" wall',
        ratio: wallMedian / baseMedian,
        goal: `< ${GOAL_MS} ms`,
        pass: importMedian < GOAL_MS && loaded.length === 0,
      },
      {
        benchmark: 'lambda-http import + first webhook (SMS, median)',
        measured: Math.round(median(r.sms)),
        unit: 'ms',
        baseline: null,
        ratio: null,
        goal: 'info',
        pass: null,
      },
    ];
    return {
      rows,
      importMedian,
      cpuMedian: median(r.cpus),
      emailMedian: median(r.email),
      smsMedian: median(r.sms),
      wallMedian,
      baseMedian,
      modules: first.modules.length,
      forbidden: loaded,
    };
  } finally {
    await sqs.close();
    await keys.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { run };

if (require.main === module) {
  run()
    .then(({ rows }) => {
      console.log('');
      printTable(rows);
      if (rows.some((row) => row.pass === false)) process.exitCode = 1;
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
