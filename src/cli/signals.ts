/**
 * Graceful shutdown of a long-running command (`serve`, `forward`): on SIGTERM or SIGINT, once,
 * `close` runs (deliveries in flight finish, the queue is closed) and the process exits 0, or 1
 * when closing failed. A second signal while closing changes nothing.
 */
import type { Logger } from '../observability/logger';

export function exitOnSignals(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
