/**
 * `dlq` as an operator runs it (compiled CLI, child processes, real SQLite files): it never
 * creates a queue, names the file it read, resolves queue.path against the configuration file's
 * folder from any directory, counts per reason, and `replay --wait` follows a running serve.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeadLetterReason } from '../../src/core/distinct-event';
import { createSandbox } from '../../src/sandbox/sandbox-server';
import { SqliteQueue } from '../../src/queue/sqlite-queue';
import { createTestCredentials, tempDir, testConfigDocument } from '../helpers/app';
import { runCli, startServe, useRunningChildren } from '../helpers/cli';
import { twilioDelivered } from '../helpers/queue-message';

const running = useRunningChildren();

/** A config folder whose file says `queue.path: ./data/outbox.db` (relative). */
function configFolder(baseUrl = 'http://127.0.0.1:9'): { dir: string; config: string; queueFile: string } {
  const dir = tempDir();
  const doc = testConfigDocument({ creds: createTestCredentials(), baseUrl, apiKey: 'dlq-key' });
  (doc.queue as Record<string, unknown>).path = './data/outbox.db';
  (doc.log as Record<string, unknown>).level = 'info';
  const config = join(dir, 'distinct.config.json');
  writeFileSync(config, JSON.stringify(doc));
  return { dir, config, queueFile: join(dir, 'data', 'outbox.db') };
}

async function seedDeadLetters(
  file: string,
  items: Array<{ key: string; reason: DeadLetterReason; action?: string }>,
): Promise<void> {
  mkdirSync(join(file, '..'), { recursive: true });
  const queue = new SqliteQueue({ path: file, dedupeWindowMs: 60_000 });
  await queue.enqueue(
    items.map((i) => ({
      message: twilioDelivered(i.key, i.action ? { action: i.action } : {}),
      deadLetter: { reason: i.reason, detail: `seeded ${i.reason}` },
    })),
  );
  await queue.close();
}

test('dlq never creates a queue: it names the file it looked for and exits non-zero', async () => {
  const { dir, config, queueFile } = configFolder();
  const elsewhere = tempDir();
  for (const verb of [['list'], ['replay', '--all'], ['purge', '--all']]) {
    const r = await runCli(['dlq', ...verb, '--config', config], elsewhere);
    expect({ verb, code: r.code }).toEqual({ verb, code: 1 });
    expect(r.stderr).toContain(`ERR_QUEUE_NOT_FOUND: no queue at ${queueFile}`);
    expect(r.stderr).toContain(config);
  }
  expect(readdirSync(elsewhere)).toEqual([]);
  expect(readdirSync(dir)).toEqual(['distinct.config.json']);
  // --dev without a file: no queue and no dev credentials written either.
  const dev = await runCli(['dlq', 'list', '--dev'], elsewhere);
  expect(dev.code).toBe(1);
  expect(dev.stderr).toContain(join(elsewhere, 'data', 'outbox.db'));
  expect(readdirSync(elsewhere)).toEqual([]);
});

test('queue.path is relative to the config file, from any folder; list shows "showing N of M" and counts per reason', async () => {
  const { config, queueFile } = configFolder();
  await seedDeadLetters(queueFile, [
    { key: 'a', reason: 'no_identifier' },
    { key: 'b', reason: 'no_identifier' },
    { key: 'c', reason: 'no_identifier' },
    { key: 'd', reason: 'invalid_pair' },
    { key: 'e', reason: 'invalid_pair' },
  ]);
  const elsewhere = tempDir();
  const all = await runCli(['dlq', 'list', '--config', config], elsewhere);
  expect(all.code).toBe(0);
  expect(all.stdout).toContain(`queue: ${queueFile}`);
  expect(all.stdout).toMatch(/^5 dead letter\(s\)$/m);
  expect(all.stdout).toContain('by reason (whole queue): invalid_pair 2, no_identifier 3');

  const cut = await runCli(['dlq', 'list', '--limit', '2', '--config', config], elsewhere);
  expect(cut.stdout).toContain('showing 2 of 5');
  expect(cut.stdout.match(/registration_sms\/delivered/g)).toHaveLength(2);

  const byReason = await runCli(
    ['dlq', 'list', '--reason', 'no_identifier', '--limit', '1', '--config', config],
    elsewhere,
  );
  expect(byReason.stdout).toContain('showing 1 of 3');

  const json = await runCli(['dlq', 'list', '--json', '--limit', '2', '--config', config], elsewhere);
  expect(
    json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).reason),
  ).toEqual(['invalid_pair', 'invalid_pair']);
  expect(json.stderr).toContain('showing 2 of 5');

  const typo = await runCli(['dlq', 'list', '--reason', 'invalid_pari', '--config', config], elsewhere);
  expect(typo.stderr).toMatch(/warning: "invalid_pari" is not a dead-letter reason; did you mean "invalid_pair"\?/);
  expect(typo.stdout).toMatch(/^0 dead letter\(s\)$/m);

  expect((await runCli(['dlq', 'list', '--limit', 'ten', '--config', config], elsewhere)).code).toBe(2);
  expect(readdirSync(elsewhere)).toEqual([]);
});

test('dlq replay --wait follows a running serve until each event is delivered or dead again', async () => {
  const sandbox = createSandbox({ apiKey: 'dlq-key' });
  running.sandbox = sandbox;
  const { url } = await sandbox.listen(0, '127.0.0.1');
  const { dir, config, queueFile } = configFolder(url);
  await seedDeadLetters(queueFile, [
    { key: 'ok1', reason: 'max_attempts' },
    { key: 'ok2', reason: 'max_attempts' },
    { key: 'bad', reason: 'max_attempts', action: 'teleported' }, // not registered: Invalid feature/action.
    { key: 'other', reason: 'no_identifier' },
  ]);
  running.child = (await startServe(['--config', config], dir, { ...process.env, LOG_LEVEL: 'info' })).child;

  const r = await runCli(
    ['dlq', 'replay', '--reason', 'max_attempts', '--wait', '--timeout', '30', '--interval', '100', '--config', config],
    tempDir(),
  );
  expect(r.stdout).toContain('replayed 3 dead letter(s)');
  expect(r.stdout).toMatch(/done after [\d.]+s: 2\/3 delivered, 1 dead again \(invalid_pair 1\), 0 pending/);
  expect(r.code).toBe(1); // one died again
  expect(
    sandbox
      .received()
      .map((e) => e.idempotencyKey)
      .sort(),
  ).toEqual(['ok1', 'ok2']);
  const list = await runCli(['dlq', 'list', '--config', config], tempDir());
  expect(list.stdout).toContain('by reason (whole queue): invalid_pair 1, no_identifier 1');
});

test('dlq replay --wait without a running forwarder warns and times out non-zero', async () => {
  const { config, queueFile } = configFolder();
  await seedDeadLetters(queueFile, [{ key: 'x', reason: 'max_age' }]);
  const r = await runCli(
    ['dlq', 'replay', '--id', '1', '--wait', '--timeout', '1', '--interval', '100', '--config', config],
    tempDir(),
  );
  expect(r.stderr).toMatch(/warning: no serve or forward process has .*outbox\.db open/);
  expect(r.stdout).toMatch(/timed out after 1s with 1 still pending/);
  expect(r.code).toBe(1);
  expect(existsSync(queueFile)).toBe(true);
});
