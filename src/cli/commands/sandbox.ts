import type { Command } from 'commander';
import { createLogger } from '../../observability/logger';
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
      logger.info({ url: `http://${flags.host}:${flags.port}/` }, 'Distinct sandbox listening: POST /api/v1/user/analytics; open / to see received events');
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
    { DISTINCT_API_KEY: 'the API key it accepts when --api-key is not given (default "sandbox")', LOG_LEVEL: 'log level (default info)' },
  );
}
