import type { Command } from 'commander';
import { DEV_SANDBOX_API_KEY, DEV_SANDBOX_PORT } from '../dev-defaults';
import { createLogger } from '../../observability/logger';
import { startService } from '../../runtime/service';
import { createSandbox } from '../../sandbox/sandbox-server';
import { addHelp, CONFIG_ENV, DEV_ENV } from '../help';
import { exitOnConfigError, loadCliConfig } from '../load';
import { queuePathError } from '../queue-errors';
import { exitOnSignals } from '../signals';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export function registerServe(program: Command): void {
  const serve = program
    .command('serve')
    .description('run the webhook HTTP server and the forwarder')
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option(
      '--dev',
      'development mode: embedded defaults when no config file exists, the local Distinct sandbox on port 4010, and the operator console (/console; loopback only unless console.basicAuth is set)',
    )
    .option('--no-forward', 'only receive and queue; another process forwards')
    .option(
      '--host <host>',
      'interface to bind, e.g. 0.0.0.0 in a container (default: server.host; 127.0.0.1 with --dev defaults)',
    )
    .action(async (flags: { config?: string; dev?: boolean; forward: boolean; host?: string }) => {
      let config;
      try {
        config = loadCliConfig(flags);
      } catch (err) {
        exitOnConfigError(err);
      }
      const logger = createLogger({ level: config.log.level, redactPii: config.log.redactPii });
      let sandbox: ReturnType<typeof createSandbox> | undefined;
      if (flags.dev && config.distinct.baseUrl === `http://127.0.0.1:${DEV_SANDBOX_PORT}`) {
        sandbox = createSandbox({
          apiKey: config.distinct.apiKey === DEV_SANDBOX_API_KEY ? DEV_SANDBOX_API_KEY : config.distinct.apiKey,
          registry: config.registry.toJSON(),
          logger: logger.child({ component: 'sandbox' }),
        });
        // Bound where the service is, so `--dev --host 0.0.0.0` in a container shows its page too.
        const sandboxHost = flags.host ?? '127.0.0.1';
        await sandbox.listen(DEV_SANDBOX_PORT, sandboxHost);
        logger.info(
          { url: `http://${sandboxHost}:${DEV_SANDBOX_PORT}/` },
          'local Distinct sandbox: open this URL to see what Distinct receives',
        );
      }
      if (flags.dev && config.path === null) {
        logger.warn(
          'running on the embedded development defaults (throwaway credentials in ./data/dev-credentials.json); not for production',
        );
      }
      if (flags.dev && config.path === null && flags.host !== undefined && !isLoopback(flags.host)) {
        logger.warn(
          { host: flags.host },
          'the development defaults listen beyond loopback: their throwaway credentials are in ./data/dev-credentials.json; keep this port private',
        );
      }
      let service;
      try {
        service = await startService(config, {
          logger,
          forward: flags.forward,
          dev: flags.dev === true,
          host: flags.host,
        });
      } catch (err) {
        exitOnConfigError(queuePathError(err, config) ?? err);
      }
      if (flags.dev && service.consoleUrl) {
        logger.info(
          { url: service.consoleUrl },
          'operator console: open this URL to see what the adapter receives, queues and forwards',
        );
      }
      exitOnSignals(logger, async () => {
        await service.close();
        await sandbox?.close();
      });
    });
  addHelp(
    serve,
    [
      'distinct-adapter serve --config /etc/distinct-adapter/distinct.config.yml',
      'distinct-adapter serve --dev                      # every provider, local sandbox on :4010, no account needed',
      'distinct-adapter serve --dev --host 0.0.0.0       # the same inside a container (publish 3000 and 4010)',
      'distinct-adapter serve --no-forward               # receive only; `forward` runs elsewhere (SQS)',
    ],
    { ...CONFIG_ENV, PORT: 'overrides server.port', ...DEV_ENV },
  );
}
