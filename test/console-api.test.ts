/**
 * The /api/v2 routes the console added — preview, contacts page, outcomes, feed, limits, schedules — and the
 * console's own files, against the real stack (Temporal dev server, simulator, worker) and a second HTTP server
 * carrying API keys for two spaces.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { getRunInput } from '../src/campaign/run-control';
import { endReasonCounts } from '../src/http/api-contacts';
import { pausedReasonOf } from '../src/http/api-feed';
import { planFit } from '../src/http/run-plan';
import { pausedInWords, webLink } from '../web/src/format';
import type { CampaignProgress } from '../workflows/definitions';
import type { RunningHttpServer } from '../src/http/serve';
import { DEFAULT_LIMITS } from '../workflows/limiter-core';
import { contact, FAST_POLICY, startStackHttp, startTestStack, type TestStack } from './helpers/stack';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const KEY_A = 'console_key_a_0123456789';
const KEY_B = 'console_key_b_0123456789';
/** A space no other test file starts runs in: "the preview started nothing" is read there. */
const KEY_C = 'console_key_c_0123456789';
const SPACE_C = 'space_console_preview';
/** stack.run() starts its runs in this space. */
const SPACE_A = 'space_test';
const SPACE_B = 'space_other';

const HOSTILE = [
  'name,phone,timezone',
  'Ann,+1 415 555 0101,',
  'Bob,+1 415 555 0102,America/New_York',
  'Ann twice,(415) 555-0101,',
  'Zed,not a number,',
  'Mars,+1 415 555 0103,Mars/Olympus',
  'Dee,+1 415 555 0104,',
].join('\n');

