/** Turns "the SQLite outbox cannot be created or written" into an operator's message (containers above all). */
import { ConfigurationError } from '../core/errors';
import type { AppConfig } from '../config/load';

const NOT_WRITABLE = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EEXIST',
  'ENOENT',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_READONLY_DIRECTORY',
  'SQLITE_PERM',
]);

/**
 * A ConfigurationError naming `queue.path`, its resolved file and the `/data` volume when `err`
 * says the outbox could not be created or written; undefined for anything else.
 */
export function queuePathError(
  err: unknown,
  config: AppConfig,
  uid: number | undefined = process.getuid?.(),
): ConfigurationError | undefined {
  if (config.queue.driver !== 'sqlite' || typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !NOT_WRITABLE.has(code)) return undefined;
  const from =
    config.path === null ? 'the embedded development defaults (relative to the current directory)' : config.path;
  const who = uid === undefined ? 'this process' : `this process (uid ${uid})`;
  return new ConfigurationError([
    `queue.path: cannot create or write the SQLite outbox ${config.queue.path} (${code}); ${who} needs write access to its folder.` +
      ` queue.path comes from ${from}.` +
      ' In a container, mount a volume at /data and set queue.path: /data/outbox.db (the image links ./data to /data):' +
      ' docker run -v distinct-data:/data …',
  ]);
}
