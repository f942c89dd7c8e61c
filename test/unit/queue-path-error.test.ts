/** serve/forward: an outbox the process cannot write is explained in terms of queue.path and the /data volume. */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { queuePathError } from '../../src/cli/queue-errors';
import { SqliteQueue } from '../../src/queue/sqlite-queue';
import { createTestCredentials, tempDir, testConfig } from '../helpers/app';

const config = testConfig({ creds: createTestCredentials(), queuePath: '/app/data/outbox.db' });

test('permission errors name the key, the file, the uid and the /data volume', () => {
  const err = Object.assign(new Error("EACCES: permission denied, mkdir '/app/data'"), { code: 'EACCES' });
  const message = queuePathError(err, config, 1000)!.message;
  expect(message).toContain(
    'queue.path: cannot create or write the SQLite outbox /app/data/outbox.db (EACCES); this process (uid 1000) needs write access',
  );
  expect(message).toContain('mount a volume at /data and set queue.path: /data/outbox.db');
  expect(queuePathError(Object.assign(new Error('x'), { code: 'SQLITE_CANTOPEN' }), config, 1000)).toBeDefined();
});

test('anything else is left alone', () => {
  expect(queuePathError(new Error('boom'), config)).toBeUndefined();
  expect(queuePathError(Object.assign(new Error('x'), { code: 'EADDRINUSE' }), config)).toBeUndefined();
});

// Root writes anywhere: the real permission check runs only as an ordinary user.
(process.getuid?.() === 0 ? test.skip : test)('a read-only folder really produces such an error', () => {
  const dir = join(tempDir(), 'ro');
  mkdirSync(dir);
  chmodSync(dir, 0o500);
  let thrown: unknown;
  try {
    new SqliteQueue({ path: join(dir, 'outbox.db'), dedupeWindowMs: 1000 });
  } catch (err) {
    thrown = err;
  }
  expect(queuePathError(thrown, config)).toBeDefined();
});
