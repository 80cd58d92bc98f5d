/**
 * The console in a real browser: Debian's chromium driven by playwright-core (no browser download), against the
 * real HTTP server (with API keys), the real Temporal dev server (test/run.ts), a real worker and the Unpod
 * simulator (test/helpers/stack.ts). Walks what a campaign manager does, and writes the screenshots the README
 * shows (docs/screenshots/).
 *
 * Chromium is told to resolve no name but loopback, so nothing it does leaves the machine.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningHttpServer } from '../../src/http/serve';
import { startStackHttp, startTestStack, type TestStack } from '../helpers/stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = 'console-test-key-0123456789';
const SPACE = 'space_console';
const SHOTS = path.join(__dirname, '..', '..', 'docs', 'screenshots');
const skip = fs.existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt-get install chromium)`;

/** Numbers by the simulator's last-two-digits rules: 00-49 answered, 60-64 never picked up, 75-77 wrong number. */
const HOSTILE_CSV = [
  'name,phone,timezone,call_at,notes',
  'Ana Answer,+1 415 555 0101,,,ok',
  'Ben Answer,+1 415 555 0102,,,ok',
  'Cara Answer,+1 415 555 0103,America/New_York,,ok',
  'Dan Nopickup,+1 415 555 0161,,,never answers',
  'Eve Wrongnumber,+1 415 555 0175,,,wrong number',
  'Fay Wrongnumber,+1 415 555 0176,,,wrong number',
  'Ana Again,+1 (415) 555-0101,,,duplicate of line 2',
  'Gus Blocked,+1 415 555 0104,,,on the do-not-call list',
  '<script>alert(1)</script>,+1 415 555 0105,,,markup in a name is text',
  '"=HYPERLINK(""http://evil"")",not a number,,,formula and no number',
  'No Phone,,,,empty phone',
  'Bad Zone,+1 415 555 0106,Mars/Olympus,,zone that does not exist',
  'Bad Time,+1 415 555 0107,,next tuesday,call_at that is not a time',
  'Too Short,12,,,two digits',
].join('\n');
/** The lines (header = 1) the preview must reject. */
const REJECTED_LINES = [11, 12, 13, 14, 15];

