/**
 * The sandbox as a tool: `distinct-adapter sandbox fault` against a running sandbox (real CLI
 * processes, real HTTP), and its page updating in a real browser without reloading.
 */
import { existsSync } from 'node:fs';
import { request } from 'undici';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox-server';
import { runCli } from '../helpers/cli';

const VALID = {
  email: 'jane@example.com',
  feature: 'registration_email',
  action: 'delivered',
  experienceId: '47Gop5',
  capturedAt: '2026-04-27T13:35:00Z',
  metadata: { provider: 'sendgrid', note: 'y'.repeat(400) },
};

let sandbox: Sandbox;
let url: string;
beforeEach(async () => {
  sandbox = createSandbox({ apiKey: 'k' });
  url = (await sandbox.listen(0, '127.0.0.1')).url;
});
afterEach(async () => {
  await sandbox.close();
});

async function post(body: unknown, key = 'k'): Promise<number> {
  const res = await request(`${url}/api/v1/user/analytics`, {
    method: 'POST',
    headers: { 'x-distinct-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.body.text();
  return res.statusCode;
}

test('sandbox fault: --status/--times, --latency, --drop, --list and --clear drive the running sandbox', async () => {
  const q = await runCli(['sandbox', 'fault', '--url', url, '--status', '500', '--times', '3']);
  expect(q).toMatchObject({
    code: 0,
    stdout: expect.stringContaining('queued: 500 Internal server error. × 3 (pending now: 3)'),
  });
  expect((await runCli(['sandbox', 'fault', '--url', url, '--latency', '200'])).stdout).toContain(
    '+200 ms, then answer normally',
  );
  expect((await runCli(['sandbox', 'fault', '--url', url, '--drop'])).stdout).toContain('drop the connection');
  expect(sandbox.pendingFaults()).toHaveLength(5);

  for (let i = 0; i < 3; i += 1) expect(await post(VALID)).toBe(500);
  const started = Date.now();
  expect(await post(VALID)).toBe(200);
  expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  await expect(post(VALID)).rejects.toThrow();
  expect(await post(VALID)).toBe(200);

  const list = await runCli(['sandbox', 'fault', '--url', url, '--list']);
  expect(list.stdout).toMatch(/pending at .*: none/);
  expect(list.stdout).toMatch(
    /500 Internal server error\.\n[^\n]*500 Internal server error\.\n[^\n]*500 Internal server error\.\n[^\n]*\+200 ms, then answered normally\n[^\n]*connection dropped/,
  );

  await runCli(['sandbox', 'fault', '--url', url, '--status', '429', '--retry-after', '5', '--times', '2']);
  expect((await runCli(['sandbox', 'fault', '--url', url, '--clear'])).stdout).toContain('cleared');
  expect(sandbox.pendingFaults()).toEqual([]);

  expect((await runCli(['sandbox', 'fault', '--url', url])).code).toBe(2); // nothing to do
  expect((await runCli(['sandbox', 'fault', '--url', url, '--status', '42'])).code).toBe(2);
  const down = await runCli(['sandbox', 'fault', '--url', 'http://127.0.0.1:1', '--status', '500']);
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(/no sandbox at http:\/\/127\.0\.0\.1:1 .*start one with `distinct-adapter sandbox`/);
});

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) =>
  existsSync(p),
);

(CHROMIUM ? test : test.skip)(
  'the page updates in place (no reload): events, rejections, faults; metadata wraps',
  async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${url}/`);
      expect(await page.textContent('#events')).toContain('Nothing received yet.');
      // Browser-side code as strings: this project compiles without the DOM library.
      await page.evaluate('window.marker = 42');

      expect(await post(VALID)).toBe(200);
      expect(await post({ ...VALID, feature: 'nope' })).toBe(400);
      sandbox.injectFaults([{ status: 503, times: 2 }]);
      // Polled from here: waitForFunction evaluates strings, which the page's CSP (rightly) forbids.
      const shows = async (selector: string, text: string): Promise<void> => {
        const deadline = Date.now() + 10_000;
        while (!((await page.textContent(selector)) ?? '').includes(text)) {
          if (Date.now() > deadline) throw new Error(`${selector} never showed "${text}"`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await shows('#events', 'registration_email / delivered');
      await shows('#rejections', 'Invalid feature/action.');
      await shows('#pending-faults', '503 Internal server error. × 2');
      expect(await page.evaluate('window.marker')).toBe(42); // same document: not reloaded

      // The 400-character note wraps inside its cell instead of widening the table past the window.
      const meta = (await page.evaluate(
        "(() => { const td = document.querySelector('#events td.meta'); return { width: td.getBoundingClientRect().width, ws: getComputedStyle(td).whiteSpace }; })()",
      )) as { width: number; ws: string };
      expect(meta.ws).toBe('pre-wrap');
      expect(meta.width).toBeLessThan(600);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1200);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  },
  30_000,
);
