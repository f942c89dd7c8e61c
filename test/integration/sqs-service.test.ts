/**
 * `queue.driver: sqs` in the long-running service and the CLI, on loopback: the real service
 * (express + SQS queue on the local SQS API + forwarder) and the project's Distinct sandbox.
 * Waits poll for a state with a generous deadline; the one bound on time (close) is far below
 * the 20 s long poll it proves is not waited out.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { buildConfig } from '../helpers/config';
import { silentLogger } from '../../src/observability/logger';
import { startService, type Service } from '../../src/runtime/service';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox-server';
import { createTestCredentials, signedSample, tempDir, testConfigDocument, waitFor } from '../helpers/app';
import { postSigned as post } from '../helpers/serve';
import { CLI } from '../helpers/cli';
import { counts, createQueuePair, sqsClient, within } from '../helpers/sqs';

const run = promisify(execFile);
const creds = createTestCredentials();

let admin: SQSClient;
let sandbox: Sandbox;
let service: Service | undefined;
beforeAll(() => {
  admin = sqsClient();
});
afterAll(() => admin.destroy());
afterEach(async () => {
  await service?.close();
  service = undefined;
  await sandbox.close();
});

async function start(): Promise<{
  doc: Record<string, unknown>;
  settings: Awaited<ReturnType<typeof createQueuePair>>;
}> {
  sandbox = createSandbox({ apiKey: 'sqs-key' });
  const { url } = await sandbox.listen(0, '127.0.0.1');
  const settings = await createQueuePair(admin);
  const doc = testConfigDocument({ creds, baseUrl: url, apiKey: 'sqs-key' });
  // A production-like 20 s long poll: close() must not wait it out.
  doc.queue = { driver: 'sqs', sqs: { ...settings, waitTimeSeconds: 20 } };
  service = await startService(buildConfig(doc, {}), { logger: silentLogger(), port: 0, host: '127.0.0.1' });
  return { doc, settings };
}

test('a webhook is acknowledged after SQS has it, forwarded through SQS, and retried through visibility after a 500', async () => {
  const { settings } = await start();
  sandbox.injectFaults([{ status: 500, message: 'Internal server error.', times: 1 }]);
  expect(await post(signedSample('twilio', creds, `${service!.url}/webhooks/twilio`, { type: 'sms.delivered' }))).toBe(
    200,
  );
  await waitFor(() => sandbox.received().length === 1, 15_000);
  expect(sandbox.stats().requests).toBe(2);
  expect(sandbox.received()[0]?.event).toMatchObject({
    feature: 'registration_sms',
    action: 'delivered',
    phone: '+15017250604',
  });
  await waitFor(async () => (await counts(admin, settings.queueUrl)).notVisible === 0);
  expect(await counts(admin, settings.queueUrl)).toEqual({ visible: 0, notVisible: 0 });

  // Readiness asks SQS; close ends the forwarder's 20 s receive at once.
  const ready = await request(`${service!.url}/readyz`);
  await ready.body.text();
  expect(ready.statusCode).toBe(200);
  const closing = service!.close();
  service = undefined;
  expect(
    await within(
      closing.then(() => 'closed'),
      10_000,
      'still waiting',
    ),
  ).toBe('closed');
});

test('dlq list, replay and purge work on the SQS dead-letter queue through the CLI', async () => {
  const { doc } = await start();
  // A Twilio short code with no user id cannot be sent: it is dead-lettered no_identifier at receipt.
  expect(
    await post(
      signedSample('twilio', creds, `${service!.url}/webhooks/twilio`, { type: 'sms.sent', recipient: '12345' }),
    ),
  ).toBe(200);
  await service!.close();
  service = undefined;

  const dir = tempDir();
  const config = join(dir, 'distinct.config.json');
  writeFileSync(config, JSON.stringify(doc));
  const cli = async (args: string[]): Promise<string> =>
    (
      await run(process.execPath, [CLI, ...args, '--config', config], {
        cwd: dir,
        env: { ...process.env, LOG_LEVEL: 'silent' },
      })
    ).stdout;
  const list = await cli(['dlq', 'list']);
  expect(list).toMatch(/no_identifier\s+twilio\s+registration_sms\/sent/);
  expect(list).toMatch(/1 dead letter\(s\)/);
  expect(list).toContain(
    `queue: ${(doc.queue as { sqs: { deadLetterQueueUrl: string } }).sqs.deadLetterQueueUrl} (sqs)`,
  );
  expect(list).toContain('by reason (whole queue): no_identifier 1');
  expect(await cli(['dlq', 'list', '--reason', 'no_identifier', '--limit', '0'])).toContain('showing 0 of 1');
  expect(await cli(['dlq', 'replay', '--reason', 'no_identifier'])).toMatch(/replayed 1/);
  expect(await cli(['dlq', 'purge', '--all'])).toMatch(/purged 0/);
});