function csvWith(phones: string[]): string {
  return ['name,phone', ...phones.map((p, i) => `Contact ${i + 1},${p}`)].join('\n');
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

describe('web console in chromium', { skip, timeout: 600_000 }, () => {
  let stack: TestStack;
  let server: RunningHttpServer;
  let lists: http.Server;
  let listsUrl: string;
  let browser: Browser;
  let page: Page;
  let base: string;
  const tmp = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'console-test-'));

  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v2/platform/spaces/${SPACE}${p}`, {
      method,
      headers: { authorization: `Token ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await res.json()) as { data: Record<string, unknown> & { x_campaign?: { state: string } } };
  };

  const upload = async (file: string, content: string) => {
    const f = path.join(tmp, file);
    fs.writeFileSync(f, content);
    await page.setInputFiles('#csv-file', f);
  };

  /** New run page → preview → start; returns the new run's id from the URL. */
  const startRun = async (file: string, content: string, o: { preset?: string; hours?: string } = {}) => {
    await page.goto(`${base}#/new`);
    await upload(file, content);
    await page.selectOption('#opt-preset', o.preset ?? 'once');
    if (o.hours) await page.fill('#opt-call_hours', o.hours);
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: /Preview of/ }).waitFor();
    await page.getByRole('button', { name: /Start calling/ }).click();
    await page.waitForURL(/#\/runs\/R[0-9a-f]{32}$/);
    return /#\/runs\/(R[0-9a-f]{32})$/.exec(page.url())![1]!;
  };

  const waitState = async (state: string, timeout = 60_000) => {
    await page
      .getByTestId('run-state')
      .getByText(new RegExp(`^${state}$`, 'i'))
      .waitFor({ timeout });
  };

  before(async () => {
    stack = await startTestStack();
    server = await startStackHttp(stack, {
      api: {
        keys: [{ key: KEY, space: SPACE, user: 'console-tester' }],
        defaultAccount: `acct_${stack.taskQueue}`,
        defaultPipeId: 'pipe_test',
        defaultAgentId: 'agent_test',
        defaultRegion: 'US',
        batchSize: 50,
      },
      console: { temporalUiUrl: 'http://127.0.0.1:8233', namespace: 'default' },
    });
    base = `${server.url}/console/`;
    // The list a schedule reads at each firing.
    lists = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end(csvWith(['+14155550121', '+14155550122']));
    });
    await new Promise<void>((r) => lists.listen(0, '127.0.0.1', r));
    listsUrl = `http://127.0.0.1:${(lists.address() as AddressInfo).port}/today.csv`;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.setDefaultTimeout(60_000); // a loaded 2-core CI machine
    page.on('pageerror', (err) => console.error('page error:', err));
  });

  after(async () => {
    await browser?.close();
    // Runs left going (the paused-and-resumed one waits for its calling window) are canceled.
    const runs = (await api('GET', '/runs/?status=running')) as unknown as { data: { run_id: string }[] };
    for (const r of runs.data ?? []) await api('POST', `/runs/${r.run_id}/cancel/`, { hangup: true });
    await new Promise<void>((r) => lists?.close(() => r()));
    await server?.close();
    await stack?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a wrong key gets a clear message, and the key never reaches the URL', async () => {
    await page.goto(base);
    await page.fill('#space', SPACE);
    await page.fill('#key', 'not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('That API key was not accepted').waitFor();
    await shot(page, 'sign-in');
    await page.fill('#space', 'space_other');
    await page.fill('#key', KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('not for space “space_other”').waitFor();
    assert.ok(!page.url().includes(KEY));
  });

  it('signs in; the account page raises the limits and shows their use', async () => {
    await page.fill('#space', SPACE);
    await page.fill('#key', KEY);
    await page.keyboard.press('Enter'); // the form submits from the keyboard
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    assert.ok(!page.url().includes(KEY));
    assert.equal(
      await page.evaluate(() =>
        (
          globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }
        ).sessionStorage.getItem('unpod-console.key'),
      ),
      KEY,
    );

    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Limits' }).waitFor();
    await page.fill('#l-calls_per_minute', '6000');
    await page.fill('#l-concurrency', '200');
    await page.fill('#l-tasks_per_day', '100000');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByText('Limits changed').waitFor();
    await page.getByTestId('use-live').getByText('of 200').waitFor();
    const limits = await api('GET', '/limits/');
    assert.deepEqual((limits.data as { limits: { calls_per_minute: number } }).limits.calls_per_minute, 6000);
    await shot(page, 'account');
  });

  it('a hostile CSV: the preview lists each rejected row by line, nothing is dialed, then it runs to the end', async () => {
    await page.goto(`${base}#/new`);
    await upload('hostile.csv', HOSTILE_CSV);
    await page.fill('#opt-dnc', '+1 415 555 0104');
    await page.selectOption('#opt-preset', 'once');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: /Preview of hostile.csv/ }).waitFor();
    const rejects = page.locator('table.rejects tbody tr');
    assert.equal(await rejects.count(), REJECTED_LINES.length);
    for (const [i, line] of REJECTED_LINES.entries()) {
      assert.equal(await rejects.nth(i).locator('td').first().textContent(), String(line));
      assert.ok(((await rejects.nth(i).locator('td').nth(2).textContent()) ?? '').length > 5);
    }
    assert.equal(await page.getByTestId('to-call').textContent(), '7');
    await page.getByText('1 duplicates').waitFor();
    await page.getByText('1 on do-not-call').waitFor();
    // Markup in a cell is shown as text, never run.
    await page.locator('table.first-rows').getByText('<script>alert(1)</script>').waitFor();
    await page.locator('table.first-rows').getByText('America/New_York').waitFor();
    assert.equal(
      ((await api('GET', '/runs/')) as unknown as { count: number }).count,
      0,
      'a preview starts nothing',
    );
    await shot(page, 'new-run-preview', true);

    await page.getByRole('button', { name: 'Start calling 7 contacts' }).click();
    await page.waitForURL(/#\/runs\/R/);
    await waitState('completed', 90_000);
    await page.getByTestId('count-completed').getByText('4').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('count-failed').textContent(), '3');
    await page.locator('table.outcomes').getByText('Wrong number').waitFor();
    await shot(page, 'run', true);

    // Failed only; a contact opens its attempts and transcript.
    await page.selectOption('#c-status', 'failed');
    await page.locator('table.contacts tbody tr').first().waitFor();
    await page.getByText(/^3 contacts$/).waitFor();
    await page.getByRole('button', { name: /^Open Eve Wrongnumber/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Wrong number').first().waitFor();
    await dialog.getByTestId('transcript').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    // A completed contact has its transcript.
    await page.selectOption('#c-status', 'completed');
    await page.fill('#c-q', '+1 415 555 0101');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(/^1 contact$/).waitFor();
    await page.getByRole('button', { name: /^Open Ana Answer/ }).click();
    assert.match((await dialog.getByTestId('transcript').textContent()) ?? '', /agent: Hello/i);
    await shot(page, 'contact');
    await page.keyboard.press('Escape');
    // By name: its first letters, in any case (the number above matches two: Ana and her duplicate row).
    await page.selectOption('#c-status', '');
    await page.getByText(/^2 contacts$/).waitFor();
    await page.fill('#c-q', 'BEN');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: /^Open Ben Answer/ }).waitFor();
    await page.getByText(/^1 contact$/).waitFor();
    assert.equal(await page.locator('table.contacts tbody tr').count(), 1);
    await page.fill('#c-q', 'answer');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(/^0 contacts$/).waitFor(); // a prefix of the whole name, not of a later word
    await page.fill('#c-q', 'ana');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: /^Open Ana Again/ }).waitFor(); // the duplicate: skipped, still listed
    await page.getByText(/^2 contacts$/).waitFor();
    await page.fill('#c-q', '');
    await page.getByRole('button', { name: 'Search' }).click();

    // Export: the download carries every contact.
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const rows = parse(fs.readFileSync((await csv.path())!, 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    assert.equal(rows.length, 9, '7 called + 2 skipped');
    assert.deepEqual(Object.keys(rows[0]!).slice(0, 4), ['line', 'phone', 'name', 'status']);
    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSON' }).click(),
    ]);
    assert.equal((JSON.parse(fs.readFileSync((await json.path())!, 'utf8')) as unknown[]).length, 9);

    // Retry failed: a new run over the 3 failed contacts, with the settings of the first.
    const firstUrl = page.url();
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page.waitForURL((u) => u.href !== firstUrl && /#\/runs\/R[0-9a-f]{32}$/.test(u.href));
    await page.getByText('retry of ').waitFor();
    await page.getByTestId('count-failed').getByText('3').waitFor();
    await page.goto(firstUrl);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await waitState('completed');
    await shot(page, 'run-phone');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('pauses and resumes a second run', async () => {
    // Calling hours that are not now: the run waits for its window, so it is still going while we act.
    const h = (new Date().getUTCHours() + 12) % 24;
    const hh = String(h).padStart(2, '0');
    const runId = await startRun('later.csv', csvWith(['+14155550111', '+14155550112']), {
      hours: `${hh}:00-${hh}:30`,
    });
    await waitState('running');
    await page.getByRole('button', { name: 'Pause' }).click();
    await waitState('paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await waitState('running');
    assert.equal((await api('GET', `/runs/${runId}/`)).data.x_campaign?.state, 'running');
  });

  it('cancels a third run and hangs up its calls', async () => {
    // 98/99: calls that ring, go active and never end until hung up.
    const runId = await startRun('stuck.csv', csvWith(['+14155550198', '+14155550199']));
    // Both calls in progress (ringing or active: the status webhook may come later than the call's start).
    for (let i = 0; i < 120; i++) {
      const run = (await api('GET', `/runs/${runId}/`)).data as unknown as {
        x_campaign: { counts: Record<string, number> };
      };
      const c = run.x_campaign.counts;
      if ((c.ringing ?? 0) + (c.active ?? 0) === 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.getByRole('button', { name: 'Cancel run…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this run?' });
    await dialog.getByLabel('Hang up calls in progress?').check();
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await waitState('canceled', 60_000);
    const run = (await api('GET', `/runs/${runId}/`)).data as {
      x_campaign: { state: string; counts: Record<string, number> };
    };
    assert.equal(run.x_campaign.state, 'canceled');
    // Hung up: no call is left ringing or active.
    assert.equal(
      (run.x_campaign.counts.active ?? 0) + (run.x_campaign.counts.ringing ?? 0),
      0,
      JSON.stringify(run.x_campaign.counts),
    );
    await page.getByTestId('count-active').getByText('0').waitFor();

    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator('table.runs tbody tr').nth(3).waitFor();
    await shot(page, 'runs');
    await page.selectOption('#state-filter', 'canceled');
    await page.getByText(/^1 run$/).waitFor();
  });

  it('creates a schedule and triggers it: its run shows under recent runs', async () => {
    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.fill('#s-id', 'weekday-reminders');
    await page.fill('#s-src', listsUrl);
    await page.fill('#s-when', '0 9 * * MON-FRI');
    await page.fill('#s-tz', 'America/Los_Angeles');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByText('Schedule weekday-reminders created').waitFor();
    const row = page.locator('table.schedules tbody tr', { hasText: 'weekday-reminders' });
    await row.waitFor({ timeout: 30_000 }); // schedule listing is eventually consistent
    await row.getByRole('button', { name: 'Run weekday-reminders now' }).click();
    await page.getByText('Schedule weekday-reminders fired').waitFor();
    await row.getByRole('button', { name: 'weekday-reminders', exact: true }).click();
    await page
      .locator('.panel')
      .getByRole('link', { name: /^R[0-9a-f]{8}/ })
      .waitFor({ timeout: 60_000 });
    await shot(page, 'schedules');
    await row.getByRole('button', { name: 'Pause weekday-reminders' }).click();
    await page.getByText('Schedule weekday-reminders paused').waitFor();
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete weekday-reminders' }).click();
    await page.getByText('Schedule weekday-reminders deleted').waitFor();
  });
});
