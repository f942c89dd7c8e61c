import type { Command } from 'commander';
import { DEV_SANDBOX_API_KEY, DEV_SANDBOX_PORT } from '../../config/dev-defaults';
import { createLogger } from '../../observability/logger';
import { startService } from '../../runtime/service';
import { createSandbox } from '../../sandbox/sandbox-server';
import { exitOnConfigError, loadCliConfig } from '../load';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the webhook HTTP server and the forwarder')
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('--dev', 'development mode: embedded defaults when no config file exists, the local Distinct sandbox on port 4010, and the operator console (/console; loopback only unless console.basicAuth is set)')
    .option('--no-forward', 'only receive and queue; another process forwards')
    .action(async (flags: { config?: string; dev?: boolean; forward: boolean }) => {
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
        await sandbox.listen(DEV_SANDBOX_PORT, '127.0.0.1');
        logger.info({ url: `http://127.0.0.1:${DEV_SANDBOX_PORT}/` }, 'local Distinct sandbox: open this URL to see what Distinct receives');
      }
      if (flags.dev && config.path === null) {
        logger.warn('running on the embedded development defaults (throwaway credentials in ./data/dev-credentials.json); not for production');
      }
      const service = await startService(config, { logger, forward: flags.forward, dev: flags.dev === true });
      if (flags.dev && service.consoleUrl) {
        logger.info({ url: service.consoleUrl }, 'operator console: open this URL to see what the adapter receives, queues and forwards');
      }
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'signal received');
        service
          .close()
          .then(() => sandbox?.close())
          .then(() => process.exit(0))
          .catch((err: unknown) => {
            logger.error({ err }, 'error during shutdown');
            process.exit(1);
          });
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
