/** `forward`: only the forwarder (a shared queue's consumer) plus /healthz, /readyz and /metrics. */
import type { Command } from 'commander';
import { createLogger } from '../../observability/logger';
import { startForwardService } from '../../runtime/forward-service';
import { addHelp, CONFIG_ENV } from '../help';
import { exitOnConfigError, loadCliConfig } from '../load';
import { queuePathError } from '../queue-errors';
import { exitOnSignals } from '../signals';

export function registerForward(program: Command): void {
  const forward = program
    .command('forward')
    .description(
      'run only the forwarder (receivers run `serve --no-forward` on the same queue); serves /healthz, /readyz and /metrics',
    )
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
      let service;
      try {
        service = await startForwardService(config, { logger, port });
      } catch (err) {
        exitOnConfigError(queuePathError(err, config) ?? err);
      }
      exitOnSignals(logger, () => service.close());
    });
  addHelp(
    forward,
    [
      'distinct-adapter forward --config distinct.config.yml            # queue.driver: sqs',
      'distinct-adapter forward --config distinct.config.yml --port 9100',
    ],
    {
      ...CONFIG_ENV,
      PORT: 'overrides server.port (the port of /healthz, /readyz, /metrics)',
      AWS_REGION: 'queue.sqs region when the file sets none',
      AWS_ENDPOINT_URL_SQS: 'SQS endpoint when queue.sqs.endpoint is not set (local emulators)',
    },
  );
}
