import type { Command } from 'commander';
import { createLogger } from '../../observability/logger';
import { request } from 'undici';
import { DEV_SANDBOX_PORT } from '../dev-defaults';
import { describeFault, groupFaults, type AppliedFault, type FaultResponse } from '../../sandbox/faults';
import { createSandbox } from '../../sandbox/sandbox-server';
import { addHelp } from '../help';

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('run a local Distinct-compatible analytics API that enforces the contract and shows what it received')
    .option('-p, --port <port>', 'port', '4010')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--api-key <key>', 'the x-distinct-api-key it accepts', process.env.DISTINCT_API_KEY ?? 'sandbox')
    .action(async (flags: { port: string; host: string; apiKey: string }) => {
      const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
      const sandbox = createSandbox({ apiKey: flags.apiKey, logger });
      await sandbox.listen(Number(flags.port), flags.host);
      logger.info(
        { url: `http://${flags.host}:${flags.port}/` },
        'Distinct sandbox listening: POST /api/v1/user/analytics; open / to see received events',
      );
      const stop = (): void => {
        void sandbox.close().then(() => process.exit(0));
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
  addHelp(
    sandbox,
    [
      'distinct-adapter sandbox                               # http://127.0.0.1:4010/ shows what it received',
      'distinct-adapter sandbox --port 4010 --api-key test-key',
      'distinct-adapter sandbox --host 0.0.0.0                # in a container',
    ],
    {
      DISTINCT_API_KEY: 'the API key it accepts when --api-key is not given (default "sandbox")',
      LOG_LEVEL: 'log level (default info)',
    },
  );

  const fault = sandbox
    .command('fault')
    .description(
      'queue faults in a running sandbox: the next requests get an error, a delay or a dropped connection (docs/sandbox.md)',
    )
    .option(
      '-u, --url <url>',
      'the running sandbox',
      process.env.DISTINCT_SANDBOX_URL ?? `http://127.0.0.1:${DEV_SANDBOX_PORT}`,
    )
    .option('-s, --status <code>', 'answer with this HTTP status (e.g. 500, 429, 401, 400)')
    .option('-m, --message <text>', "the envelope's message (default: Distinct's text for the status)")
    .option('--retry-after <seconds>', 'send Retry-After with the answer')
    .option('-t, --times <n>', 'apply to this many consecutive requests', '1')
    .option('-l, --latency <ms>', 'wait this long first (alone: then answer normally)')
    .option('--drop', 'drop the connection without answering (a network error)')
    .option('--raw-body <text>', 'send this text/plain body instead of the JSON envelope (e.g. an HTML error page)')
    .option('--list', 'show the pending and recently applied faults')
    .option('--clear', 'remove every pending fault')
    .action(async (flags: FaultFlags) => {
      const base = flags.url.replace(/\/+$/, '');
      const endpoint = `${base}/_sandbox/faults`;
      try {
        if (flags.clear) {
          await call('DELETE', endpoint);
          process.stdout.write(`cleared the pending faults of ${base}\n`);
          if (!flags.list && flags.status === undefined && flags.latency === undefined && !flags.drop) return;
        }
        if (flags.status !== undefined || flags.latency !== undefined || flags.drop) {
          const response = faultFrom(flags);
          // A delay alone or a drop has no status on the wire (the sandbox API's documented shape).
          const wire = {
            ...response,
            status: response.latencyOnly || response.destroy ? undefined : response.status,
            latencyOnly: undefined,
          };
          const answer = (await call('POST', endpoint, { responses: [wire] })) as { queued: number };
          const times = response.times ?? 1;
          process.stdout.write(
            `queued: ${describeFault(response)}${times > 1 ? ` × ${times}` : ''} (pending now: ${answer.queued}) at ${base}\n`,
          );
          return;
        }
        if (!flags.list) {
          process.stderr.write('nothing to do: pass --status, --latency or --drop (or --list, --clear); see --help\n');
          process.exit(2);
        }
        const state = (await call('GET', endpoint)) as { pending: FaultResponse[]; applied: AppliedFault[] };
        const pending = groupFaults(state.pending);
        process.stdout.write(`pending at ${base}: ${pending.length === 0 ? 'none' : ''}\n`);
        for (const g of pending) process.stdout.write(`  ${g.description}${g.times > 1 ? ` × ${g.times}` : ''}\n`);
        process.stdout.write(`applied (newest last): ${state.applied.length === 0 ? 'none' : ''}\n`);
        for (const a of state.applied.slice(-20)) process.stdout.write(`  ${a.appliedAt}  ${a.description}\n`);
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        process.exit(1);
      }
    });
  addHelp(
    fault,
    [
      'distinct-adapter sandbox fault --status 500 --times 3          # three 500s: the forwarder backs off and retries',
      'distinct-adapter sandbox fault --status 429 --retry-after 5',
      'distinct-adapter sandbox fault --status 401                    # circuit opens: events stay queued until a probe succeeds',
      'distinct-adapter sandbox fault --status 400 --message "Invalid experience id."   # dead-lettered invalid_experience',
      'distinct-adapter sandbox fault --latency 3000                  # slow, then normal',
      'distinct-adapter sandbox fault --drop --times 2                # connection reset',
      'distinct-adapter sandbox fault --list',
      'distinct-adapter sandbox fault --clear',
    ],
    {
      DISTINCT_SANDBOX_URL: `the sandbox when --url is not given (default http://127.0.0.1:${DEV_SANDBOX_PORT}); it is called over HTTP: POST/GET/DELETE /_sandbox/faults`,
    },
  );
}

interface FaultFlags {
  url: string;
  status?: string;
  message?: string;
  retryAfter?: string;
  times: string;
  latency?: string;
  drop?: boolean;
  rawBody?: string;
  list?: boolean;
  clear?: boolean;
}

function faultFrom(flags: FaultFlags): FaultResponse {
  const int = (text: string, flag: string, min: number, max: number): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      process.stderr.write(`${flag}: "${text}" must be a whole number from ${min} to ${max}\n`);
      process.exit(2);
    }
    return n;
  };
  if (flags.drop && flags.status !== undefined) {
    process.stderr.write('--drop and --status exclude each other: a dropped connection has no status\n');
    process.exit(2);
  }
  const response: FaultResponse = { status: 0 };
  if (flags.status !== undefined) response.status = int(flags.status, '--status', 100, 599);
  if (flags.drop) response.destroy = true;
  if (flags.latency !== undefined) response.delayMs = int(flags.latency, '--latency', 0, 600_000);
  if (flags.status === undefined && !flags.drop) response.latencyOnly = true;
  if (flags.message !== undefined) response.message = flags.message;
  if (flags.retryAfter !== undefined)
    response.retryAfter = /^\d+$/.test(flags.retryAfter) ? Number(flags.retryAfter) : flags.retryAfter;
  if (flags.rawBody !== undefined) response.rawBody = flags.rawBody;
  const times = int(flags.times, '--times', 1, 10_000);
  if (times > 1) response.times = times;
  return response;
}

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<unknown> {
  let res;
  try {
    res = await request(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(
      `no sandbox at ${new URL(url).origin} (${(err as Error).message}); start one with \`distinct-adapter sandbox\` or \`serve --dev\`, or pass --url`,
      { cause: err },
    );
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method} ${url}: ${res.statusCode} ${text.slice(0, 200)}`);
  return JSON.parse(text) as unknown;
}
