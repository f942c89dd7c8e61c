/** `forward`: only the forwarder (a shared queue's consumer) plus /healthz, /readyz and /metrics. */
import type { Command } from 'commander';
import { createLogger } from '../../observability/logger';
import { startForwardService } from '../../runtime/forward-service';
import { exitOnConfigError, loadCliConfig } from '../load';

export function registerForward(program: Command): void {
  program
    .command('forward')
    .description('run only the forwarder (receivers run `serve --no-forward` on the same queue); serves /healthz, /readyz and /metrics')
    .option('-c, --config <file>', 'configuration file (YAML or JSON)')
    .option('-p, --port <port>', 'port of /healthz, /readyz and /metrics (default: server.port, $PORT)')
    .action(async (flags: { config?: string; port?: string }) => {
      let config;
      try {
        config = loadCliConfig(flags);
      } catch (err) {
        exitOnConfigError(err);
      }
      const port = flags.port === undefined ? undefined : Number(flags.port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
        process.stderr.write(`--port: "${flags.port}" is not a port number\n`);
        process.exit(1);
      }
      const logger = createLogger({ level: config.log.level, redactPii: config.log.redactPii });
      if (config.queue.driver !== 'sqs') {
        logger.warn(
          { queue: config.queue.driver },
          'forward is meant for a shared queue (queue.driver: sqs); an SQLite outbox is owned by one process, so receivers cannot share it',
        );
      }
      const service = await startForwardService(config, { logger, port });
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'signal received');
        service
          .close()
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