describe('console API routes', { timeout: 240_000 }, () => {
  let stack: TestStack;
  let server: RunningHttpServer;
  let lists: http.Server;
  let listsUrl: string;
  let doneRun: string;

  const call = async (key: string, space: string, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Token ${key}` };
    let payload: string | FormData | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${server.url}/api/v2/platform/spaces/${space}${path}`, {
      method,
      headers,
      body: payload,
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const a = (method: string, path: string, body?: unknown) => call(KEY_A, SPACE_A, method, path, body);
  const csvForm = (csv: string, fields: Record<string, string> = {}) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'list.csv');
    return form;
  };
  const waitEnded = async (runId: string) => {
    for (let i = 0; i < 300; i++) {
      const r = await a('GET', `/runs/${runId}/`);
      if (['completed', 'canceled'].includes(r.body.data?.x_campaign?.state)) return r.body.data as Json;
      await delay(200);
    }
    throw new Error(`run ${runId} did not end`);
  };

  before(async () => {
    stack = await startTestStack();
    server = await startStackHttp(stack, {
      api: {
        keys: [
          { key: KEY_A, space: SPACE_A, user: 'alice', account: `acct_${stack.taskQueue}` },
          { key: KEY_B, space: SPACE_B, user: 'bob', account: `acct_b_${stack.taskQueue}` },
          { key: KEY_C, space: SPACE_C, user: 'carol', account: `acct_${stack.taskQueue}` },
        ],
        defaultAccount: 'acct_unused',
        defaultPipeId: 'pipe_test',
        defaultRegion: 'US',
      },
      console: { temporalUiUrl: 'http://127.0.0.1:8233', namespace: 'default' },
    });
    lists = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end('phone\n+14155550131\n');
    });
    await new Promise<void>((r) => lists.listen(0, '127.0.0.1', r));
    listsUrl = `http://127.0.0.1:${(lists.address() as AddressInfo).port}/list.csv`;
    // 30 contacts: 25 answered (last two digits 00-24), 5 never picked up (60-64); no retries.
    const contacts = Array.from({ length: 30 }, (_, i) =>
      contact(`+1415555${i < 25 ? 1000 + i : 1060 + (i - 25)}`, i + 2),
    );
    doneRun = await stack.run(contacts, { policy: { ...FAST_POLICY, maxAttempts: 1 } });
    await waitEnded(doneRun);
  });

  after(async () => {
    await new Promise<void>((r) => lists?.close(() => r()));
    await server?.close();
    await stack?.close();
  });

  it('preview: every rejected row by line, duplicates and do-not-call counted, nothing started', async () => {
    const r = await call(
      KEY_C,
      SPACE_C,
      'POST',
      '/runs/preview/',
      csvForm(HOSTILE, { dnc: '+1 415 555 0104' }),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const p = r.body.data as Json;
    assert.equal(p.rows, 6);
    assert.equal(p.valid, 2);
    assert.deepEqual(p.skipped, { duplicate: 1, do_not_call: 1 });
    assert.deepEqual(
      p.rejects.map((x: Json) => [x.line, x.column]),
      [
        [5, 'phone'],
        [6, 'timezone'],
      ],
    );
    assert.deepEqual(
      p.first_rows.map((c: Json) => [c.line, c.phone, c.zone]),
      [
        [2, '+14155550101', 'America/Los_Angeles'],
        [3, '+14155550102', 'America/New_York'],
      ],
    );
    assert.equal(p.fit.fits, true);
    assert.equal((await call(KEY_C, SPACE_C, 'GET', '/runs/')).body.count, 0, 'a preview starts no run');
  });

  it('preview: the calling window and deadline decide when rows are called and whether the run fits', async () => {
    const soon = new Date(Date.now() + 30 * 60_000).toISOString();
    const hour = (new Date().getUTCHours() + 3) % 24;
    const hh = String(hour).padStart(2, '0');
    const r = await a('POST', '/runs/preview/', {
      contacts: [{ phone: '+14155550101' }],
      call_hours: `${hh}:00-${hh}:30`,
      zone: 'UTC',
      deadline: soon,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const p = r.body.data as Json;
    // The window opens in about 3 h, after the deadline: the contact expires and the run cannot fit.
    assert.equal(p.first_rows[0].call_at, null);
    assert.match(p.first_rows[0].note, /deadline/);
    assert.equal(p.fit.fits, false);
    assert.match(p.fit.message, /^cannot finish by/);

    const bad = await a('POST', '/runs/preview/', {
      contacts: [{ phone: '+14155550101' }],
      call_hours: '9 to 5',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.x_campaign.field, 'call_hours');
    assert.match(bad.body.errors, /call_hours/);
  });

  it('planFit: cannot finish by the deadline at the limits, and says how much calling time is missing', () => {
    const now = Date.parse('2026-03-02T15:00:00Z'); // a Monday, 07:00 in Los Angeles
    const timing = {
      callingWindow: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
      deadline: '2026-03-02T23:00:00Z', // 15:00 in Los Angeles: 6 h of window left
    };
    // 600 contacts at 1 call/min need 10 h: 4 h short.
    const f = planFit(600, { ...DEFAULT_LIMITS, callsPerMinute: 1 }, timing, 'America/Los_Angeles', now);
    assert.equal(f.fits, false);
    assert.equal(f.short_by_ms, 4 * 3_600_000);
    assert.match(f.message, /needs 4h00m more calling time/);
    // 10 h of calling from Monday 09:00: Tuesday 11:00 local.
    assert.equal(f.earliest_finish, '2026-03-03T19:00:00.000Z');
    const ok = planFit(60, { ...DEFAULT_LIMITS, callsPerMinute: 60 }, timing, 'America/Los_Angeles', now);
    assert.equal(ok.fits, true);
    // 60 calls of 2 min over 10 lines take 12 min (concurrency binds).
    assert.equal(ok.bound_by, 'concurrency');
    assert.equal(ok.earliest_finish, '2026-03-02T17:12:00.000Z');
  });

  it('a paused run says why: the reason the campaign gives, in plain words', () => {
    const progress = (state: string, extra: object) => ({ state, ...extra }) as unknown as CampaignProgress;
    assert.equal(
      pausedReasonOf(progress('paused', { pausedReason: 'circuit_breaker: 10 failures in a row' })),
      'circuit_breaker: 10 failures in a row',
    );
    assert.equal(pausedReasonOf(progress('paused', { pausedReason: { message: 'by alice' } })), 'by alice');
    assert.equal(pausedReasonOf(progress('running', { pausedReason: 'stale' })), null);
    assert.equal(pausedReasonOf(progress('paused', {})), null);
    assert.match(
      pausedInWords('circuit_breaker: 10 failures in a row') ?? '',
      /^Paused automatically: too many calls were failing in a row/,
    );
    assert.equal(pausedInWords(null), null);
  });

  it("a recording link is made only of an http(s) address (Unpod's recording_url is not checked)", () => {
    assert.equal(webLink('https://cdn.unpod.ai/rec/1.mp3'), 'https://cdn.unpod.ai/rec/1.mp3');
    assert.equal(webLink('javascript:alert(1)'), null);
    assert.equal(webLink(' JavaScript:alert(1)'), null);
    assert.equal(webLink('data:text/html,<script>alert(1)</script>'), null);
    assert.equal(webLink('/relative/path.mp3'), null);
    assert.equal(webLink(null), null);
  });

  it('POST /runs/ takes the calling window and deadline fields', async () => {
    const deadline = new Date(Date.now() + 3_600_000).toISOString();
    const r = await a('POST', '/runs/', {
      contacts: [{ phone: '+14155550111' }],
      call_days: 'mon-fri',
      call_hours: '09:00-17:00',
      zone: 'America/Chicago',
      deadline,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const input = await getRunInput(stack.env.client, r.body.data.run_id);
    assert.deepEqual(input.callingWindow, { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' });
    assert.equal(input.timezone, 'America/Chicago');
    assert.equal(input.deadline, deadline);
    await a('POST', `/runs/${r.body.data.run_id}/cancel/`, { hangup: true });
  });

  it('contacts: visibility pages by token, filters by status, end reason and number prefix', async () => {
    const seen = new Set<string>();
    let token: string | null = null;
    let pages = 0;
    do {
      const r = await a(
        'GET',
        `/runs/${doneRun}/contacts/?page_size=10${token ? `&page_token=${token}` : ''}`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.count, 30);
      for (const t of r.body.data as Json[]) seen.add(t.task_id);
      token = r.body.next_page_token as string | null;
      pages++;
    } while (token && pages < 10);
    assert.equal(seen.size, 30);
    assert.ok(pages >= 3 && pages <= 4, `${pages} pages`);

    const failed = await a('GET', `/runs/${doneRun}/contacts/?status=failed`);
    assert.equal(failed.body.count, 5);
    assert.ok((failed.body.data as Json[]).every((t) => t.x_campaign.status === 'failed'));
    const noAnswer = await a('GET', `/runs/${doneRun}/contacts/?end_reason=USER_DID_NOT_PICK_UP`);
    assert.equal(noAnswer.body.count, 5);
    const one = await a('GET', `/runs/${doneRun}/contacts/?q=${encodeURIComponent('+1 (415) 555-1005')}`);
    assert.equal(one.body.count, 1);
    assert.equal(one.body.data[0].input.contact_number, '+14155551005');
    const prefix = await a('GET', `/runs/${doneRun}/contacts/?q=1415555106`);
    assert.equal(prefix.body.count, 5);

    const tooLong = await a('GET', `/runs/${doneRun}/contacts/?q=${'x'.repeat(101)}`);
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body.errors, /\bq\b/);
    const badToken = await a('GET', `/runs/${doneRun}/contacts/?page_token=bm90LWEtdG9rZW4`);
    assert.equal(badToken.status, 400, JSON.stringify(badToken.body));
    const other = await call(KEY_B, SPACE_B, 'GET', `/runs/${doneRun}/contacts/`);
    assert.equal(other.status, 404);
  });

  it('contacts: search by name, a prefix of the whole name, in any case, with LIKE wildcards taken literally', async () => {
    const byName = async (q: string, extra = '') => {
      const r = await a('GET', `/runs/${doneRun}/contacts/?q=${encodeURIComponent(q)}${extra}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body as Json;
    };
    // The 30 contacts are named "Contact 2" … "Contact 31" (their line).
    const one = await byName('Contact 25');
    assert.equal(one.count, 1);
    assert.deepEqual(
      (one.data as Json[]).map((t) => t.input.name),
      ['Contact 25'],
    );
    assert.equal((await byName('  cONTACT   25 ')).count, 1, 'case and spaces do not matter');
    const tens = await byName('contact 1');
    assert.equal(tens.count, 10);
    assert.deepEqual(
      (tens.data as Json[]).map((t) => t.input.name as string).sort(),
      Array.from({ length: 10 }, (_, i) => `Contact ${10 + i}`).sort(),
    );
    // Filters combine: the five never answered are lines 27-31.
    const failed = await byName('contact', '&status=failed');
    assert.equal(failed.count, 5);
    assert.deepEqual(
      (failed.data as Json[]).map((t) => t.x_campaign.line as number).sort((x, y) => x - y),
      [27, 28, 29, 30, 31],
    );
    assert.equal((await byName('%')).count, 0, "'%' is a character, not a wildcard");
    assert.equal((await byName('contact_2')).count, 0, "'_' is a character, not a wildcard");
    assert.equal((await byName('Nobody')).count, 0);
    assert.equal((await byName('Nobody')).data.length, 0);
  });

  it('outcomes: tasks by end reason and status', async () => {
    const r = await a('GET', `/runs/${doneRun}/outcomes/`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data.by_end_reason, { USER_HUNG_UP_IN_CALL: 25, USER_DID_NOT_PICK_UP: 5 });
    assert.equal(r.body.data.by_status.completed, 25);
    assert.equal(r.body.data.by_status.failed, 5);
  });

  it("outcomes: the campaign's own endReasons when its progress has them, else one count per reason", async () => {
    const progress = {
      runId: 'Rabc',
      state: 'running',
      unknownEndReasons: { SOMETHING_NEW: 2 },
    } as unknown as CampaignProgress;
    // With endReasons in the progress: no visibility query at all; zero counts left out.
    const fromCampaign = await endReasonCounts(
      { ...progress, endReasons: { USER_HUNG_UP_IN_CALL: 7, NO_ANSWER: 0, SOMETHING_NEW: 2 } },
      () => Promise.reject(new Error('no visibility query may be made')),
    );
    assert.deepEqual(fromCampaign, {
      counts: { USER_HUNG_UP_IN_CALL: 7, SOMETHING_NEW: 2 },
      from: 'campaign',
    });
    // Without: how many final tasks have an end reason, then one count per reason (the unknown ones the
    // campaign saw last), one at a time, until they add up.
    const queries: string[] = [];
    const fromVisibility = await endReasonCounts(progress, async (query) => {
      queries.push(query);
      if (query.endsWith('TaskEndReason IS NOT NULL')) return 6;
      return query.includes('"USER_DID_NOT_PICK_UP"') ? 4 : query.includes('"SOMETHING_NEW"') ? 2 : 0;
    });
    assert.deepEqual(fromVisibility, {
      counts: { USER_DID_NOT_PICK_UP: 4, SOMETHING_NEW: 2 },
      from: 'visibility',
    });
    assert.match(
      queries.at(-1)!,
      /TaskEndReason = "SOMETHING_NEW"$/,
      'the last count is the last reason found',
    );
    for (const q of queries) {
      assert.match(q, /CampaignRunId = "Rabc"/);
      assert.match(q, /TaskStatus IN \("completed", "failed", "skipped", "expired", "canceled"\)/);
      assert.match(q, /AND TaskEndReason (= "[A-Z_]+"|IS NOT NULL)$/);
    }
    // The common reasons first: a run whose tasks all hung up costs two counts.
    queries.length = 0;
    const common = await endReasonCounts(progress, async (query) => {
      queries.push(query);
      return query.endsWith('IS NOT NULL') || query.includes('"USER_HUNG_UP_IN_CALL"') ? 9 : 0;
    });
    assert.deepEqual(common.counts, { USER_HUNG_UP_IN_CALL: 9 });
    assert.equal(queries.length, 2);
    // Just ended, visibility may lag: every reason is counted, none skipped by a first count that lagged.
    const lagging = async (query: string) =>
      query.endsWith('IS NOT NULL') || query.includes('"USER_HUNG_UP_IN_CALL"')
        ? 1
        : query.includes('"SIP_FAILED_WRONG_NUMBER"')
          ? 2
          : 0;
    assert.deepEqual((await endReasonCounts(progress, lagging)).counts, { USER_HUNG_UP_IN_CALL: 1 });
    assert.deepEqual((await endReasonCounts(progress, lagging, { exhaustive: true })).counts, {
      USER_HUNG_UP_IN_CALL: 1,
      SIP_FAILED_WRONG_NUMBER: 2,
    });
  });

  it('feed: one sample as JSON, or server-sent events that end when the run has ended', async () => {
    const one = await a('GET', `/runs/${doneRun}/feed/`);
    assert.equal(one.status, 200);
    assert.equal(one.body.data.state, 'completed');
    assert.equal(one.body.data.attempts, 30);
    assert.equal(one.body.data.live_calls, 0);
    assert.equal(one.body.data.paused_reason, null);

    const res = await fetch(`${server.url}/api/v2/platform/spaces/${SPACE_A}/runs/${doneRun}/feed/`, {
      headers: { authorization: `Token ${KEY_A}`, accept: 'text/event-stream' },
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = await res.text();
    assert.match(text, /^event: sample\ndata: \{.*"state":"completed"/);
    assert.match(text, /event: end\ndata: \{"state":"completed"\}\n\n$/);
    const bad = await a('GET', `/runs/${doneRun}/feed/?interval_ms=5`);
    assert.equal(bad.status, 400);
  });

  it('limits: read, changed live, and refused with a reason', async () => {
    const b0 = await call(KEY_B, SPACE_B, 'GET', '/limits/');
    assert.equal(b0.status, 200);
    assert.equal(b0.body.data.running, false);
    assert.equal(b0.body.data.limits.calls_per_minute, DEFAULT_LIMITS.callsPerMinute);
    const set = await call(KEY_B, SPACE_B, 'PATCH', '/limits/', { plan: 'free', concurrency: 3 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.data.running, true);
    assert.deepEqual(
      [
        set.body.data.limits.calls_per_minute,
        set.body.data.limits.tasks_per_day,
        set.body.data.limits.concurrency,
      ],
      [5, 50, 3],
    );
    assert.equal(set.body.data.use.capacity, 3);
    const bad = await call(KEY_B, SPACE_B, 'PATCH', '/limits/', { reserved: 3 });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.match(bad.body.errors, /^invalid limits: reserved \(3\) must be less than concurrency \(3\)/);
    // The limiter's own validator: calls per minute are whole.
    const fraction = await call(KEY_B, SPACE_B, 'PATCH', '/limits/', { calls_per_minute: 2.5 });
    assert.equal(fraction.status, 400, JSON.stringify(fraction.body));
    assert.match(fraction.body.errors, /^invalid limits: .*callsPerMinute must be a positive integer/);
    const empty = await call(KEY_B, SPACE_B, 'PATCH', '/limits/', {});
    assert.equal(empty.status, 400);
    // Space A's account is another: untouched.
    assert.equal((await a('GET', '/limits/')).body.data.account_id, `acct_${stack.taskQueue}`);
  });

  it('schedules: created, listed and acted on in its own space only', async () => {
    const id = `console-${stack.taskQueue}`;
    const created = await a('POST', '/schedules/', { id, source_url: listsUrl, every: '1d', paused: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.data.paused, true);
    assert.equal(created.body.data.next_run_times.length > 0, true);
    const dup = await a('POST', '/schedules/', { id, source_url: listsUrl, every: '1d' });
    assert.equal(dup.status, 409);
    const path = await a('POST', '/schedules/', { id: `${id}-file`, source_url: '/etc/passwd', every: '1d' });
    assert.equal(path.status, 400, 'a schedule made over the API reads no file of the server');
    const both = await a('POST', '/schedules/', {
      id: `${id}-x`,
      source_url: listsUrl,
      every: '1d',
      cron: '0 9 * * *',
    });
    assert.equal(both.status, 400);

    assert.equal((await call(KEY_B, SPACE_B, 'GET', `/schedules/${id}/`)).status, 404);
    assert.equal((await call(KEY_B, SPACE_B, 'POST', `/schedules/${id}/trigger/`)).status, 404);
    let listed: Json[] = [];
    for (let i = 0; i < 50 && !listed.some((s) => s.id === id); i++) {
      listed = (await a('GET', '/schedules/')).body.data as Json[];
      if (!listed.some((s) => s.id === id)) await delay(200);
    }
    assert.ok(listed.some((s) => s.id === id));
    assert.ok(
      !((await call(KEY_B, SPACE_B, 'GET', '/schedules/')).body.data as Json[]).some((s) => s.id === id),
    );

    const unpaused = await a('POST', `/schedules/${id}/unpause/`);
    assert.equal(unpaused.body.data.paused, false);
    await a('POST', `/schedules/${id}/trigger/`);
    let runId: string | null = null;
    for (let i = 0; i < 100 && !runId; i++) {
      runId =
        ((await a('GET', `/schedules/${id}/`)).body.data.recent_runs[0]?.run_id as string | undefined) ??
        null;
      if (!runId) await delay(300);
    }
    assert.ok(runId, 'the firing started a run');
    assert.equal((await a('GET', `/runs/${runId}/`)).status, 200, 'its run is in the schedule’s space');
    assert.equal((await a('DELETE', `/schedules/${id}/`)).status, 200);
    assert.equal((await a('GET', `/schedules/${id}/`)).status, 404);
  });

  it('the console is served with a strict content security policy, and its config names the Web UI', async () => {
    const page = await fetch(`${server.url}/console/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/console\/console.js">/);
    const js = await fetch(`${server.url}/console/console.js`);
    assert.equal(js.status, 200);
    assert.ok((await js.text()).length > 20_000);
    const config = (await (await fetch(`${server.url}/console/config.json`)).json()) as Json;
    assert.deepEqual(config, { temporal_ui_url: 'http://127.0.0.1:8233', namespace: 'default' });
    assert.equal((await fetch(`${server.url}/console/..%2Fpackage.json`)).status, 404);
    assert.equal((await fetch(`${server.url}/console/nothing.js`)).status, 404);
  });
});
