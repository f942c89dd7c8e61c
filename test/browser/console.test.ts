/**
 * The operator console in a real headless browser (Debian's `chromium`, driven by playwright-core):
 * the page renders the counts of a real run (real service, SQLite outbox, the sandbox as Distinct),
 * updates live, filters and shows dead letters, and a replay from the page delivers to the sandbox.
 *
 * CI (`CI=true`): a missing Chromium FAILS this test (.ci/run installs it with apt). Locally it is
 * skipped with a message.
 */
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildConfig } from '../helpers/config';
import { silentLogger } from '../../src/observability/logger';
import { startService, type Service } from '../../src/runtime/service';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox-server';
import {
  createTestCredentials,
  signedSample,
  tempDir,
  testConfigDocument,
  waitFor,
  type TestCredentials,
} from '../helpers/app';
import { postSigned as post } from '../helpers/serve';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(
    `test/browser/console.test.ts: SKIPPED — no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );
}
const browserTest = HAVE_CHROMIUM || IN_CI ? test : test.skip;

const USER = 'ops';
const PASS = 'browser pass';

let sandbox: Sandbox | undefined;
let service: Service | undefined;
let context: BrowserContext | undefined;

afterEach(async () => {
  await context?.close();
  await service?.close();
  await sandbox?.close();
});

const cell = (page: Page, source: string, col: string) =>
  page.locator(`[data-testid=sources] tr[data-source="${source}"] td[data-col="${col}"]`);

browserTest(
  'the console renders a real run, updates live, and a replay from the page delivers to the sandbox',
  async () => {
    if (!HAVE_CHROMIUM)
      throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs Debian's chromium with apt before npm test`);
    sandbox = createSandbox({ apiKey: 'browser-key' });
    const distinctUrl = (await sandbox.listen(0, '127.0.0.1')).url;
    const creds: TestCredentials = createTestCredentials();
    const doc = testConfigDocument({ creds, baseUrl: distinctUrl, apiKey: 'browser-key' });
    doc.console = { enabled: true, basicAuth: `${USER}:${PASS}` };
    service = await startService(buildConfig(doc), { logger: silentLogger(), port: 0, host: '127.0.0.1' });
    const twilio = `${service.url}/webhooks/twilio`;

    // A real run: delivered, a re-delivery, ignored, dead-lettered at ingest, dead-lettered by Distinct.
    const sent = signedSample('twilio', creds, twilio, { type: 'sms.sent', recipient: '+15017250601' });
    expect(await post(sent)).toBe(200);
    expect(await post(sent)).toBe(200);
    expect(
      await post(signedSample('mailgun', creds, `${service.url}/webhooks/mailgun`, { type: 'email.clicked' })),
    ).toBe(200);
    expect(
      await post(
        signedSample('twilio', creds, twilio, {
          type: 'sms.sent',
          recipient: '+15017250602',
          overrides: { distinct_feature: 'not_registered' },
        }),
      ),
    ).toBe(200);
    await waitFor(() => sandbox!.received().length === 1);
    sandbox.injectFaults([{ status: 400, message: 'Invalid feature/action.' }]);
    expect(
      await post(signedSample('twilio', creds, twilio, { type: 'sms.delivered', recipient: '+15017250603' })),
    ).toBe(200);
    await waitFor(async () => (await service!.queue.stats()).deadLettered === 2);

    context = await chromium.launchPersistentContext(tempDir('dwa-chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      httpCredentials: { username: USER, password: PASS },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    const response = await page.goto(`${service.url}/console`);
    expect(response?.status()).toBe(200);
    await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor();

    // The counts of the run.
    expect(await cell(page, 'twilio', 'requests').textContent()).toBe('4');
    expect(await cell(page, 'twilio', 'queued').textContent()).toBe('2');
    expect(await cell(page, 'twilio', 'duplicates').textContent()).toBe('1');
    expect(await cell(page, 'twilio', 'deadLettered').textContent()).toMatch(/^2invalid_pair 2$/);
    expect(await cell(page, 'twilio', 'forwarded').textContent()).toBe('1');
    expect(await cell(page, 'mailgun', 'ignored').textContent()).toMatch(/^1clicked/);
    expect(await page.getByTestId('queue-depth').textContent()).toBe('0');
    expect(await page.getByTestId('circuit-state').textContent()).toBe('forwarding');
    expect(await page.getByTestId('circuit-last').textContent()).toMatch(/HTTP 400 "Invalid feature\/action\."/);
    expect(await page.getByTestId('forwarded').textContent()).toBe('1');
    expect(await page.getByTestId('dead-letter-total').textContent()).toBe('2');
    expect(await page.getByTestId('recent').textContent()).toMatch(/\+\*{7}0601/);
    expect(await page.getByTestId('dead-letters').locator('tr[data-id]').count()).toBe(2);

    // Live: a new delivery shows up without a reload.
    expect(await post(signedSample('twilio', creds, twilio, { type: 'sms.sent', recipient: '+15017250604' }))).toBe(
      200,
    );
    await page.locator('[data-testid=forwarded]', { hasText: /^2$/ }).waitFor();
    expect(await cell(page, 'twilio', 'forwarded').textContent()).toBe('2');

    // Filters.
    await page.getByTestId('filter-source').selectOption('mailgun');
    await page.locator('[data-testid=dead-letters]', { hasText: 'no dead letters match' }).waitFor();
    await page.getByTestId('filter-source').selectOption('twilio');
    await page.getByTestId('filter-reason').selectOption('invalid_pair');
    await waitFor(async () => (await page.getByTestId('dead-letters').locator('tr[data-id]').count()) === 2);

    // Look at the one Distinct refused, and replay it: this time Distinct accepts it.
    const refused = page.getByTestId('dead-letters').locator('tr[data-id]', { hasText: 'registration_sms/delivered' });
    await refused.getByTestId('view').click();
    const detail = page.getByTestId('dead-letter-detail');
    await detail.getByTestId('detail-why').waitFor();
    expect(await detail.getByTestId('detail-why').textContent()).toMatch(/Invalid feature\/action\./);
    const event = JSON.parse((await detail.getByTestId('detail-event').textContent()) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(event).toMatchObject({ feature: 'registration_sms', action: 'delivered', phone: '+*******0603' });
    // Distinct refused it: the dead letter holds what was sent to Distinct, not the provider's event.
    expect(await detail.getByTestId('detail-provider-event').count()).toBe(0);
    await detail.getByTestId('replay-one').click();
    await page.getByTestId('confirm').waitFor({ state: 'visible' });
    await page.getByTestId('confirm-yes').click();
    await page.locator('[data-testid=replay][data-done=true]').waitFor();
    expect(await page.getByTestId('replay-delivered').first().textContent()).toBe('1');
    expect(sandbox.received().map((r) => r.event.phone)).toContain('+15017250603');
    await page.locator('[data-testid=dead-letter-total]', { hasText: /^1$/ }).waitFor();

    // What is left was dead-lettered at ingest: it keeps what Twilio sent, recipients masked.
    await page.getByTestId('dead-letters').locator('tr[data-id]').getByTestId('view').click();
    await detail.getByTestId('detail-provider-event').waitFor();
    const sentByTwilio = JSON.parse(
      (await detail.getByTestId('detail-provider-event').textContent()) ?? '{}',
    ) as Record<string, unknown>;
    expect(sentByTwilio).toMatchObject({ MessageStatus: 'sent', To: '+*******0602' });

    // Purge what is left (the unregistered pair), with the confirmation.
    await page.getByTestId('purge-matching').click();
    expect(await page.getByTestId('confirm').textContent()).toMatch(/Purge reason invalid_pair, source twilio/);
    await page.getByTestId('confirm-yes').click();
    await page.locator('[data-testid=dead-letter-total]', { hasText: /^0$/ }).waitFor();
    expect(await page.getByTestId('notice').textContent()).toBe('purged 1');
    expect((await service.queue.stats()).deadLettered).toBe(0);

    // No recipient in the clear anywhere on the page; the page ran without script errors.
    expect(await page.content()).not.toMatch(/1501725060\d/);
    expect(errors).toEqual([]);
  },
  90_000,
);
